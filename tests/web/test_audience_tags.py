"""Audience → Tags: list with counts, create with the near-duplicate warning, edit, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tidings.audience import services
from tidings.audience.models import Contact, ContactTag, Tag
from tidings.core.models import Project, Role

TAGS = "/audience/tags/"
XSS = "<svg onload=alert(1)>"


def _names(project: Project) -> list[str]:
    return sorted(Tag.objects.for_project(project).values_list("name", flat=True))


@pytest.mark.parametrize("role", list(Role))
def test_tags_page_lists_tags_with_counts_for_every_role(
    project: Project, member_client: Callable[..., Client], make_contact: Callable[..., Contact], role: Role
) -> None:
    make_contact(project, "ada@example.com", tags=["vip"])
    make_contact(project, "grace@example.com", tags=["vip"])
    vip = Tag.objects.get(name="vip")

    body = member_client(project, role).get(TAGS).content.decode()

    assert (
        f'<td data-label="Contacts" class="number"><a href="/audience/contacts/?tag={vip.pk}">2</a></td>'
        in body
    )
    assert ("Create a tag" in body) is (role != Role.VIEWER)
    assert (f'href="/audience/tags/{vip.pk}/delete/"' in body) is (role != Role.VIEWER)


def test_tags_page_does_not_list_another_projects_tags(other_project: Project, owner_client: Client) -> None:
    services.tag_create(project=other_project, name="rival-only")

    body = owner_client.get(TAGS).content.decode()

    assert "rival-only" not in body
    assert "There are no tags in Acme Mail yet." in body


def test_create_tag(project: Project, owner_client: Client) -> None:
    response = owner_client.post(TAGS, {"name": " vip ", "color": "#d9480f", "description": "Top buyers"})

    assert (response.status_code, response["Location"]) == (302, TAGS)
    tag = Tag.objects.for_project(project).get()
    assert (tag.name, tag.color, tag.description) == ("vip", "#d9480f", "Top buyers")
    assert "The tag “vip” was created." in owner_client.get(TAGS).content.decode()


def test_create_tag_warns_about_a_near_duplicate_name(project: Project, owner_client: Client) -> None:
    services.tag_create(project=project, name="VIP")

    response = owner_client.post(TAGS, {"name": "vip", "color": "", "description": ""}, follow=True)

    assert (
        '<li class="message message-warning">A tag named &#x27;VIP&#x27; already exists; names are exact, '
        "so &#x27;vip&#x27; is a different tag.</li>" in response.content.decode()
    )
    assert _names(project) == ["VIP", "vip"]


def test_create_tag_with_a_taken_name_says_so_on_the_name(project: Project, owner_client: Client) -> None:
    services.tag_create(project=project, name="vip")

    response = owner_client.post(TAGS, {"name": "vip", "color": "", "description": ""})

    assert (
        '<p class="field-error" id="id_name-error">A tag named &#x27;vip&#x27; already exists.</p>'
        in response.content.decode()
    )
    assert _names(project) == ["vip"]


def test_create_tag_shows_a_bad_colour_on_its_field(project: Project, owner_client: Client) -> None:
    response = owner_client.post(TAGS, {"name": "vip", "color": "orange", "description": ""})

    assert (
        '<p class="field-error" id="id_color-error">Must be a hex colour such as #d9480f</p>'
        in response.content.decode()
    )
    assert _names(project) == []


def test_tag_names_are_escaped(project: Project, owner_client: Client) -> None:
    services.tag_create(project=project, name=XSS, description=XSS)

    body = owner_client.get(TAGS).content.decode()

    assert XSS not in body
    assert "&lt;svg onload=alert(1)&gt;" in body


def test_rename_and_recolour_a_tag_keeps_its_contacts(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com", tags=["vip"])
    vip = Tag.objects.get(name="vip")

    response = owner_client.post(
        f"/audience/tags/{vip.pk}/edit/", {"name": "VIP customers", "color": "#1a7f4b", "description": ""}
    )

    assert (response.status_code, response["Location"]) == (302, TAGS)
    vip.refresh_from_db()
    assert (vip.name, vip.color) == ("VIP customers", "#1a7f4b")
    assert ContactTag.objects.filter(tag=vip).count() == 1


def test_delete_tag_asks_then_deletes_and_keeps_the_contacts(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com", tags=["vip"])
    vip = Tag.objects.get(name="vip")
    url = f"/audience/tags/{vip.pk}/delete/"

    assert "1 contact loses this tag" in owner_client.get(url).content.decode()
    response = owner_client.post(url)

    assert (response.status_code, response["Location"]) == (302, TAGS)
    assert _names(project) == []
    assert Contact.objects.for_project(project).count() == 1


def test_viewer_cannot_create_edit_or_delete_tags(
    project: Project, member_client: Callable[..., Client]
) -> None:
    vip, _ = services.tag_create(project=project, name="vip")
    client = member_client(project, Role.VIEWER)

    created = client.post(TAGS, {"name": "new", "color": "", "description": ""})
    edited = client.post(
        f"/audience/tags/{vip.pk}/edit/", {"name": "renamed", "color": "", "description": ""}
    )
    deleted = client.post(f"/audience/tags/{vip.pk}/delete/")

    assert (created.status_code, edited.status_code, deleted.status_code) == (403, 403, 403)
    assert _names(project) == ["vip"]


def test_another_projects_tag_cannot_be_edited_or_deleted(
    other_project: Project, owner_client: Client
) -> None:
    theirs, _ = services.tag_create(project=other_project, name="vip")

    edited = owner_client.post(
        f"/audience/tags/{theirs.pk}/edit/", {"name": "mine", "color": "", "description": ""}
    )
    deleted = owner_client.post(f"/audience/tags/{theirs.pk}/delete/")

    assert (edited.status_code, deleted.status_code) == (404, 404)
    assert _names(other_project) == ["vip"]
