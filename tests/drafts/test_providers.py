"""The AI provider layer: the real OpenAI and Anthropic SDK clients against local wire-format servers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.drafts.llm_servers import LlmServer, anthropic_message, closed_port, openai_completion
from tidings.drafts.providers import (
    DRAFT_SCHEMA,
    AiProvider,
    AnthropicProvider,
    DraftAnswer,
    DraftRequest,
    OpenAICompatProvider,
    ProviderConfig,
    ProviderError,
    get_provider,
    parse_answer,
)
from tidings.drafts.providers.base import display_url, retry_after_seconds

KEY = "sk-test-4f9a2c7e1b"
MODEL = "test-model-1"
DRAFT: dict[str, Any] = {
    "subject": "  Spring sale: 20% off  ",
    "preheader": "Three days only ",
    "body": "<mjml><mj-body><mj-text>Hi {{ contact.first_name }}</mj-text></mj-body></mjml>\n",
    "variables": ["contact.first_name"],
}
REQUEST = DraftRequest(
    system="You write marketing emails for Acme Mail.",
    messages=[
        ("user", "Announce the spring sale."),
        ("assistant", '{"subject": "Spring sale"}'),
        ("user", "Make it shorter."),
    ],
)
PROVIDERS = ["openai", "anthropic"]


@pytest.fixture(params=PROVIDERS)
def llm(request: pytest.FixtureRequest) -> LlmServer:
    """Each provider's local server in turn, for the rules both providers share."""
    return request.getfixturevalue(f"{request.param}_server")


def provider_for(server: LlmServer, *, api_key: str = KEY, timeout: float = 5.0) -> AiProvider:
    """The provider of ``server``'s kind, pointed at it."""
    return get_provider(
        ProviderConfig(
            kind=server.kind, model=MODEL, api_key=api_key, base_url=server.base_url, timeout=timeout
        )
    )


def failure(provider: AiProvider) -> ProviderError:
    """The ProviderError that drafting ``REQUEST`` raises."""
    with pytest.raises(ProviderError) as caught:
        provider.draft(REQUEST)
    return caught.value


def source(server: LlmServer) -> str:
    """How error details name ``server``."""
    return f"The AI provider at {server.base_url}"


# -- good answers ---------------------------------------------------------------------


def test_good_answer_is_parsed_into_a_draft_answer(llm: LlmServer) -> None:
    llm.reply(DRAFT)

    answer = provider_for(llm).draft(REQUEST)

    assert answer == DraftAnswer(
        subject="Spring sale: 20% off",
        preheader="Three days only",
        body="<mjml><mj-body><mj-text>Hi {{ contact.first_name }}</mj-text></mj-body></mjml>",
        variables=["contact.first_name"],
        raw=json.dumps(DRAFT),
    )


def test_openai_request_carries_system_prompt_turns_model_and_json_schema(openai_server: LlmServer) -> None:
    openai_server.reply(DRAFT)

    provider_for(openai_server).draft(REQUEST)

    [(path, _headers, body)] = openai_server.requests
    assert path == "/v1/chat/completions"
    assert body == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You write marketing emails for Acme Mail."},
            {"role": "user", "content": "Announce the spring sale."},
            {"role": "assistant", "content": '{"subject": "Spring sale"}'},
            {"role": "user", "content": "Make it shorter."},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "email_draft", "strict": True, "schema": DRAFT_SCHEMA},
        },
        "temperature": 0.7,
    }


def test_openai_request_sends_the_api_key_as_bearer_token(openai_server: LlmServer) -> None:
    openai_server.reply(DRAFT)

    provider_for(openai_server).draft(REQUEST)

    assert openai_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_openai_without_api_key_sends_a_placeholder_for_local_servers(openai_server: LlmServer) -> None:
    openai_server.reply(DRAFT)

    provider_for(openai_server, api_key="").draft(REQUEST)

    assert openai_server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_anthropic_request_carries_system_prompt_turns_model_and_forced_tool(
    anthropic_server: LlmServer,
) -> None:
    anthropic_server.reply(DRAFT)

    provider_for(anthropic_server).draft(REQUEST)

    [(path, _headers, body)] = anthropic_server.requests
    assert path == "/v1/messages"
    assert body == {
        "model": MODEL,
        "max_tokens": 4096,
        "system": "You write marketing emails for Acme Mail.",
        "messages": [
            {"role": "user", "content": "Announce the spring sale."},
            {"role": "assistant", "content": '{"subject": "Spring sale"}'},
            {"role": "user", "content": "Make it shorter."},
        ],
        "tools": [
            {
                "name": "email_draft",
                "description": (
                    "Hand over the drafted email: subject, preheader, MJML body and the variables it uses."
                ),
                "input_schema": DRAFT_SCHEMA,
            }
        ],
        "tool_choice": {"type": "tool", "name": "email_draft"},
    }


