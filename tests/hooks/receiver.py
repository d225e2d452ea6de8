"""A webhook receiver on loopback: records every request and answers as a test tells it to.

Plain HTTP by default; with a certificate it serves HTTPS, so the sender's
pinned connection (address checked, TLS verified for the host name) is tested
against a real TLS handshake.
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, certificate: Any = None, host: str = "127.0.0.1") -> None:
        self.received: list[Received] = []
        # (status, body, headers) answered in turn; when empty, 200 "ok".
        self.answers: deque[tuple[int, bytes, dict[str, str]]] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status, answer, headers = receiver.answers.popleft() if receiver.answers else (200, b"ok", {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate.cert_file), str(certificate.key_file))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.answers.append((status, body, headers))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
