"""Tags and topics through the API: exact names, counts, tagging, subscriptions, tenancy."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ApiClient
from tidings.audience import selectors, services
from tidings.audience.models import Contact, ContactTag, Tag, Topic, TopicSubscription
from tidings.audience.segments import segment_create
from tidings.core.models import Project


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


def add(project: Project, email: str, **values: object) -> Contact:
    return services.contact_create(project=project, values={"email": email, **values})


def test_tag_names_are_exact_and_case_sensitive(api: ApiClient, project: Project) -> None:
    assert api.post("tags", {"name": "vip"}).status_code == 201
    assert api.post("tags", {"name": "VIP Customer"}).status_code == 201
    assert sorted(Tag.objects.for_project(project).values_list("name", flat=True)) == ["VIP Customer", "vip"]


def test_near_duplicate_tag_is_allowed_with_a_warning(api: ApiClient) -> None:
    api.post("tags", {"name": "vip"})
    response = api.post("tags", {"name": "Vip"})
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "a tag named 'vip' already exists; names are exact, so 'Vip' is a different tag"
    ]


def test_exact_duplicate_tag_is_a_conflict(api: ApiClient, project: Project) -> None:
    api.post("tags", {"name": "vip"})
    problem(api.post("tags", {"name": "vip"}), 409)
    assert Tag.objects.for_project(project).count() == 1


@pytest.mark.parametrize(("body", "path"), [({"name": ""}, "name"), ({"name": "x", "color": "red"}, "color")])
def test_invalid_tag_is_refused(api: ApiClient, body: dict[str, object], path: str) -> None:
    assert [e["path"] for e in problem(api.post("tags", body), 422)["errors"]] == [path]


def test_rename_keeps_the_tag_on_its_contacts(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com", tags=["vip"])
    tag = Tag.objects.for_project(project).get()
    body = api.patch(f"tags/{tag.pk}", {"name": "VIP", "color": "#d9480f"}).json()
    assert (body["name"], body["color"], body["contactCount"]) == ("VIP", "#d9480f", 1)
    assert [t.name for t in selectors.contact_tags(contact=contact)] == ["VIP"]


def test_deleting_a_tag_keeps_its_contacts(api: ApiClient, project: Project) -> None:
    add(project, "ada@example.com", tags=["vip"])
    tag = Tag.objects.for_project(project).get()
    assert api.delete(f"tags/{tag.pk}").status_code == 204
    assert Contact.objects.for_project(project).count() == 1
    assert not ContactTag.objects.exists()


def test_each_tag_shows_its_contact_count(api: ApiClient, project: Project) -> None:
    add(project, "a@example.com", tags=["vip", "beta"])
    add(project, "b@example.com", tags=["vip"])
    counts = {t["name"]: t["contactCount"] for t in api.get("tags").json()["items"]}
    assert counts == {"vip": 2, "beta": 1}


def test_tag_and_untag_contacts_by_id_and_by_email(api: ApiClient, project: Project) -> None:
    a = add(project, "a@example.com")
    add(project, "b@example.com")
    tag = services.tag_create(project=project, name="vip")[0]
    assert api.post(f"tags/{tag.pk}/contacts", {"contactIds": [a.pk]}).json() == {"changed": 1}
    assert api.post(f"tags/{tag.pk}/contacts", {"emails": ["A@example.com", "b@example.com"]}).json() == {
        "changed": 1
    }
    assert api.post(f"tags/{tag.pk}/contacts/remove", {"emails": ["a@example.com"]}).json() == {"changed": 1}
    assert list(ContactTag.objects.filter(tag=tag).values_list("contact__email", flat=True)) == [
        "b@example.com"
    ]


def test_tagging_needs_exactly_one_way_of_naming_contacts(api: ApiClient, project: Project) -> None:
    tag = services.tag_create(project=project, name="vip")[0]
    problem(api.post(f"tags/{tag.pk}/contacts", {}), 422)
    problem(api.post(f"tags/{tag.pk}/contacts", {"contactIds": [1], "emails": ["a@example.com"]}), 422)


def test_tagging_never_reaches_another_projects_contacts(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    theirs = add(other_project, "victim@example.com")
    tag = services.tag_create(project=project, name="vip")[0]
    body = api.post(f"tags/{tag.pk}/contacts", {"contactIds": [theirs.pk], "emails": None}).json()
    assert body == {"changed": 0}
    assert not ContactTag.objects.filter(contact=theirs).exists()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "x"}),
        ("delete", "", None),
        ("post", "/contacts", {"emails": []}),
    ],
)
def test_another_projects_tag_is_not_found_and_unchanged(
    api: ApiClient, other_project: Project, method: str, suffix: str, body: object
) -> None:
    theirs = services.tag_create(project=other_project, name="secret")[0]
    args = (body,) if body is not None else ()
    problem(getattr(api, method)(f"tags/{theirs.pk}{suffix}", *args), 404)
    assert Tag.objects.get(pk=theirs.pk).name == "secret"


# -- topics ------------------------------------------------------------------------------


def test_topic_defaults_decide_until_the_contact_chooses(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com")
    news = api.post("topics", {"name": "News", "defaultSubscription": "opt_out"}).json()
    offers = api.post("topics", {"name": "Offers", "defaultSubscription": "opt_in", "position": 1}).json()
    states = {
        s["name"]: (s["subscribed"], s["explicit"]) for s in api.get(f"contacts/{contact.pk}/topics").json()
    }
    assert states == {"News": (True, False), "Offers": (False, False)}

    api.post(f"topics/{news['id']}/unsubscribe", {"email": "ADA@example.com"})
    api.put(f"contacts/{contact.pk}/topics/{offers['id']}", {"subscribed": True})
    states = {
        s["name"]: (s["subscribed"], s["explicit"]) for s in api.get(f"contacts/{contact.pk}/topics").json()
    }
    assert states == {"News": (False, True), "Offers": (True, True)}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "x", "defaultSubscription": "maybe"}, "defaultSubscription"),
        ({"name": "x", "visibility": "secret"}, "visibility"),
        ({"name": ""}, "name"),
        ({"name": "x", "position": -1}, "position"),
    ],
)
def test_invalid_topic_is_refused(
    api: ApiClient, project: Project, body: dict[str, object], path: str
) -> None:
    assert [e["path"] for e in problem(api.post("topics", body), 422)["errors"]] == [path]
    assert not Topic.objects.for_project(project).exists()


def test_private_and_inactive_topics(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com")
    topic = api.post("topics", {"name": "Internal", "visibility": "private"}).json()
    assert topic["visibility"] == "private"
    api.patch(f"topics/{topic['id']}", {"isActive": False})
    assert api.get(f"contacts/{contact.pk}/topics").json() == []


def test_subscribing_another_projects_contact_is_not_found(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    theirs = add(other_project, "victim@example.com")
    topic = services.topic_create(project=project, name="News")
    problem(api.post(f"topics/{topic.pk}/subscribe", {"contactId": theirs.pk}), 404)
    problem(api.post(f"topics/{topic.pk}/subscribe", {"email": "victim@example.com"}), 404)
    assert not TopicSubscription.objects.exists()


def test_another_projects_topic_is_not_found(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    mine = add(project, "ada@example.com")
    theirs = services.topic_create(project=other_project, name="News")
    problem(api.get(f"topics/{theirs.pk}"), 404)
    problem(api.put(f"contacts/{mine.pk}/topics/{theirs.pk}", {"subscribed": False}), 404)
    problem(api.delete(f"topics/{theirs.pk}"), 404)
    assert Topic.objects.filter(pk=theirs.pk).exists()


def test_tag_everyone_a_segment_matches_now(api: ApiClient, project: Project, other_project: Project) -> None:
    add(project, "ann@example.com", status="subscribed")
    add(project, "bob@example.com", status="unsubscribed")
    add(other_project, "eve@example.com", status="subscribed")
    segment = segment_create(
        project=project,
        name="Subscribed",
        filters={"match": "all", "conditions": [{"type": "status", "operator": "is", "value": "subscribed"}]},
    )
    tag = services.tag_create(project=project, name="engaged")[0]

    assert api.post(f"tags/{tag.pk}/contacts", {"segmentId": segment.pk}).json() == {"changed": 1}
    assert api.post(f"tags/{tag.pk}/contacts", {"segmentId": segment.pk}).json() == {"changed": 0}
    assert list(ContactTag.objects.filter(tag=tag).values_list("contact__email", flat=True)) == [
        "ann@example.com"
    ]
    assert api.post(f"tags/{tag.pk}/contacts/remove", {"segmentId": segment.pk}).json() == {"changed": 1}


def test_tagging_by_another_projects_segment_is_not_found(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    theirs = segment_create(project=other_project, name="All", filters={})
    tag = services.tag_create(project=project, name="vip")[0]
    problem(api.post(f"tags/{tag.pk}/contacts", {"segmentId": theirs.pk}), 404)
    assert not ContactTag.objects.exists()
