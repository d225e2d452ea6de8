"""What the campaign tests share: a project ready to send, and short readers of API answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sending import factories as f
from tests.sending.conftest import smtp_server

__all__ = ["ok", "ready", "refused", "smtp_server"]


@pytest.fixture
def ready(project: Any, smtp_server: Any) -> Any:
    """The project can send: example.com is verified and an SMTP relay is the default connection."""
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    return smtp_server


def refused(response: Any, path: str, status: int = 422) -> str:
    """Assert a problem answer naming ``path``; returns its messages for that path."""
    assert response.status_code == status, response.content
    problem = response.json()
    assert problem["status"] == status
    messages = [e["message"] for e in problem.get("errors", []) if e["path"] == path]
    assert messages, f"no error at {path!r}: {problem}"
    return " ".join(messages)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()
