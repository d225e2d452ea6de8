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
