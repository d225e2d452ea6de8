"""A real SMTP server on 127.0.0.1 for the sending tests, built on aiosmtpd's threaded ``Controller``.

Clients talk to it over a socket, so the tests cover what an SMTP client really sends
and how it reacts to real reply codes. Options, fixed at creation:

- ``auth=(user, password)``: AUTH LOGIN / PLAIN is offered (without TLS) and required
  before MAIL; wrong credentials get ``535``.
- ``starttls=True``: STARTTLS is offered with a fresh self-signed certificate for
  ``localhost`` / ``127.0.0.1``; a client verifies it with ``.ca_file``.
- ``implicit_tls=True``: the whole connection is TLS from the first byte, as on port 465.
- ``pipelining=False``: PIPELINING (RFC 2920) is not offered; it is by default, as Postfix does,
  and a client may then send MAIL, RCPT and DATA together (aiosmtpd reads them in turn).

Every accepted message is recorded in ``.messages``; ``reject`` scripts the reply to
``RCPT TO`` for one address (e.g. ``550`` or ``451``).
"""

from __future__ import annotations

import datetime
import email
import email.policy
import hmac
import ipaddress
import socket
import ssl
import tempfile
import threading
import weakref
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
SERVER_NAME = "localhost"  # the name in the 220 greeting and the EHLO reply


@dataclass(frozen=True)
class Received:
    """One message the server accepted (after the final ``250`` to DATA)."""

    mail_from: str
    rcpt_tos: list[str]  # only the recipients the server accepted
    content: bytes  # the DATA as sent, dot-unstuffed, line endings as on the wire
    login: str | None = None  # who had authenticated on that connection
    tls: bool = False  # whether the connection was encrypted (STARTTLS or implicit TLS)

    @property
    def message(self) -> EmailMessage:
        """``content`` parsed with the modern email policy."""
        return cast(EmailMessage, email.message_from_bytes(self.content, policy=email.policy.default))


@dataclass(frozen=True)
class AuthAttempt:
    mechanism: str  # "LOGIN" or "PLAIN"
    login: str
    success: bool


