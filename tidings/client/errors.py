"""One exception per kind of failure, so callers catch what they can act on.

Every error the client raises is a :class:`TidingsError`. Errors answered by
the server carry its problem+json fields (``status``, ``code``, ``title``,
``detail`` and, for invalid input, ``errors``); transport failures have no
status. A response that is not problem+json (a proxy's HTML 502) still maps
by its status, with a short excerpt of the body as ``detail``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "FieldError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "TidingsError",
    "UnexpectedResponseError",
    "ValidationError",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: ``path`` in the API's camelCase terms (``customFields.plan``)."""

    path: str
    message: str


class TidingsError(Exception):
    """The base of every error this client raises."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.title = title
        self.detail = detail if detail is not None else message
        self.request_id = request_id
        self.body = body
        self.headers: Mapping[str, str] = headers or {}


class APIConnectionError(TidingsError):
    """The request did not get an answer: refused connection, reset, DNS failure."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class UnexpectedResponseError(TidingsError):
    """A success status with a body that is not what the API sends (an HTML page from a proxy)."""


class APIStatusError(TidingsError):
    """The server answered with an error status; the subclasses name the common ones."""


class AuthenticationError(APIStatusError):
    """401: no key, an unknown key or a revoked key."""

    status = 401


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (for example, another project's ``projectId``)."""

    status = 403


class NotFoundError(APIStatusError):
    """404: no such object in this key's project (another project's ids look the same)."""

    status = 404


class ConflictError(APIStatusError):
    """409: the change clashes with existing data, or an Idempotency-Key was reused with another body."""

    status = 409


class ValidationError(APIStatusError):
    """400 or 422: the request was refused as invalid; ``errors`` names each field."""

    status = 422

    def __init__(self, message: str, *, errors: list[FieldError] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors: list[FieldError] = errors or []

    def messages(self, path: str) -> list[str]:
        """The messages for one field path (empty if that field was fine)."""
        return [e.message for e in self.errors if e.path == path]


class RateLimitedError(APIStatusError):
    """429: slow down. ``retry_after`` is the server's wait in seconds, if it said."""

    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: a fault on the server or a proxy in front of it."""

    status = 500


# Exact statuses first, then the class of the status; anything else is a plain APIStatusError.
_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitedError,
}

_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
EXCERPT = 200


def error_class(status: int) -> type[APIStatusError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIStatusError


def excerpt(text: str) -> str:
    """A one-line, tag-free start of a body, for errors from something that is not the API."""
    plain = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    return plain if len(plain) <= EXCERPT else plain[: EXCERPT - 1] + "…"


def status_error(
    status: int,
    *,
    reason: str,
    problem: Mapping[str, Any] | None,
    text: str,
    headers: Mapping[str, str],
    request_id: str | None,
    retry_after: float | None,
) -> APIStatusError:
    """The exception for an error answer; ``problem`` is the parsed problem+json, if it was one."""
    cls = error_class(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "request_id": request_id,
        "headers": headers,
        "body": problem if problem is not None else text,
    }
    if problem is not None:
        kwargs["code"] = _str(problem.get("code"))
        kwargs["title"] = _str(problem.get("title"))
        detail = _str(problem.get("detail")) or _str(problem.get("title")) or reason
    else:
        kwargs["title"] = reason
        snippet = excerpt(text)
        detail = f"{reason} (not an API answer{': ' + snippet if snippet else ''})"
    kwargs["detail"] = detail
    if cls is ValidationError:
        kwargs["errors"] = _field_errors(problem)
    if cls is RateLimitedError:
        kwargs["retry_after"] = retry_after
    return cls(f"{status} {detail}", **kwargs)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _field_errors(problem: Mapping[str, Any] | None) -> list[FieldError]:
    raw = problem.get("errors") if problem is not None else None
    if not isinstance(raw, list):
        return []
    return [
        FieldError(str(e.get("path", "")), str(e.get("message", ""))) for e in raw if isinstance(e, Mapping)
    ]
