"""``Idempotency-Key``: a request sent again (a retry after a timeout) is answered, not redone.

The first answer to a key is stored with a hash of the request body for 24
hours. The same key with the same body gets that answer again; the same key
with another body is a mistake the client must hear about (409). The work and
the stored answer commit together, so two concurrent requests with one key
do the work once: the second waits for the first's row and answers from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.campaigns.models import IdempotentRequest
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Project

KEEP = timedelta(hours=24)
MAX_KEY = 255


def _stored(project: Project, endpoint: str, key: str) -> IdempotentRequest | None:
    row = IdempotentRequest.objects.for_project(project).filter(endpoint=endpoint, key=key).first()
    if row is not None and row.created_at < timezone.now() - KEEP:
        row.delete()
        return None
    return row


def _answer(row: IdempotentRequest, fingerprint: str) -> tuple[int, Any]:
    if row.fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with another request body in the last 24 hours; "
            "use a new key for a new request"
        )
    return row.status_code, row.response


def idempotent(
    *, project: Project, endpoint: str, key: str | None, body: bytes, work: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``work`` (returns status and JSON answer) once per key; answer repeats from the store."""
    if key is None:
        return work()
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationError.field("Idempotency-Key", f"must be 1 to {MAX_KEY} printable characters")
    fingerprint = hashlib.sha256(body).hexdigest()
    row = _stored(project, endpoint, key)
    if row is not None:
        return _answer(row, fingerprint)
    try:
        with transaction.atomic():
            status, response = work()
            IdempotentRequest.objects.create(
                project=project,
                endpoint=endpoint,
                key=key,
                fingerprint=fingerprint,
                status_code=status,
                response=response,
            )
    except IntegrityError:
        # Another request with this key committed first: its work stands, ours was rolled back.
        row = _stored(project, endpoint, key)
        if row is None:
            raise
        return _answer(row, fingerprint)
    return status, response
