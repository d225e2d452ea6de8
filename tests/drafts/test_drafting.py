"""Drafting through the API: conversations, versions, providers on loopback, failures that lose nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.audience.segment_factories import make_contact, make_tag, tag
from tests.conftest import ApiClient
from tests.drafts.llm_servers import AnthropicServer, OpenAIServer, closed_port
from tidings.content.models import EmailDesign
from tidings.core.models import Project
from tidings.drafts import services
from tidings.drafts.models import Draft, DraftMessage, DraftSettings

pytestmark = pytest.mark.django_db

SALE = "Announce our spring sale: 20% off all plans until March 31. Link: https://shop.example.com/sale"


def _mjml(text: str) -> str:
    return (
        "<mjml><mj-body><mj-section><mj-column>"
        f"<mj-text>{text}</mj-text>"
        '<mj-text><a href="{{ unsubscribeUrl }}">Unsubscribe</a> {{ project.postalAddress }}</mj-text>'
        "</mj-column></mj-section></mj-body></mjml>"
    )


def _answer(text: str, subject: str = "Spring sale", variables: list[str] | None = None) -> dict[str, Any]:
    return {"subject": subject, "preheader": "20% off", "body": _mjml(text), "variables": variables or []}


def _vip_persona(project: Project) -> dict[str, Any]:
    vip = make_tag(project, "vip")
    for i in range(20):
        contact = make_contact(
            project, f"v{i}@example.org", first_name=f"V{i}", custom_fields={"plan": "pro"} if i < 10 else {}
        )
        tag(contact, vip)
    return {"type": "tag", "id": vip.pk}


def _use(project: Project, server: OpenAIServer | AnthropicServer, **extra: Any) -> None:
    services.draft_settings_update(
        project=project,
        provider=server.kind,
        base_url=server.base_url,
        model="test-model",
        api_key="sk-test",
        **extra,
    )


def _start(api: ApiClient, persona: dict[str, Any] | None = None, prompt: str = SALE) -> dict[str, Any]:
    response = api.post("drafts", {"prompt": prompt, "persona": persona or {"type": "none"}})
    assert response.status_code == 201, response.content
    return response.json()


# -- the offline composer --------------------------------------------------------------


def test_a_prompt_makes_version_one_of_a_new_design(api: ApiClient, project: Project) -> None:
    draft = _start(api, _vip_persona(project))
    assert [m["role"] for m in draft["messages"]] == ["user", "assistant"]
    assert draft["messages"][1]["version"] == 1
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert design.version == 1
    assert design.versions.get().source == "draft"
    assert "{{ unsubscribeUrl }}" in design.body
    assert draft["persona"] == {
        "type": "tag",
        "id": draft["persona"]["id"],
        "name": "vip",
        "label": "Tag: vip",
    }


def test_each_follow_up_makes_the_next_version(api: ApiClient, project: Project) -> None:
    draft = _start(api)
    first = EmailDesign.objects.get(pk=draft["designId"]).body
    answer = api.post(
        f"drafts/{draft['id']}/messages", {"prompt": "more formal, and add a P.S. about free shipping"}
    ).json()
    assert answer["version"] == 2
    assert [m["role"] for m in answer["messages"]] == ["user", "assistant", "user", "assistant"]
    assert EmailDesign.objects.get(pk=draft["designId"]).body != first


def test_restoring_the_first_version_makes_it_current_as_a_new_version(api: ApiClient) -> None:
    draft = _start(api)
    first = EmailDesign.objects.get(pk=draft["designId"]).body
    api.post(f"drafts/{draft['id']}/messages", {"prompt": "more formal"})
    restored = api.post(f"drafts/{draft['id']}/restore", {"version": 1}).json()
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert restored["version"] == 3
    assert design.version == 3
    assert design.body == first
    assert restored["messages"][-1]["text"] == "Restored version 1 as version 3."


def test_an_empty_prompt_is_refused_and_writes_nothing(api: ApiClient) -> None:
    response = api.post("drafts", {"prompt": "   "})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": "prompt", "message": "must not be empty"}]
    assert not Draft.objects.exists()


def test_offline_draft_uses_only_catalog_variables(api: ApiClient, project: Project) -> None:
    draft = _start(api, _vip_persona(project), prompt=SALE + " Mention their plan and their city.")
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert "{{ city" not in design.body  # nobody in the cohort has a city


# -- OpenAI-compatible and Anthropic providers on loopback -------------------------------


def test_openai_answer_becomes_a_version(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server)
    openai_server.reply(
        _answer('Hi {{ firstName | default: "there" }}, the sale is on.', variables=["firstName"])
    )
    draft = _start(api, _vip_persona(project))
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert design.subject == "Spring sale"
    assert 'Hi {{ firstName | default: "there" }}, the sale is on.' in design.body
    assert draft["messages"][-1]["role"] == "assistant"
    assert draft["messages"][-1]["provider"] == "openai"


def test_system_prompt_carries_the_persona_and_its_catalog(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server, brand_notes="Friendly, no exclamation marks.")
    openai_server.reply(_answer("Hello."))
    _start(api, _vip_persona(project))
    body = openai_server.requests[0].body
    system = body["messages"][0]["content"]
    assert body["messages"][0]["role"] == "system"
    assert "“vip”: 20 contacts" in system
    assert "- plan (plan; text; filled for 50% of them" in system
    assert "- firstName (First name; text; filled for 100% of them" in system
    assert "Friendly, no exclamation marks." in system
    assert body["messages"][1] == {"role": "user", "content": SALE}


def test_unknown_variable_gets_one_retry_with_the_problem(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server)
    openai_server.reply(_answer("Hi {{ shoeSize }} friend."))
    openai_server.reply(_answer('Hi {{ plan | default: "friend" }}.'))
    draft = _start(api, _vip_persona(project))
    assert len(openai_server.requests) == 2
    retry = openai_server.requests[1].body["messages"]
    assert "not in the catalog: shoeSize" in retry[-1]["content"]
    assert retry[-2]["role"] == "assistant"
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert 'Hi {{ plan | default: "friend" }}.' in design.body


def test_unknown_variable_that_survives_the_retry_is_removed(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server)
    openai_server.reply(_answer('Hi {{ shoeSize | default: "pal" }}.'))
    openai_server.reply(_answer('Hi {{ shoeSize | default: "pal" }} {% if shoeSize %}big{% endif %}.'))
    draft = _start(api, _vip_persona(project))
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert "shoeSize" not in design.body
    assert "Hi pal " in design.body
    assert "Removed variables this persona has no data for: shoeSize." in draft["messages"][-1]["text"]


def test_every_variable_left_gets_a_default(
    api: ApiClient, project: Project, anthropic_server: AnthropicServer
) -> None:
    _use(project, anthropic_server)
    anthropic_server.reply(_answer("Hi {{ firstName }}, on {{ plan | upcase }}."))
    draft = _start(api, _vip_persona(project))
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert 'Hi {{ firstName | default: "there" }}, on {{ plan | default: "" | upcase }}.' in design.body


def test_answer_that_is_not_mjml_twice_is_an_error_and_keeps_the_prompt(
    api: ApiClient, project: Project, anthropic_server: AnthropicServer
) -> None:
    _use(project, anthropic_server)
    broken = {"subject": "S", "preheader": "", "body": "<p>not mjml</p>", "variables": []}
    anthropic_server.reply(broken)
    anthropic_server.reply(broken)
    draft = _start(api)
    assert [m["role"] for m in draft["messages"]] == ["user", "error"]
    assert draft["messages"][0]["text"] == SALE
    assert "must be an MJML document" in draft["messages"][1]["text"]
    assert draft["designId"] is None
    assert not EmailDesign.objects.exists()


@pytest.mark.parametrize(
    ("script", "kind", "words"),
    [
        (lambda s: s.error(401), "auth", "refused the API key (401)"),
        (lambda s: s.error(429, headers={"Retry-After": "30"}), "rate_limited", "rate limiting (429)"),
        (lambda s: s.error(500), "server", "(500)"),
        (lambda s: s.garbage(), "bad_answer", "not the JSON asked for"),
        (lambda s: s.reply_text("Sure! Here is your email: Dear customer…"), "bad_answer", "not the JSON"),
    ],
)
def test_provider_failure_is_a_message_in_the_conversation(
    api: ApiClient, project: Project, openai_server: OpenAIServer, script: Any, kind: str, words: str
) -> None:
    _use(project, openai_server)
    script(openai_server)
    draft = _start(api)
    error = draft["messages"][-1]
    assert (error["role"], draft["messages"][0]["text"]) == ("error", SALE)
    assert words in error["text"]
    assert DraftMessage.objects.get(pk=error["id"]).meta["kind"] == kind
    assert "sk-test" not in error["text"]


def test_slow_provider_times_out_with_a_clear_message(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server, timeout_seconds=1)
    openai_server.slow(3)
    draft = _start(api)
    assert draft["messages"][-1]["role"] == "error"
    assert "did not answer within 1" in draft["messages"][-1]["text"]


def test_unreachable_provider_keeps_the_prompt_and_a_follow_up_works_later(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    services.draft_settings_update(
        project=project, provider="openai", base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m"
    )
    draft = _start(api)
    assert draft["messages"][-1]["role"] == "error"
    assert "could not be reached" in draft["messages"][-1]["text"]
    _use(project, openai_server)
    openai_server.reply(_answer("Back again."))
    again = api.post(f"drafts/{draft['id']}/messages", {"prompt": "try again"}).json()
    assert again["messages"][-1]["role"] == "assistant"
    assert again["version"] == 1


# -- settings, personas, tenancy ----------------------------------------------------------


def test_api_key_is_stored_encrypted_and_never_shown(api: ApiClient, project: Project) -> None:
    response = api.patch(
        "drafts/settings", {"provider": "openai", "model": "gpt-x", "apiKey": "sk-secret-123"}
    )
    assert response.status_code == 200
    assert response.json()["hasApiKey"] is True
    assert "sk-secret-123" not in response.content.decode()
    stored = DraftSettings.objects.get(project=project).api_key_encrypted
    assert stored
    assert "sk-secret-123" not in stored


def test_settings_refuse_a_remote_provider_without_a_model(api: ApiClient) -> None:
    response = api.patch("drafts/settings", {"provider": "anthropic", "model": ""})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "model", "message": "is required for the anthropic provider"}
    ]


def test_catalog_endpoint_hides_fields_under_the_threshold(api: ApiClient, project: Project) -> None:
    persona = _vip_persona(project)
    api.patch("drafts/settings", {"catalogThreshold": 60})
    body = api.get(f"personas/catalog?type=tag&id={persona['id']}").json()
    assert body["cohortSize"] == 20
    assert body["threshold"] == 60.0
    assert "plan" in [v["name"] for v in body["hidden"]]
    assert "plan" not in [v["name"] for v in body["variables"]]


def test_another_projects_persona_and_draft_are_not_found(
    api: ApiClient, other_api: ApiClient, project: Project, other_project: Project
) -> None:
    theirs = make_tag(other_project, "theirs")
    assert api.get(f"personas/catalog?type=tag&id={theirs.pk}").status_code == 404
    assert (
        api.post("drafts", {"prompt": SALE, "persona": {"type": "tag", "id": theirs.pk}}).status_code == 404
    )
    draft = _start(api)
    before = DraftMessage.objects.count()
    for call in (
        lambda: other_api.get(f"drafts/{draft['id']}"),
        lambda: other_api.post(f"drafts/{draft['id']}/messages", {"prompt": "hijack"}),
        lambda: other_api.post(f"drafts/{draft['id']}/restore", {"version": 1}),
        lambda: other_api.put(f"drafts/{draft['id']}/persona", {"type": "none"}),
        lambda: other_api.delete(f"drafts/{draft['id']}"),
    ):
        assert call().status_code == 404
    assert DraftMessage.objects.count() == before
    assert Draft.objects.filter(pk=draft["id"]).exists()


def test_persona_menu_lists_audiences_tags_and_contacts(api: ApiClient, project: Project) -> None:
    _vip_persona(project)
    body = api.get("personas?q=v13").json()
    assert body["tags"] == []
    assert [c["detail"] for c in body["contacts"]] == ["v13@example.org"]
    assert json.dumps(api.get("personas?q=vip").json()["tags"]).count('"vip"') == 1


def test_a_follow_up_after_a_restore_builds_on_the_restored_version(api: ApiClient) -> None:
    draft = _start(api)
    api.post(f"drafts/{draft['id']}/messages", {"prompt": "more formal"})
    formal = EmailDesign.objects.get(pk=draft["designId"]).body
    api.post(f"drafts/{draft['id']}/restore", {"version": 1})
    api.post(f"drafts/{draft['id']}/messages", {"prompt": "add a P.S. about free shipping"})
    design = EmailDesign.objects.get(pk=draft["designId"])
    expected = _start(api, prompt=SALE)  # the same first prompt, then only the P.S.
    api.post(f"drafts/{expected['id']}/messages", {"prompt": "add a P.S. about free shipping"})
    assert design.version == 4
    assert design.body == EmailDesign.objects.get(pk=expected["designId"]).body
    assert design.body != formal


def test_offline_follow_up_says_when_editor_changes_are_not_kept(api: ApiClient) -> None:
    draft = _start(api)
    design = EmailDesign.objects.get(pk=draft["designId"])
    api.patch(
        f"designs/{design.pk}",
        {"body": design.body.replace("</mj-body>", "<mj-section></mj-section></mj-body>")},
    )
    answer = api.post(f"drafts/{draft['id']}/messages", {"prompt": "more formal"}).json()
    assert (
        "Edits made in the editor since version 1 are not in this version" in answer["messages"][-1]["text"]
    )


def test_changing_the_providers_address_forgets_the_stored_key(api: ApiClient, project: Project) -> None:
    api.patch("drafts/settings", {"provider": "openai", "model": "m", "apiKey": "sk-kept"})
    moved = api.patch("drafts/settings", {"baseUrl": "http://127.0.0.1:9/v1"}).json()
    assert moved["hasApiKey"] is False
    assert DraftSettings.objects.get(project=project).api_key_encrypted == ""


def test_a_new_key_given_with_the_new_address_is_kept(api: ApiClient) -> None:
    api.patch("drafts/settings", {"provider": "openai", "model": "m", "apiKey": "sk-old"})
    moved = api.patch("drafts/settings", {"baseUrl": "http://127.0.0.1:9/v1", "apiKey": "sk-new"}).json()
    assert moved["hasApiKey"] is True


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://169.254.169.254/v1", "169.254.169.254 is a private or reserved address"),
        ("http://10.1.2.3:8080/v1", "10.1.2.3 is a private or reserved address"),
        ("http://[::1]:11434/v1", "::1 is a loopback address"),
        ("http://localhost:11434/v1", "localhost is a loopback address"),
    ],
)
def test_a_provider_address_inside_the_servers_network_is_refused(
    api: ApiClient, project: Project, settings: Any, url: str, words: str
) -> None:
    settings.AI_ALLOWED_HOSTS = []
    response = api.patch("drafts/settings", {"provider": "openai", "model": "m", "baseUrl": url})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "baseUrl"
    assert words in error["message"]
    assert "TIDINGS_AI_ALLOWED_HOSTS" in error["message"]
    assert not DraftSettings.objects.filter(project=project, base_url=url).exists()


def test_an_address_allowed_when_saved_is_checked_again_when_called(
    api: ApiClient, project: Project, settings: Any
) -> None:
    services.draft_settings_update(
        project=project, provider="openai", base_url="http://127.0.0.1:9/v1", model="m"
    )
    settings.AI_ALLOWED_HOSTS = []
    draft = _start(api)
    assert draft["messages"][-1]["role"] == "error"
    assert "address is not allowed: 127.0.0.1 is a loopback address" in draft["messages"][-1]["text"]


def test_a_follow_up_keeps_the_purpose_set_in_the_editor(api: ApiClient) -> None:
    draft = _start(api)
    api.patch(f"designs/{draft['designId']}", {"purpose": "transactional", "name": "Receipt"})
    api.post(f"drafts/{draft['id']}/messages", {"prompt": "more formal"})
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert (design.purpose, design.name, design.version) == ("transactional", "Receipt", 3)


def test_hidden_variables_in_filter_arguments_and_conditions_never_survive(
    api: ApiClient, project: Project, openai_server: OpenAIServer
) -> None:
    _use(project, openai_server)
    sneaky = (
        "{{ firstName | append: salary }} {% if firstName and salary > 100 %}rich{% endif %} "
        "{{ firstName | default: phone }} {{ customFields.salary }}"
    )
    openai_server.reply(_answer(sneaky))
    openai_server.reply(_answer(sneaky))
    draft = _start(api, _vip_persona(project))
    body = EmailDesign.objects.get(pk=draft["designId"]).body
    assert "salary" not in body
    assert "phone" not in body
    assert (
        "Removed variables this persona has no data for: customFields.salary, phone, salary."
        in (draft["messages"][-1]["text"])
    )


def test_an_unknown_filter_is_refused_at_save(api: ApiClient) -> None:
    body = _mjml("{{ firstName | shout }}")
    response = api.post("designs", {"name": "x", "body": body})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "body", "message": "line 1, column 63: unknown filter 'shout'"}
    ]


def test_the_first_answer_names_the_draft_and_its_design(api: ApiClient) -> None:
    draft = _start(api)
    design = EmailDesign.objects.get(pk=draft["designId"])
    assert draft["title"] == design.subject == design.name
    assert Draft.objects.get(pk=draft["id"]).title == design.subject
