"""Drafts through the Anthropic Messages API.

The answer is forced through one tool, ``email_draft``, whose input schema is
:data:`DRAFT_SCHEMA`; the tool call's input is the draft.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import anthropic

from tidings.drafts.providers.base import (
    DRAFT_SCHEMA,
    DraftAnswer,
    DraftRequest,
    ProviderError,
    SdkProvider,
    bad_answer,
    parse_answer,
)

TOOL_NAME = "email_draft"
# Typed Any: the SDK wants its own TypedDicts, which add nothing to a constant.
DRAFT_TOOL: Any = {
    "name": TOOL_NAME,
    "description": "Hand over the drafted email: subject, preheader, MJML body and the variables it uses.",
    "input_schema": DRAFT_SCHEMA,
}
MAX_TOKENS = 4096


class AnthropicProvider(SdkProvider):
    """An :class:`AiProvider` for the Anthropic Messages API."""

    name: ClassVar[str] = "anthropic"
    requires_key: ClassVar[bool] = True
    sdk_errors: ClassVar[tuple[tuple[type[Exception], str], ...]] = (
        (anthropic.APITimeoutError, "timeout"),  # a subclass of APIConnectionError, so first
        (anthropic.APIConnectionError, "unreachable"),
        (anthropic.AuthenticationError, "auth"),
        (anthropic.PermissionDeniedError, "auth"),
        (anthropic.RateLimitError, "rate_limited"),
        (anthropic.APIStatusError, "server"),
    )
    sdk_base_error: ClassVar[type[Exception]] = anthropic.AnthropicError

    def _connect(self) -> anthropic.Anthropic:
        # The key is always passed explicitly: without one the SDK falls back to
        # ANTHROPIC_API_KEY or a profile on the server's disk, which would spend the
        # operator's key on a project that configured none (``requires_key`` stops
        # an empty key before it gets here).
        return anthropic.Anthropic(
            api_key=self.config.api_key,
            base_url=self.config.base_url or None,
            timeout=self.config.timeout,
            max_retries=0,
        )

    def _send(self, client: anthropic.Anthropic, request: DraftRequest) -> Any:
        messages: list[Any] = [{"role": role, "content": text} for role, text in request.messages]
        return client.messages.create(
            model=self.config.model,
            max_tokens=MAX_TOKENS,
            system=request.system,
            messages=messages,
            tools=[DRAFT_TOOL],
            tool_choice={"type": "tool", "name": TOOL_NAME},
        )

    def _read(self, response: Any, source: str) -> DraftAnswer:
        # The SDK builds its models without validation (and hands back plain text for a
        # non-JSON body), so every step of the shape is checked, not assumed.
        if isinstance(response, str):
            raise bad_answer(source, "the response body is not JSON")
        stop_reason = getattr(response, "stop_reason", None)
        if stop_reason == "refusal":
            raise ProviderError("refused", f"{source} declined to write this draft.")
        if stop_reason == "max_tokens":
            # A tool call cut off mid-way has partial input: say so rather than name a field.
            raise bad_answer(source, "the answer was cut off at the model's length limit")
        content = getattr(response, "content", None)
        blocks = content if isinstance(content, list) else []
        call = next(
            (
                block
                for block in blocks
                if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME
            ),
            None,
        )
        if call is None:
            raise bad_answer(source, f"it holds no {TOOL_NAME} tool call")
        data = getattr(call, "input", None)
        raw = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        return parse_answer(raw, source=source)
