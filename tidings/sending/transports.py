"""The last step of a message: pushing it to where the connection says mail leaves.

A transport is opened once per worker batch and kept open (one SMTP session,
one HTTP session to an ESP) for every message it sends. Its failures are
sorted into three kinds the pipeline acts on:

- ``TransientFailure``: try the message again later (SMTP 4xx, HTTP 429 or 5xx,
  a timeout, a dropped connection);
- ``PermanentFailure``: the message fails; with ``bounce`` the recipient's
  address is refused for good (SMTP 5xx on the recipient or the data);
- ``ConnectionUnusable``: nothing can go out this way (credentials refused, the
  sender refused); the campaign stops with the reason, its messages stay queued.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import smtplib
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from tidings.sending.assemble import Outgoing, mailbox, return_path_line, to_bytes
from tidings.sending.checks import tls_context
from tidings.sending.models import ConnectionKind, ProviderConnection
from tidings.sending.services import connection_secrets


class DeliveryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message[:1000]


class TransientFailure(DeliveryError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """Refused for good. ``bounce``: the refusal is about the address; ``code``: the reply's
    enhanced status code (or its reply code) when there was one."""

    def __init__(self, message: str, *, bounce: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.bounce = bounce
        self.code = code


class ConnectionUnusable(DeliveryError):
    pass


class Transport(Protocol):
    signs: bool  # whether it sends the signed bytes (SMTP, outbox) or hands parts to an ESP

    def push(self, outgoing: Outgoing, data: bytes | None) -> str:
        """Send one message; returns the provider's id for it."""
        ...

    def close(self) -> None: ...


class OutboxTransport:
    """Writes each message as an ``.eml`` file: it delivers nowhere."""

    signs = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def push(self, outgoing: Outgoing, data: bytes | None) -> str:
        name = outgoing.message_id.strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        temporary = path.with_suffix(".tmp")
        body = data if data is not None else to_bytes(outgoing)
        if outgoing.envelope_from:
            # The file keeps the envelope sender as a mailbox does, above the signed headers.
            body = return_path_line(outgoing.envelope_from) + body
        try:
            temporary.write_bytes(body)
            temporary.replace(path)  # whole files only: a reader never sees half a message
        except OSError as exc:
            raise TransientFailure(f"the outbox folder cannot be written: {exc.strerror}") from exc
        return outgoing.message_id

    def close(self) -> None:
        pass


def _reply(error: bytes | str) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


# An enhanced status code (RFC 3463): class, subject, detail.
ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def _smtp_failure(code: int, reply: str, *, stage: str, recipient: bool) -> DeliveryError:
    """Sort an SMTP refusal. The address bounces only when the refusal is about the address:
    5.1.x anywhere, or a 5xx to RCPT that is not a policy (5.7.x) refusal. A relay that will
    not relay for us stops the campaign; a refused message (content, size, policy) fails alone."""
    text = f"{stage}: {code} {reply}".strip()
    if 400 <= code < 500:
        return TransientFailure(text)
    enhanced = ENHANCED_CODE.search(reply)
    subject = enhanced.group(2) if enhanced else ""
    if subject == "7" and "relay" in reply.lower():
        return ConnectionUnusable(f"the relay refused to relay: {code} {reply}")
    sender_address = enhanced is not None and enhanced.group(0) in ("5.1.7", "5.1.8")  # ours, not theirs
    bounce = not sender_address and (
        subject == "1" or (recipient and subject != "7" and code in (550, 551, 553, 554))
    )
    return PermanentFailure(text, bounce=bounce, code=enhanced.group(0) if enhanced else str(code))


