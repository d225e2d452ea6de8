"""Drafts through the OpenAI Chat Completions API and servers that speak it (Ollama, vLLM, …).

The answer is forced into :data:`DRAFT_SCHEMA` with a strict ``json_schema``
response format; servers that ignore it still get a lenient parse.
"""

from __future__ import annotations

from typing import Any, ClassVar

import openai

from tidings.drafts.providers.base import (
    DRAFT_SCHEMA,
    DraftAnswer,
    DraftRequest,
    ProviderError,
    SdkProvider,
    bad_answer,
    parse_answer,
)

# Typed Any: the SDK wants its own TypedDicts, which add nothing to a constant.
RESPONSE_FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "email_draft", "strict": True, "schema": DRAFT_SCHEMA},
}
TEMPERATURE = 0.7
_REFUSAL_LIMIT = 200


class OpenAICompatProvider(SdkProvider):
    """An :class:`AiProvider` for OpenAI and OpenAI-compatible servers."""

    name: ClassVar[str] = "openai"
    sdk_errors: ClassVar[tuple[tuple[type[Exception], str], ...]] = (
        (openai.APITimeoutError, "timeout"),  # a subclass of APIConnectionError, so first
        (openai.APIConnectionError, "unreachable"),
        (openai.AuthenticationError, "auth"),
        (openai.PermissionDeniedError, "auth"),
        (openai.RateLimitError, "rate_limited"),
        (openai.APIStatusError, "server"),
    )
    sdk_base_error: ClassVar[type[Exception]] = openai.OpenAIError

    def _connect(self) -> openai.OpenAI:
        # Local servers need no key, but the SDK refuses to start without one.
        # Retries are the caller's decision: a user is waiting on this request.
        return openai.OpenAI(
            api_key=self.config.api_key or "not-needed",
            base_url=self.config.base_url or None,
            timeout=self.config.timeout,
            max_retries=0,
        )

    def _send(self, client: openai.OpenAI, request: DraftRequest) -> Any:
        messages: list[Any] = [{"role": "system", "content": request.system}]
        messages += [{"role": role, "content": text} for role, text in request.messages]
        return client.chat.completions.create(
            model=self.config.model,
            messages=messages,
            response_format=RESPONSE_FORMAT,
            temperature=TEMPERATURE,
        )

    def _read(self, response: Any, source: str) -> DraftAnswer:
        # The SDK builds its models without validation (and hands back plain text for a
        # non-JSON body), so every step of the shape is checked, not assumed.
        if isinstance(response, str):
            raise bad_answer(source, "the response body is not JSON")
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise bad_answer(source, "the response holds no choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        refusal = getattr(message, "refusal", None)
        if refusal:
            said = " ".join(str(refusal).split())[:_REFUSAL_LIMIT]
            raise ProviderError("refused", f"{source} declined to write this draft: {said}")
        if getattr(choice, "finish_reason", None) == "length":
            raise bad_answer(source, "the answer was cut off at the model's length limit")
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            raise bad_answer(source, "the answer holds no text")
        return parse_answer(content, source=source)
