"""Where bounces arrive: an SMTP listener for the bounce domain, or a mailbox read now and then.

``BounceServer`` (``tidings bounces serve``) is the mail server the bounce domain's MX
points at. It takes a recipient only when it is a return path this installation made
(``bounces+<valid token>@…``; anything else is ``550 5.1.1``), refuses a message over
``TIDINGS_BOUNCE_MAX_BYTES`` (``552``), and answers ``250`` once the report is recorded —
if recording fails it answers ``451`` so the sending server tries again later.

``mailbox_poll`` (``tidings bounces poll``) reads a mailbox the bounces are delivered to
(``TIDINGS_BOUNCE_MAILBOX``: IMAP or POP3, over TLS or with STARTTLS when offered). A
message is removed only after what it says was recorded: on IMAP it is marked
``\\Deleted`` and expunged, on POP3 deleted (committed at QUIT). A crash in between
means it is read again, and the event id of the report makes the second reading a
no-op. A message that is no report (a person writing to the address, an
auto-reply) or too large to read is left where it is: on IMAP marked ``\\Flagged``
for a person and not read again; on POP3 skipped by this process from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import poplib
import re
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from tidings.core.config import MAILBOX_SCHEMES, redact_url
from tidings.tracking.bounces import Receipt, bounce_receive, verp_read

log = logging.getLogger("tidings.bounces")

MAX_RECIPIENTS = 50  # RCPT TO in one SMTP transaction; a report names one return path
POLL_BATCH = 500  # messages read from a mailbox in one poll
TIMEOUT = 30  # seconds for a mailbox server to answer


def _receive(raw: bytes, envelope_to: list[str]) -> Receipt:
    """Record one report from a worker thread, with a database connection fit for it."""
    close_old_connections()
    try:
        return bounce_receive(raw, envelope_to=envelope_to)
    finally:
        close_old_connections()


# -- the SMTP listener ------------------------------------------------------------------------


class BounceHandler:
    """aiosmtpd hooks: recipients checked in the event loop (no database), reports recorded in a
    worker thread (the database is synchronous)."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if verp_read(address) is None:
            log.info("refused RCPT TO:<%s> from %s", address[:200], session.peer)
            return "550 5.1.1 No such mailbox: this server takes only bounces of its own mail"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            receipt = await loop.run_in_executor(self.executor, _receive, bytes(raw), list(envelope.rcpt_tos))
        except Exception:
            log.exception("a bounce report from %s could not be recorded", session.peer)
            return "451 4.3.0 The report could not be recorded now; try again later"
        return f"250 2.0.0 OK: {receipt.status}"


class BounceServer(Controller):
    """The SMTP listener in a thread of its own: ``start()``, then ``port``; ``stop()``.

    Port 0 picks a free port (aiosmtpd 1.4 keeps the port it was given and connects to it
    once to start the server, so the real one is read off the socket just before that).
    """

    def __init__(self, host: str = "0.0.0.0", port: int = 25, *, hostname: str | None = None) -> None:  # noqa: S104
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bounces")
        super().__init__(
            BounceHandler(self.executor),
            hostname=host,
            port=port,
            server_hostname=hostname or socket.getfqdn(),
            ident="Tidings bounce receiver",
            data_size_limit=settings.BOUNCE_MAX_BYTES,
            decode_data=False,
        )

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def stop(self, no_assert: bool = False) -> None:
        try:
            super().stop(no_assert=no_assert)
        finally:
            self.executor.shutdown(wait=True)


# -- the mailbox poller -----------------------------------------------------------------------


class MailboxError(Exception):
    """The mailbox cannot be read. ``unavailable``: try again later (unreachable, a timeout);
    otherwise it is the configuration (credentials, the folder, the certificate)."""

    def __init__(self, message: str, *, unavailable: bool) -> None:
        super().__init__(message)
        self.unavailable = unavailable


@dataclass(frozen=True)
class Mailbox:
    scheme: str  # imaps, imap, pop3s or pop3
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        parts = urlsplit(url)
        if parts.scheme not in MAILBOX_SCHEMES or not parts.hostname:
            raise ValueError(f"not a mailbox URL: {redact_url(url)}")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or MAILBOX_SCHEMES[parts.scheme],
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.strip("/")) or "INBOX",
        )

    def __str__(self) -> str:
        folder = f"/{self.folder}" if self.scheme.startswith("imap") else ""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}{folder}"


