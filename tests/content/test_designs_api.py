"""/api/v1/designs: designs and versions, previews, test sends, and tenancy."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.audience.segment_factories import make_contact
from tests.conftest import ApiClient
from tests.content.design_factories import mjml, text_block
from tests.core.test_api import assert_problem
from tidings.audience.models import Contact
from tidings.content.models import EmailDesign, EmailDesignVersion
from tidings.content.services import STARTERS, starter_body
from tidings.core.models import Project

GREETING_BODY = mjml(
    '<mj-text>Hi {{ firstName | default: "there" }}, welcome to {{ project.name }}.</mj-text>'
    '<mj-text><a href="{{ unsubscribeUrl }}">Unsubscribe</a></mj-text>'
)
GREETING = {
    "name": "Welcome",
    "subject": 'Welcome, {{ firstName | default: "friend" }}',
    "preheader": "Good to have you",
    "body": GREETING_BODY,
}


def create(api: ApiClient, **changes: Any) -> dict[str, Any]:
    response = api.post("designs", {**GREETING, **changes})
    assert response.status_code == 201, response.content
    return response.json()


def versions(design_id: int) -> list[int]:
    return list(EmailDesignVersion.objects.filter(design_id=design_id).values_list("number", flat=True))


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    """Test sends land in <data dir>/outbox; the data dir is this test's own."""
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR / "outbox"


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def ann(project: Project) -> Contact:
    return make_contact(
        project, "ann@example.org", first_name="Ann", company="Initech", custom_fields={"plan": "Pro"}
    )


def site() -> str:
    return settings.BASE_URL.rstrip("/")


def greeting_text(name: str) -> str:
    """The text of GREETING's preview: the unsubscribe link goes to a harmless preview page."""
    return f"Hi {name}, welcome to Acme Mail.\n\nUnsubscribe ({site()}/unsubscribe/preview)\n"


# -- create ------------------------------------------------------------------------------------


def test_create_answers_201_with_version_1(api: ApiClient, project: Project) -> None:
    response = api.post("designs", GREETING)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Welcome",
        "purpose": "marketing",
        "format": "mjml",
        "subject": 'Welcome, {{ firstName | default: "friend" }}',
        "preheader": "Good to have you",
        "body": GREETING_BODY,
        "version": 1,
        "warnings": [],
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    stored = EmailDesign.objects.get(pk=body["id"])
    assert (stored.project_id, stored.version) == (project.pk, 1)
    assert list(stored.versions.values_list("number", "source")) == [(1, "api")]


def test_create_returns_the_lint_warnings(api: ApiClient) -> None:
    body = create(api, subject="", body=mjml('<mj-image src="https://acme.test/a.png" />'))
    assert [w["code"] for w in body["warnings"]] == ["no_subject", "image_without_alt", "no_unsubscribe_link"]
    assert body["warnings"][0] == {"code": "no_subject", "message": "The email has no subject yet."}
    assert EmailDesign.objects.get(pk=body["id"]).warnings == body["warnings"]


def test_create_trims_the_name_subject_and_preheader(api: ApiClient) -> None:
    body = create(api, name="  Welcome  ", subject="  Hi  ", preheader=" Pre ")
    assert (body["name"], body["subject"], body["preheader"]) == ("Welcome", "Hi", "Pre")


def test_create_from_the_newsletter_starter(api: ApiClient) -> None:
    response = api.post("designs", {"name": "March letter", "starter": "newsletter"})
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["subject"], body["body"]) == (
        "March letter",
        STARTERS["newsletter"][1],
        starter_body("newsletter"),
    )
    assert (body["version"], body["warnings"]) == (1, [])
    assert list(EmailDesignVersion.objects.filter(design_id=body["id"]).values_list("source", flat=True)) == [
        "starter"
    ]


def test_a_starter_without_a_name_takes_the_starters_name(api: ApiClient) -> None:
    response = api.post("designs", {"name": "", "starter": "blank"})
    assert response.status_code == 201
    assert response.json()["name"] == "Blank email"


def test_an_unknown_starter_is_a_problem(api: ApiClient) -> None:
    problem = assert_problem(api.post("designs", {"name": "x", "starter": "fancy"}), 422, "validation_error")
    assert problem["errors"] == [{"path": "starter", "message": "must be one of: newsletter, blank"}]


