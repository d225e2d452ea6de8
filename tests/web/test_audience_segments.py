"""Audience → Segments: live counts, the editor and its preview, tagging a segment, deleting."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tidings.audience import segments, selectors, services
from tidings.audience.models import Contact, ContactTag, Segment, Tag
from tidings.core.models import Project, Role

SEGMENTS = "/audience/segments/"
ADD = "/audience/segments/new/"
PREVIEW = "/audience/segments/preview/"
XSS = "<svg onload=alert(1)>"
SUBSCRIBED = {"match": "all", "conditions": [{"type": "status", "operator": "is", "value": "subscribed"}]}
BAD_OPERATOR = {
    "match": "all",
    "conditions": [{"type": "field", "field": "firstName", "operator": "gt", "value": "A"}],
}


def _form(name: str = "Subscribers", filters: Any = SUBSCRIBED, **extra: str) -> dict[str, str]:
    text = filters if isinstance(filters, str) else json.dumps(filters)
    return {"name": name, "description": "", "filters": text, **extra}


def _names(project: Project) -> list[str]:
    return sorted(Segment.objects.for_project(project).values_list("name", flat=True))


@pytest.fixture
def people(project: Project, make_contact: Callable[..., Contact]) -> list[Contact]:
    return [
        make_contact(project, "ada@example.com", first_name="Ada", tags=["vip"]),
        make_contact(project, "grace@example.com", first_name="Grace"),
        make_contact(project, "gone@example.com", status="unsubscribed", tags=["vip"]),
    ]


@pytest.fixture
def subscribers(project: Project) -> Segment:
    return segments.segment_create(project=project, name="Subscribers", filters=SUBSCRIBED)


@pytest.mark.parametrize("role", list(Role))
def test_segments_page_lists_segments_with_live_counts_for_every_role(
    project: Project,
    member_client: Callable[..., Client],
    people: list[Contact],
    subscribers: Segment,
    role: Role,
) -> None:
    body = member_client(project, role).get(SEGMENTS).content.decode()

    assert f'<a class="segment-name" href="/audience/segments/{subscribers.pk}/">Subscribers</a>' in body
    assert '<td data-label="Contacts" class="number">2</td>' in body
    assert ("New segment" in body) is (role != Role.VIEWER)


def test_segments_page_says_when_there_are_none(owner_client: Client) -> None:
    assert "There are no segments in Acme Mail yet." in owner_client.get(SEGMENTS).content.decode()


def test_segment_whose_tag_was_deleted_shows_it_needs_fixing(
    project: Project, owner_client: Client, people: list[Contact]
) -> None:
    vip = Tag.objects.get(name="vip")
    segments.segment_create(
        project=project,
        name="VIPs",
        filters={"match": "all", "conditions": [{"type": "tag", "operator": "has_any", "value": [vip.pk]}]},
    )
    services.tag_delete(tag=vip)

    body = owner_client.get(SEGMENTS).content.decode()

    assert "Rules need fixing</span>" in body


def test_segments_page_does_not_list_another_projects_segments(
    other_project: Project, owner_client: Client
) -> None:
    segments.segment_create(project=other_project, name="Rival VIPs", filters={})

    assert "Rival VIPs" not in owner_client.get(SEGMENTS).content.decode()


# -- the editor -----------------------------------------------------------------------------


def test_new_segment_page_offers_the_builder_and_counts_everyone(
    owner_client: Client, people: list[Contact]
) -> None:
    body = owner_client.get(ADD).content.decode()

    assert "Leave filters empty to include everyone." in body
    assert '<div id="rule-builder"' in body
    assert '<script id="builder-options" type="application/json">' in body
    assert '<p class="figure" id="segment-count" data-count="3">3</p>' in body


def test_create_segment_saves_the_rules(
    project: Project, owner_client: Client, people: list[Contact]
) -> None:
    response = owner_client.post(ADD, _form())

    assert (response.status_code, response["Location"]) == (302, SEGMENTS)
    segment = Segment.objects.for_project(project).get()
    assert (segment.name, segment.filters) == ("Subscribers", SUBSCRIBED)
    assert segments.segment_count(project=project, filters=segment.filters) == 2


def test_create_segment_with_empty_rules_includes_everyone(project: Project, owner_client: Client) -> None:
    owner_client.post(ADD, _form(name="Everyone", filters=""))

    assert Segment.objects.for_project(project).get().filters == {"match": "all", "conditions": []}


def test_create_segment_shows_rule_errors_with_their_paths(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, _form(filters=BAD_OPERATOR))

    body = response.content.decode()
    assert response.status_code == 200
    assert (
        '<li data-path="filters.conditions[0].operator"><code>filters.conditions[0].operator</code> '
        "must be one of is, is_not, contains, not_contains, starts_with, ends_with, is_set, is_not_set "
        "for firstName</li>" in body
    )
    assert _names(project) == []


def test_create_segment_with_rules_that_are_not_json_says_so(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, {"name": "Broken", "description": "", "filters": '{"match": '})

    body = response.content.decode()
    assert "The rules are not valid JSON: Expecting value (line 1, column 11)." in body
    assert _names(project) == []


def test_create_segment_with_a_taken_name_says_so(
    project: Project, owner_client: Client, subscribers: Segment
) -> None:
    response = owner_client.post(ADD, _form(name="SUBSCRIBERS"))

    assert (
        '<p class="field-error" id="id_name-error">A segment named &#x27;SUBSCRIBERS&#x27; already exists '
        "in this project; choose another name.</p>" in response.content.decode()
    )
    assert _names(project) == ["Subscribers"]


def test_create_segment_with_another_projects_tag_is_refused(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    theirs, _ = services.tag_create(project=other_project, name="vip")
    rules = {"match": "all", "conditions": [{"type": "tag", "operator": "has_any", "value": [theirs.pk]}]}

    response = owner_client.post(ADD, _form(filters=rules))

    assert f"no tag with id {theirs.pk} in this project" in response.content.decode()
    assert _names(project) == []


def test_count_button_previews_without_saving(
    project: Project, owner_client: Client, people: list[Contact]
) -> None:
    response = owner_client.post(ADD, _form(preview="1"))

    assert '<p class="figure" id="segment-count" data-count="2">2</p>' in response.content.decode()
    assert _names(project) == []


def test_edit_segment_changes_its_rules(project: Project, owner_client: Client, subscribers: Segment) -> None:
    rules = {"match": "any", "conditions": [{"type": "status", "operator": "is", "value": "unsubscribed"}]}

    response = owner_client.post(f"{SEGMENTS}{subscribers.pk}/", _form(name="Lapsed", filters=rules))

    assert response.status_code == 302
    subscribers.refresh_from_db()
    assert (subscribers.name, subscribers.filters) == ("Lapsed", rules)


def test_viewer_sees_a_segments_rules_but_cannot_change_them(
    project: Project, member_client: Callable[..., Client], subscribers: Segment
) -> None:
    client = member_client(project, Role.VIEWER)

    page = client.get(f"{SEGMENTS}{subscribers.pk}/").content.decode()
    response = client.post(f"{SEGMENTS}{subscribers.pk}/", _form(name="Renamed", filters={}))

    assert "data-readonly" in page
    assert response.status_code == 403
    subscribers.refresh_from_db()
    assert (subscribers.name, subscribers.filters) == ("Subscribers", SUBSCRIBED)
    assert client.post(ADD, _form(name="New")).status_code == 403
    assert _names(project) == ["Subscribers"]


def test_another_projects_segment_cannot_be_seen_or_changed(
    other_project: Project, owner_client: Client
) -> None:
    theirs = segments.segment_create(project=other_project, name="Rival", filters=SUBSCRIBED)

    seen = owner_client.get(f"{SEGMENTS}{theirs.pk}/")
    changed = owner_client.post(f"{SEGMENTS}{theirs.pk}/", _form(name="Mine", filters={}))
    deleted = owner_client.post(f"{SEGMENTS}{theirs.pk}/delete/")

    assert (seen.status_code, changed.status_code, deleted.status_code) == (404, 404, 404)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.filters) == ("Rival", SUBSCRIBED)


def test_segment_names_are_escaped(project: Project, owner_client: Client) -> None:
    segment = segments.segment_create(project=project, name=XSS, description=XSS, filters={})

    listing = owner_client.get(SEGMENTS).content.decode()
    editor = owner_client.get(f"{SEGMENTS}{segment.pk}/").content.decode()

    assert XSS not in listing
    assert XSS not in editor
    assert "&lt;svg onload=alert(1)&gt;" in listing


# -- the live preview -------------------------------------------------------------------------


def test_preview_counts_and_samples_the_rules_sent(owner_client: Client, people: list[Contact]) -> None:
    response = owner_client.post(PREVIEW, {"filters": json.dumps(SUBSCRIBED)}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert '<p class="figure" id="segment-count" data-count="2">2</p>' in body
    assert "grace@example.com" in body
    assert "gone@example.com" not in body
    assert "<html" not in body


def test_preview_shows_rule_errors_with_their_paths(owner_client: Client) -> None:
    response = owner_client.post(PREVIEW, {"filters": json.dumps(BAD_OPERATOR)})

    assert '<li data-path="filters.conditions[0].operator">' in response.content.decode()


def test_preview_counts_only_the_current_projects_contacts(
    other_project: Project, owner_client: Client, people: list[Contact], make_contact: Callable[..., Contact]
) -> None:
    make_contact(other_project, "theirs@example.com")

    body = owner_client.post(PREVIEW, {"filters": "{}"}).content.decode()

    assert 'data-count="3"' in body
    assert "theirs@example.com" not in body


def test_preview_is_open_to_viewers_and_changes_nothing(
    project: Project, member_client: Callable[..., Client], people: list[Contact]
) -> None:
    response = member_client(project, Role.VIEWER).post(PREVIEW, {"filters": json.dumps(SUBSCRIBED)})

    assert 'data-count="2"' in response.content.decode()
    assert _names(project) == []


def test_preview_escapes_contact_addresses(project: Project, owner_client: Client) -> None:
    services.contact_create(project=project, values={"email": "xss@example.com", "first_name": XSS})

    body = owner_client.post(PREVIEW, {"filters": "{}"}).content.decode()

    assert "xss@example.com" in body
    assert XSS not in body


# -- tagging everyone, deleting ------------------------------------------------------------------


def test_tag_everyone_in_a_segment(
    project: Project, owner_client: Client, people: list[Contact], subscribers: Segment
) -> None:
    newsletter, _ = services.tag_create(project=project, name="newsletter")
    url = f"{SEGMENTS}{subscribers.pk}/tag/"

    assert "2 contacts are in the segment now." in owner_client.get(url).content.decode()
    response = owner_client.post(url, {"tag": newsletter.pk}, follow=True)

    tagged = sorted(c.email for c in selectors.contact_list(project=project, tag_id=newsletter.pk))
    assert tagged == ["ada@example.com", "grace@example.com"]
    assert "Tagged 2 contacts of “Subscribers” “newsletter”." in response.content.decode()


def test_tag_everyone_with_another_projects_tag_is_not_found(
    other_project: Project, owner_client: Client, people: list[Contact], subscribers: Segment
) -> None:
    theirs, _ = services.tag_create(project=other_project, name="newsletter")

    response = owner_client.post(f"{SEGMENTS}{subscribers.pk}/tag/", {"tag": theirs.pk})

    assert response.status_code == 404
    assert ContactTag.objects.filter(tag=theirs).count() == 0


def test_viewer_cannot_tag_a_segment(
    project: Project, member_client: Callable[..., Client], people: list[Contact], subscribers: Segment
) -> None:
    newsletter, _ = services.tag_create(project=project, name="newsletter")

    response = member_client(project, Role.VIEWER).post(
        f"{SEGMENTS}{subscribers.pk}/tag/", {"tag": newsletter.pk}
    )

    assert response.status_code == 403
    assert ContactTag.objects.filter(tag=newsletter).count() == 0


def test_delete_segment_asks_then_deletes_and_keeps_the_contacts(
    project: Project, owner_client: Client, people: list[Contact], subscribers: Segment
) -> None:
    url = f"{SEGMENTS}{subscribers.pk}/delete/"

    assert "the contacts in it are not changed" in owner_client.get(url).content.decode()
    response = owner_client.post(url)

    assert (response.status_code, response["Location"]) == (302, SEGMENTS)
    assert _names(project) == []
    assert Contact.objects.for_project(project).count() == 3


def test_viewer_cannot_delete_a_segment(
    project: Project, member_client: Callable[..., Client], subscribers: Segment
) -> None:
    response = member_client(project, Role.VIEWER).post(f"{SEGMENTS}{subscribers.pk}/delete/")

    assert response.status_code == 403
    assert _names(project) == ["Subscribers"]
