"""Probes for load balancers and orchestrators.

They answer anyone, so they say only which part is unavailable; the reason
(hosts, user names) goes to the log.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tidings.core.queue import QueueUnavailable, queue_check

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the task queue answer."""
    checks: dict[str, str] = {}
    ready = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        ready = False
        checks["database"] = "unavailable"
        logger.exception("readiness: the database does not answer")
    try:
        queue_check()
        checks["queue"] = "ok"
    except QueueUnavailable as exc:
        ready = False
        checks["queue"] = "unavailable"
        logger.error("readiness: the task queue does not answer: %s", exc)
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
