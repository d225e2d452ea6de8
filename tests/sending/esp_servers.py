"""Local stand-ins for the HTTP APIs of the email service providers django-anymail talks to.

The providers' real APIs (SendGrid, Mailgun, Resend, Postmark, Amazon SES) cannot be reached from
the test machine, so these servers take their place: real HTTP servers on 127.0.0.1 that check each
request the way the provider does (path, method, credentials, body format, required fields, verified
sender domain) and answer in the provider's own response format, so anymail's backends run unchanged
against them and parse a message id out of the answer.

- ``SendGridServer``, ``MailgunServer``, ``ResendServer``, ``PostmarkServer``: stdlib
  ``ThreadingHTTPServer`` in a background thread. Only the single-message send endpoints are served
  (no batch or stored-template endpoints).
- ``SesServer``: moto's ``ThreadedMotoServer`` (SES v2), run in-process so the raw messages moto
  stores can be read back, behind a thin WSGI gate that checks the access key id and serves canned
  answers.

All five share one interface (``EspServer``): ``kind``, ``url``, ``api_key``, ``backend`` and
``backend_kwargs()`` (for ``django.core.mail.get_connection``), ``requests`` (every request
received), ``respond()`` (queue canned answers for the next send requests), ``respond_invalid_recipient()``,
``verify(domain)`` (senders must use a verified domain; ``example.com`` is verified from the start),
``accepted()`` (the accepted messages, normalised the same way for every provider) and ``close()``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import dataclasses
import datetime
import email
import email.policy
import io
import json
import logging
import re
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self, cast
from urllib.parse import parse_qs, unquote, urlsplit

from requests.structures import CaseInsensitiveDict

HOST = "127.0.0.1"
DEFAULT_DOMAIN = "example.com"  # the sending domain every server treats as verified from the start
ESP_KINDS = ("sendgrid", "mailgun", "resend", "postmark", "ses")

# Headers that are part of the envelope or the MIME structure, not "custom" headers.
_STANDARD_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "message-id",  # reported apart, as "message_id_header"
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_ADDR_SPEC = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


# -- what the servers record ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart/form-data body."""

    field: str
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class EspRequest:
    """One HTTP request as the server received it, and the status it answered."""

    method: str
    path: str  # without the query string, still percent-encoded
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: bytes
    data: Any  # parsed body: a JSON value, {field: [values]} for a form, None if absent/unparsable
    files: list[Upload]
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class Reject(Exception):
    """Raised while serving a request: answer with this (provider-shaped) error."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    extra = tuple((headers or {}).items())
    return Answer(status, json.dumps(value).encode(), (("Content-Type", "application/json"), *extra))


def text_answer(status: int, text: str) -> Answer:
    return Answer(status, text.encode(), (("Content-Type", "text/plain; charset=utf-8"),))


# -- small helpers -------------------------------------------------------------------------------


def _address(name: str | None, addr_spec: str) -> str:
    """``Name <addr>`` (display name decoded, quoted only if needed) or the bare address."""
    try:
        return str(Address(display_name=name or "", addr_spec=addr_spec))
    except (ValueError, IndexError):
        return f"{name} <{addr_spec}>" if name else addr_spec


def _addresses(*values: str | list[str] | None) -> list[str]:
    """Parse address-list strings (RFC 2047 words decoded) into normalised ``_address`` strings."""
    found: list[str] = []
    for value in values:
        for item in [value] if isinstance(value, str) else value or []:
            if item and item.strip():
                header = email.policy.default.header_factory("To", item)
                found += [_address(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[attr-defined]
    return found


def _addr_spec(formatted: str) -> str:
    match = re.search(r"<([^<>]*)>\s*$", formatted)
    return (match.group(1) if match else formatted).strip()


def _valid(formatted: str) -> bool:
    return bool(_ADDR_SPEC.match(_addr_spec(formatted)))


def _domain(formatted: str) -> str:
    return _addr_spec(formatted).rpartition("@")[2].lower()


def _mimetype(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return b""


def _message(
    *,
    from_: str,
    to: list[str],
    subject: str | None,
    text: str | None,
    html: str | None,
    headers: list[tuple[str, str]] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    reply_to: list[str] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    id: str,
    response_id: str | None = None,
) -> dict[str, Any]:
    """The normalised shape ``accepted()`` returns, the same for every provider."""
    headers = headers or []
    return {
        "from": from_,
        "to": to,
        "cc": cc or [],
        "bcc": bcc or [],
        "reply_to": reply_to or [],
        "subject": subject,
        "text": text,
        "html": html,
        # Case-insensitive, and compares equal to a plain dict regardless of case.
        "headers": CaseInsensitiveDict({k: v for k, v in headers if k.lower() not in _STANDARD_HEADERS}),
        # The Message-ID header the message carries, if any (for SES Django always adds one).
        "message_id_header": next((v for k, v in headers if k.lower() == "message-id"), None),
        "attachments": attachments or [],
        "id": id,  # the id anymail reports as message_id
        "response_id": response_id or id,  # the id in the server's answer (differs for SendGrid only)
    }


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, list[str]], list[Upload]]:
    """Parse multipart/form-data or application/x-www-form-urlencoded."""
    if _mimetype(content_type) == "application/x-www-form-urlencoded":
        return parse_qs(body.decode("utf-8"), keep_blank_values=True), []
    parsed = email.message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body, policy=email.policy.HTTP
    )
    fields: dict[str, list[str]] = {}
    files: list[Upload] = []
    for part in cast(EmailMessage, parsed).iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files.append(Upload(name, filename, part.get_content_type(), content))
        else:
            fields.setdefault(name, []).append(content.decode(part.get_content_charset() or "utf-8"))
    return fields, files


def _parse_body(headers: CaseInsensitiveDict[str], body: bytes) -> tuple[Any, list[Upload]]:
    content_type = headers.get("Content-Type", "")
    mimetype = _mimetype(content_type)
    try:
        if mimetype == "application/json":
            return json.loads(body), []
        if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return _parse_form(content_type, body)
    except (ValueError, UnicodeDecodeError):
        pass
    return None, []


def _canned(status: int, body: bytes | str | dict[str, Any] | list[Any] | None) -> Answer | None:
    """A canned answer for an explicit body; None means "use the provider's default for status"."""
    if body is None:
        return None if status >= 400 else Answer(status)
    if isinstance(body, bytes):
        return Answer(status, body, (("Content-Type", "application/octet-stream"),))
    if isinstance(body, str):
        return text_answer(status, body)
    return json_answer(status, body)


@dataclass
class _Queued:
    answer: Answer
    times: int


class _CannedQueue:
    """Canned answers for the next send requests, in order; each used ``times`` times."""

    def __init__(self) -> None:
        self._queue: deque[_Queued] = deque()
        self._lock = threading.Lock()

    def push(self, answer: Answer, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.append(_Queued(answer, times))

    def take(self) -> Answer | None:
        with self._lock:
            if not self._queue:
                return None
            queued = self._queue[0]
            queued.times -= 1
            if queued.times == 0:
                self._queue.popleft()
            return queued.answer

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


# -- the HTTP providers --------------------------------------------------------------------------


class EspServer:
    """Base for the HTTP providers: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread.

    Subclasses define the provider: ``kind``, ``backend``, ``api_root`` (the path anymail's
    ``api_url`` points at), ``key_kwarg`` (anymail's name for the credential), and ``serve()``.
    """

    kind: ClassVar[str]
    backend: ClassVar[str]
    api_root: ClassVar[str]
    key_kwarg: ClassVar[str] = "api_key"

    def __init__(
        self, *, api_key: str | None = None, domains: Iterable[str] | None = (DEFAULT_DOMAIN,)
    ) -> None:
        """``domains``: the verified sending domains (``None``: accept any sender)."""
        self.api_key = api_key or self.make_key()
        self.domains: set[str] | None = None if domains is None else {d.lower() for d in domains}
        self.requests: list[EspRequest] = []
        self._accepted: list[dict[str, Any]] = []
        self._canned = _CannedQueue()
        self._lock = threading.Lock()
        self._crashes: list[BaseException] = []  # bugs in serve(), raised again by close()
        self._httpd = ThreadingHTTPServer((HOST, 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.01,), name=f"esp-{self.kind}", daemon=True
        )  # (a short poll interval: close() waits for one)
        self._thread.start()

    # -- public interface

    @property
    def url(self) -> str:
        """The base URL to pass to anymail as ``api_url``."""
        return f"http://{HOST}:{self.port}{self.api_root}"

    def backend_kwargs(self, api_key: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``get_connection(self.backend, ...)``; ``api_key`` overrides the key."""
        return {self.key_kwarg: self.api_key if api_key is None else api_key, "api_url": self.url}

    def respond(
        self,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests with this instead of serving them (nothing is accepted).

        ``body``: bytes as is, str as text/plain, dict/list as JSON; ``None`` gives the provider's
        own error body for an error status, or an empty body otherwise.
        """
        answer = _canned(status, body) or self.error(status, _DEFAULT_ERRORS.get(status, "error"))
        if headers:
            answer = Answer(answer.status, answer.body, (*answer.headers, *headers.items()))
        self._canned.push(answer, times)

    def respond_invalid_recipient(self, address: str, times: int = 1) -> None:
        """Queue the provider's real answer to an invalid/refused recipient address."""
        self._canned.push(self.invalid_recipient(address), times)

    def verify(self, domain: str) -> None:
        """Treat ``domain`` as a verified sending domain from now on."""
        if self.domains is not None:
            self.domains.add(domain.lower())

    def accepted(self) -> list[dict[str, Any]]:
        """One normalised dict per accepted message (see ``_message``)."""
        with self._lock:
            return copy.deepcopy(self._accepted)

    def close(self) -> None:
        """Stop; if serving a request crashed (a bug here, answered with 500), raise that now."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        if self._crashes:
            raise RuntimeError(f"{self!r} crashed serving a request") from self._crashes[0]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # -- for subclasses

    @classmethod
    def make_key(cls) -> str:
        return secrets.token_hex(16)

    def error(self, status: int, message: str) -> Answer:
        """The provider's error body for ``status``."""
        raise NotImplementedError

    def invalid_recipient(self, address: str) -> Answer:
        raise NotImplementedError

    def serve(self, request: EspRequest) -> tuple[Answer, list[dict[str, Any]]]:
        """Check ``request``; return the answer and the messages it accepted, or raise ``Reject``."""
        raise NotImplementedError

    def check_sender(self, sender: str) -> None:
        """Raise the provider's "sender not verified" rejection if the domain isn't verified."""
        if self.domains is not None and _domain(sender) not in self.domains:
            raise Reject(self.unverified_sender(sender))

    def unverified_sender(self, sender: str) -> Answer:
        raise NotImplementedError

    # -- plumbing

    def _handle(self, method: str, target: str, headers: CaseInsensitiveDict[str], body: bytes) -> Answer:
        split = urlsplit(target)
        data, files = _parse_body(headers, body)
        request = EspRequest(method, split.path, parse_qs(split.query), headers, body, data, files, 0)
        messages: list[dict[str, Any]] = []
        answer = self._canned.take()
        if answer is None:
            try:
                answer, messages = self.serve(request)
            except Reject as reject:
                answer = reject.answer
            except Exception as exc:  # a bug in the stand-in: answer 500, fail the test on close()
                self._crashes.append(exc)
                answer = text_answer(500, f"{type(self).__name__} crashed: {exc!r}")
        with self._lock:
            self.requests.append(dataclasses.replace(request, status=answer.status))
            self._accepted += messages
        return answer


_DEFAULT_ERRORS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


def _handler_class(owner: EspServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = f"{owner.kind}-stand-in/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(self.headers.items())
            answer = owner._handle(self.command, self.path, headers, body)
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def _bearer(request: EspRequest) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class SendGridServer(EspServer):
    """SendGrid v3 ``POST /v3/mail/send``: JSON, ``Authorization: Bearer <key>``, 202 + ``X-Message-Id``.

    anymail ignores SendGrid's answer body, and by default reports its own ``anymail_id`` (a UUID it
    puts in ``personalizations[].custom_args``) as the message id, not ``X-Message-Id``; so
    ``accepted()[i]["id"]`` is that ``anymail_id`` and ``["response_id"]`` the ``X-Message-Id``.
    Each personalization is one message.
    """

    kind = "sendgrid"
    backend = "anymail.backends.sendgrid.EmailBackend"
    api_root = "/v3/"
    _RESERVED = frozenset(
        {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding"}
        | {"to", "from", "subject", "reply-to", "cc", "bcc"}
    )
    _HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"

    @classmethod
    def make_key(cls) -> str:
        return f"SG.{secrets.token_urlsafe(16)[:22]}.{secrets.token_urlsafe(32)[:43]}"

    def error(self, status: int, message: str, field: str | None = None) -> Answer:
        help_url = f"{self._HELP}#message.{field}" if field else None
        return json_answer(status, {"errors": [{"message": message, "field": field, "help": help_url}]})

    def invalid_recipient(self, address: str) -> Answer:
        return self.error(400, "Does not contain a valid address.", "personalizations.0.to.0.email")

    def unverified_sender(self, sender: str) -> Answer:
        return self.error(
            403,
            "The from address does not match a verified Sender Identity. Mail cannot be sent until this"
            " error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/"
            " to see the Sender Identity requirements",
            "from",
        )

    def serve(self, request: EspRequest) -> tuple[Answer, list[dict[str, Any]]]:
        if request.path != "/v3/mail/send":
            raise Reject(self.error(404, "resource not found"))
        if request.method != "POST":
            raise Reject(self.error(405, "method not allowed"))
        token = _bearer(request)
        if token is None:
            raise Reject(self.error(401, "authorization required"))
        if not secrets.compare_digest(token, self.api_key):
            raise Reject(self.error(401, "The provided authorization grant is invalid, expired, or revoked"))
        data = request.data
        if _mimetype(request.headers.get("Content-Type", "")) != "application/json":
            raise Reject(self.error(415, "Content-Type should be application/json."))
        if not isinstance(data, dict):
            raise Reject(self.error(400, "Bad Request"))

        sender = data.get("from")
        if not isinstance(sender, dict) or not sender.get("email"):
            raise Reject(self.error(400, "The from object must be provided for every email send.", "from"))
        if not _valid(sender["email"]):
            raise Reject(self.error(400, "The from email does not contain a valid address.", "from.email"))
        personalizations = data.get("personalizations")
        if not isinstance(personalizations, list) or not personalizations:
            raise Reject(self.error(400, "The personalizations field is required.", "personalizations"))
        for i, p in enumerate(personalizations):
            if not p.get("to"):
                raise Reject(self.error(400, "The to array is required.", f"personalizations.{i}.to"))
            for kind in ("to", "cc", "bcc"):
                for j, recipient in enumerate(p.get(kind, [])):
                    if not _valid(recipient.get("email", "")):
                        field = f"personalizations.{i}.{kind}.{j}.email"
                        raise Reject(self.error(400, "Does not contain a valid address.", field))
            if not (p.get("subject") or data.get("subject") or data.get("template_id")):
                raise Reject(self.error(400, "The subject is required.", "subject"))
        content = data.get("content") or []
        empty = not content and not data.get("template_id")
        if empty or any(not isinstance(c.get("value"), str) or not c["value"] for c in content):
            message = "The content value must be a string at least one character in length."
            raise Reject(self.error(400, message, "content.0.value"))
        types = [c.get("type") for c in content]
        if "text/plain" in types[1:] and "text/html" in types[: types.index("text/plain")]:
            raise Reject(self.error(400, "The text/plain content type must be first.", "content"))
        for name in data.get("headers") or {}:
            if name.lower() in self._RESERVED:
                raise Reject(self.error(400, f"The header {name} is reserved.", "headers"))
        self.check_sender(sender["email"])

        response_id = secrets.token_urlsafe(16)[:22]
        bodies = {c["type"]: c["value"] for c in reversed(content)}  # the first of each type
        messages = []
        for p in personalizations:

            def people(values: list[dict[str, str]]) -> list[str]:
                return [_address(v.get("name"), v["email"]) for v in values]

            headers = {**(data.get("headers") or {}), **(p.get("headers") or {})}
            anymail_id = (p.get("custom_args") or {}).get("anymail_id")
            messages.append(
                _message(
                    from_=_address(sender.get("name"), sender["email"]),
                    to=people(p["to"]),
                    cc=people(p.get("cc", [])),
                    bcc=people(p.get("bcc", [])),
                    reply_to=people(
                        data.get("reply_to_list") or ([data["reply_to"]] if "reply_to" in data else [])
                    ),
                    subject=p.get("subject", data.get("subject")),
                    text=bodies.get("text/plain"),
                    html=bodies.get("text/html"),
                    headers=list(headers.items()),
                    attachments=[
                        {
                            "filename": a.get("filename"),
                            "content_type": _mimetype(a.get("type", "")),
                            "content": _b64(a.get("content", "")),
                        }
                        for a in data.get("attachments") or []
                    ],
                    id=anymail_id or response_id,
                    response_id=response_id,
                )
            )
        return Answer(202, b"", (("X-Message-Id", response_id),)), messages


class MailgunServer(EspServer):
    """Mailgun ``POST /v3/<domain>/messages``: form data (multipart or urlencoded), basic auth
    ``api:<key>``, answers ``{"id": "<...@domain>", "message": "Queued. Thank you."}``.

    anymail works the sender domain out of the From address, so no ``sender_domain`` is needed.
    """

    kind = "mailgun"
    backend = "anymail.backends.mailgun.EmailBackend"
    api_root = "/v3"
    _PATH = re.compile(r"^/v3/([^/]+)/messages$")

    @classmethod
    def make_key(cls) -> str:
        return f"{secrets.token_hex(16)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"

    def error(self, status: int, message: str) -> Answer:
        if status == 401:
            return text_answer(401, "Forbidden")  # Mailgun's whole answer to bad credentials
        return json_answer(status, {"message": message})

    def invalid_recipient(self, address: str) -> Answer:
        return self.error(400, "to parameter is not a valid address. please check documentation")

    def unverified_sender(self, sender: str) -> Answer:
        return self.error(404, f"Domain not found: {_domain(sender)}")

    def serve(self, request: EspRequest) -> tuple[Answer, list[dict[str, Any]]]:
        match = self._PATH.match(request.path)
        if match is None:
            # Mailgun's (cryptic, and real) answer to a URL it doesn't know.
            return text_answer(200, "Mailgun Magnificent API"), []
        if request.method != "POST":
            raise Reject(self.error(405, "Method Not Allowed"))
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, key = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, key = "", ""
        if scheme.lower() != "basic" or user != "api" or not secrets.compare_digest(key, self.api_key):
            raise Reject(self.error(401, "Forbidden"))
        domain = unquote(match.group(1)).lower()
        if self.domains is not None and domain not in self.domains:
            raise Reject(self.error(404, f"Domain not found: {domain}"))
        data = request.data
        if not isinstance(data, dict):
            raise Reject(self.error(400, "Message body must be multipart/form-data or urlencoded"))

        def one(name: str) -> str | None:
            values = data.get(name)
            return values[0] if values else None

        if not one("from"):
            raise Reject(self.error(400, "from parameter is missing"))
        if not _valid(one("from") or ""):
            raise Reject(self.error(400, "from parameter is not a valid address. please check documentation"))
        recipients = {kind: _addresses(data.get(kind)) for kind in ("to", "cc", "bcc")}
        if not recipients["to"]:
            raise Reject(self.error(400, "to parameter is missing"))
        for kind, addresses in recipients.items():
            if not all(_valid(a) for a in addresses):
                raise Reject(
                    self.error(400, f"{kind} parameter is not a valid address. please check documentation")
                )
        if not any(one(name) for name in ("text", "html", "template", "amp-html")):
            raise Reject(
                self.error(400, "Need at least one of 'text', 'html' or 'template' parameters specified")
            )

        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
        message_id = f"<{stamp}.{secrets.token_hex(8)}@{domain}>"
        custom = [(name[2:], values[-1]) for name, values in data.items() if name.startswith("h:")]
        message = _message(
            from_=_addresses(one("from"))[0],
            to=recipients["to"],
            cc=recipients["cc"],
            bcc=recipients["bcc"],
            reply_to=_addresses(*[v for k, v in custom if k.lower() == "reply-to"]),
            subject=one("subject"),
            text=one("text"),
            html=one("html"),
            headers=custom,
            attachments=[
                {"filename": f.filename, "content_type": _mimetype(f.content_type), "content": f.content}
                for f in request.files
                if f.field in ("attachment", "inline")
            ],
            id=message_id,
        )
        return json_answer(200, {"id": message_id, "message": "Queued. Thank you."}), [message]


class ResendServer(EspServer):
    """Resend ``POST /emails``: JSON, ``Authorization: Bearer <key>``, answers ``{"id": "<uuid>"}``.

    Like the real API, a missing key is 401 but a wrong key is 403 (``invalid_api_key``).
    """

    kind = "resend"
    backend = "anymail.backends.resend.EmailBackend"
    api_root = "/"
    _NAMES: ClassVar[dict[int, str]] = {
        400: "validation_error",
        401: "missing_api_key",
        403: "invalid_api_key",
        404: "not_found",
        405: "method_not_allowed",
        422: "validation_error",
        429: "rate_limit_exceeded",
    }

    @classmethod
    def make_key(cls) -> str:
        return f"re_{secrets.token_urlsafe(24)}"

    def error(self, status: int, message: str, name: str | None = None) -> Answer:
        name = name or self._NAMES.get(status, "application_error" if status >= 500 else "validation_error")
        return json_answer(status, {"statusCode": status, "message": message, "name": name})

    def invalid_recipient(self, address: str) -> Answer:
        return self.error(
            422,
            "Invalid `to` field. The email address needs to follow the `email@example.com` or"
            " `Name <email@example.com>` format.",
        )

    def unverified_sender(self, sender: str) -> Answer:
        return self.error(
            403,
            f"The {_domain(sender)} domain is not verified. Please, add and verify your domain on"
            " https://resend.com/domains",
            "validation_error",
        )

    def serve(self, request: EspRequest) -> tuple[Answer, list[dict[str, Any]]]:
        if request.path != "/emails":
            raise Reject(self.error(404, "The requested endpoint does not exist."))
        if request.method != "POST":
            raise Reject(self.error(405, "Method is not allowed for the requested path."))
        token = _bearer(request)
        if token is None:
            raise Reject(self.error(401, "Missing API key in the authorization header."))
        if not secrets.compare_digest(token, self.api_key):
            raise Reject(self.error(403, "API key is invalid"))
        data = request.data
        if not isinstance(data, dict):
            raise Reject(self.error(422, "Invalid JSON body.", "invalid_body"))
        for name in ("from", "to", "subject"):
            if not data.get(name):
                raise Reject(self.error(422, f"Missing `{name}` field.", "missing_required_field"))
        fields = {name: _addresses(data.get(name)) for name in ("from", "to", "cc", "bcc", "reply_to")}
        for name, addresses in fields.items():
            if not all(_valid(a) for a in addresses):
                raise Reject(
                    self.error(
                        422,
                        f"Invalid `{name}` field. The email address needs to follow the `email@example.com`"
                        " or `Name <email@example.com>` format.",
                    )
                )
        if not (data.get("html") or data.get("text") or data.get("react") or data.get("template")):
            raise Reject(self.error(422, "Missing `html` or `text` field.", "missing_required_field"))
        self.check_sender(fields["from"][0])

        message_id = str(uuid.uuid4())
        message = _message(
            from_=fields["from"][0],
            to=fields["to"],
            cc=fields["cc"],
            bcc=fields["bcc"],
            reply_to=fields["reply_to"],
            subject=data.get("subject"),
            text=data.get("text"),
            html=data.get("html"),
            headers=list((data.get("headers") or {}).items()),
            attachments=[
                {
                    "filename": a.get("filename"),
                    "content_type": _mimetype(a.get("content_type", "")),
                    "content": _b64(a.get("content", "")),
                }
                for a in data.get("attachments") or []
            ],
            id=message_id,
        )
        return json_answer(200, {"id": message_id}), [message]


class PostmarkServer(EspServer):
    """Postmark ``POST /email``: JSON, ``X-Postmark-Server-Token`` header, answers ``{"To", "SubmittedAt",
    "MessageID", "ErrorCode": 0, "Message": "OK"}``; request errors are 422 with an ``ErrorCode``.

    anymail calls the credential ``server_token``, not ``api_key``.
    """

    kind = "postmark"
    backend = "anymail.backends.postmark.EmailBackend"
    api_root = "/"
    key_kwarg = "server_token"

    @classmethod
    def make_key(cls) -> str:
        return str(uuid.uuid4())

    def error(self, status: int, message: str, code: int | None = None) -> Answer:
        if code is None:
            code = {401: 10, 422: 300}.get(status, status)
        return json_answer(status, {"ErrorCode": code, "Message": message})

    def invalid_recipient(self, address: str) -> Answer:
        return self.error(422, f"Invalid 'To' address: '{address}'.", 300)

    def unverified_sender(self, sender: str) -> Answer:
        return self.error(
            422,
            f"The 'From' address you supplied ({sender}) is not a Sender Signature on your account."
            " Please add and confirm this address in order to be able to use it in the 'From' field"
            " of your messages.",
            400,
        )

    def serve(self, request: EspRequest) -> tuple[Answer, list[dict[str, Any]]]:
        if request.path != "/email":
            raise Reject(self.error(404, "The requested resource was not found.", 404))
        if request.method != "POST":
            raise Reject(self.error(405, "The requested method is not allowed.", 405))
        token = request.headers.get("X-Postmark-Server-Token")
        if not token:
            raise Reject(
                self.error(
                    401,
                    "No Account or Server API tokens were supplied in the HTTP headers. Please add a header"
                    " for either X-Postmark-Server-Token or X-Postmark-Account-Token.",
                )
            )
        if not secrets.compare_digest(token, self.api_key):
            raise Reject(
                self.error(
                    401,
                    "The Server Token you provided in the X-Postmark-Server-Token request header was invalid."
                    " Please verify that you are using a valid token.",
                )
            )
        data = request.data
        if not isinstance(data, dict):
            raise Reject(self.error(422, "Received invalid JSON input.", 402))
        fields = {name: _addresses(data.get(name)) for name in ("From", "To", "Cc", "Bcc", "ReplyTo")}
        if not fields["From"] or not _valid(fields["From"][0]):
            raise Reject(self.error(422, f"Invalid 'From' address: '{data.get('From', '')}'."))
        if not (fields["To"] or fields["Cc"] or fields["Bcc"]):
            raise Reject(self.error(422, "Zero recipients specified"))
        for name in ("To", "Cc", "Bcc"):
            for address in fields[name]:
                if not _valid(address):
                    raise Reject(self.error(422, f"Invalid '{name}' address: '{_addr_spec(address)}'."))
        if not (data.get("TextBody") or data.get("HtmlBody")):
            raise Reject(self.error(422, "Provide either email TextBody or HtmlBody or both."))
        self.check_sender(fields["From"][0])

        message_id = str(uuid.uuid4())
        headers = [(h.get("Name", ""), h.get("Value", "")) for h in data.get("Headers") or []]
        message = _message(
            from_=fields["From"][0],
            to=fields["To"],
            cc=fields["Cc"],
            bcc=fields["Bcc"],
            reply_to=fields["ReplyTo"],
            subject=data.get("Subject"),
            text=data.get("TextBody"),
            html=data.get("HtmlBody"),
            headers=headers,
            attachments=[
                {
                    "filename": a.get("Name"),
                    "content_type": _mimetype(a.get("ContentType", "")),
                    "content": _b64(a.get("Content", "")),
                }
                for a in data.get("Attachments") or []
            ],
            id=message_id,
        )
        answer: dict[str, Any] = {
            "SubmittedAt": datetime.datetime.now(datetime.UTC).isoformat(),
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }
        if data.get("To"):
            answer["To"] = data["To"]  # (absent for a Cc/Bcc-only send, as at Postmark)
        return json_answer(200, answer), [message]


# -- Amazon SES (moto) ---------------------------------------------------------------------------


class SesServer:
    """Amazon SES v2 served by moto's ``ThreadedMotoServer`` on 127.0.0.1, in-process.

    A WSGI gate in front of moto records every request, rejects an unknown access key id the way SES
    does (403 ``UnrecognizedClientException``; moto itself checks no credentials) and serves the
    canned answers queued with ``respond()`` to send requests. moto keeps the sent raw messages
    (``ses_backends[account][region].sent_messages``), which ``accepted()`` parses.

    moto's backends are process-wide, so run one at a time; ``reset()`` clears moto's SES state
    and this server's records, for reuse across tests (starting one takes ~1.5 s the first time,
    mostly importing moto; stopping one takes up to 0.5 s).
    """

    kind = "ses"
    backend = "anymail.backends.amazon_ses.EmailBackend"
    region = "us-east-1"
    secret_access_key = "moto-secret-access-key"
    _SEND_PATHS = ("/v2/email/outbound-emails", "/v2/email/outbound-bulk-emails")

    def __init__(self, *, domains: Iterable[str] = (DEFAULT_DOMAIN,)) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.server import ThreadedMotoServer
        from moto.ses.models import ses_backends

        # werkzeug logs every request to stderr unless its logger already has a level.
        werkzeug_logger = logging.getLogger("werkzeug")
        if werkzeug_logger.level == logging.NOTSET:
            werkzeug_logger.setLevel(logging.WARNING)

        self.api_key = "AKIA" + secrets.token_hex(8).upper()  # the access key id the server accepts
        self.account_id = DEFAULT_ACCOUNT_ID
        self.requests: list[EspRequest] = []
        self._canned = _CannedQueue()
        self._lock = threading.Lock()
        self._ses = ses_backends[self.account_id][self.region]
        self._moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self._moto.start()
        self.port = self._moto.get_host_and_port()[1]
        # werkzeug looks the WSGI app up on the server for every request, so it can be wrapped here.
        server = self._moto._server
        assert server is not None
        server.app = _SesGate(self, server.app)  # type: ignore[method-assign]
        self._client: Any = None
        self.reset(domains=domains)

    def reset(self, *, domains: Iterable[str] = (DEFAULT_DOMAIN,)) -> None:
        """Forget everything (moto's SES state, requests, canned answers), then verify ``domains``."""
        self._canned.clear()
        self._ses.reset()
        for domain in domains:
            self.verify(domain)
        with self._lock:
            self.requests.clear()  # only what the test itself sends

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    endpoint_url = url

    def backend_kwargs(self, api_key: str | None = None) -> dict[str, Any]:
        """anymail's SES backend takes boto3 ``session_params`` and ``client_params``.

        botocore's own retries are turned off, so a canned error reaches anymail at once, as with
        the HTTP providers (whose anymail backends don't retry).
        """
        return {
            "session_params": self.session_params(api_key),
            "client_params": {
                "endpoint_url": self.url,
                "config": {"retries": {"mode": "standard", "total_max_attempts": 1}},
            },
        }

    def session_params(self, api_key: str | None = None) -> dict[str, str]:
        return {
            "aws_access_key_id": self.api_key if api_key is None else api_key,
            "aws_secret_access_key": self.secret_access_key,
            "region_name": self.region,
        }

    def client(self) -> Any:
        """A boto3 SES v2 client for this server (one, kept: creating a boto3 session takes ~0.15 s)."""
        if self._client is None:
            import boto3

            self._client = boto3.session.Session(**self.session_params()).client(
                "sesv2", endpoint_url=self.url
            )
        return self._client

    def verify(self, identity: str) -> None:
        """Create (moto: and at once verify) a sending identity, a domain or an address."""
        self.client().create_email_identity(EmailIdentity=identity)

    def respond(
        self,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """As ``EspServer.respond``, for send requests; ``None`` gives an SES v2 error body."""
        answer = _canned(status, body) or self.error(status)
        if headers:
            answer = Answer(answer.status, answer.body, (*answer.headers, *headers.items()))
        self._canned.push(answer, times)

    def respond_invalid_recipient(self, address: str, times: int = 1) -> None:
        """SES's sandbox answer to a recipient that isn't verified."""
        message = (
            "Email address is not verified. The following identities failed the check in region"
            f" {self.region.upper()}: {address}"
        )
        self._canned.push(self.error(400, "MessageRejected", message), times)

    def error(self, status: int, code: str | None = None, message: str | None = None) -> Answer:
        """An SES v2 (REST-JSON) error: the code in ``x-amzn-ErrorType``, ``{"message": ...}`` body."""
        default_code, default_message = _SES_ERRORS.get(status, ("InternalFailure", "Internal failure"))
        return json_answer(
            status,
            {"message": message or default_message},
            {"x-amzn-ErrorType": code or default_code, "x-amzn-RequestId": str(uuid.uuid4())},
        )

    def accepted(self) -> list[dict[str, Any]]:
        """One normalised dict per message moto accepted (parsed from the raw MIME it stored)."""
        sent = [m for m in list(self._ses.sent_messages) if hasattr(m, "raw_data")]  # (raw sends only)
        return [_from_mime(m.raw_data, m.destinations, m.id) for m in sent]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._moto.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SesServer {self.url}>"

    def _record(self, request: EspRequest) -> None:
        with self._lock:
            self.requests.append(request)


_SES_ERRORS = {
    400: ("BadRequestException", "Bad request"),
    403: ("UnrecognizedClientException", "The security token included in the request is invalid."),
    404: ("NotFoundException", "Resource not found"),
    429: ("TooManyRequestsException", "Maximum sending rate exceeded."),
    500: ("InternalFailure", "The request processing has failed because of an unknown error."),
    503: ("ServiceUnavailable", "Service unavailable"),
}


class _SesGate:
    """WSGI middleware in front of moto: record, check the access key id, serve canned answers."""

    _CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

    def __init__(self, owner: SesServer, app: Callable[..., Iterable[bytes]]) -> None:
        self.owner = owner
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
        )
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-")] = environ[key]
        data = None
        with contextlib.suppress(ValueError):
            data = json.loads(body) if body else None
        method = environ.get("REQUEST_METHOD", "GET")

        def record(status: int) -> None:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            self.owner._record(EspRequest(method, path, query, headers, body, data, [], status))

        answer = self.owner._canned.take() if path in SesServer._SEND_PATHS else None
        match = self._CREDENTIAL.search(headers.get("Authorization", ""))
        if answer is None and (match is None or match.group(1) != self.owner.api_key):
            answer = self.owner.error(403)
        if answer is not None:
            record(answer.status)
            start_response(
                f"{answer.status} {_reason(answer.status)}",
                [*answer.headers, ("Content-Length", str(len(answer.body)))],
            )
            return [answer.body]

        def recording_start_response(status: str, response_headers: list[Any], exc_info: Any = None) -> Any:
            record(int(status.split()[0]))
            return start_response(status, response_headers, exc_info)

        return self.app(environ, recording_start_response)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _from_mime(raw: str | bytes, destinations: list[str], message_id: str) -> dict[str, Any]:
    """Normalise one raw MIME message (as SES received it). Text parts come back as the MIME
    decoder gives them: with a final newline even if the original string had none."""
    raw_bytes = raw.encode() if isinstance(raw, str) else raw
    msg = cast(EmailMessage, email.message_from_bytes(raw_bytes, policy=email.policy.default))

    def header_addresses(name: str) -> list[str]:
        header = msg[name]
        return [_address(a.display_name, a.addr_spec) for a in header.addresses] if header else []

    text = html = None
    attachments = []
    for part in _leaf_parts(msg):
        if part.get_content_disposition() in ("attachment", "inline") and part.get_filename():
            attachments.append(
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "content": part.get_payload(decode=True),
                }
            )
        elif part.get_content_type() == "text/plain" and text is None:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and html is None:
            html = part.get_content()
    to, cc = header_addresses("To"), header_addresses("Cc")
    shown = {_addr_spec(a).lower() for a in to + cc}
    envelope = [_addr_spec(d) for d in destinations]  # (moto lists the To/Cc addresses twice)
    bcc = list(dict.fromkeys(_address(None, a) for a in envelope if a.lower() not in shown))
    return _message(
        from_=(header_addresses("From") or [""])[0],
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=header_addresses("Reply-To"),
        subject=msg["Subject"],
        text=text,
        html=html,
        headers=[(name, str(value)) for name, value in msg.items()],
        attachments=attachments,
        id=message_id,
    )


def _leaf_parts(msg: EmailMessage) -> Iterator[EmailMessage]:
    for part in msg.walk():
        if not part.is_multipart():
            yield cast(EmailMessage, part)


# -- factory -------------------------------------------------------------------------------------

HTTP_SERVERS: dict[str, type[EspServer]] = {
    cls.kind: cls for cls in (SendGridServer, MailgunServer, ResendServer, PostmarkServer)
}


def start_esp_server(kind: str, **options: Any) -> EspServer | SesServer:
    """Start the stand-in for ``kind`` (one of ``ESP_KINDS``)."""
    if kind == "ses":
        return SesServer(**options)
    return HTTP_SERVERS[kind](**options)
