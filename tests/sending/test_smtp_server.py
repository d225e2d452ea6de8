"""The SMTP test server itself, driven by Python's smtplib over a real socket."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time

import pytest

from tests.sending.conftest import SMTP_PASSWORD, SMTP_USER
from tests.sending.smtp_server import SmtpServer, closed_port

TIMEOUT = 5
MESSAGE = (
    b"From: Tidings <news@example.org>\r\nTo: Ada <ada@example.org>\r\nSubject: Hello\r\n\r\nHi Ada.\r\n"
)


def strict_context(server: SmtpServer) -> ssl.SSLContext:
    context = server.client_context()
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # the default from Python 3.13 on
    return context


def test_plain_send_arrives(smtp_server: SmtpServer) -> None:
    assert smtp_server.host == "127.0.0.1"
    assert smtp_server.port > 0
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as client:
        refused = client.sendmail("news@example.org", ["ada@example.org", "bob@example.org"], MESSAGE)

    assert refused == {}
    [received] = smtp_server.messages
    assert received.mail_from == "news@example.org"
    assert received.rcpt_tos == ["ada@example.org", "bob@example.org"]
    assert received.content == MESSAGE
    assert received.message["Subject"] == "Hello"
    assert received.login is None
    assert received.tls is False


def test_plain_server_offers_neither_auth_nor_starttls(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        assert not client.has_extn("starttls")


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_with_the_right_password(smtp_auth_server: SmtpServer, mechanism: str) -> None:
    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=TIMEOUT) as client:
        client.ehlo()
        client.user, client.password = SMTP_USER, SMTP_PASSWORD
        authobject = getattr(client, f"auth_{mechanism.lower()}")
        code, _ = client.auth(mechanism, authobject, initial_response_ok=False)
        assert code == 235
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)

    [received] = smtp_auth_server.messages
    assert received.login == SMTP_USER
    assert [(a.mechanism, a.login, a.success) for a in smtp_auth_server.auth_attempts] == [
        (mechanism, SMTP_USER, True)
    ]


def test_auth_with_smtplib_login(smtp_auth_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=TIMEOUT) as client:
        client.login(SMTP_USER, SMTP_PASSWORD)
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)
    assert len(smtp_auth_server.messages) == 1


@pytest.mark.parametrize(("user", "password"), [(SMTP_USER, "wrong"), ("someone", SMTP_PASSWORD)])
def test_auth_with_wrong_credentials_is_535(smtp_auth_server: SmtpServer, user: str, password: str) -> None:
    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=TIMEOUT) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
            client.login(user, password)
        assert failure.value.smtp_code == 535
    assert smtp_auth_server.messages == []
    assert smtp_auth_server.auth_attempts
    assert not any(attempt.success for attempt in smtp_auth_server.auth_attempts)


def test_auth_server_refuses_mail_without_login(smtp_auth_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=TIMEOUT) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refusal:
            client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)
        assert refusal.value.smtp_code == 530
    assert smtp_auth_server.messages == []


def test_starttls_verifies_with_the_ca_file(smtp_starttls_server: SmtpServer) -> None:
    server = smtp_starttls_server
    assert server.ca_file.read_bytes() == server.certificate_pem
    assert server.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=strict_context(server))
        assert code == 220
        client.ehlo()
        assert not client.has_extn("starttls")
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)

    [received] = server.messages
    assert received.tls is True
    assert received.content == MESSAGE


def test_starttls_by_host_name(smtp_starttls_server: SmtpServer) -> None:
    server = smtp_starttls_server
    with smtplib.SMTP("localhost", server.port, timeout=TIMEOUT) as client:
        client.starttls(context=strict_context(server))
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)
    assert server.messages[0].tls is True


def test_starttls_is_optional(smtp_starttls_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_starttls_server.host, smtp_starttls_server.port, timeout=TIMEOUT) as client:
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)
    assert smtp_starttls_server.messages[0].tls is False


def test_starttls_certificate_is_not_trusted_by_default(smtp_starttls_server: SmtpServer) -> None:
    server = smtp_starttls_server
    with (
        smtplib.SMTP(server.host, server.port, timeout=TIMEOUT) as client,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        client.starttls(context=ssl.create_default_context())


def test_implicit_tls_with_smtp_ssl(smtp_tls_server: SmtpServer) -> None:
    server = smtp_tls_server
    context = strict_context(server)
    with smtplib.SMTP_SSL(server.host, server.port, context=context, timeout=TIMEOUT) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.sendmail("news@example.org", ["ada@example.org"], MESSAGE)

    [received] = server.messages
    assert received.tls is True
    assert received.content == MESSAGE


def test_implicit_tls_certificate_is_not_trusted_by_default(smtp_tls_server: SmtpServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            smtp_tls_server.host, smtp_tls_server.port, context=ssl.create_default_context(), timeout=TIMEOUT
        )


def test_rejected_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.reject("gone@example.org", 550, "5.1.1 No such user")
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refusal,
    ):
        client.sendmail("news@example.org", ["Gone@Example.org"], MESSAGE)
    assert refusal.value.recipients == {"Gone@Example.org": (550, b"5.1.1 No such user")}
    assert smtp_server.messages == []


def test_one_rejected_recipient_among_several(smtp_server: SmtpServer) -> None:
    smtp_server.reject("busy@example.org", 451, "4.3.0 Try again later")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as client:
        refused = client.sendmail("news@example.org", ["ada@example.org", "busy@example.org"], MESSAGE)
    assert refused == {"busy@example.org": (451, b"4.3.0 Try again later")}
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ada@example.org"]


def test_rejection_for_a_number_of_times(smtp_server: SmtpServer) -> None:
    smtp_server.reject("busy@example.org", 451, "4.3.0 Try again later", times=1)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("news@example.org", ["busy@example.org"], MESSAGE)
        client.rset()
        client.sendmail("news@example.org", ["busy@example.org"], MESSAGE)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["busy@example.org"]]


def test_closed_port_refuses_connections() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", closed_port()), timeout=TIMEOUT)


@pytest.mark.parametrize("kind", ["plain", "starttls", "implicit_tls"])
def test_stop_does_not_wait_for_a_client_left_connected(kind: str) -> None:
    server = SmtpServer(starttls=kind == "starttls", implicit_tls=kind == "implicit_tls")
    if kind == "implicit_tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, context=server.client_context(), timeout=TIMEOUT
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        if kind == "starttls":
            client.starttls(context=server.client_context())
    try:
        client.ehlo()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        server.stop()  # a second stop is harmless
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((server.host, server.port), timeout=TIMEOUT)
    finally:
        client.close()
