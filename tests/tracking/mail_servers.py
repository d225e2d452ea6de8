"""Mailbox servers on 127.0.0.1 for the bounce poller's tests.

- ``ImapServer``: pymap (a real IMAP4rev1 server, in-memory backend) in a subprocess,
  offering STARTTLS with a fresh self-signed certificate; ``implicit_tls()`` puts a TLS
  front before it, as a server on port 993 is.
- ``Pop3Server``: a *stand-in* written here, since no maintained POP3 server is on PyPI.
  It speaks the part of RFC 1939 / RFC 2595 that ``poplib`` uses (CAPA, STLS, USER, PASS,
  STAT, LIST, UIDL, RETR, DELE, RSET, NOOP, QUIT), deletes only at QUIT like a real one,
  and can run inside TLS from the first byte (pop3s).
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from tests.sending.smtp_server import Certificate, make_certificate

HOST = "127.0.0.1"
USER = "bounces"
PASSWORD = "s3cret pass"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    return context


class ImapServer:
    """pymap on a free port; the user ``bounces`` with ``PASSWORD``, INBOX empty."""

    def __init__(self, directory: Path) -> None:
        self.certificate = make_certificate(directory)
        self.port = free_port()
        pymap = Path(sys.executable).with_name("pymap")
        self.process = subprocess.Popen(
            [
                str(pymap), "--host", HOST, "--port", str(self.port),
                "--cert", str(self.certificate.cert_file), "--key", str(self.certificate.key_file),
                "dict", "--demo-user", USER, "--demo-password", PASSWORD,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pymap exited: {self.process.stderr.read().decode() if self.process.stderr else ''}"
                )
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("pymap did not start within 20 s")
        self.fronts: list[TlsFront] = []

    @property
    def ca_file(self) -> Path:
        return self.certificate.cert_file

    def client(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(HOST, self.port, timeout=10)
        conn.starttls(ssl_context=ssl.create_default_context(cafile=str(self.ca_file)))
        conn.login(USER, PASSWORD)
        conn.select("INBOX")
        return conn

    def append(self, *messages: bytes) -> None:
        conn = self.client()
        try:
            for message in messages:
                typ, data = conn.append("INBOX", None, None, message)
                assert typ == "OK", data
        finally:
            conn.logout()

    def inbox(self) -> list[tuple[bytes, bytes]]:
        """(flags, message) of every message in INBOX, \\Deleted ones included until expunged."""
        conn = self.client()
        try:
            _, found = conn.uid("SEARCH", None, "ALL")
            listed = []
            for uid in (found[0] or b"").split():
                _, data = conn.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, body = data[0]
                listed.append((head, body))
            return listed
        finally:
            conn.logout()

    def implicit_tls(self) -> TlsFront:
        front = TlsFront(self.port, self.certificate)
        self.fronts.append(front)
        return front

    def stop(self) -> None:
        for front in self.fronts:
            front.stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TlsFront:
    """TLS from the first byte on ``port``, relayed in the clear to ``target`` (like IMAPS)."""

    def __init__(self, target: int, certificate: Certificate) -> None:
        self.target = target
        self.context = _server_context(certificate)
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            secure = self.context.wrap_socket(client, server_side=True)
            backend = socket.create_connection((HOST, self.target))
        except (OSError, ssl.SSLError):
            client.close()
            return

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError, ssl.SSLError):
                while data := source.recv(65536):
                    sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pipe, args=(backend, secure), daemon=True).start()
        pipe(secure, backend)

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


# -- the POP3 stand-in ---------------------------------------------------------------------


@dataclass
class _Stored:
    uid: str
    content: bytes


@dataclass
class Pop3Server:
    """A POP3 stand-in on 127.0.0.1 (see the module docstring). ``tls``: "implicit" (pop3s),
    "stls" (offered), or "" (none)."""

    directory: Path
    tls: str = "stls"
    messages: list[_Stored] = field(default_factory=list)
    sessions: int = 0

    def __post_init__(self) -> None:
        self.certificate = make_certificate(self.directory)
        self.context = _server_context(self.certificate)
        self.lock = threading.Lock()
        self.uids = itertools.count(1)
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def ca_file(self) -> Path:
        return self.certificate.cert_file

    def add(self, *contents: bytes) -> None:
        with self.lock:
            self.messages += [_Stored(f"uid-{next(self.uids)}", c) for c in contents]

    def stored(self) -> list[bytes]:
        with self.lock:
            return [m.content for m in self.messages]

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(client,), daemon=True).start()

    def _session(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            if self.tls == "implicit":
                sock = self.context.wrap_socket(sock, server_side=True)
            self.sessions += 1
            self._dialogue(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _dialogue(self, sock: socket.socket) -> None:
        reader = sock.makefile("rb")

        def send(*lines: str | bytes) -> None:
            sock.sendall(b"".join((x.encode() if isinstance(x, str) else x) + b"\r\n" for x in lines))

        send("+OK POP3 stand-in ready")
        user, authed, secure = "", False, self.tls == "implicit"
        with self.lock:
            snapshot = list(self.messages)  # a session sees the mailbox as it was at login
        deleted: set[int] = set()
        while True:
            line = reader.readline(1000)
            if not line:
                return  # the client went away without QUIT: nothing is deleted
            command, _, argument = line.decode(errors="replace").strip().partition(" ")
            command = command.upper()
            if command == "CAPA":
                send("+OK", "USER", "UIDL", *(["STLS"] if self.tls == "stls" and not secure else []), ".")
            elif command == "STLS" and self.tls == "stls" and not secure:
                send("+OK begin TLS")
                sock = self.context.wrap_socket(sock, server_side=True)
                reader = sock.makefile("rb")
                secure = True
            elif command == "USER":
                user = argument
                send("+OK")
            elif command == "PASS":
                authed = user == USER and argument == PASSWORD
                send("+OK logged in" if authed else "-ERR [AUTH] invalid credentials")
            elif command == "QUIT":
                if authed and deleted:
                    gone = {id(snapshot[n]) for n in deleted}
                    with self.lock:
                        self.messages = [m for m in self.messages if id(m) not in gone]
                send("+OK bye")
                return
            elif not authed:
                send("-ERR log in first")
            elif command == "STAT":
                live = [m for n, m in enumerate(snapshot) if n not in deleted]
                send(f"+OK {len(live)} {sum(len(m.content) for m in live)}")
            elif command in ("LIST", "UIDL"):
                rows = [
                    f"{n + 1} {len(m.content) if command == 'LIST' else m.uid}"
                    for n, m in enumerate(snapshot)
                    if n not in deleted
                ]
                send("+OK", *rows, ".")
            elif command in ("RETR", "DELE"):
                try:
                    number = int(argument) - 1
                    stored = snapshot[number]
                    if number < 0 or number in deleted:
                        raise IndexError
                except (ValueError, IndexError):
                    send("-ERR no such message")
                    continue
                if command == "DELE":
                    deleted.add(number)
                    send("+OK deleted")
                else:
                    body = stored.content.replace(b"\r\n", b"\n").split(b"\n")
                    stuffed = [b"." + x if x.startswith(b".") else x for x in body]
                    send(f"+OK {len(stored.content)} octets", *stuffed, ".")
            elif command == "RSET":
                deleted.clear()
                send("+OK")
            elif command == "NOOP":
                send("+OK")
            else:
                send("-ERR unknown command")
