"""AI providers that draft emails, behind one interface (:class:`AiProvider`).

``get_provider(config)`` picks the implementation by ``config.kind``; the
"offline" kind is handled by the caller, not here.
"""

from __future__ import annotations

from tidings.drafts.providers.anthropic_messages import AnthropicProvider
from tidings.drafts.providers.base import (
    DRAFT_SCHEMA,
    AiProvider,
    DraftAnswer,
    DraftRequest,
    ProviderConfig,
    ProviderError,
    SdkProvider,
    parse_answer,
)
from tidings.drafts.providers.openai_compat import OpenAICompatProvider

__all__ = [
    "DRAFT_SCHEMA",
    "AiProvider",
    "AnthropicProvider",
    "DraftAnswer",
    "DraftRequest",
    "OpenAICompatProvider",
    "ProviderConfig",
    "ProviderError",
    "SdkProvider",
    "get_provider",
    "parse_answer",
]

_PROVIDERS: dict[str, type[SdkProvider]] = {
    "openai": OpenAICompatProvider,
    "anthropic": AnthropicProvider,
}


def get_provider(config: ProviderConfig) -> AiProvider:
    """The provider for ``config.kind`` ("openai" or "anthropic"); ``ValueError`` for any other kind."""
    try:
        provider = _PROVIDERS[config.kind]
    except KeyError:
        known = " or ".join(repr(kind) for kind in _PROVIDERS)
        raise ValueError(f"Unknown AI provider kind {config.kind!r}; expected {known}.") from None
    return provider(config)
