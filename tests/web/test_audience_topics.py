"""Settings → Topics: list, create, edit, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tidings.audience import services
from tidings.audience.models import Topic
from tidings.core.models import Project, Role

TOPICS = "/settings/topics/"
ADD = "/settings/topics/new/"
NEWS = {
    "name": "Product news",
    "description": "What we shipped this month",
    "default_subscription": "opt_in",
    "visibility": "private",
    "position": "3",
    "is_active": "on",
}


def _topics(project: Project) -> list[tuple[str, str, str, int, bool]]:
    return list(
        Topic.objects.for_project(project).values_list(
            "name", "default_subscription", "visibility", "position", "is_active"
        )
    )


@pytest.mark.parametrize("role", list(Role))
def test_topics_page_lists_topics_for_every_role(
    project: Project, member_client: Callable[..., Client], role: Role
) -> None:
    services.topic_create(project=project, name="Product news", description="Monthly")

    body = member_client(project, role).get(TOPICS).content.decode()

    assert '<span class="topic-name">Product news</span><br><span class="muted">Monthly</span>' in body
    assert ("Add topic" in body) is (role != Role.VIEWER)


def test_topics_page_does_not_list_another_projects_topics(
    other_project: Project, owner_client: Client
) -> None:
    services.topic_create(project=other_project, name="Rival news")

    body = owner_client.get(TOPICS).content.decode()

    assert "Rival news" not in body
    assert "There are no topics in Acme Mail yet." in body


def test_create_topic(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, NEWS)

    assert (response.status_code, response["Location"]) == (302, TOPICS)
    assert _topics(project) == [("Product news", "opt_in", "private", 3, True)]


def test_create_topic_with_a_taken_name_says_so(project: Project, owner_client: Client) -> None:
    services.topic_create(project=project, name="Product news")

    response = owner_client.post(ADD, NEWS)

    assert (
        '<p class="field-error" id="id_name-error">A topic named &#x27;Product news&#x27; already exists.</p>'
        in response.content.decode()
    )
    assert len(_topics(project)) == 1


def test_create_topic_without_a_name_says_so(project: Project, owner_client: Client) -> None:
    response = owner_client.post(ADD, {**NEWS, "name": " "})

    assert (
        '<p class="field-error" id="id_name-error">Must be 1-100 characters</p>' in response.content.decode()
    )
    assert _topics(project) == []


def test_edit_topic_can_make_it_inactive(project: Project, owner_client: Client) -> None:
    topic = services.topic_create(project=project, name="Product news")

    form = {**NEWS, "name": "News", "default_subscription": "opt_out", "visibility": "public"}
    del form["is_active"]
    response = owner_client.post(f"/settings/topics/{topic.pk}/edit/", form)

    assert response.status_code == 302
    assert _topics(project) == [("News", "opt_out", "public", 3, False)]


def test_delete_topic_asks_then_deletes(project: Project, owner_client: Client) -> None:
    topic = services.topic_create(project=project, name="Product news")
    url = f"/settings/topics/{topic.pk}/delete/"

    assert "Every choice contacts made for this topic goes with it" in owner_client.get(url).content.decode()
    response = owner_client.post(url)

    assert (response.status_code, response["Location"]) == (302, TOPICS)
    assert _topics(project) == []


def test_viewer_cannot_change_topics(project: Project, member_client: Callable[..., Client]) -> None:
    topic = services.topic_create(project=project, name="Product news")
    client = member_client(project, Role.VIEWER)

    created = client.post(ADD, {**NEWS, "name": "Other"})
    edited = client.post(f"/settings/topics/{topic.pk}/edit/", {**NEWS, "name": "Renamed"})
    deleted = client.post(f"/settings/topics/{topic.pk}/delete/")

    assert (created.status_code, edited.status_code, deleted.status_code) == (403, 403, 403)
    assert [t[0] for t in _topics(project)] == ["Product news"]


def test_another_projects_topic_cannot_be_edited_or_deleted(
    other_project: Project, owner_client: Client
) -> None:
    theirs = services.topic_create(project=other_project, name="Rival news")

    edited = owner_client.post(f"/settings/topics/{theirs.pk}/edit/", {**NEWS, "name": "Mine"})
    deleted = owner_client.post(f"/settings/topics/{theirs.pk}/delete/")

    assert (edited.status_code, deleted.status_code) == (404, 404)
    assert [t[0] for t in _topics(other_project)] == ["Rival news"]


def test_topic_names_are_escaped(project: Project, owner_client: Client) -> None:
    services.topic_create(project=project, name="<svg onload=alert(1)>")

    body = owner_client.get(TOPICS).content.decode()

    assert "<svg onload=alert(1)>" not in body
    assert "&lt;svg onload=alert(1)&gt;" in body
