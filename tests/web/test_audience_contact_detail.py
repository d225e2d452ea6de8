"""One contact's page: fields, editing, tags, topics, GDPR export and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from tidings.audience import selectors, services, validation
from tidings.audience.models import Contact, ContactTag, Suppression, Tag, TopicSubscription
from tidings.core.models import Project, Role

XSS = "<svg onload=alert(1)>"
EDIT = {
    "email": "ada@example.com",
    "first_name": "Augusta Ada",
    "last_name": "King",
    "company": "",
    "phone": "",
    "country": "GB",
    "language": "en",
    "status": "unsubscribed",
}


def _url(contact: Contact, rest: str = "") -> str:
    return f"/audience/contacts/{contact.pk}/{rest}"


def _tag_names(contact: Contact) -> list[str]:
    return [t.name for t in selectors.contact_tags(contact=contact)]


@pytest.fixture
def ada(project: Project, make_contact: Callable[..., Contact]) -> Contact:
    return make_contact(
        project,
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        custom_fields={"plan": "pro", "items": 3},
        consent={"at": "2024-01-02", "method": "signup form", "ip": "198.51.100.4", "text": "Yes, mail me"},
        tags=["vip"],
    )


@pytest.mark.parametrize("role", list(Role))
def test_contact_page_shows_everything_held_for_every_role(
    project: Project, member_client: Callable[..., Client], ada: Contact, role: Role
) -> None:
    body = member_client(project, role).get(_url(ada)).content.decode()

    assert '<h1 class="break">ada@example.com</h1>' in body
    assert '<dt><code>items</code></dt><dd class="break">3</dd>' in body
    assert '<dt><code>plan</code></dt><dd class="break">pro</dd>' in body
    assert "<dt>Method</dt><dd>signup form</dd>" in body
    assert "<dt>IP address</dt><dd>198.51.100.4</dd>" in body
    assert f'<a href="/audience/contacts/?tag={Tag.objects.get(name="vip").pk}">vip</a>' in body
    assert ("Erase…" in body, "Add tag" in body) == (role != Role.VIEWER, role != Role.VIEWER)


def test_another_projects_contact_page_is_not_found(
    other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    theirs = make_contact(other_project, "theirs@example.com")

    assert owner_client.get(_url(theirs)).status_code == 404
    assert owner_client.get(_url(theirs, "export/")).status_code == 404


def test_contact_fields_are_escaped_on_its_page(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    contact = make_contact(
        project, "xss@example.com", first_name=XSS, company=XSS, custom_fields={"note": XSS}, tags=[XSS]
    )

    body = owner_client.get(_url(contact)).content.decode()

    assert XSS not in body
    assert body.count("&lt;svg onload=alert(1)&gt;") >= 4


# -- editing ------------------------------------------------------------------------------


def test_edit_contact_saves_the_fields(ada: Contact, owner_client: Client) -> None:
    response = owner_client.post(_url(ada, "edit/"), EDIT)

    assert (response.status_code, response["Location"]) == (302, _url(ada))
    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.status, ada.country) == (
        "Augusta Ada",
        "King",
        "unsubscribed",
        "GB",
    )
    assert _tag_names(ada) == ["vip"]


def test_edit_contact_shows_service_errors_and_changes_nothing(ada: Contact, owner_client: Client) -> None:
    response = owner_client.post(_url(ada, "edit/"), {**EDIT, "language": "not a language"})

    assert (
        '<p class="field-error" id="id_language-error">Must be a BCP 47 language tag such as en or pt-BR</p>'
        in response.content.decode()
    )
    ada.refresh_from_db()
    assert (ada.first_name, ada.status) == ("Ada", "subscribed")


def test_edit_a_bounced_contact_cannot_reactivate_it(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    bounced = make_contact(project, "gone@example.com", status="bounced")

    response = owner_client.post(
        _url(bounced, "edit/"), {**EDIT, "email": "gone@example.com", "status": "subscribed"}
    )

    assert (
        '<p class="field-error" id="id_status-error">'
        "A bounced address cannot be re-activated; it receives nothing</p>" in response.content.decode()
    )
    bounced.refresh_from_db()
    assert bounced.status == "bounced"


def test_viewer_cannot_edit_a_contact(
    project: Project, member_client: Callable[..., Client], ada: Contact
) -> None:
    client = member_client(project, Role.VIEWER)

    assert client.get(_url(ada, "edit/")).status_code == 403
    assert client.post(_url(ada, "edit/"), EDIT).status_code == 403
    ada.refresh_from_db()
    assert ada.first_name == "Ada"


def test_editing_another_projects_contact_is_not_found(
    other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    theirs = make_contact(other_project, "theirs@example.com", first_name="Theirs")

    response = owner_client.post(_url(theirs, "edit/"), {**EDIT, "email": "theirs@example.com"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"


# -- tags and topics ------------------------------------------------------------------------


def test_add_tag_on_the_contact_page_creates_and_adds_it(ada: Contact, owner_client: Client) -> None:
    response = owner_client.post(_url(ada, "tags/"), {"name": "Newsletter"})

    assert (response.status_code, response["Location"]) == (302, _url(ada))
    assert _tag_names(ada) == ["Newsletter", "vip"]


def test_add_tag_with_htmx_returns_the_tags_section(ada: Contact, owner_client: Client) -> None:
    response = owner_client.post(_url(ada, "tags/"), {"name": "Newsletter"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.startswith('<section class="card" id="contact-tags"')
    assert ">Newsletter</a>" in body


def test_add_tag_with_a_too_long_name_says_so(ada: Contact, owner_client: Client) -> None:
    response = owner_client.post(_url(ada, "tags/"), {"name": "x" * 101})

    assert (
        '<p class="field-error" id="id_name-error">Each tag name must be 1-100 characters</p>'
        in response.content.decode()
    )
    assert _tag_names(ada) == ["vip"]


def test_remove_tag_on_the_contact_page(ada: Contact, owner_client: Client) -> None:
    vip = Tag.objects.get(name="vip")

    response = owner_client.post(_url(ada, f"tags/{vip.pk}/remove/"))

    assert response.status_code == 302
    assert _tag_names(ada) == []


def test_removing_another_projects_tag_is_not_found(
    ada: Contact, other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(other_project, "theirs@example.com", tags=["vip"])
    theirs = Tag.objects.for_project(other_project).get(name="vip")

    response = owner_client.post(_url(ada, f"tags/{theirs.pk}/remove/"))

    assert response.status_code == 404
    assert ContactTag.objects.filter(tag=theirs).count() == 1


def test_viewer_cannot_change_a_contacts_tags(
    project: Project, member_client: Callable[..., Client], ada: Contact
) -> None:
    client = member_client(project, Role.VIEWER)
    vip = Tag.objects.get(name="vip")

    added = client.post(_url(ada, "tags/"), {"name": "sneaky"})
    removed = client.post(_url(ada, f"tags/{vip.pk}/remove/"))

    assert (added.status_code, removed.status_code) == (403, 403)
    assert _tag_names(ada) == ["vip"]


def test_contact_page_shows_topics_with_their_effective_state(
    project: Project, ada: Contact, owner_client: Client
) -> None:
    services.topic_create(project=project, name="News", default_subscription="opt_out")
    services.topic_create(project=project, name="Offers", default_subscription="opt_in")

    body = owner_client.get(_url(ada)).content.decode()

    assert 'aria-checked="true"\n                aria-label="News">Subscribed</button>' in body
    assert 'aria-checked="false"\n                aria-label="Offers">Not subscribed</button>' in body
    assert "on by default" in body
    assert "off by default" in body


def test_topic_toggle_records_the_contacts_choice(
    project: Project, ada: Contact, owner_client: Client
) -> None:
    news = services.topic_create(project=project, name="News", default_subscription="opt_out")

    response = owner_client.post(
        _url(ada, f"topics/{news.pk}/"), {"subscribed": "0"}, headers={"HX-Request": "true"}
    )

    assert response.content.decode().startswith('<section class="card" id="contact-topics"')
    assert "chosen by the contact" in response.content.decode()
    assert TopicSubscription.objects.get(contact=ada, topic=news).subscribed is False


def test_viewer_cannot_toggle_a_topic(
    project: Project, member_client: Callable[..., Client], ada: Contact
) -> None:
    news = services.topic_create(project=project, name="News")

    response = member_client(project, Role.VIEWER).post(_url(ada, f"topics/{news.pk}/"), {"subscribed": "0"})

    assert response.status_code == 403
    assert not TopicSubscription.objects.filter(contact=ada).exists()


def test_toggling_another_projects_topic_is_not_found(
    ada: Contact, other_project: Project, owner_client: Client
) -> None:
    theirs = services.topic_create(project=other_project, name="News")

    response = owner_client.post(_url(ada, f"topics/{theirs.pk}/"), {"subscribed": "0"})

    assert response.status_code == 404
    assert not TopicSubscription.objects.exists()


# -- GDPR -----------------------------------------------------------------------------------


def test_export_data_downloads_everything_held_as_json(ada: Contact, owner_client: Client) -> None:
    response = owner_client.get(_url(ada, "export/"))

    assert response["Content-Disposition"] == f'attachment; filename="contact-{ada.pk}.json"'
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert (data["email"], data["tags"], data["customFields"]) == (
        "ada@example.com",
        ["vip"],
        {"plan": "pro", "items": 3},
    )
    assert data["consent"]["method"] == "signup form"


def test_erase_explains_itself_then_erases_and_suppresses(
    project: Project, ada: Contact, owner_client: Client
) -> None:
    page = owner_client.get(_url(ada, "erase/")).content.decode()
    assert "Erasing is permanent." in page
    assert "on the project's suppression list" in page

    response = owner_client.post(_url(ada, "erase/"))

    assert (response.status_code, response["Location"]) == (302, "/audience/contacts/")
    assert not Contact.objects.filter(pk=ada.pk).exists()
    digest = validation.email_hash(project.pk, "ada@example.com")
    assert Suppression.objects.for_project(project).filter(email_hash=digest, reason="erased").exists()
    listing = owner_client.get("/audience/contacts/").content.decode()
    assert "The contact was erased." in listing
    assert "ada@example.com" not in listing


def test_viewer_cannot_erase_a_contact(
    project: Project, member_client: Callable[..., Client], ada: Contact
) -> None:
    client = member_client(project, Role.VIEWER)

    assert client.get(_url(ada, "erase/")).status_code == 403
    assert client.post(_url(ada, "erase/")).status_code == 403
    assert Contact.objects.filter(pk=ada.pk).exists()
    assert not Suppression.objects.exists()


def test_erasing_another_projects_contact_is_not_found(
    other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    theirs = make_contact(other_project, "theirs@example.com")

    response = owner_client.post(_url(theirs, "erase/"))

    assert response.status_code == 404
    assert Contact.objects.filter(pk=theirs.pk).exists()
    assert not Suppression.objects.exists()