def test_anthropic_request_sends_the_api_key(anthropic_server: LlmServer) -> None:
    anthropic_server.reply(DRAFT)

    provider_for(anthropic_server).draft(REQUEST)

    headers = anthropic_server.requests[0].headers
    # anthropic 2.x sends a static api_key as a bearer token, not as x-api-key.
    assert headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in headers
    assert "anthropic-version" in headers


def test_anthropic_without_api_key_is_auth_error_and_sends_nothing(anthropic_server: LlmServer) -> None:
    error = failure(provider_for(anthropic_server, api_key=""))

    assert error.kind == "auth"
    assert error.detail == f"{source(anthropic_server)} needs an API key, and none is configured."
    assert anthropic_server.requests == []


def test_anthropic_reads_the_tool_input_and_keeps_it_as_raw_json(anthropic_server: LlmServer) -> None:
    anthropic_server.reply({**DRAFT, "subject": "Grüße"})

    answer = provider_for(anthropic_server).draft(REQUEST)

    assert answer.subject == "Grüße"
    assert json.loads(answer.raw) == {**DRAFT, "subject": "Grüße"}


# -- bad answers ------------------------------------------------------------------------


def test_openai_answer_that_is_not_json_is_bad_answer(openai_server: LlmServer) -> None:
    openai_server.reply_text("Sure! Here is a lovely email about the spring sale.")

    error = failure(provider_for(openai_server))

    assert error.kind == "bad_answer"
    assert error.detail == (
        f"{source(openai_server)} returned an answer that is not the JSON asked for: "
        'it holds no JSON object (it starts "Sure! Here is a lovely email about the s…").'
    )


def test_anthropic_answer_without_tool_call_is_bad_answer(anthropic_server: LlmServer) -> None:
    anthropic_server.reply_text("Sure! Here is a lovely email about the spring sale.")

    error = failure(provider_for(anthropic_server))

    assert error.kind == "bad_answer"
    assert error.detail == (
        f"{source(anthropic_server)} returned an answer that is not the JSON asked for: "
        "it holds no email_draft tool call."
    )


def test_answer_missing_body_is_bad_answer_naming_body(llm: LlmServer) -> None:
    llm.reply({key: value for key, value in DRAFT.items() if key != "body"})

    error = failure(provider_for(llm))

    assert error.kind == "bad_answer"
    assert (
        error.detail == f'{source(llm)} returned an answer that is not the JSON asked for: "body" is missing.'
    )


@pytest.mark.parametrize("content_type", ["text/html", "application/json"])
def test_garbage_200_is_bad_answer(llm: LlmServer, content_type: str) -> None:
    llm.garbage(content_type)

    error = failure(provider_for(llm))

    assert error.kind == "bad_answer"
    assert error.detail == (
        f"{source(llm)} returned an answer that is not the JSON asked for: the response body is not JSON."
    )


def test_refusal_is_refused(llm: LlmServer) -> None:
    llm.refuse("I can't help with that.")

    error = failure(provider_for(llm))

    assert error.kind == "refused"
    assert error.detail.startswith(f"{source(llm)} declined to write this draft")


def test_openai_answer_cut_off_at_length_limit_is_bad_answer(openai_server: LlmServer) -> None:
    openai_server.respond(
        200, openai_completion({"model": MODEL}, '{"subject": "Spring', finish_reason="length")
    )

    error = failure(provider_for(openai_server))

    assert error.kind == "bad_answer"
    assert error.detail.endswith("the answer was cut off at the model's length limit.")


def test_anthropic_answer_cut_off_at_max_tokens_is_bad_answer(anthropic_server: LlmServer) -> None:
    partial = {"type": "tool_use", "id": "toolu_01", "name": "email_draft", "input": {"subject": "Spring"}}
    anthropic_server.respond(200, anthropic_message({"model": MODEL}, [partial], stop_reason="max_tokens"))

    error = failure(provider_for(anthropic_server))

    assert error.kind == "bad_answer"
    assert error.detail.endswith("the answer was cut off at the model's length limit.")