def test_body_and_starter_together_are_a_problem(api: ApiClient) -> None:
    response = api.post("designs", {"name": "x", "starter": "newsletter", "body": GREETING_BODY})
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == [{"path": "body", "message": "give either body or starter, not both"}]
    assert not EmailDesign.objects.exists()


def test_an_unknown_field_is_a_problem(api: ApiClient) -> None:
    problem = assert_problem(api.post("designs", {**GREETING, "html": "<p>x</p>"}), 422, "validation_error")
    assert problem["errors"] == [{"path": "html", "message": "Extra inputs are not permitted"}]
    assert not EmailDesign.objects.exists()


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"body": None}, "body", "must not be empty"),
        ({"body": "   "}, "body", "must not be empty"),
        ({"name": "  "}, "name", "must not be empty"),
        ({"format": "amp"}, "format", "must be one of: mjml, html"),
        ({"purpose": "spam"}, "purpose", "must be one of: marketing, transactional"),
        ({"subject": "Hi\nthere"}, "subject", "must be one line"),
        ({"preheader": "x" * 501}, "preheader", "must be at most 500 characters"),
        ({"body": "x" * (512 * 1024 + 1)}, "body", "must be at most 512 KB"),
    ],
)
def test_invalid_design_fields_are_reported(
    api: ApiClient, changes: dict[str, Any], path: str, message: str
) -> None:
    problem = assert_problem(api.post("designs", {**GREETING, **changes}), 422, "validation_error")
    assert problem["errors"] == [{"path": path, "message": message}]
    assert not EmailDesign.objects.exists()


# -- list and get ----------------------------------------------------------------------------------


def test_list_pages_with_a_cursor_newest_first(api: ApiClient) -> None:
    ids = [create(api, name=f"Design {n}")["id"] for n in range(5)]
    first = api.get("designs?limit=2").json()
    assert [d["id"] for d in first["items"]] == [ids[4], ids[3]]
    second = api.get(f"designs?limit=2&cursor={first['nextCursor']}").json()
    assert [d["id"] for d in second["items"]] == [ids[2], ids[1]]
    last = api.get(f"designs?limit=2&cursor={second['nextCursor']}").json()
    assert ([d["id"] for d in last["items"]], last["nextCursor"]) == ([ids[0]], None)


def test_list_items_are_summaries_without_the_body(api: ApiClient) -> None:
    design = create(api)
    [item] = api.get("designs").json()["items"]
    assert item == {
        "id": design["id"],
        "name": "Welcome",
        "purpose": "marketing",
        "format": "mjml",
        "subject": GREETING["subject"],
        "version": 1,
        "updatedAt": design["updatedAt"],
    }


def test_list_can_search_by_name(api: ApiClient) -> None:
    create(api, name="March newsletter")
    create(api, name="Receipt")
    assert [d["name"] for d in api.get("designs?q=NEWS").json()["items"]] == ["March newsletter"]


def test_get_returns_the_current_content(api: ApiClient) -> None:
    design = create(api)
    assert api.get(f"designs/{design['id']}").json() == design


def test_get_of_an_unknown_design_is_404(api: ApiClient) -> None:
    assert_problem(api.get("designs/999999"), 404, "not_found")


def test_starters_are_listed(api: ApiClient) -> None:
    assert api.get("designs/starters").json() == [
        {"id": "newsletter", "name": "Monthly newsletter"},
        {"id": "blank", "name": "Blank email"},
    ]


# -- saving versions --------------------------------------------------------------------------------


def test_patch_saves_version_2_with_only_the_changed_fields(api: ApiClient) -> None:
    design = create(api)
    body = api.patch(f"designs/{design['id']}", {"subject": "Hello again"}).json()
    assert body == {
        **design,
        "subject": "Hello again",
        "version": 2,
        "updatedAt": body["updatedAt"],
    }
    v2 = api.get(f"designs/{design['id']}/versions/2").json()
    assert (v2["subject"], v2["preheader"], v2["body"], v2["source"]) == (
        "Hello again",
        "Good to have you",
        GREETING_BODY,
        "api",
    )


