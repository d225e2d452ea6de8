"""``Idempotency-Key``: a request sent again (a retry after a timeout) is answered, not redone.

The first answer to a key is stored with a hash of the request body for 24
hours. The same key with the same body gets that answer again; the same key
with another body is a mistake the client must hear about (409). The work and
the stored answer commit together, so two concurrent requests with one key
do the work once: the second waits for the first's row and answers from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.campaigns.models import IdempotentRequest
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Project

KEEP = timedelta(hours=24)
# Keys are kept per endpoint (the API's path); the CLI's local send shares the API's.
SENDING_ENDPOINT = "/api/v1/sending"
MAX_KEY = 255
# Printable ASCII, not only spaces (the OpenAPI document states the same rule).
KEY_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"


def _stored(project: Project, endpoint: str, key: str) -> IdempotentRequest | None:
    row = IdempotentRequest.objects.for_project(project).filter(endpoint=endpoint, key=key).first()
    if row is not None and row.created_at < timezone.now() - KEEP:
        row.delete()
        return None
    return row


class Answer(NamedTuple):
    status: int
    response: Any
    replayed: bool  # the stored answer of an earlier request, not this one's work


def _answer(row: IdempotentRequest, fingerprint: str) -> Answer:
    if row.fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with another request body in the last 24 hours; "
            "use a new key for a new request"
        )
    return Answer(row.status_code, row.response, replayed=True)


def idempotent(
    *, project: Project, endpoint: str, key: str | None, body: bytes, work: Callable[[], tuple[int, Any]]
) -> Answer:
    """Run ``work`` (returns status and JSON answer) once per key; answer repeats from the store."""
    if key is None:
        return Answer(*work(), replayed=False)
    if not re.fullmatch(KEY_PATTERN, key) or len(key) > MAX_KEY:
        raise ValidationError.field("Idempotency-Key", f"must be 1 to {MAX_KEY} printable ASCII characters")
    key = key.strip()
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
    return Answer(status, response, replayed=False)