@dataclass
class _Rejection:
    code: int
    message: str
    times: int | None  # None: every time


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``localhost`` / ``127.0.0.1`` / ``::1``, written to disk."""

    cert_file: Path
    key_file: Path
    pem: bytes


def make_certificate(directory: Path) -> Certificate:
    """Write a fresh self-signed certificate and its key (EC P-256) into ``directory``.

    It is its own trust anchor, so the certificate file doubles as a CA file, and it
    carries the extensions a strict verifier (``VERIFY_X509_STRICT``) asks for.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(SERVER_NAME),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file = directory / "smtp-cert.pem"
    key_file = directory / "smtp-key.pem"
    cert_file.write_bytes(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return Certificate(cert_file=cert_file, key_file=key_file, pem=pem)


class SmtpServer:
    """A running SMTP server on ``127.0.0.1:<port>``; see the module docstring for the options.

    ``tls_dir`` is where the certificate goes when TLS is on; without one a temporary
    directory is made and removed again by ``stop``.
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        pipelining: bool = True,
        tls_dir: Path | None = None,
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        self.host = HOST
        self.auth = auth
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.pipelining = pipelining
        self.messages: list[Received] = []
        self.auth_attempts: list[AuthAttempt] = []
        self._rejections: dict[str, _Rejection] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

        self.certificate: Certificate | None = None
        tls_context: ssl.SSLContext | None = None
        if starttls or implicit_tls:
            if tls_dir is None:
                self._tempdir = tempfile.TemporaryDirectory(prefix="smtp-tls-")
                tls_dir = Path(self._tempdir.name)
            self.certificate = make_certificate(tls_dir)
            tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls_context.load_cert_chain(self.certificate.cert_file, self.certificate.key_file)

        smtp_options: dict[str, Any] = {"server_hostname": SERVER_NAME}
        if auth is not None:
            smtp_options.update(authenticator=self._authenticate, auth_require_tls=False, auth_required=True)
        if starttls:
            smtp_options["tls_context"] = tls_context
        self._controller = _Controller(
            _Handler(self),
            hostname=HOST,
            port=0,
            ssl_context=tls_context if implicit_tls else None,
            **smtp_options,
        )
        try:
            self._controller.start()
        except BaseException:
            self._cleanup_tempdir()
            raise
        self.port: int = self._controller.port

    # -- TLS material ---------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        """The file a client trusts to verify this server (``cafile=`` of ``ssl.create_default_context``)."""
        if self.certificate is None:
            raise AttributeError("this server has no TLS")
        return self.certificate.cert_file

    @property
    def certificate_pem(self) -> bytes:
        if self.certificate is None:
            raise AttributeError("this server has no TLS")
        return self.certificate.pem

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    # -- scripting ------------------------------------------------------------------

    def reject(
        self, rcpt: str, code: int = 550, message: str = "5.1.1 No such user", *, times: int | None = None
    ) -> None:
        """Answer ``RCPT TO:<rcpt>`` with ``code message`` (address compared case-insensitively).

        ``times`` limits it to the next n attempts (e.g. one ``451`` then accept); by default every time.
        """
        if not 200 <= code <= 599:
            raise ValueError(f"not an SMTP reply code: {code}")
        with self._lock:
            self._rejections[rcpt.lower()] = _Rejection(code, message, times)

    def accept(self, rcpt: str) -> None:
        """Undo ``reject`` for ``rcpt``."""
        with self._lock:
            self._rejections.pop(rcpt.lower(), None)

    # -- lifecycle ------------------------------------------------------------------

    def stop(self) -> None:
        """Drop any open connection and stop listening. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._controller.drop_connections()
            self._controller.stop()
        finally:
            self._cleanup_tempdir()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SmtpServer {self.host}:{self.port} messages={len(self.messages)}>"

    # -- called from the server thread -----------------------------------------------

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = self.auth
        login = auth_data.login.decode("utf-8", "replace")
        # Both compared, so a wrong user and a wrong password look the same from outside.
        user_ok = hmac.compare_digest(auth_data.login, user.encode())
        password_ok = hmac.compare_digest(auth_data.password, password.encode())
        success = user_ok and password_ok
        with self._lock:
            self.auth_attempts.append(AuthAttempt(mechanism, login, success))
        # A failure with handled=False makes aiosmtpd answer "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=success, handled=False, auth_data=auth_data)

    def _rcpt_reply(self, address: str) -> str | None:
        with self._lock:
            rejection = self._rejections.get(address.lower())
            if rejection is None:
                return None
            if rejection.times is not None:
                rejection.times -= 1
                if rejection.times <= 0:
                    del self._rejections[address.lower()]
            return f"{rejection.code} {rejection.message}"

    def _record(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)

    def _cleanup_tempdir(self) -> None:
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None


class _Handler:
    """aiosmtpd handler hooks; they run on the controller's event-loop thread."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        # ``responses`` ends with the last line ("250 HELP"); the extension goes before it.
        session.host_name = hostname
        if self.owner.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.owner._rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        if isinstance(content, str):  # only with decode_data=True, which is not used here
            content = content.encode("utf-8", "surrogateescape")
        transport = server.transport
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        login = session.login_data.decode("utf-8", "replace") if session.authenticated else None
        self.owner._record(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                content=bytes(content or b""),
                login=login,
                tls=tls,
            )
        )
        return "250 2.0.0 OK: queued"


class _Controller(Controller):
    """A ``Controller`` that binds port 0 and learns the port the OS chose.

    aiosmtpd 1.4.6 keeps ``Controller.port`` as it was given and, in ``start()``,
    connects to it to trigger the lazy SMTP setup, so port 0 on its own does not work.
    The listening socket exists by then, so its real port is read just before that.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def factory(self) -> SMTP:
        # SMTP(auth_required=True, auth_require_tls=False) warns "Requiring AUTH while not
        # requiring TLS..." on every connection, from this server thread, where a warnings
        # filter cannot be set safely. That is the point of this test server, so the flag
        # is passed as False and set right after: the same state, without the warning.
        options = dict(self.SMTP_kwargs)
        auth_required = options.pop("auth_required", False)
        smtpd = SMTP(self.handler, **options)
        smtpd._auth_required = auth_required
        self._connections.add(smtpd)
        return smtpd

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def drop_connections(self) -> None:
        """Abort every client connection still open, so ``stop`` never waits on a client.

        (``Server.wait_closed`` waits for open connections, and a TLS close waits for the peer.)
        """
        if self._thread is None or not self.loop.is_running():
            return
        done = threading.Event()

        def abort_all() -> None:
            try:
                for smtpd in list(self._connections):
                    for transport in (smtpd._original_transport, smtpd.transport):
                        if transport is not None and not transport.is_closing():
                            transport.abort()
            finally:
                done.set()

        self.loop.call_soon_threadsafe(abort_all)
        done.wait(5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
