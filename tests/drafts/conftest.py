"""Fixtures for the drafts tests: local servers speaking the OpenAI and Anthropic wire formats."""

from __future__ import annotations

from tests.drafts.llm_servers import anthropic_server, openai_server

__all__ = ["anthropic_server", "openai_server"]
