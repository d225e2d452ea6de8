"""Fixtures for the sending tests: a real SMTP server on 127.0.0.1 (plain, AUTH, STARTTLS, implicit TLS).

Each fixture yields a running ``SmtpServer`` (see ``tests.sending.smtp_server``) and stops it
after the test. ``closed_port()`` gives a port nothing listens on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sending.smtp_server import SmtpServer, closed_port

__all__ = ["SMTP_PASSWORD", "SMTP_USER", "closed_port"]

SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP, no AUTH, no TLS."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    """Plain SMTP that requires AUTH LOGIN/PLAIN as ``mailer`` / ``s3cret`` before MAIL."""
    with SmtpServer(auth=(SMTP_USER, SMTP_PASSWORD)) as server:
        yield server


@pytest.fixture
def smtp_starttls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """SMTP that offers STARTTLS (not required) with a self-signed certificate; trust ``.ca_file``."""
    with SmtpServer(starttls=True, tls_dir=tmp_path) as server:
        yield server


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """SMTP inside TLS from the first byte (like port 465); trust ``.ca_file``."""
    with SmtpServer(implicit_tls=True, tls_dir=tmp_path) as server:
        yield server


# -- stand-ins for the email service providers' APIs (see ``tests.sending.esp_servers``) ---------
# (Imported here rather than at the top so this section only appends to the file.)
import os  # noqa: E402

from tests.sending.esp_servers import (  # noqa: E402
    ESP_KINDS,
    EspServer,
    MailgunServer,
    PostmarkServer,
    ResendServer,
    SendGridServer,
    SesServer,
)


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridServer]:
    """SendGrid v3 mail/send on 127.0.0.1; ``example.com`` is a verified sender domain."""
    with SendGridServer() as server:
        yield server


@pytest.fixture
def mailgun_server() -> Iterator[MailgunServer]:
    """Mailgun /v3/<domain>/messages on 127.0.0.1; ``example.com`` is a verified sender domain."""
    with MailgunServer() as server:
        yield server


@pytest.fixture
def resend_server() -> Iterator[ResendServer]:
    """Resend /emails on 127.0.0.1; ``example.com`` is a verified sender domain."""
    with ResendServer() as server:
        yield server


@pytest.fixture
def postmark_server() -> Iterator[PostmarkServer]:
    """Postmark /email on 127.0.0.1; ``example.com`` is a verified sender domain."""
    with PostmarkServer() as server:
        yield server


def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide every ``AWS_*`` variable and the AWS config/credentials files from boto3."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def _ses_moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SesServer]:
    """One moto server for the session (starting it costs ~1.5 s; stopping one up to 0.5 s)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _no_aws_environment(monkeypatch, tmp_path_factory.mktemp("aws"))
        server = SesServer()
    with server:
        yield server


@pytest.fixture
def ses_server(_ses_moto_server: SesServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SesServer:
    """Amazon SES v2 (moto) on 127.0.0.1, its state fresh: only ``example.com`` verified, nothing sent.

    No AWS configuration from the environment is used: every ``AWS_*`` variable is removed and
    the config/credentials files point at nothing (``backend_kwargs()`` gives keys and region).
    """
    _no_aws_environment(monkeypatch, tmp_path)
    _ses_moto_server.reset()
    return _ses_moto_server


@pytest.fixture(params=ESP_KINDS)
def esp_server(request: pytest.FixtureRequest) -> EspServer | SesServer:
    """Each provider stand-in in turn: ``sendgrid``, ``mailgun``, ``resend``, ``postmark``, ``ses``."""
    return request.getfixturevalue(f"{request.param}_server")
