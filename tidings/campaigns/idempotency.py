"""``Idempotency-Key``: a request sent again (a retry after a timeout) is answered, not redone.

The first request with a key claims it (a row, in a short transaction of its
own), does its work, and stores its answer with a hash of the request body
for 24 hours, encrypted (an answer may hold a secret shown once). The same key
with the same body gets that answer again; the same key with another body is
a mistake the client must hear about (409). A second request while the first
still works waits for the first's answer (up to ``WAIT``) and gives it. The
work runs in no transaction of ours: a view that calls out (an AI provider, a
test send) holds no lock meanwhile. An error answer is not stored and frees
the key. A claim whose request died (no answer after ``ABANDONED``) is taken
over, so the work of a request that died after working may be done again
(and a request working longer than that shares its key with a retry).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.campaigns.models import IdempotentRequest
from tidings.core import secrets
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Project

log = logging.getLogger(__name__)

KEEP = timedelta(hours=24)
# Seconds a repeat waits for the first request's answer: well under a client's own timeout, so
# the client hears "in progress" (and may ask again) rather than timing out.
WAIT = 15.0
ABANDONED = timedelta(minutes=10)
IN_PROGRESS = 0  # the status of a claim that has no answer yet
PURGE_BATCH = 200
MAX_KEY = 255
# Printable ASCII, not only spaces (the OpenAPI document states the same rule).
KEY_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"


class Answer(NamedTuple):
    status: int
    response: Any
    replayed: bool  # the stored answer of an earlier request, not this one's work


class InProgress(Conflict):
    code = "idempotency_in_progress"

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being worked on; send it again in a moment"
        )
        self.retry_after = 1


def seal(response: Any) -> dict[str, str]:
    return {"sealed": secrets.encrypt(json.dumps(response, cls=DjangoJSONEncoder))}


def unseal(stored: Any) -> Any:
    if not (isinstance(stored, dict) and set(stored) == {"sealed"}):
        return stored  # kept before answers were sealed
    return json.loads(secrets.decrypt(stored["sealed"]))


def _purge() -> None:
    """Forget answers past KEEP, a batch at a time (the created_at index finds them)."""
    cutoff = timezone.now() - KEEP
    expired = list(
        IdempotentRequest.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH]
    )
    if expired:
        IdempotentRequest.objects.filter(pk__in=expired).delete()


def _claim(project: Project, endpoint: str, key: str, fingerprint: str) -> IdempotentRequest | Answer:
    """This request's claim on the key, or the answer of the request that had it."""
    deadline = time.monotonic() + WAIT
    pause = 0.02
    while True:
        if time.monotonic() > deadline:
            raise InProgress()
        row = IdempotentRequest.objects.for_project(project).filter(endpoint=endpoint, key=key).first()
        now = timezone.now()
        if row is not None and row.created_at < now - KEEP:
            IdempotentRequest.objects.filter(pk=row.pk, created_at__lt=now - KEEP).delete()
            continue
        if row is not None and row.status_code == IN_PROGRESS and row.created_at < now - ABANDONED:
            # Its request died without an answer: take the key over (only if still unanswered).
            IdempotentRequest.objects.filter(
                pk=row.pk, status_code=IN_PROGRESS, created_at__lt=now - ABANDONED
            ).delete()
            continue
        if row is not None:
            if row.fingerprint != fingerprint:
                raise Conflict(
                    "this Idempotency-Key was used with another request body in the last 24 hours; "
                    "use a new key for a new request"
                )
            if row.status_code != IN_PROGRESS:
                return Answer(row.status_code, unseal(row.response), replayed=True)
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
            continue
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    project=project,
                    endpoint=endpoint,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=IN_PROGRESS,
                    response={},
                )
        except IntegrityError:
            # Another request claimed it a moment ago (wait for its answer); if no claim can be
            # seen, the insert failed for another reason (the project is gone): say so.
            if not IdempotentRequest.objects.for_project(project).filter(endpoint=endpoint, key=key).exists():
                raise
            continue


def idempotent(
    *, project: Project, endpoint: str, key: str | None, body: bytes, work: Callable[[], tuple[int, Any]]
) -> Answer:
    """Run ``work`` (returns status and JSON answer) once per key; answer repeats from the store.

    An exception from ``work`` frees the key and stores nothing.
    """
    if key is None:
        return Answer(*work(), replayed=False)
    if not re.fullmatch(KEY_PATTERN, key) or len(key) > MAX_KEY:
        raise ValidationError.field("Idempotency-Key", f"must be 1 to {MAX_KEY} printable ASCII characters")
    key = key.strip()
    fingerprint = hashlib.sha256(body).hexdigest()
    _purge()
    claim = _claim(project, endpoint, key, fingerprint)
    if isinstance(claim, Answer):
        return claim
    try:
        status, response = work()
    except BaseException:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        raise
    stored = IdempotentRequest.objects.filter(pk=claim.pk, status_code=IN_PROGRESS).update(
        status_code=status, response=seal(response)
    )
    if not stored:
        log.warning("idempotency key %r of %s was taken over while its request still worked", key, endpoint)
    return Answer(status, response, replayed=False)
