"""Fixtures for the drafts tests: local servers speaking the OpenAI and Anthropic wire formats."""

from __future__ import annotations

from typing import Any

import pytest

from tests.drafts.llm_servers import anthropic_server, openai_server

__all__ = ["anthropic_server", "openai_server"]


@pytest.fixture(autouse=True)
def loopback_ai_allowed(settings: Any) -> None:
    """The stand-in AI servers listen on loopback, which an operator must allow, as for Ollama."""
    settings.AI_ALLOWED_HOSTS = ["127.0.0.1"]