def test_a_patch_that_changes_nothing_adds_no_version(api: ApiClient) -> None:
    design = create(api)
    body = api.patch(f"designs/{design['id']}", {"subject": GREETING["subject"], "name": " Welcome "}).json()
    assert body["version"] == 1
    assert versions(design["id"]) == [1]


def test_an_empty_patch_adds_no_version(api: ApiClient) -> None:
    design = create(api)
    assert api.patch(f"designs/{design['id']}", {}).json()["version"] == 1
    assert versions(design["id"]) == [1]


def test_patch_with_null_is_a_problem(api: ApiClient) -> None:
    design = create(api)
    problem = assert_problem(api.patch(f"designs/{design['id']}", {"body": None}), 422, "validation_error")
    assert problem["errors"] == [{"path": "body", "message": "must not be null"}]
    assert versions(design["id"]) == [1]


def test_patch_refreshes_the_warnings(api: ApiClient) -> None:
    design = create(api)
    body = api.patch(f"designs/{design['id']}", {"subject": ""}).json()
    assert [w["code"] for w in body["warnings"]] == ["no_subject"]


def test_versions_are_listed_newest_first(api: ApiClient) -> None:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"subject": "Two"})
    api.patch(f"designs/{design['id']}", {"subject": "Three", "name": "Welcome 3"})
    listed = api.get(f"designs/{design['id']}/versions").json()
    assert [(v["number"], v["name"], v["subject"], v["source"]) for v in listed] == [
        (3, "Welcome 3", "Three", "api"),
        (2, "Welcome", "Two", "api"),
        (1, "Welcome", GREETING["subject"], "api"),
    ]
    assert set(listed[0]) == {"number", "name", "subject", "source", "note", "createdAt"}


def test_a_versions_source_is_kept(api: ApiClient) -> None:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"body": text_block("New body")})
    v1 = api.get(f"designs/{design['id']}/versions/1").json()
    assert v1 == {
        "number": 1,
        "name": "Welcome",
        "format": "mjml",
        "subject": GREETING["subject"],
        "preheader": "Good to have you",
        "body": GREETING_BODY,
        "source": "api",
        "note": "",
        "createdAt": v1["createdAt"],
    }


def test_an_unknown_version_is_404(api: ApiClient) -> None:
    design = create(api)
    assert_problem(api.get(f"designs/{design['id']}/versions/2"), 404, "not_found")


def test_diff_between_versions_is_a_unified_diff(api: ApiClient) -> None:
    design = create(api, body="<mjml>\n<mj-body>\n<mj-text>Old line</mj-text>\n</mj-body>\n</mjml>\n")
    api.patch(
        f"designs/{design['id']}",
        {"body": "<mjml>\n<mj-body>\n<mj-text>New line</mj-text>\n</mj-body>\n</mjml>\n", "subject": "S2"},
    )
    body = api.get(f"designs/{design['id']}/versions/2/diff?against=1").json()
    assert (body["number"], body["against"]) == (2, 1)
    assert body["diff"] == (
        "--- version 1\n"
        "+++ version 2\n"
        "@@ -1,8 +1,8 @@\n"
        f"-Subject: {GREETING['subject']}\n"
        "+Subject: S2\n"
        " Preheader: Good to have you\n"
        " \n"
        " <mjml>\n"
        " <mj-body>\n"
        "-<mj-text>Old line</mj-text>\n"
        "+<mj-text>New line</mj-text>\n"
        " </mj-body>\n"
        " </mjml>\n"
    )


def test_diff_of_a_version_with_itself_is_empty(api: ApiClient) -> None:
    design = create(api)
    assert api.get(f"designs/{design['id']}/versions/1/diff?against=1").json()["diff"] == ""


def test_diff_against_an_unknown_version_is_404(api: ApiClient) -> None:
    design = create(api)
    assert_problem(api.get(f"designs/{design['id']}/versions/1/diff?against=7"), 404, "not_found")


def test_restore_makes_version_1_current_as_version_3(api: ApiClient) -> None:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"subject": "Two", "body": text_block("Two")})
    body = api.post(f"designs/{design['id']}/versions/1/restore").json()
    assert (body["version"], body["subject"], body["body"]) == (3, GREETING["subject"], GREETING_BODY)
    v3 = api.get(f"designs/{design['id']}/versions").json()[0]
    assert (v3["number"], v3["source"], v3["note"]) == (3, "restore", "Restored version 1")
    assert versions(design["id"]) == [3, 2, 1]


