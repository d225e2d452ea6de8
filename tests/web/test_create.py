"""Create in the UI: personalise links, drafts beside a preview, the persona control, designs, settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tidings.audience.models import Contact, Tag
from tidings.content import services as content
from tidings.content.models import EmailDesign
from tidings.core.models import Project, Role
from tidings.drafts.models import Draft, DraftMessage, DraftSettings

pytestmark = pytest.mark.django_db

SALE = "Announce our spring sale: 20% off until March 31. https://shop.example.com/sale"


def _vip(project: Project, make_contact: Callable[..., Contact]) -> Tag:
    for i in range(4):
        make_contact(
            project, f"v{i}@example.com", first_name=f"Vee{i}", tags=["vip"], custom_fields={"plan": "pro"}
        )
    return Tag.objects.get(project=project, name="vip")


def test_personalise_opens_create_with_the_persona_chosen(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    vip = _vip(project, make_contact)
    response = owner_client.get(f"/create/for/tag/{vip.pk}/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain == [(f"/create/?persona=tag:{vip.pk}", 302)]
    assert 'data-testid="persona-badge">1<' in body
    assert "Drafting for <strong>Tag: vip</strong>" in body
    assert f'name="persona" value="tag:{vip.pk}"' in body


def test_personalise_for_another_projects_tag_is_not_found(
    owner_client: Client, other_project: Project
) -> None:
    theirs = Tag.objects.create(project=other_project, name="theirs")
    assert owner_client.get(f"/create/for/tag/{theirs.pk}/").status_code == 404
    assert owner_client.get(f"/create/?persona=tag:{theirs.pk}").status_code == 404


def test_create_page_says_the_offline_composer_writes_drafts(owner_client: Client) -> None:
    body = owner_client.get("/create/").content.decode()
    assert "offline composer</strong>: built into Tidings, no AI model, no network" in body
    assert "persona-badge" not in body


def test_a_prompt_for_a_persona_opens_the_draft_beside_its_preview(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    vip = _vip(project, make_contact)
    response = owner_client.post(
        "/create/drafts/new/", {"prompt": SALE, "persona": f"tag:{vip.pk}"}, follow=True
    )
    draft = Draft.objects.get(project=project)
    body = response.content.decode()
    assert response.redirect_chain == [(f"/create/drafts/{draft.pk}/", 302)]
    assert draft.persona_label == "Tag: vip"
    assert 'data-role="user"' in body
    assert 'data-role="assistant"' in body
    assert f'src="/create/drafts/{draft.pk}/preview/?contact=' in body
    assert 'sandbox loading="lazy"' in body


def test_the_preview_renders_as_a_cohort_member_in_a_sandbox(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    vip = _vip(project, make_contact)
    owner_client.post("/create/drafts/new/", {"prompt": SALE, "persona": f"tag:{vip.pk}"})
    draft = Draft.objects.get(project=project)
    member = Contact.objects.get(email="v3@example.com")
    response = owner_client.get(f"/create/drafts/{draft.pk}/preview/?contact={member.pk}")
    assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "Vee3" in response.content.decode()


def test_a_viewer_cannot_draft_and_nothing_is_written(
    project: Project, member_client: Callable[..., Client]
) -> None:
    viewer = member_client(project, Role.VIEWER)
    assert viewer.post("/create/drafts/new/", {"prompt": SALE}).status_code == 403
    assert not Draft.objects.exists()
    assert not DraftMessage.objects.exists()


def test_follow_up_through_htmx_answers_with_the_workspace(project: Project, owner_client: Client) -> None:
    owner_client.post("/create/drafts/new/", {"prompt": SALE})
    draft = Draft.objects.get(project=project)
    response = owner_client.post(
        f"/create/drafts/{draft.pk}/reply/", {"prompt": "more formal"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count('data-role="assistant"') == 2
    assert 'data-version="2"' in body


def test_restore_in_the_ui_makes_version_one_current(project: Project, owner_client: Client) -> None:
    owner_client.post("/create/drafts/new/", {"prompt": SALE})
    draft = Draft.objects.get(project=project)
    first = draft.design.body
    owner_client.post(f"/create/drafts/{draft.pk}/reply/", {"prompt": "more formal"})
    response = owner_client.post(f"/create/drafts/{draft.pk}/versions/1/restore/", follow=True)
    draft.design.refresh_from_db()
    assert "Restored version 1 as version 3." in response.content.decode()
    assert draft.design.body == first


def test_another_projects_draft_is_not_found(
    other_project: Project, owner_client: Client, project: Project
) -> None:
    theirs = Draft.objects.create(project=other_project, title="theirs")
    for url in (f"/create/drafts/{theirs.pk}/", f"/create/drafts/{theirs.pk}/preview/"):
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(f"/create/drafts/{theirs.pk}/reply/", {"prompt": "x"}).status_code == 404
    assert not DraftMessage.objects.filter(draft=theirs).exists()


def test_persona_search_filters_the_menu(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    _vip(project, make_contact)
    body = owner_client.get("/create/personas/?q=vi").content.decode()
    assert ">vip</button>" in body
    assert owner_client.get("/create/personas/?q=zzz").content.decode().count("None found.") == 3


# -- designs -------------------------------------------------------------------------


def _design_form(**values: str) -> dict[str, str]:
    return {
        "name": "Hello",
        "purpose": "marketing",
        "format": "mjml",
        "subject": "Hi {{ firstName }}",
        "preheader": "",
        "body": '<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ firstName | default: "there" }} '
        '<a href="{{ unsubscribeUrl }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
        **values,
    }


def test_saving_a_design_in_the_editor_makes_versions(project: Project, owner_client: Client) -> None:
    response = owner_client.post("/create/designs/new/", _design_form(), follow=True)
    design = EmailDesign.objects.get(project=project)
    assert "“Hello” was saved as version 1." in response.content.decode()
    owner_client.post(f"/create/designs/{design.pk}/", _design_form(subject="Changed"))
    design.refresh_from_db()
    assert design.version == 2
    assert list(design.versions.values_list("number", flat=True)) == [2, 1]


def test_a_liquid_error_is_shown_with_line_and_column(project: Project, owner_client: Client) -> None:
    response = owner_client.post(
        "/create/designs/new/", _design_form(body="<mjml>\n  {{ firstName \n</mjml>")
    )
    assert response.status_code == 422
    assert "Line 2, column 3: expected" in response.content.decode()
    assert not EmailDesign.objects.exists()


def test_the_live_preview_shows_warnings_for_unsaved_source(owner_client: Client) -> None:
    form = _design_form(
        body='<mjml><mj-body><mj-section><mj-column><mj-image src="https://x.example/a.png"/>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    body = owner_client.post("/create/designs/preview/", form).content.decode()
    assert "image(s) without alt text" in body
    assert "has no {{ unsubscribeUrl }}" in body
    assert 'sandbox srcdoc="' in body


def test_send_a_test_writes_it_to_the_outbox(project: Project, owner_client: Client) -> None:
    design = content.design_create(project=project, values=_design_form())
    before = (
        set((django_settings.DATA_DIR / "outbox").glob("*.eml"))
        if (django_settings.DATA_DIR / "outbox").exists()
        else set()
    )
    response = owner_client.post(f"/create/designs/{design.pk}/test/", {"to": "me@example.com"}, follow=True)
    written = set((django_settings.DATA_DIR / "outbox").glob("*.eml")) - before
    assert "A test went to the outbox for me@example.com" in response.content.decode()
    assert len(written) == 1
    assert b"Subject: [Test] Hi" in written.pop().read_bytes()


def test_a_hostile_design_previews_only_inside_a_sandbox(project: Project, owner_client: Client) -> None:
    design = content.design_create(
        project=project,
        values=_design_form(
            format="html", body="<html><body><script>alert(1)</script><p>x</p></body></html>"
        ),
    )
    response = owner_client.get(f"/create/designs/{design.pk}/preview/")
    assert "sandbox" in response["Content-Security-Policy"]
    page = owner_client.get(f"/create/designs/{design.pk}/").content.decode()
    assert f'sandbox src="/create/designs/{design.pk}/preview/"' in page


# -- settings ------------------------------------------------------------------------


def _settings_form(**values: Any) -> dict[str, Any]:
    return {
        "provider": "openai",
        "base_url": "http://127.0.0.1:11434/v1",
        "model": "llama3",
        "api_key": "sk-local",
        "timeout_seconds": 30,
        "brand_notes": "Friendly.",
        "catalog_threshold": "2.5",
        **values,
    }


def test_an_admin_chooses_the_drafting_provider(
    project: Project, owner_client: Client, settings: Any
) -> None:
    settings.AI_ALLOWED_HOSTS = ["127.0.0.1"]
    response = owner_client.post("/settings/drafting/", _settings_form(), follow=True)
    stored = DraftSettings.objects.get(project=project)
    assert "The drafting settings were saved." in response.content.decode()
    assert (stored.provider, stored.model, stored.catalog_threshold_bp) == ("openai", "llama3", 250)
    assert "sk-local" not in stored.api_key_encrypted
    assert "sk-local" not in response.content.decode()


def test_an_editor_cannot_change_the_drafting_provider(
    project: Project, member_client: Callable[..., Client]
) -> None:
    editor = member_client(project, Role.EDITOR)
    assert editor.post("/settings/drafting/", _settings_form()).status_code == 403
    assert not DraftSettings.objects.filter(project=project, provider="openai").exists()


def test_compare_shows_what_changed_between_versions(project: Project, owner_client: Client) -> None:
    design = content.design_create(project=project, values=_design_form())
    content.design_update(design=design, values={"subject": "Changed"})
    body = owner_client.get(f"/create/designs/{design.pk}/versions/1/diff/").content.decode()
    assert '<span class="diff-del">-Subject: Hi {{ firstName }}</span>' in body
    assert '<span class="diff-add">+Subject: Changed</span>' in body


def test_comparing_another_projects_design_is_not_found(owner_client: Client, other_project: Project) -> None:
    theirs = content.design_create(project=other_project, values=_design_form())
    assert owner_client.get(f"/create/designs/{theirs.pk}/versions/1/diff/").status_code == 404
