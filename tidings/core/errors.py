"""The one exception hierarchy of Tidings.

Services raise these; the API maps them to problem+json (``tidings.api``),
the UI to form errors and messages, the CLI to one line and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """A problem with one input field; ``path`` is dotted camelCase (``customFields.plan``)."""

    path: str
    message: str


class TidingsError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)


class ValidationError(TidingsError):
    status = 422
    code = "validation_error"
    title = "Invalid input"

    def __init__(self, errors: list[FieldError] | FieldError, detail: str | None = None) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        if detail is None:
            detail = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in self.errors)
        super().__init__(detail)

    @classmethod
    def field(cls, path: str, message: str) -> ValidationError:
        return cls(FieldError(path, message))


class AuthenticationFailed(TidingsError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(TidingsError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(TidingsError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(TidingsError):
    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(TidingsError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(detail)
