"""Small local HTTP servers that speak the OpenAI Chat Completions and Anthropic Messages wire formats.

The real SDK clients talk to these over a socket, so the tests cover what the SDKs
actually send and how they react to real status codes, headers and bodies. Each
server records every request and answers from a script: ``reply`` / ``reply_text``
/ ``refuse`` / ``error`` / ``garbage`` / ``respond`` queue the next answers, in
order; ``slow`` delays the next one. An unscripted request gets a 500.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, NamedTuple

import pytest


class Received(NamedTuple):
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the decoded JSON body, or None when it was not JSON


@dataclass(frozen=True)
class _Answer:
    status: int
    # Built from the request's JSON body, so answers can echo the model asked for;
    # bytes go out as they are, anything else as JSON.
    build: Callable[[Any], Any]
    headers: dict[str, str] = field(default_factory=dict)


class LlmServer:
    """A scripted HTTP server on 127.0.0.1; subclasses supply one provider's wire format."""

    kind: ClassVar[str]
    path: ClassVar[str]  # the only path the SDK should post to
    url_suffix: ClassVar[str]  # what the SDK expects at the end of base_url

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._answers: deque[_Answer] = deque()
        self._delays: deque[float] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _HttpServer(self)
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}{self.url_suffix}"
        # A short poll keeps shutdown (and so each test's teardown) from waiting half a second.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    # -- scripting ------------------------------------------------------------------

    def reply(self, draft: dict[str, Any]) -> None:
        """Answer with a good structured answer carrying ``draft``."""
        raise NotImplementedError

    def reply_text(self, text: str) -> None:
        """Answer with plain text instead of the structured answer."""
        raise NotImplementedError

    def refuse(self, text: str = "I can't help with that.") -> None:
        """Answer the way the API does when the model declines."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """An error body in this provider's real shape."""
        raise NotImplementedError

    def error(
        self, status: int, body: str | dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer ``status`` with this provider's error body (``body`` as its message, or the body itself)."""
        payload = body if isinstance(body, dict) else self.error_body(status, body or f"Error {status}")
        self.respond(status, payload, headers)

    def garbage(self, content_type: str = "text/html") -> None:
        """Answer 200 with a body that is not JSON, as a misconfigured proxy does."""
        page = b"<html><body><h1>It works!</h1></body></html>"
        self._queue(_Answer(200, lambda _request: page, {"Content-Type": content_type}))

    def respond(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``payload`` as JSON: for shapes the helpers above do not make."""
        self._queue(_Answer(status, lambda _request: payload, dict(headers or {})))

    def slow(self, seconds: float) -> None:
        """Wait ``seconds`` before sending the next answer."""
        with self._lock:
            self._delays.append(seconds)

    def close(self) -> None:
        """Stop serving; cuts short any answer still waiting in ``slow``."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- serving ----------------------------------------------------------------------

    def _queue(self, answer: _Answer) -> None:
        with self._lock:
            self._answers.append(answer)

    def _answer(self, received: Received) -> tuple[_Answer, float]:
        with self._lock:
            self.requests.append(received)
            delay = self._delays.popleft() if self._delays else 0.0
            if received.path != self.path:
                # A real server 404s a wrong path; keep the scripted answer for the right one.
                missing = self.error_body(404, f"No route for {received.path}")
                return _Answer(404, lambda _request: missing), delay
            if not self._answers:
                unscripted = self.error_body(500, "The test scripted no answer")
                return _Answer(500, lambda _request: unscripted), delay
            return self._answers.popleft(), delay

    def _wait(self, seconds: float) -> None:
        self._closing.wait(seconds)


class OpenAIServer(LlmServer):
    """Speaks OpenAI Chat Completions: the SDK posts to ``{base_url}/chat/completions``."""

    kind = "openai"
    path = "/v1/chat/completions"
    url_suffix = "/v1"

    def reply(self, draft: dict[str, Any]) -> None:
        self._queue(_Answer(200, lambda request: openai_completion(request, json.dumps(draft))))

    def reply_text(self, text: str) -> None:
        self._queue(_Answer(200, lambda request: openai_completion(request, text)))

    def refuse(self, text: str = "I can't help with that.") -> None:
        self._queue(_Answer(200, lambda request: openai_completion(request, None, refusal=text)))

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class AnthropicServer(LlmServer):
    """Speaks Anthropic Messages: the SDK posts to ``{base_url}/v1/messages``."""

    kind = "anthropic"
    path = "/v1/messages"
    url_suffix = ""

    def reply(self, draft: dict[str, Any]) -> None:
        block = {"type": "tool_use", "id": "toolu_01A09q90qw90lq9178", "name": "email_draft", "input": draft}
        self._queue(_Answer(200, lambda request: anthropic_message(request, [block])))

    def reply_text(self, text: str) -> None:
        block = {"type": "text", "text": text}
        self._queue(_Answer(200, lambda request: anthropic_message(request, [block], stop_reason="end_turn")))

    def refuse(self, text: str = "I can't help with that.") -> None:
        block = {"type": "text", "text": text}
        self._queue(_Answer(200, lambda request: anthropic_message(request, [block], stop_reason="refusal")))

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        error = {"type": kind, "message": message}
        return {"type": "error", "error": error, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


# -- the wire formats ---------------------------------------------------------------

_OPENAI_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}

_ANTHROPIC_ERRORS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _model(request: Any) -> str:
    return request.get("model", "") if isinstance(request, dict) else ""


def openai_completion(
    request: Any, content: str | None, *, refusal: str | None = None, finish_reason: str = "stop"
) -> dict[str, Any]:
    """A ``chat.completion`` object as the API returns it, answering ``request``."""
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model(request),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200},
        "system_fingerprint": "fp_test",
    }


def anthropic_message(
    request: Any, content: list[dict[str, Any]], *, stop_reason: str = "tool_use"
) -> dict[str, Any]:
    """A ``message`` object as the Messages API returns it, answering ``request``."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": _model(request),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 80},
    }


# -- HTTP -----------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    # Daemon threads: a handler still waiting in ``slow`` must not hold up the test run.
    daemon_threads = True

    def __init__(self, llm: LlmServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.llm = llm


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as the SDKs' httpx pool expects; every answer sets Content-Length.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        assert isinstance(self.server, _HttpServer)
        llm = self.server.llm
        answer, delay = llm._answer(Received(self.path, headers, body))
        if delay:
            llm._wait(delay)
        built = answer.build(body)
        payload = built if isinstance(built, bytes) else json.dumps(built).encode()
        try:
            self.send_response(answer.status)
            headers_out = {"Content-Type": "application/json", **answer.headers}
            for name, value in headers_out.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up (a timeout test): nobody is left to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A local OpenAI-compatible server; point ``ProviderConfig.base_url`` at ``.base_url``."""
    server = OpenAIServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A local Anthropic Messages server; point ``ProviderConfig.base_url`` at ``.base_url``."""
    server = AnthropicServer()
    try:
        yield server
    finally:
        server.close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