def test_restore_of_an_unknown_version_is_404_and_changes_nothing(api: ApiClient) -> None:
    design = create(api)
    assert_problem(api.post(f"designs/{design['id']}/versions/9/restore"), 404, "not_found")
    assert versions(design["id"]) == [1]


def test_duplicate_copies_the_content_as_a_new_design(api: ApiClient) -> None:
    design = create(api)
    response = api.post(f"designs/{design['id']}/duplicate")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != design["id"]
    assert (copy["name"], copy["subject"], copy["body"], copy["version"]) == (
        "Welcome (copy)",
        GREETING["subject"],
        GREETING_BODY,
        1,
    )
    assert EmailDesignVersion.objects.get(design_id=copy["id"]).note == "Copied from “Welcome”"
    assert versions(design["id"]) == [1]


def test_delete_answers_204_then_the_design_is_gone(api: ApiClient) -> None:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"subject": "Two"})
    response = api.delete(f"designs/{design['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_problem(api.get(f"designs/{design['id']}"), 404, "not_found")
    assert_problem(api.get(f"designs/{design['id']}/versions"), 404, "not_found")
    assert not EmailDesignVersion.objects.exists()


# -- previews ------------------------------------------------------------------------------------


def test_preview_for_a_contact_shows_their_values(api: ApiClient, ann: Contact) -> None:
    design = create(api)
    body = api.get(f"designs/{design['id']}/preview?contactId={ann.pk}").json()
    assert (body["subject"], body["preheader"]) == ("Welcome, Ann", "Good to have you")
    assert "Hi Ann, welcome to Acme Mail.</div>" in body["html"]
    assert body["text"] == greeting_text("Ann")
    assert body["warnings"] == []


def test_preview_for_nobody_shows_the_defaults(api: ApiClient) -> None:
    design = create(api)
    body = api.get(f"designs/{design['id']}/preview").json()
    assert body["subject"] == "Welcome, friend"
    assert body["text"] == greeting_text("there")


def test_preview_links_go_to_harmless_preview_pages(api: ApiClient) -> None:
    design = create(api, body=text_block('<a href="{{ preferencesUrl }}">Prefs</a> {{ unsubscribeUrl }}'))
    body = api.get(f"designs/{design['id']}/preview").json()
    assert body["text"] == f"Prefs ({site()}/preferences/preview) {site()}/unsubscribe/preview\n"


def test_preview_for_a_contact_whose_data_a_filter_cannot_read_is_not_a_500(
    api: ApiClient, project: Project
) -> None:
    contact = make_contact(project, "ts@example.org", custom_fields={"lastOrder": 1714555800000})
    design = create(api, body=text_block('Last order: {{ lastOrder | date: "%b %d, %Y" }}'))
    response = api.get(f"designs/{design['id']}/preview?contactId={contact.pk}")
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == [
        {"path": "body", "message": "the template failed on a value: year 56302 is out of range"}
    ]


def test_preview_of_a_saved_version(api: ApiClient, ann: Contact) -> None:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"subject": "Version two for {{ firstName }}"})
    old = api.get(f"designs/{design['id']}/preview?version=1&contactId={ann.pk}").json()
    new = api.get(f"designs/{design['id']}/preview?contactId={ann.pk}").json()
    assert (old["subject"], new["subject"]) == ("Welcome, Ann", "Version two for Ann")


def test_preview_of_an_unknown_version_is_404(api: ApiClient) -> None:
    design = create(api)
    assert_problem(api.get(f"designs/{design['id']}/preview?version=5"), 404, "not_found")


def test_preview_carries_the_designs_warnings(api: ApiClient) -> None:
    design = create(api, subject="")
    body = api.get(f"designs/{design['id']}/preview").json()
    assert [w["code"] for w in body["warnings"]] == ["no_subject"]


