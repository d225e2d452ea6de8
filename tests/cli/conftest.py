"""Peers the command-line tests talk to (the SMTP and DNS servers of the sending tests), and a
command line that no config file or environment of the machine turns remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sending.conftest import smtp_auth_server, smtp_server
from tests.sending.dns_server import dns_server

__all__ = ["dns_server", "smtp_auth_server", "smtp_server"]


@pytest.fixture(autouse=True)
def _no_remote_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIDINGS_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("TIDINGS_URL", "TIDINGS_API_KEY", "TIDINGS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
