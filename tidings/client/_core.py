"""What the sync and async clients share: configuration, the request for a call, the retry policy
and the mapping of answers to results or exceptions.

A call is run by :func:`exchange`, a generator that holds the whole policy and
does no I/O: it yields an ``httpx.Request`` to send (and is sent back the
response or the transport exception) or a number of seconds to wait (and is
sent back None), and finally returns the parsed result or raises. The sync and
async clients only drive it, with ``httpx.Client.send``/``time.sleep`` or their
awaitable twins.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import uuid
from collections.abc import Callable, Generator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, TypeVar

import httpx

from tidings.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    TidingsError,
    UnexpectedResponseError,
    status_error,
)

T = TypeVar("T")

API_PATH = "/api/v1"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
REQUEST_ID_HEADERS = ("x-request-id", "request-id")
JSON_TYPES = ("application/json", "application/problem+json")
# Failures where the request may not have reached the server, or its answer was lost on the way;
# not: a bad URL or a proxy refusing us, which no retry mends.
RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def user_agent() -> str:
    from tidings.client import __version__

    return f"tidings-client/{__version__} httpx/{httpx.__version__}"


# -- calls ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """A file for a multipart field: a path (opened per call) or an open binary file."""

    field: str
    source: str | os.PathLike[str] | IO[bytes]
    filename: str | None = None
    content_type: str = "text/csv"

    def open(self, stack: ExitStack) -> tuple[str, IO[bytes]]:
        if isinstance(self.source, str | os.PathLike):
            handle = stack.enter_context(open(self.source, "rb"))  # noqa: SIM115 (closed by the stack)
            return self.filename or os.path.basename(os.fspath(self.source)), handle
        name = self.filename or os.path.basename(str(getattr(self.source, "name", "") or "upload.csv"))
        return name, self.source


@dataclass(frozen=True, slots=True)
class Call[T]:
    """One API operation: what to send and how to read a successful answer.

    ``parse`` gets the decoded body: JSON for ``accept="json"``, text for
    ``"text"``, None for ``"none"``.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, Any] | None = None
    upload: Upload | None = None
    accept: str = "json"
    idempotency_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_params(self, **params: Any) -> Call[T]:
        merged = {**(self.params or {}), **params}
        return Call(
            self.method,
            self.path,
            self.parse,
            merged,
            self.json,
            self.form,
            self.upload,
            self.accept,
            self.idempotency_key,
            self.headers,
        )


# -- retries ----------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer


# The code of the 409 a server gives while the first request with a key is still being worked on.
IN_PROGRESS = "idempotency_in_progress"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a call again, and how long to wait first.

    Retried: transport failures (no connection, a timeout, a dropped
    connection; every POST carries an Idempotency-Key, so the server does a
    retried POST once), 408, 429, 500/502/503/504, and the 409 that says the
    first request with this Idempotency-Key is still being worked on. Never
    retried: other 4xx, the other 409s included (a reused Idempotency-Key with
    another body will not get better by repeating it). The wait is the server's ``Retry-After`` when it
    gives one; otherwise exponential backoff (``backoff`` × 2ⁿ, at most
    ``max_backoff``) with jitter, so many clients do not come back at once. A
    ``Retry-After`` longer than ``max_retry_after`` is not waited for: the
    error is raised at once with its ``retry_after`` for the caller to decide.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})

    def delay(self, attempt: int, error: TidingsError, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up and raise ``error``."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, APIStatusError):
            in_progress = error.status == 409 and error.code == IN_PROGRESS
            if error.status not in self.retry_statuses and not in_progress:
                return None
        elif not isinstance(error, APIConnectionError) or not isinstance(
            error.__cause__, RETRYABLE_TRANSPORT
        ):
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not secrecy)


# -- configuration ----------------------------------------------------------------------------------