def test_render_unsaved_source_returns_the_copy_and_its_warnings(api: ApiClient, ann: Contact) -> None:
    payload = {"subject": "For {{ company }}", "body": text_block("Hi {{ firstName }} on {{ plan }}")}
    response = api.post("designs/render", {**payload, "contactId": ann.pk})
    assert response.status_code == 200
    body = response.json()
    assert (body["subject"], body["preheader"], body["text"]) == ("For Initech", "", "Hi Ann on Pro\n")
    assert body["warnings"] == [
        {
            "code": "no_unsubscribe_link",
            "message": "This marketing email has no {{ unsubscribeUrl }} or {{ preferencesUrl }} link; "
            "one will be added at the bottom with the project's postal address when it is sent.",
        }
    ]
    assert not EmailDesign.objects.exists()


def test_render_of_unsaved_html_for_nobody(api: ApiClient) -> None:
    payload = {
        "format": "html",
        "purpose": "transactional",
        "body": "<p>Hi {{ firstName | default: 'you' }}</p>",
    }
    body = api.post("designs/render", payload).json()
    assert (body["html"], body["text"], body["warnings"]) == (
        "<html><head></head><body><p>Hi you</p></body></html>",
        "Hi you\n",
        [{"code": "no_subject", "message": "The email has no subject yet."}],
    )


def test_render_of_broken_source_is_a_problem_on_its_field(api: ApiClient) -> None:
    problem = assert_problem(
        api.post("designs/render", {"subject": "{{ x ", "body": text_block("Hi")}), 422, "validation_error"
    )
    assert problem["errors"] == [
        {"path": "subject", "message": "line 1, column 1: expected '}}', found end of file"}
    ]


# -- test sends ----------------------------------------------------------------------------------


def test_a_test_send_writes_an_eml_to_the_outbox(api: ApiClient, outbox: Path, ann: Contact) -> None:
    design = create(api)
    response = api.post(f"designs/{design['id']}/test", {"to": "me@example.com", "contactId": ann.pk})
    assert response.status_code == 202
    body = response.json()
    assert (body["to"], body["deliveredTo"]) == ("me@example.com", "outbox")
    [written] = list(outbox.iterdir())
    assert written.name == body["file"]
    assert written.suffix == ".eml"
    assert written.parent == Path(settings.DATA_DIR) / "outbox"


def test_a_test_send_address_with_surrounding_spaces_is_accepted(api: ApiClient, outbox: Path) -> None:
    design = create(api)
    response = api.post(f"designs/{design['id']}/test", {"to": "  me@example.com "})
    assert response.status_code == 202
    assert response.json()["to"] == "me@example.com"


def test_a_test_message_is_marked_and_has_text_and_html_parts(
    api: ApiClient, outbox: Path, ann: Contact
) -> None:
    design = create(api)
    api.post(f"designs/{design['id']}/test", {"to": "me@example.com", "contactId": ann.pk})
    [written] = list(outbox.iterdir())
    message = read_eml(written)
    assert message["Subject"] == "[Test] Welcome, Ann"
    assert (message["To"], message["X-Tidings-Test"]) == ("me@example.com", "yes")
    assert message["From"] == f"Acme Mail <tests@{urlsplit(settings.BASE_URL).hostname}>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content() == greeting_text("Ann")
    assert "Hi Ann, welcome to Acme Mail.</div>" in html.get_content()


def test_a_test_send_for_nobody_uses_the_defaults(api: ApiClient, outbox: Path) -> None:
    design = create(api)
    api.post(f"designs/{design['id']}/test", {"to": "me@example.com"})
    [written] = list(outbox.iterdir())
    assert read_eml(written)["Subject"] == "[Test] Welcome, friend"


@pytest.mark.parametrize("to", ["not-an-address", "", "me@", "a b@example.com"])
def test_a_test_send_to_an_invalid_address_is_a_problem_on_to(api: ApiClient, outbox: Path, to: str) -> None:
    design = create(api)
    problem = assert_problem(api.post(f"designs/{design['id']}/test", {"to": to}), 422, "validation_error")
    assert [e["path"] for e in problem["errors"]] == ["to"]
    assert not outbox.exists() or not list(outbox.iterdir())


def test_a_test_send_header_cannot_be_injected_through_the_subject(
    api: ApiClient, outbox: Path, project: Project
) -> None:
    contact = make_contact(project, "eve@example.org", first_name="Eve\r\nBcc: victim@example.org")
    design = create(api, subject="Hi {{ firstName }}")
    api.post(f"designs/{design['id']}/test", {"to": "me@example.com", "contactId": contact.pk})
    [written] = list(outbox.iterdir())
    message = read_eml(written)
    assert message["Subject"] == "[Test] Hi Eve Bcc: victim@example.org"
    assert message["Bcc"] is None