@dataclass
class PollResult:
    read: int = 0  # messages fetched and read
    recorded: int = 0  # reports that recorded an event
    duplicate: int = 0  # reports recorded before (a re-read)
    removed: int = 0  # messages deleted after they were dealt with
    left: int = 0  # messages left in the mailbox for a person (no report, too large…)

    def line(self) -> str:
        return (
            f"{self.read} read: {self.recorded} recorded, {self.duplicate} already recorded, "
            f"{self.removed} removed, {self.left} left in the mailbox"
        )


class _Source(Protocol):
    def pending(self) -> list[tuple[str, int]]: ...
    def fetch(self, key: str) -> bytes: ...
    def settle(self, key: str) -> None: ...
    def leave(self, key: str) -> None: ...
    def close(self) -> None: ...


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.BOUNCE_MAILBOX_CA_FILE or None)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, Any], what: str) -> Any:
    typ, data = answer
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise imaplib.IMAP4.error(f"{what}: {typ} {detail}".strip())
    return data


class _Imap:
    """IMAP: UIDs of messages neither deleted nor flagged; read without setting \\Seen."""

    _SIZE = re.compile(rb"UID (\d+).*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*?UID (\d+)")

    def __init__(self, box: Mailbox) -> None:
        if box.scheme == "imaps":
            self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                box.host, box.port, ssl_context=_tls(), timeout=TIMEOUT
            )
        else:
            self.conn = imaplib.IMAP4(box.host, box.port, timeout=TIMEOUT)
            if "STARTTLS" in self.conn.capabilities:
                self.conn.starttls(ssl_context=_tls())
            else:
                log.warning("%s offers no STARTTLS: the password goes in the clear", box)
        try:
            self.conn.login(box.user, box.password)
            _ok(self.conn.select(_quoted(box.folder)), f"folder {box.folder!r}")
        except BaseException:
            with contextlib.suppress(OSError):
                self.conn.shutdown()
            raise
        self.deleted: list[str] = []

    def pending(self) -> list[tuple[str, int]]:
        found = _ok(self.conn.uid("SEARCH", None, "UNDELETED", "UNFLAGGED"), "search")
        uids = (found[0] or b"").split()[:POLL_BATCH]
        if not uids:
            return []
        sizes: dict[str, int] = {}
        for item in _ok(self.conn.uid("FETCH", b",".join(uids).decode(), "(RFC822.SIZE)"), "sizes"):
            line = item[0] if isinstance(item, tuple) else item
            match = self._SIZE.search(line or b"")
            if match:
                uid, size = (
                    (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                )
                sizes[uid.decode()] = int(size)
        return [(uid.decode(), sizes.get(uid.decode(), 0)) for uid in uids]

    def fetch(self, key: str) -> bytes:
        for item in _ok(self.conn.uid("FETCH", key, "(BODY.PEEK[])"), f"message {key}"):
            if isinstance(item, tuple) and len(item) == 2:
                return bytes(item[1])
        raise imaplib.IMAP4.error(f"message {key}: the server sent no content")

    def settle(self, key: str) -> None:
        _ok(self.conn.uid("STORE", key, "+FLAGS.SILENT", r"(\Deleted)"), f"deleting message {key}")
        self.deleted.append(key)

    def leave(self, key: str) -> None:
        _ok(self.conn.uid("STORE", key, "+FLAGS.SILENT", r"(\Flagged)"), f"flagging message {key}")

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            if self.deleted and "UIDPLUS" in self.conn.capabilities:
                self.conn.uid("EXPUNGE", ",".join(self.deleted))
            elif self.deleted:
                self.conn.expunge()
            self.conn.logout()


# Messages a POP3 poll left for a person, by UIDL: not read again by this process.
_POP3_LEFT: set[str] = set()


class _Pop3:
    """POP3: message numbers for this session, deletions made when the session QUITs."""

    def __init__(self, box: Mailbox) -> None:
        if box.scheme == "pop3s":
            self.conn: poplib.POP3 = poplib.POP3_SSL(box.host, box.port, context=_tls(), timeout=TIMEOUT)
        else:
            self.conn = poplib.POP3(box.host, box.port, timeout=TIMEOUT)
            try:
                offers_tls = "STLS" in self.conn.capa()
            except poplib.error_proto:
                offers_tls = False
            if offers_tls:
                self.conn.stls(context=_tls())
            else:
                log.warning("%s offers no STLS: the password goes in the clear", box)
        try:
            self.conn.user(box.user)
            self.conn.pass_(box.password)
        except BaseException:
            with contextlib.suppress(OSError):
                self.conn.close()
            raise
        self.ids: dict[str, str] = {}
        self.where = f"{box.host}:{box.port}"

    def pending(self) -> list[tuple[str, int]]:
        with contextlib.suppress(poplib.error_proto):  # UIDL is optional
            for line in self.conn.uidl()[1]:
                number, _, uid = line.decode(errors="replace").partition(" ")
                self.ids[number] = uid.strip()
        listed = []
        for line in self.conn.list()[1]:
            number, _, size = line.decode(errors="replace").partition(" ")
            if f"{self.where}/{self.ids.get(number, '')}" in _POP3_LEFT:
                continue
            listed.append((number, int(size.split()[0]) if size.split() else 0))
        return listed[:POLL_BATCH]

    def fetch(self, key: str) -> bytes:
        return b"\r\n".join(self.conn.retr(int(key))[1]) + b"\r\n"

    def settle(self, key: str) -> None:
        self.conn.dele(int(key))

    def leave(self, key: str) -> None:
        if self.ids.get(key):
            _POP3_LEFT.add(f"{self.where}/{self.ids[key]}")

    def close(self) -> None:
        with contextlib.suppress(poplib.error_proto, OSError):
            self.conn.quit()


def _open(box: Mailbox) -> _Source:
    try:
        return _Imap(box) if box.scheme.startswith("imap") else _Pop3(box)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(
            f"{box}: the server's TLS certificate does not verify ({exc.verify_message}); "
            "set TIDINGS_BOUNCE_MAILBOX_CA_FILE for a private CA",
            unavailable=False,
        ) from exc
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        raise MailboxError(f"{box}: refused: {_said(exc)}", unavailable=False) from exc
    except (OSError, EOFError) as exc:
        raise MailboxError(f"{box}: cannot be reached: {exc}", unavailable=True) from exc


def _said(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return str(text)[:300]


def mailbox_poll(box: Mailbox) -> PollResult:
    """Read what is waiting in the mailbox once: record each report, then remove it.

    A message is removed only after its report was recorded (or found to need nothing); an
    error while recording stops the poll with the message still there, to be read again.
    """
    result = PollResult()
    source = _open(box)
    try:
        for key, size in source.pending():
            if size > settings.BOUNCE_MAX_BYTES:
                log.warning("%s: message %s is %d bytes, over the %d-byte limit: left in the mailbox",
                            box, key, size, settings.BOUNCE_MAX_BYTES)  # fmt: skip
                source.leave(key)
                result.left += 1
                continue
            raw = source.fetch(key)
            result.read += 1
            receipt = bounce_receive(raw)
            if receipt.status == "recorded":
                result.recorded += 1
            elif receipt.status == "duplicate":
                result.duplicate += 1
            if receipt.settled:
                source.settle(key)
                result.removed += 1
            else:
                source.leave(key)
                result.left += 1
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        raise MailboxError(f"{box}: {_said(exc)}", unavailable=True) from exc
    except (OSError, EOFError) as exc:
        raise MailboxError(f"{box}: the connection failed: {exc}", unavailable=True) from exc
    finally:
        source.close()
    return result


def mailbox_watch(
    box: Mailbox, *, interval: float, stop: threading.Event, report: Callable[[PollResult | Exception], None]
) -> None:
    """Poll every ``interval`` seconds until ``stop`` is set. A poll that fails (the mailbox or
    the database unreachable) is reported and the next one tries again."""
    while not stop.is_set():
        try:
            outcome: PollResult | Exception = mailbox_poll(box)
        except (MailboxError, DatabaseError) as exc:
            outcome = exc
        report(outcome)
        stop.wait(interval)