def api_base(base_url: str) -> str:
    """The API's root from a server address: ``https://mail.example.com`` → ``…/api/v1``."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise TidingsError(f"base_url must start with http:// or https://, not {base_url!r}")
    return url if url.endswith(API_PATH) else url + API_PATH


@dataclass(frozen=True, slots=True)
class Settings:
    """A client's fixed settings, read once from its arguments or the environment."""

    api_key: str
    base_url: str
    timeout: float | httpx.Timeout | None  # None: the httpx client's own
    retry: RetryPolicy
    headers: Mapping[str, str]

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        retry: RetryPolicy | None,
        headers: Mapping[str, str] | None,
    ) -> Settings:
        key = api_key if api_key is not None else os.environ.get("TIDINGS_API_KEY", "")
        if not key.strip():
            raise TidingsError("no API key: pass api_key=… or set TIDINGS_API_KEY")
        url = base_url or os.environ.get("TIDINGS_URL") or DEFAULT_BASE_URL
        policy = retry or RetryPolicy()
        if max_retries is not None:
            if max_retries < 0:
                raise TidingsError("max_retries must be 0 or more")
            policy = RetryPolicy(
                max_retries=max_retries,
                backoff=policy.backoff,
                max_backoff=policy.max_backoff,
                max_retry_after=policy.max_retry_after,
                retry_statuses=policy.retry_statuses,
            )
        return cls(
            api_key=key.strip(),
            base_url=api_base(url),
            timeout=timeout,
            retry=policy,
            headers=dict(headers or {}),
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Arguments for the httpx client this SDK makes when none is given."""
        return {
            "timeout": DEFAULT_TIMEOUT if self.timeout is None else self.timeout,
            "follow_redirects": False,
        }


# -- one call, with its retries ---------------------------------------------------------------------

Step = httpx.Request | float
Outcome = httpx.Response | httpx.TransportError | None


def exchange[T](
    settings: Settings, http: httpx.Client | httpx.AsyncClient, call: Call[T]
) -> Generator[Step, Outcome, T]:
    """The policy of one call (see the module docstring); ``http`` only builds requests here."""
    key = call.idempotency_key
    if key is None and call.method == "POST":
        key = str(uuid.uuid4())  # one key for every attempt, so a retried POST is done once
    with ExitStack() as stack:
        upload = call.upload.open(stack) if call.upload is not None else None
        # A retried upload must be the same bytes, multipart boundary included: the server
        # compares a repeated Idempotency-Key's body with the first one's.
        boundary = uuid.uuid4().hex
        attempt = 0
        while True:
            if upload is not None and attempt:
                upload[1].seek(0)
            request = _build(settings, http, call, key, upload, boundary)
            outcome = yield request
            retry_after: float | None = None
            if isinstance(outcome, httpx.Response):
                if outcome.is_success:
                    return call.parse(_decode(outcome, call.accept))
                error: TidingsError = response_error(outcome)
                retry_after = parse_retry_after(outcome.headers.get("retry-after"))
            elif isinstance(outcome, httpx.TransportError):
                error = transport_error(outcome, request)
            else:
                raise TypeError(f"exchange was sent {outcome!r}")
            wait = settings.retry.delay(attempt, error, retry_after)
            if wait is None or (upload is not None and not upload[1].seekable()):
                raise error
            yield wait
            attempt += 1


def _build(
    settings: Settings,
    http: httpx.Client | httpx.AsyncClient,
    call: Call[Any],
    key: str | None,
    upload: tuple[str, IO[bytes]] | None,
    boundary: str,
) -> httpx.Request:
    headers = {
        "Authorization": f"Bearer {settings.api_key}",
        "Accept": "application/json, application/problem+json, text/csv;q=0.9",
        "User-Agent": user_agent(),
        **settings.headers,
        **call.headers,
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    params = {k: _param(v) for k, v in (call.params or {}).items() if v is not None}
    kwargs: dict[str, Any] = {"params": params, "headers": headers}
    if settings.timeout is not None:
        kwargs["timeout"] = settings.timeout
    if upload is not None:
        assert call.upload is not None
        kwargs["files"] = {call.upload.field: (upload[0], upload[1], call.upload.content_type)}
        kwargs["data"] = {k: v for k, v in (call.form or {}).items() if v is not None}
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif call.json is not None:
        kwargs["content"] = json.dumps(call.json, default=str).encode()
        headers["Content-Type"] = "application/json"
    return http.build_request(call.method, settings.base_url + call.path, **kwargs)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() in JSON_TYPES


def _decode(response: httpx.Response, accept: str) -> Any:
    if accept == "none" or response.status_code == 204:
        return None
    if accept == "text":
        return response.text
    if not _is_json(response):
        raise UnexpectedResponseError(
            f"{response.status_code} answer is not JSON ({response.headers.get('content-type', 'no type')})",
            status=response.status_code,
            request_id=_request_id(response),
            body=response.text[:2000],
            headers=response.headers,
        )
    try:
        return response.json()
    except ValueError as exc:
        raise UnexpectedResponseError(
            f"{response.status_code} answer is not valid JSON",
            status=response.status_code,
            request_id=_request_id(response),
            body=response.text[:2000],
            headers=response.headers,
        ) from exc


def response_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error answer, problem+json or not."""
    problem: dict[str, Any] | None = None
    if _is_json(response):
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        problem = parsed if isinstance(parsed, dict) else None
    text = "" if problem is not None else response.text
    return status_error(
        response.status_code,
        reason=response.reason_phrase or f"HTTP {response.status_code}",
        problem=problem,
        text=text,
        headers=response.headers,
        request_id=_request_id(response),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    where = f"{request.method} {request.url}"
    if isinstance(exc, httpx.TimeoutException):
        error: APIConnectionError = APITimeoutError(f"{where}: timed out ({type(exc).__name__})")
    else:
        error = APIConnectionError(f"{where}: {exc or type(exc).__name__}")
    error.__cause__ = exc
    return error