# -- tenancy: another project's key sees nothing and changes nothing ---------------------------------


@pytest.fixture
def mine(api: ApiClient) -> dict[str, Any]:
    design = create(api)
    api.patch(f"designs/{design['id']}", {"subject": "Two"})
    return api.get(f"designs/{design['id']}").json()


def assert_untouched(design: dict[str, Any]) -> None:
    stored = EmailDesign.objects.get(pk=design["id"])
    assert (stored.name, stored.subject, stored.body, stored.version) == (
        design["name"],
        design["subject"],
        design["body"],
        design["version"],
    )
    assert versions(design["id"]) == [2, 1]


@pytest.mark.parametrize(
    "suffix",
    ["", "/versions", "/versions/1", "/versions/2/diff?against=1", "/preview", "/preview?version=1"],
)
def test_another_projects_key_cannot_read_the_design(
    other_api: ApiClient, mine: dict[str, Any], suffix: str
) -> None:
    assert_problem(other_api.get(f"designs/{mine['id']}{suffix}"), 404, "not_found")


def test_another_projects_list_holds_none_of_the_designs(other_api: ApiClient, mine: dict[str, Any]) -> None:
    assert other_api.get("designs").json() == {"items": [], "nextCursor": None}


def test_another_projects_key_cannot_patch_the_design(other_api: ApiClient, mine: dict[str, Any]) -> None:
    assert_problem(other_api.patch(f"designs/{mine['id']}", {"subject": "Mine now"}), 404, "not_found")
    assert_untouched(mine)


def test_another_projects_key_cannot_delete_the_design(other_api: ApiClient, mine: dict[str, Any]) -> None:
    assert_problem(other_api.delete(f"designs/{mine['id']}"), 404, "not_found")
    assert_untouched(mine)


def test_another_projects_key_cannot_restore_a_version(other_api: ApiClient, mine: dict[str, Any]) -> None:
    assert_problem(other_api.post(f"designs/{mine['id']}/versions/1/restore"), 404, "not_found")
    assert_untouched(mine)


def test_another_projects_key_cannot_duplicate_the_design(
    other_api: ApiClient, other_project: Project, mine: dict[str, Any]
) -> None:
    assert_problem(other_api.post(f"designs/{mine['id']}/duplicate"), 404, "not_found")
    assert not EmailDesign.objects.filter(project=other_project).exists()
    assert_untouched(mine)


def test_another_projects_key_cannot_send_a_test_of_the_design(
    other_api: ApiClient, mine: dict[str, Any], outbox: Path
) -> None:
    response = other_api.post(f"designs/{mine['id']}/test", {"to": "spy@example.com"})
    assert_problem(response, 404, "not_found")
    assert not outbox.exists() or not list(outbox.iterdir())
    assert_untouched(mine)


@pytest.fixture
def their_contact(other_project: Project) -> Contact:
    return make_contact(other_project, "dora@example.org", first_name="Dora", custom_fields={"secret": "s3"})


def test_a_preview_for_another_projects_contact_is_404(
    api: ApiClient, mine: dict[str, Any], their_contact: Contact
) -> None:
    response = api.get(f"designs/{mine['id']}/preview?contactId={their_contact.pk}")
    problem = assert_problem(response, 404, "not_found")
    assert "Dora" not in str(problem)


def test_rendering_for_another_projects_contact_is_404(api: ApiClient, their_contact: Contact) -> None:
    payload = {"body": text_block("{{ firstName }} {{ secret }}"), "contactId": their_contact.pk}
    problem = assert_problem(api.post("designs/render", payload), 404, "not_found")
    assert "Dora" not in str(problem)


def test_a_test_send_for_another_projects_contact_is_404_and_sends_nothing(
    api: ApiClient, mine: dict[str, Any], their_contact: Contact, outbox: Path
) -> None:
    response = api.post(f"designs/{mine['id']}/test", {"to": "me@example.com", "contactId": their_contact.pk})
    assert_problem(response, 404, "not_found")
    assert not outbox.exists() or not list(outbox.iterdir())
