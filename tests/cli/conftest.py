"""Peers the command-line tests talk to: the SMTP and DNS servers of the sending tests."""

from tests.sending.conftest import smtp_auth_server, smtp_server
from tests.sending.dns_server import dns_server

__all__ = ["dns_server", "smtp_auth_server", "smtp_server"]