def send_mail(client: smtplib.SMTP, sender: str, recipient: str, body: bytes) -> None:
    """One mail transaction to one recipient: what ``client.sendmail(sender, [recipient], body)``
    does, with the same replies raising the same exceptions, and less work.

    Where the server offers PIPELINING (RFC 2920; Postfix does) MAIL, RCPT and DATA go out in one
    write and their three replies are read together: two round trips a message, not four. The
    dot-stuffing is one ``bytes.replace`` (smtplib runs a regular expression over the message).
    ``body`` is the message as sent, CRLF line endings and ASCII (``assemble`` writes nothing else).
    """
    client.ehlo_or_helo_if_needed()
    size = f" SIZE={len(body)}" if client.does_esmtp and client.has_extn("size") else ""
    commands = (f"MAIL FROM:<{sender}>{size}", f"RCPT TO:<{recipient}>", "DATA")
    expected = ((250,), (250, 251), (354,))
    pipelined = client.does_esmtp and client.has_extn("pipelining")
    if pipelined:
        client.send("".join(f"{command}\r\n" for command in commands))
    replies: list[tuple[int, bytes]] = []
    for command, ok in zip(commands, expected, strict=True):
        if not pipelined:
            client.send(f"{command}\r\n")
        replies.append(client.getreply())
        code = replies[-1][0]
        if code == 421 or (code not in ok and not pipelined):
            break  # a server closing answers nothing more; one at a time, nothing more is sent
    failed = next(
        (i for i, (reply, ok) in enumerate(zip(replies, expected, strict=False)) if reply[0] not in ok), None
    )
    if failed is not None:
        if len(replies) == 3 and replies[2][0] == 354:
            # A server that took DATA after refusing the recipient (RFC 2920 says it must not):
            # end the empty message so the session stays in step.
            client.send(".\r\n")
            client.getreply()
        code, reply = replies[failed]
        if any(answer == 421 for answer, _ in replies):
            client.close()  # the server is closing the session, whichever reply said so
        else:
            client._rset()
        if failed == 0:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        if failed == 1:
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        raise smtplib.SMTPDataError(code, reply)
    stuffed = body.replace(b"\n.", b"\n..")
    if stuffed[:1] == b".":
        stuffed = b"." + stuffed
    client.send(stuffed + (b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n"))
    code, reply = client.getreply()
    if code != 250:
        if code == 421:
            client.close()
        else:
            client._rset()
        raise smtplib.SMTPDataError(code, reply)


class SmtpTransport:
    """One persistent SMTP session (STARTTLS or TLS, login), reopened when the server drops it."""

    signs = True

    def __init__(self, options: dict[str, Any], secrets: dict[str, Any]) -> None:
        self.options, self.secrets = options, secrets
        self.where = f"{options['host']}:{options.get('port', 587)}"
        self.client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        options = self.options
        host, port = options["host"], options.get("port", 587)
        security, timeout = options.get("security", "starttls"), options.get("timeout", 30)
        try:
            if security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context())
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
            client.ehlo()
            if security == "starttls":
                if not client.has_extn("starttls"):
                    client.close()
                    raise ConnectionUnusable(f"{self.where} does not offer STARTTLS")
                client.starttls(context=tls_context())
                client.ehlo()
            if options.get("username"):
                client.login(options["username"], self.secrets.get("password", ""))
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectionUnusable(
                f"{self.where} refused the login: {exc.smtp_code} {_reply(exc.smtp_error)}"
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise ConnectionUnusable(f"the TLS certificate of {self.where} does not verify") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientFailure(f"{self.where} could not be reached: {exc}") from exc
        return client

    def push(self, outgoing: Outgoing, data: bytes | None) -> str:
        if self.client is None or self.client.sock is None:  # never opened, or closed by a 421
            self.client = self._open()
        body = data if data is not None else to_bytes(outgoing)
        try:
            send_mail(self.client, outgoing.return_path, outgoing.to, body)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            if code == 421:
                self._drop()
            raise _smtp_failure(code, _reply(reply), stage="recipient refused", recipient=True) from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 421:
                self._drop()
            if exc.smtp_code == 552:
                # MAIL FROM … SIZE= over the server's limit: this message is too big, not the sender refused.
                reply = _reply(exc.smtp_error)
                raise _smtp_failure(552, reply, stage="message refused", recipient=False) from exc
            if 400 <= exc.smtp_code < 500:
                raise TransientFailure(f"sender refused: {exc.smtp_code} {_reply(exc.smtp_error)}") from exc
            reply = f"{exc.smtp_code} {_reply(exc.smtp_error)}"
            raise ConnectionUnusable(
                f"{self.where} refused the sender {outgoing.return_path}: {reply}"
            ) from exc
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code == 421:
                self._drop()
            reply = _reply(exc.smtp_error)
            raise _smtp_failure(exc.smtp_code, reply, stage="message refused", recipient=False) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            reply = _reply(exc.smtp_error)
            raise _smtp_failure(exc.smtp_code, reply, stage="server error", recipient=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # A dropped session or a timeout: whether the server kept the message is unknown.
            self._drop()
            raise TransientFailure(f"{self.where}: {type(exc).__name__}: {exc}") from exc
        return outgoing.message_id

    def _drop(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.client.quit()
            self._drop()


# Each ESP through django-anymail's own backend, its credentials passed as backend kwargs.
ANYMAIL_BACKENDS = {
    ConnectionKind.SES: "anymail.backends.amazon_ses.EmailBackend",
    ConnectionKind.SENDGRID: "anymail.backends.sendgrid.EmailBackend",
    ConnectionKind.MAILGUN: "anymail.backends.mailgun.EmailBackend",
    ConnectionKind.RESEND: "anymail.backends.resend.EmailBackend",
    ConnectionKind.POSTMARK: "anymail.backends.postmark.EmailBackend",
}


def anymail_kwargs(kind: str, options: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """What anymail's backend for ``kind`` takes, from a connection's settings and secrets."""
    if kind == ConnectionKind.SES:
        client: dict[str, Any] = {
            # The pipeline retries with its own backoff; boto's retries would only hide a 429.
            "config": {
                "retries": {"mode": "standard", "total_max_attempts": 1},
                "connect_timeout": 10,
                "read_timeout": 30,
            },
        }
        if options.get("endpointUrl"):
            client["endpoint_url"] = options["endpointUrl"]
        session = {
            "aws_access_key_id": secrets.get("accessKeyId", ""),
            "aws_secret_access_key": secrets.get("secretAccessKey", ""),
            "region_name": options["region"],
        }
        return {"session_params": session, "client_params": client}
    kwargs: dict[str, Any] = {}
    if kind == ConnectionKind.POSTMARK:
        kwargs["server_token"] = secrets.get("serverToken", "")
    else:
        kwargs["api_key"] = secrets.get("apiKey", "")
    if kind == ConnectionKind.MAILGUN and options.get("senderDomain"):
        kwargs["sender_domain"] = options["senderDomain"]
    if options.get("apiUrl"):
        kwargs["api_url"] = options["apiUrl"]
    return kwargs


def _status(exc: Any) -> int | None:
    """The HTTP status of a failed API call: from requests' response, or boto's response dict (SES)."""
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    if status is None and isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


def _retry_after(exc: Any) -> float | None:
    """Seconds a provider asked to wait (``Retry-After``: seconds or an HTTP date); None if unreadable."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        value = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after")
    else:
        value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return max(0.0, (parsed - datetime.now(UTC)).total_seconds())


# SES answers account-wide refusals with HTTP 400: they stop the campaign, or wait, not fail each message.
_SES_STOP = frozenset(
    {"SendingPausedException", "AccountSuspendedException", "MailFromDomainNotVerifiedException"}
)
_SES_WAIT = frozenset(
    {"LimitExceededException", "TooManyRequestsException", "ThrottlingException", "Throttling"}
)


def _ses_error(exc: Any) -> tuple[str, str]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", ""
    error = response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


class AnymailTransport:
    """An ESP's HTTP API through django-anymail."""

    signs = False  # the ESP signs with the keys set up on its side

    def __init__(self, kind: str, options: dict[str, Any], secrets: dict[str, Any]) -> None:
        from django.core.mail import get_connection

        self.kind = kind
        self.connection = get_connection(
            ANYMAIL_BACKENDS[kind], fail_silently=False, **anymail_kwargs(kind, options, secrets)
        )

    def push(self, outgoing: Outgoing, data: bytes | None) -> str:
        from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
        from django.core.mail import EmailMultiAlternatives

        message = EmailMultiAlternatives(
            subject=outgoing.subject,
            body=outgoing.text,
            from_email=mailbox(outgoing.from_email, outgoing.from_name),
            to=[outgoing.to],
            reply_to=[outgoing.reply_to] if outgoing.reply_to else None,
            headers={**outgoing.headers, "Message-ID": outgoing.message_id},
            connection=self.connection,
        )
        message.attach_alternative(outgoing.html, "text/html")
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise PermanentFailure(f"{self.kind} refused the recipient: {exc}", bounce=True) from exc
        except AnymailAPIError as exc:
            status = _status(exc)
            text = f"{self.kind} answered {status or 'nothing usable'}: {str(exc).splitlines()[0]}"
            code, detail = _ses_error(exc)
            if code in _SES_STOP or (code == "MessageRejected" and "not verified" in detail):
                raise ConnectionUnusable(
                    f"{self.kind} refused to send for this account: {code}: {detail}"
                ) from exc
            if code in _SES_WAIT:
                raise TransientFailure(text, retry_after=_retry_after(exc)) from exc
            if status is None:
                raise TransientFailure(text) from exc
            if status in (401, 403):
                raise ConnectionUnusable(f"{self.kind} refused the credentials ({status})") from exc
            if status == 429 or status >= 500:
                raise TransientFailure(text, retry_after=_retry_after(exc)) from exc
            if 200 <= status < 300:
                # Accepted, but the answer cannot be read: sending again could deliver it twice.
                raise PermanentFailure(f"{text} (the message may have been accepted)") from exc
            raise PermanentFailure(text) from exc
        except AnymailError as exc:
            raise PermanentFailure(f"{self.kind}: {str(exc).splitlines()[0]}") from exc
        status = message.anymail_status
        return status.message_id or outgoing.message_id

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a session that is already gone
            self.connection.close()


def outbox_folder(connection: ProviderConnection) -> Path:
    return Path(settings.DATA_DIR) / "outbox" / f"project-{connection.project_id}"


def open_transport(connection: ProviderConnection) -> Transport:
    kind = connection.kind
    if kind == ConnectionKind.OUTBOX:
        return OutboxTransport(outbox_folder(connection))
    secrets = connection_secrets(connection)
    if kind == ConnectionKind.SMTP:
        return SmtpTransport(connection.options, secrets)
    return AnymailTransport(kind, connection.options, secrets)
