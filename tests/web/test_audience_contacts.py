"""Audience → Contacts: the list, search and filters, adding, bulk actions, deleting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tidings.audience import segments, services
from tidings.audience.models import Contact, ContactTag, Tag
from tidings.core.models import Project, Role

CONTACTS = "/audience/contacts/"
ADD = "/audience/contacts/new/"
BULK = "/audience/contacts/bulk/"
XSS = "<svg onload=alert(1)>"
NEW_CONTACT = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines",
    "phone": "+44 20 7946 0000",
    "country": "gb",
    "language": "en-gb",
    "status": "subscribed",
    "tags": "vip, newsletter",
}


def _emails(project: Project) -> list[str]:
    return sorted(Contact.objects.for_project(project).values_list("email", flat=True))


def _tag_names(contact: Contact) -> list[str]:
    contact_tags = ContactTag.objects.filter(contact=contact)
    return sorted(Tag.objects.filter(pk__in=contact_tags.values("tag_id")).values_list("name", flat=True))


# -- the list ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_contacts_list_renders_for_every_role(
    project: Project, member_client: Callable[..., Client], make_contact: Callable[..., Contact], role: Role
) -> None:
    ada = make_contact(project, "ada@example.com", first_name="Ada", tags=["vip"])

    body = member_client(project, role).get(CONTACTS).content.decode()

    assert f'<a href="/audience/contacts/{ada.pk}/">ada@example.com</a>' in body
    assert '<span class="badge badge-ok">Subscribed</span>' in body
    assert ('id="bulk-form"' in body) is (role != Role.VIEWER)
    assert ("Add contact" in body) is (role != Role.VIEWER)


def test_contacts_list_says_when_the_project_has_no_contacts(owner_client: Client) -> None:
    body = owner_client.get(CONTACTS).content.decode()

    assert "There are no contacts in Acme Mail yet." in body


def test_contacts_list_shows_only_the_current_projects_contacts(
    project: Project, other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ours@example.com")
    make_contact(other_project, "theirs@example.com")

    body = owner_client.get(CONTACTS).content.decode()

    assert "ours@example.com" in body
    assert "theirs@example.com" not in body


def test_contacts_search_matches_email_and_name_prefixes(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com", first_name="Ada")
    make_contact(project, "grace@example.com", last_name="Hopper")
    make_contact(project, "alan@example.com", first_name="Alan")

    by_email = owner_client.get(CONTACTS, {"q": "gra"}).content.decode()
    by_name = owner_client.get(CONTACTS, {"q": "hop"}).content.decode()

    assert ("grace@example.com" in by_email, "ada@example.com" in by_email) == (True, False)
    assert ("grace@example.com" in by_name, "alan@example.com" in by_name) == (True, False)


def test_contacts_live_search_returns_only_the_results(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com")

    response = owner_client.get(
        CONTACTS, {"q": "nobody"}, headers={"HX-Request": "true", "HX-Target": "contact-results"}
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="contact-results">')
    assert "<html" not in body
    assert "No contacts match these filters." in body


def test_contacts_filter_by_status_and_tag(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "vip@example.com", tags=["vip"])
    make_contact(project, "gone@example.com", status="unsubscribed", tags=["vip"])
    make_contact(project, "plain@example.com")
    vip = Tag.objects.get(name="vip")

    body = owner_client.get(CONTACTS, {"status": "subscribed", "tag": vip.pk}).content.decode()

    assert "vip@example.com" in body
    assert "gone@example.com" not in body
    assert "plain@example.com" not in body


def test_contacts_filter_by_another_projects_tag_is_not_found(
    other_project: Project, owner_client: Client
) -> None:
    theirs, _ = services.tag_create(project=other_project, name="vip")

    response = owner_client.get(CONTACTS, {"tag": theirs.pk})

    assert response.status_code == 404


def test_contacts_list_pages_with_load_more(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    for n in range(55):
        make_contact(project, f"person{n:02d}@example.com")

    first = owner_client.get(CONTACTS).content.decode()
    cursor = first.split('href="/audience/contacts/?cursor=')[1].split('"')[0]
    more = owner_client.get(
        CONTACTS, {"cursor": cursor}, headers={"HX-Request": "true", "HX-Target": "load-more"}
    ).content.decode()

    assert first.count('name="ids"') == 50
    assert "person54@example.com" in first
    assert "person04@example.com" not in first
    assert more.count('name="ids"') == 5
    assert "person04@example.com" in more
    assert "person05@example.com" not in more
    assert "Load more" not in more


def test_contacts_list_with_a_mangled_cursor_starts_from_the_top(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com")

    response = owner_client.get(CONTACTS, {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert "ada@example.com" in response.content.decode()


def test_contact_names_are_escaped_in_the_list(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "xss@example.com", first_name=XSS, tags=[XSS])

    body = owner_client.get(CONTACTS).content.decode()

    assert XSS not in body
    assert "&lt;svg onload=alert(1)&gt;" in body


# -- adding -----------------------------------------------------------------------------


def test_add_contact_creates_it_with_its_tags(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, NEW_CONTACT)

    contact = Contact.objects.for_project(project).get()
    assert (response.status_code, response["Location"]) == (302, f"/audience/contacts/{contact.pk}/")
    assert (contact.email, contact.first_name, contact.company) == (
        "ada@example.com",
        "Ada",
        "Analytical Engines",
    )
    assert (contact.country, contact.language, contact.source) == ("GB", "en-GB", "web")
    assert _tag_names(contact) == ["newsletter", "vip"]


def test_add_contact_shows_service_errors_on_their_fields(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, {**NEW_CONTACT, "email": "not an address", "country": "XX"})

    body = response.content.decode()
    assert response.status_code == 200
    assert '<p class="field-error" id="id_email-error">Is not a valid email address:' in body
    assert (
        '<p class="field-error" id="id_country-error">Must be an ISO 3166 two-letter country code '
        "such as DE or US</p>" in body
    )
    assert Contact.objects.for_project(project).count() == 0


def test_add_contact_with_an_existing_address_says_so_on_the_email(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com")

    response = owner_client.post(ADD, {**NEW_CONTACT, "email": "ADA@example.com"})

    assert (
        '<p class="field-error" id="id_email-error">'
        "A contact with the email ADA@example.com already exists.</p>" in response.content.decode()
    )
    assert Contact.objects.for_project(project).count() == 1


def test_add_contact_refuses_an_erased_address(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    services.contact_erase(contact=make_contact(project, "ada@example.com"))

    response = owner_client.post(ADD, NEW_CONTACT)

    assert "Is on the project&#x27;s suppression list and cannot be added again" in response.content.decode()
    assert Contact.objects.for_project(project).count() == 0


def test_viewer_cannot_add_a_contact(project: Project, member_client: Callable[..., Client]) -> None:
    client = member_client(project, Role.VIEWER)

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, NEW_CONTACT).status_code == 403
    assert Contact.objects.for_project(project).count() == 0


# -- bulk actions -----------------------------------------------------------------------


def test_bulk_add_tag_tags_the_selected_contacts(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada, grace = make_contact(project, "ada@example.com"), make_contact(project, "grace@example.com")
    left_out = make_contact(project, "alan@example.com")
    tag, _ = services.tag_create(project=project, name="vip")

    response = owner_client.post(
        BULK,
        {"ids": [ada.pk, grace.pk], "action": "add_tag", "tag": tag.pk, "next": "/audience/contacts/?q=a"},
    )

    assert (response.status_code, response["Location"]) == (302, "/audience/contacts/?q=a")
    assert (_tag_names(ada), _tag_names(grace), _tag_names(left_out)) == (["vip"], ["vip"], [])
    assert "Tagged 2 contacts “vip”." in owner_client.get(CONTACTS).content.decode()


def test_bulk_remove_tag_untags_the_selected_contacts(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com", tags=["vip"])
    grace = make_contact(project, "grace@example.com", tags=["vip"])
    tag = Tag.objects.get(name="vip")

    owner_client.post(BULK, {"ids": [ada.pk], "action": "remove_tag", "tag": tag.pk})

    assert (_tag_names(ada), _tag_names(grace)) == ([], ["vip"])


def test_bulk_delete_asks_first_then_deletes(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada, grace = make_contact(project, "ada@example.com"), make_contact(project, "grace@example.com")
    make_contact(project, "alan@example.com")

    asked = owner_client.post(BULK, {"ids": [ada.pk, grace.pk], "action": "delete"})
    assert asked.status_code == 200
    assert "<h1>Delete 2 contacts?</h1>" in asked.content.decode()
    assert len(_emails(project)) == 3

    done = owner_client.post(BULK, {"ids": [ada.pk, grace.pk], "action": "delete", "confirm": "on"})

    assert done.status_code == 302
    assert _emails(project) == ["alan@example.com"]


def test_bulk_action_without_a_selection_says_so(project: Project, owner_client: Client) -> None:
    response = owner_client.post(BULK, {"action": "delete"}, follow=True)

    assert "Select one or more contacts first." in response.content.decode()


def test_bulk_action_never_touches_another_projects_contacts(
    project: Project, other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    theirs = make_contact(other_project, "theirs@example.com")
    tag, _ = services.tag_create(project=project, name="vip")

    owner_client.post(BULK, {"ids": [theirs.pk], "action": "add_tag", "tag": tag.pk})
    owner_client.post(BULK, {"ids": [theirs.pk], "action": "delete", "confirm": "on"})

    assert _emails(other_project) == ["theirs@example.com"]
    assert _tag_names(theirs) == []


def test_bulk_action_with_another_projects_tag_is_not_found(
    project: Project, other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ours = make_contact(project, "ours@example.com")
    theirs, _ = services.tag_create(project=other_project, name="vip")

    response = owner_client.post(BULK, {"ids": [ours.pk], "action": "add_tag", "tag": theirs.pk})

    assert response.status_code == 404
    assert ContactTag.objects.count() == 0


def test_bulk_action_does_not_redirect_to_another_site(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com")
    tag, _ = services.tag_create(project=project, name="vip")

    response = owner_client.post(
        BULK, {"ids": [ada.pk], "action": "add_tag", "tag": tag.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == CONTACTS


def test_viewer_cannot_use_bulk_actions(
    project: Project, member_client: Callable[..., Client], make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com")
    tag, _ = services.tag_create(project=project, name="vip")
    client = member_client(project, Role.VIEWER)

    tagged = client.post(BULK, {"ids": [ada.pk], "action": "add_tag", "tag": tag.pk})
    deleted = client.post(BULK, {"ids": [ada.pk], "action": "delete", "confirm": "on"})

    assert (tagged.status_code, deleted.status_code) == (403, 403)
    assert _emails(project) == ["ada@example.com"]
    assert _tag_names(ada) == []


# -- deleting one -----------------------------------------------------------------------


def test_delete_contact_asks_then_deletes(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com")
    url = f"/audience/contacts/{ada.pk}/delete/"

    assert '<h1 class="break">Delete ada@example.com?</h1>' in owner_client.get(url).content.decode()
    response = owner_client.post(url)

    assert (response.status_code, response["Location"]) == (302, CONTACTS)
    assert _emails(project) == []


def test_viewer_cannot_delete_a_contact(
    project: Project, member_client: Callable[..., Client], make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com")

    response = member_client(project, Role.VIEWER).post(f"/audience/contacts/{ada.pk}/delete/")

    assert response.status_code == 403
    assert _emails(project) == ["ada@example.com"]


def test_deleting_another_projects_contact_is_not_found(
    other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    theirs = make_contact(other_project, "theirs@example.com")

    response = owner_client.post(f"/audience/contacts/{theirs.pk}/delete/")

    assert response.status_code == 404
    assert _emails(other_project) == ["theirs@example.com"]


def test_forms_of_the_contacts_pages_carry_a_csrf_token(
    project: Project, owner: Any, make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(f"/audience/contacts/{ada.pk}/delete/")

    assert response.status_code == 403
    assert _emails(project) == ["ada@example.com"]
    assert 'name="csrfmiddlewaretoken"' in client.get(CONTACTS).content.decode()


def test_personalise_action_appears_on_contacts_tags_and_segments(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    ada = make_contact(project, "ada@example.com", tags=["vip"])
    vip = Tag.objects.get(name="vip")
    segment = segments.segment_create(project=project, name="Everyone", filters={})

    pages = [
        (CONTACTS, f"/create/for/contact/{ada.pk}/"),
        (f"/audience/contacts/{ada.pk}/", f"/create/for/contact/{ada.pk}/"),
        ("/audience/tags/", f"/create/for/tag/{vip.pk}/"),
        ("/audience/segments/", f"/create/for/segment/{segment.pk}/"),
    ]

    for page, target in pages:
        body = owner_client.get(page).content.decode()
        assert f'href="{target}">Personalise for…</a>' in body, page
