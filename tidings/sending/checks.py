"""“Test connection”: reach the provider and log in, send nothing, and say plainly what failed."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

CHECK_TIMEOUT = 15  # seconds; a check never waits for a connection's own longer timeout


@dataclass(frozen=True)
class CheckResult:
    ok: bool | None  # None: nothing could be tried from here
    code: str  # ok, auth_failed, unreachable, timeout, tls_unavailable, tls_error, smtp_error, unchecked
    message: str


def _fail(code: str, message: str) -> CheckResult:
    return CheckResult(False, code, message)


def tls_context() -> ssl.SSLContext:
    """Certificates are verified, against TIDINGS_SMTP_CA_FILE when an operator runs their own CA."""
    return ssl.create_default_context(cafile=settings.SMTP_CA_FILE or None)


def _smtp(options: dict[str, Any], secrets: dict[str, Any]) -> CheckResult:
    host, port = options["host"], options.get("port", 587)
    security = options.get("security", "starttls")
    timeout = min(options.get("timeout", CHECK_TIMEOUT), CHECK_TIMEOUT)
    where = f"{host}:{port}"
    try:
        client: smtplib.SMTP
        if security == "tls":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if security == "starttls":
                if not client.has_extn("starttls"):
                    return _fail(
                        "tls_unavailable",
                        f"{where} does not offer STARTTLS: choose the security 'tls' for an "
                        "implicit-TLS port (465), or 'none' only for a relay on a trusted network",
                    )
                client.starttls(context=tls_context())
                client.ehlo()
            if options.get("username"):
                client.login(options["username"], secrets.get("password", ""))
            client.noop()
    except smtplib.SMTPAuthenticationError as exc:
        reply = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return _fail("auth_failed", f"{where} refused the username or password ({exc.smtp_code} {reply})")
    except smtplib.SMTPNotSupportedError:
        return _fail("auth_failed", f"{where} does not offer login (AUTH); leave the username empty")
    except ssl.SSLCertVerificationError as exc:
        return _fail("tls_error", f"the TLS certificate of {where} does not verify: {exc.verify_message}")
    except ssl.SSLError as exc:
        return _fail("tls_error", f"the TLS handshake with {where} failed: {exc.reason or exc}")
    except TimeoutError:
        return _fail("timeout", f"{where} did not answer within {timeout} s")
    except smtplib.SMTPServerDisconnected as exc:
        return _fail("unreachable", f"{where} closed the connection: {exc}")
    except smtplib.SMTPException as exc:
        return _fail("smtp_error", f"{where} answered with an error: {exc}")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _fail("unreachable", f"{where} could not be reached: {reason}")
    login = f" and accepted the login of {options['username']}" if options.get("username") else ""
    return CheckResult(True, "ok", f"{where} answered{login}.")


def _outbox() -> CheckResult:
    folder = Path(settings.DATA_DIR) / "outbox"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        return _fail("unreachable", f"the outbox folder {folder} cannot be made: {exc.strerror}")
    if not os.access(folder, os.W_OK):
        return _fail("unreachable", f"the outbox folder {folder} is not writable")
    return CheckResult(True, "ok", f"Messages are written to {folder} and delivered nowhere.")


def check_connection(kind: str, options: dict[str, Any], secrets: dict[str, Any]) -> CheckResult:
    if kind == "smtp":
        return _smtp(options, secrets)
    if kind == "outbox":
        return _outbox()
    return CheckResult(
        None,
        "unchecked",
        "The settings are complete; this provider's key is checked by the provider on the first send.",
    )
