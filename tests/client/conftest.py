"""The SDK against a live test server, and a scripted stand-in server for answers the real one
cannot be made to give on demand (429, 5xx, a proxy's HTML page, a hang)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tidings.client import RetryPolicy, Tidings
from tidings.core import services
from tidings.core.models import Project

# Retries in tests wait milliseconds, not seconds, unless a test is about the wait.
FAST = RetryPolicy(backoff=0.01, max_backoff=0.05)


@pytest.fixture
def server(transactional_db: None, live_server: Any) -> str:
    """The live server's address (it shares the test database)."""
    return str(live_server.url)


@pytest.fixture
def make_key(transactional_db: None) -> Callable[[Project], str]:
    def make(project: Project) -> str:
        return services.api_key_create(project=project, name="sdk test").secret

    return make


@pytest.fixture
def secret(project: Project, make_key: Callable[[Project], str]) -> str:
    return make_key(project)


@pytest.fixture
def client(server: str, secret: str) -> Iterator[Tidings]:
    with Tidings(api_key=secret, base_url=server, timeout=30, retry=FAST) as tidings:
        yield tidings


# -- the scripted stand-in ---------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a dict/list is sent as JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class StubApi:
    """An HTTP server on loopback that answers from a script and records every request."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.seen: list[Seen] = []
        self.default = Reply(200, {})
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.seen.append(
                    Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.monotonic(),
                    )
                )
                reply = stub.script.pop(0) if stub.script else stub.default
                if reply.delay:
                    time.sleep(reply.delay)
                if isinstance(reply.body, dict | list):
                    payload = json.dumps(reply.body).encode()
                    kind = reply.content_type or (
                        "application/problem+json" if reply.status >= 400 else "application/json"
                    )
                elif reply.body is None:
                    payload, kind = b"", reply.content_type or "application/json"
                else:
                    payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
                    kind = reply.content_type or "text/html; charset=utf-8"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reply(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def __enter__(self) -> StubApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[StubApi]:
    with StubApi() as api:
        yield api


def problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": "x", "status": status, "code": code, "detail": detail, **extra}


def run_async(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: a test before may have left an event loop running in
    this one (Playwright's sync API does), where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