# -- HTTP errors ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_auth_error(llm: LlmServer, status: int) -> None:
    llm.error(status, "Invalid API key")

    error = failure(provider_for(llm))

    assert error.kind == "auth"
    assert error.detail == f"{source(llm)} refused the API key ({status})."


def test_429_is_rate_limited_with_retry_after(llm: LlmServer) -> None:
    llm.error(429, "Rate limit reached", headers={"Retry-After": "30"})

    error = failure(provider_for(llm))

    assert error.kind == "rate_limited"
    assert error.detail == f"{source(llm)} is rate limiting (429); try again in 30 s."


def test_429_without_retry_after_says_try_again_in_a_minute(llm: LlmServer) -> None:
    llm.error(429, "Rate limit reached")

    error = failure(provider_for(llm))

    assert error.kind == "rate_limited"
    assert error.detail == f"{source(llm)} is rate limiting (429); try again in a minute."


def test_500_is_server_error_mentioning_500(llm: LlmServer) -> None:
    llm.error(500, "The server had an error while processing your request.")

    error = failure(provider_for(llm))

    assert error.kind == "server"
    assert error.detail == (
        f"{source(llm)} answered with an error (500): The server had an error while processing your request."
    )


def test_unknown_model_is_server_error_with_the_provider_message(llm: LlmServer) -> None:
    llm.error(404, f"model '{MODEL}' not found, try pulling it first")

    error = failure(provider_for(llm))

    assert error.kind == "server"
    assert (
        error.detail
        == f"{source(llm)} answered with an error (404): model '{MODEL}' not found, try pulling it first."
    )


def test_failed_request_is_not_retried(llm: LlmServer) -> None:
    llm.error(503, "Overloaded")

    failure(provider_for(llm))

    assert len(llm.requests) == 1


def test_error_detail_never_contains_the_api_key(llm: LlmServer) -> None:
    llm.error(500, f"Upstream rejected credentials {KEY}")

    error = failure(provider_for(llm))

    assert KEY not in error.detail
    assert error.detail == f"{source(llm)} answered with an error (500): Upstream rejected credentials ***."


# -- the network --------------------------------------------------------------------------


def test_slow_answer_beyond_timeout_is_timeout(llm: LlmServer) -> None:
    llm.slow(2)
    llm.reply(DRAFT)

    error = failure(provider_for(llm, timeout=0.5))

    assert error.kind == "timeout"
    assert error.detail == f"{source(llm)} did not answer within 0.5 s."


@pytest.mark.parametrize(("kind", "suffix"), [("openai", "/v1"), ("anthropic", "")])
def test_closed_port_is_unreachable(kind: str, suffix: str) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}{suffix}"
    provider = get_provider(ProviderConfig(kind=kind, model=MODEL, api_key=KEY, base_url=base_url))

    error = failure(provider)

    assert error.kind == "unreachable"
    assert error.detail == (
        f"The AI provider at {base_url} could not be reached; "
        "check the address and that the server is running."
    )


def test_provider_error_is_a_502_problem() -> None:
    error = ProviderError("timeout", "The AI provider at http://x did not answer within 60 s.")

    assert (error.status, error.code, error.title, error.kind) == (
        502,
        "ai_provider_error",
        "The AI provider failed",
        "timeout",
    )
    assert str(error) == "The AI provider at http://x did not answer within 60 s."


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "30"}, 30),
        ({"retry-after": "0.2"}, 1),
        ({"retry-after-ms": "1500", "retry-after": "30"}, 2),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 1),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_whole_seconds(headers: dict[str, str], seconds: int | None) -> None:
    assert retry_after_seconds(headers) == seconds


def test_display_url_drops_credentials_query_and_trailing_slash() -> None:
    assert (
        display_url("https://user:secret@llm.example.org:8443/v1/?key=abc")
        == "https://llm.example.org:8443/v1"
    )


# -- choosing a provider ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"), [("openai", OpenAICompatProvider), ("anthropic", AnthropicProvider)]
)
def test_get_provider_chooses_by_kind(kind: str, cls: type) -> None:
    provider = get_provider(ProviderConfig(kind=kind, model=MODEL))

    assert type(provider) is cls
    assert provider.name == kind
    assert isinstance(provider, AiProvider)


