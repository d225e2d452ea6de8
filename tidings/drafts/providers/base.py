"""The one interface behind which every AI provider drafts an email.

A provider takes a :class:`DraftRequest` (system prompt + conversation) and
returns a :class:`DraftAnswer` parsed from the structured JSON the model was
asked for, or raises :class:`ProviderError` with a ``kind`` the caller can act
on. :class:`SdkProvider` fixes the steps shared by the SDK-backed providers
(connect → send → translate SDK errors → read the answer); each provider
module fills in only its differences.

Checking the MJML and the variables against the catalog is the caller's job.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from tidings.core.errors import TidingsError


@dataclass(frozen=True)
class ProviderConfig:
    kind: str  # "openai" | "anthropic"
    model: str
    api_key: str = ""
    # "" = the SDK's default; for OpenAI-compatible servers e.g. http://127.0.0.1:11434/v1 (Ollama)
    base_url: str = ""
    timeout: float = 60.0

    def __repr__(self) -> str:
        # The dataclass repr would print the key into logs and tracebacks.
        key = "'***'" if self.api_key else "''"
        return (
            f"ProviderConfig(kind={self.kind!r}, model={self.model!r}, api_key={key}, "
            f"base_url={self.base_url!r}, timeout={self.timeout!r})"
        )


@dataclass(frozen=True)
class DraftRequest:
    system: str  # the system prompt, built by the caller
    messages: list[tuple[str, str]]  # ("user" | "assistant", text), oldest first, ending with a user turn

    def __post_init__(self) -> None:
        # Both APIs reject other roles, and a forced structured answer cannot follow
        # an assistant turn; failing here names the caller's bug instead of a 400.
        if not self.messages:
            raise ValueError("A draft request needs at least one user message.")
        for role, _text in self.messages:
            if role not in ("user", "assistant"):
                raise ValueError(f"Unknown message role {role!r}; use 'user' or 'assistant'.")
        if self.messages[-1][0] != "user":
            raise ValueError("A draft request must end with a user message.")


@dataclass(frozen=True)
class DraftAnswer:
    subject: str
    preheader: str
    body: str  # MJML source
    variables: list[str]  # variable names the model says it used
    raw: str  # the raw JSON text the model returned (kept for the record)


ERROR_KINDS = frozenset({"unreachable", "timeout", "auth", "rate_limited", "bad_answer", "refused", "server"})


class ProviderError(TidingsError):
    """The AI provider could not give a usable draft; ``kind`` says why, ``detail`` what to do."""

    status = 502
    code = "ai_provider_error"
    title = "The AI provider failed"

    def __init__(self, kind: str, detail: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"Unknown provider error kind {kind!r}.")
        self.kind = kind
        super().__init__(detail)


@runtime_checkable
class AiProvider(Protocol):
    name: str  # "openai" | "anthropic"

    def draft(self, request: DraftRequest) -> DraftAnswer: ...


# -- the structured answer -----------------------------------------------------------

DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "subject": {"type": "string", "description": "The subject line of the email."},
        "preheader": {
            "type": "string",
            "description": "The preview text shown after the subject in the inbox.",
        },
        "body": {"type": "string", "description": "The email body as MJML source, from <mjml> to </mjml>."},
        "variables": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The names of the template variables the draft uses.",
        },
    },
    "required": ["subject", "preheader", "body", "variables"],
    "additionalProperties": False,
}

_STRING_FIELDS = ("subject", "preheader", "body")
# Each failed candidate costs a scan of the rest of the text; a bound keeps a
# pathological answer (many unclosed braces) from costing quadratic time.
_MAX_CANDIDATES = 50


def parse_answer(text: str, *, source: str = "The AI provider") -> DraftAnswer:
    """Parse the model's JSON answer into a :class:`DraftAnswer`.

    Tolerates a fenced ```json block or prose around the object by taking the first
    top-level JSON object in ``text``. Raises ``ProviderError("bad_answer")`` naming
    the problem (and the field) when there is no object or a field is missing or of
    the wrong type. ``source`` starts the error message, e.g. "The AI provider at …".
    """
    if not text.strip():
        raise bad_answer(source, "the answer is empty")
    data = _first_json_object(text)
    if data is None:
        raise bad_answer(source, f"it holds no JSON object (it starts {_excerpt(text)})")
    values: dict[str, str] = {}
    for field in _STRING_FIELDS:
        if field not in data:
            raise bad_answer(source, f'"{field}" is missing')
        if not isinstance(data[field], str):
            raise bad_answer(source, f'"{field}" must be a string, not {_json_type(data[field])}')
        values[field] = data[field].strip()
    if "variables" not in data:
        raise bad_answer(source, '"variables" is missing')
    variables = data["variables"]
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise bad_answer(source, '"variables" must be a list of strings')
    # Keep the model's order but drop blanks and repeats: the list feeds a catalog check.
    names = list(dict.fromkeys(name.strip() for name in variables if name.strip()))
    return DraftAnswer(
        subject=values["subject"],
        preheader=values["preheader"],
        body=values["body"],
        variables=names,
        raw=text,
    )


def bad_answer(source: str, problem: str) -> ProviderError:
    """The ``bad_answer`` error for ``problem``, in the one wording users see."""
    detail = f"{source} returned an answer that is not the JSON asked for: {problem}."
    return ProviderError("bad_answer", detail)


def _first_json_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_MAX_CANDIDATES):
        if start == -1:
            return None
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _excerpt(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= limit else flat[:limit] + "…", ensure_ascii=False)


# -- the steps shared by SDK-backed providers ---------------------------------------------


class SdkProvider(ABC):
    """Connect → send → translate SDK errors → read the answer; subclasses fill in the SDK.

    ``sdk_errors`` maps SDK exception classes to error kinds, most specific first
    (a timeout is a kind of connection error in both SDKs); ``sdk_base_error`` is the
    SDK's root exception, caught last so that no SDK exception escapes.
    """

    name: ClassVar[str]
    requires_key: ClassVar[bool] = False
    sdk_errors: ClassVar[tuple[tuple[type[Exception], str], ...]]
    sdk_base_error: ClassVar[type[Exception]]

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    def draft(self, request: DraftRequest) -> DraftAnswer:
        """Ask the model for a draft; raises :class:`ProviderError`, never an SDK exception."""
        try:
            client = self._connect()
        except self.sdk_base_error as exc:
            where = display_url(self.config.base_url) or "its default address"
            problem = self._scrub(str(exc)).rstrip(".")
            raise ProviderError(
                "server", f"The AI provider at {where} could not be set up: {problem}."
            ) from None
        source = f"The AI provider at {display_url(str(client.base_url))}"
        if self.requires_key and not self.config.api_key:
            # Checked here because the SDK would send an empty key as an illegal
            # header and report a connection error, which sends users to the wrong fix.
            raise ProviderError("auth", f"{source} needs an API key, and none is configured.")
        try:
            with client:
                response = self._send(client, request)
        except self.sdk_base_error as exc:
            raise self._translate(exc, source) from exc
        except ValueError as exc:
            # The SDKs decode a body labelled JSON without catching the decode error.
            raise bad_answer(source, "the response body is not JSON") from exc
        return self._read(response, source)

    @abstractmethod
    def _connect(self) -> Any:
        """A new SDK client for ``self.config`` (closed after one request)."""

    @abstractmethod
    def _send(self, client: Any, request: DraftRequest) -> Any:
        """Send ``request`` through ``client``; returns the SDK's response object."""

    @abstractmethod
    def _read(self, response: Any, source: str) -> DraftAnswer:
        """Turn the SDK's response into a :class:`DraftAnswer` or raise :class:`ProviderError`."""

    def _translate(self, exc: Exception, source: str) -> ProviderError:
        kind = next((kind for cls, kind in self.sdk_errors if isinstance(exc, cls)), "server")
        status = getattr(exc, "status_code", None)
        response = getattr(exc, "response", None)
        headers: Mapping[str, str] = getattr(response, "headers", None) or {}
        if kind == "timeout":
            return ProviderError(kind, f"{source} did not answer within {self.config.timeout:g} s.")
        if kind == "unreachable":
            hint = "check the address and that the server is running"
            return ProviderError(kind, f"{source} could not be reached; {hint}.")
        if kind == "auth":
            return ProviderError(kind, f"{source} refused the API key ({status}).")
        if kind == "rate_limited":
            wait = retry_after_seconds(headers)
            when = f"in {wait} s" if wait is not None else "in a minute"
            return ProviderError(kind, f"{source} is rate limiting ({status}); try again {when}.")
        if status is None:
            return ProviderError("server", f"{source} failed ({type(exc).__name__}).")
        message = self._scrub(error_message(getattr(exc, "body", None)))
        said = f": {message}" if message else ""
        return ProviderError("server", f"{source} answered with an error ({status}){said}.")

    def _scrub(self, text: str) -> str:
        # Some servers echo the credentials they were given; never pass the key on.
        return text.replace(self.config.api_key, "***") if self.config.api_key else text


def error_message(body: object, limit: int = 200) -> str:
    """The human message inside an error body in the OpenAI or Anthropic shape, or ``""``.

    The OpenAI SDK hands over the inner ``error`` object, the Anthropic SDK the whole
    body; Ollama-style ``{"error": "text"}`` bodies are read too.
    """
    if not isinstance(body, dict):
        return ""
    inner = body.get("error", body)
    message = inner.get("message") if isinstance(inner, dict) else inner
    if not isinstance(message, str):
        return ""
    flat = " ".join(message.split()).rstrip(".")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def retry_after_seconds(headers: Mapping[str, str]) -> int | None:
    """Whole seconds to wait according to ``retry-after-ms`` or ``Retry-After`` (seconds or a date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                continue
        return max(1, math.ceil(seconds))
    return None


def display_url(url: str) -> str:
    """``url`` without credentials, query or trailing slash, fit to show a user."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")