def test_get_provider_rejects_other_kinds() -> None:
    with pytest.raises(ValueError, match="Unknown AI provider kind 'offline'"):
        get_provider(ProviderConfig(kind="offline", model=MODEL))


def test_provider_config_repr_hides_the_api_key() -> None:
    config = ProviderConfig(kind="openai", model=MODEL, api_key=KEY)

    assert KEY not in repr(config)


def test_draft_request_must_end_with_a_user_turn() -> None:
    with pytest.raises(ValueError, match="must end with a user message"):
        DraftRequest(system="s", messages=[("user", "a"), ("assistant", "b")])


def test_draft_request_rejects_unknown_roles() -> None:
    with pytest.raises(ValueError, match="Unknown message role 'system'"):
        DraftRequest(system="s", messages=[("system", "a"), ("user", "b")])


# -- parse_answer ----------------------------------------------------------------------


def answer_json(**changes: Any) -> str:
    """``DRAFT`` as JSON text, with ``changes`` applied."""
    return json.dumps({**DRAFT, **changes})


def test_parse_answer_reads_plain_json() -> None:
    text = answer_json()

    assert parse_answer(text) == DraftAnswer(
        subject="Spring sale: 20% off",
        preheader="Three days only",
        body="<mjml><mj-body><mj-text>Hi {{ contact.first_name }}</mj-text></mj-body></mjml>",
        variables=["contact.first_name"],
        raw=text,
    )


def test_parse_answer_reads_a_fenced_json_block() -> None:
    text = f"```json\n{answer_json()}\n```"

    answer = parse_answer(text)

    assert answer.subject == "Spring sale: 20% off"
    assert answer.raw == text


def test_parse_answer_takes_the_first_object_out_of_prose() -> None:
    text = f"Here is the {{draft}} you asked for:\n{answer_json()}\nAnd a second: {answer_json(subject='No')}"

    assert parse_answer(text).subject == "Spring sale: 20% off"


def test_parse_answer_strips_variables_and_drops_blanks_and_repeats() -> None:
    text = answer_json(variables=[" contact.first_name ", "", "contact.first_name", "project.name"])

    assert parse_answer(text).variables == ["contact.first_name", "project.name"]


def test_parse_answer_ignores_extra_fields() -> None:
    assert parse_answer(answer_json(tone="friendly")).subject == "Spring sale: 20% off"


@pytest.mark.parametrize("text", ["", "   ", "no json here", "[1, 2]", '{"subject": "unclosed'])
def test_parse_answer_without_a_json_object_is_bad_answer(text: str) -> None:
    with pytest.raises(ProviderError) as caught:
        parse_answer(text)

    assert caught.value.kind == "bad_answer"


def test_parse_answer_names_the_source_in_the_detail() -> None:
    with pytest.raises(ProviderError) as caught:
        parse_answer("nope", source="The AI provider at http://127.0.0.1:11434/v1")

    assert caught.value.detail == (
        "The AI provider at http://127.0.0.1:11434/v1 returned an answer that is not the JSON asked for: "
        'it holds no JSON object (it starts "nope").'
    )


@pytest.mark.parametrize("field", ["subject", "preheader", "body", "variables"])
def test_parse_answer_missing_field_is_bad_answer_naming_it(field: str) -> None:
    text = json.dumps({key: value for key, value in DRAFT.items() if key != field})

    with pytest.raises(ProviderError) as caught:
        parse_answer(text)

    assert caught.value.kind == "bad_answer"
    assert caught.value.detail == (
        f'The AI provider returned an answer that is not the JSON asked for: "{field}" is missing.'
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"subject": 42}, '"subject" must be a string, not a number'),
        ({"preheader": None}, '"preheader" must be a string, not null'),
        ({"body": ["<mjml>"]}, '"body" must be a string, not an array'),
        ({"body": {"mjml": ""}}, '"body" must be a string, not an object'),
        ({"subject": True}, '"subject" must be a string, not a boolean'),
        ({"variables": "contact.first_name"}, '"variables" must be a list of strings'),
        ({"variables": ["contact.first_name", 7]}, '"variables" must be a list of strings'),
    ],
)
def test_parse_answer_wrong_type_is_bad_answer_naming_the_field(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        parse_answer(answer_json(**changes))

    assert caught.value.kind == "bad_answer"
    assert (
        caught.value.detail
        == f"The AI provider returned an answer that is not the JSON asked for: {problem}."
    )
