"""``/p/<token>``: the preference center a recipient reaches from a message, without an account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tidings.audience.models import Contact, ContactStatus, Topic, TopicSubscription
from tidings.audience.services import topic_create, topic_set_subscription
from tidings.tracking.tokens import recipient_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def contact(project: Any) -> Contact:
    return Contact.objects.create(project=project, email="reader@example.net", email_key="reader@example.net")


@pytest.fixture
def topics(project: Any) -> dict[str, Topic]:
    return {
        "product": topic_create(
            project=project, name="Product news", default_subscription="opt_out", position=1
        ),
        "events": topic_create(
            project=project,
            name="Events",
            description="Meetups near you",
            default_subscription="opt_in",
            position=2,
        ),
        "digest": topic_create(
            project=project, name="Weekly digest", default_subscription="opt_out", position=3
        ),
        "internal": topic_create(
            project=project,
            name="Staff only",
            visibility="private",
            default_subscription="opt_out",
            position=4,
        ),
        "retired": topic_create(project=project, name="Old series", is_active=False, position=5),
    }


def _url(contact: Contact, campaign_id: int | None = 1) -> str:
    token = recipient_token(project_id=contact.project_id, contact_id=contact.pk, campaign_id=campaign_id)
    return f"/p/{token}"


def _choices(contact: Contact) -> dict[int, bool]:
    return dict(TopicSubscription.objects.filter(contact=contact).values_list("topic_id", "subscribed"))


def _status(contact: Contact) -> str:
    return Contact.objects.values_list("status", flat=True).get(pk=contact.pk)


def _checkbox(page: str, topic: Topic) -> str:
    """The ``<input>`` tag of a topic's checkbox."""
    marker = f'name="topic" value="{topic.pk}"'
    assert page.count(marker) == 1, f"no single checkbox for {topic.name}"
    start = page.rindex("<input", 0, page.index(marker))
    return page[start : page.index(">", start) + 1]


def _is_checked(page: str, topic: Topic) -> bool:
    return " checked" in _checkbox(page, topic)


# -- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_project_its_colour_and_the_public_active_topics(
    project, contact, topics, client
) -> None:
    project.brand_color = "#c0ffee"
    project.save(update_fields=["brand_color"])
    response = client.get(_url(contact))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Mail" in page
    assert "#c0ffee" in page
    assert "reader@example.net" in page
    for key in ("product", "events", "digest"):
        assert topics[key].name in page
        _checkbox(page, topics[key])
    assert "Meetups near you" in page
    assert "Staff only" not in page
    assert f'value="{topics["internal"].pk}"' not in page
    assert "Old series" not in page
    assert not response.cookies
    assert "noindex" in page


def test_checkboxes_show_the_effective_state(project, contact, topics, client) -> None:
    page = client.get(_url(contact)).content.decode()
    assert _is_checked(page, topics["product"])  # opt-out default, no row
    assert _is_checked(page, topics["digest"])
    assert not _is_checked(page, topics["events"])  # opt-in default, no row
    assert _choices(contact) == {}  # looking changes nothing


def test_checkboxes_follow_explicit_choices(project, contact, topics, client) -> None:
    topic_set_subscription(topic=topics["product"], contact=contact, subscribed=False)
    topic_set_subscription(topic=topics["events"], contact=contact, subscribed=True)
    page = client.get(_url(contact)).content.decode()
    assert not _is_checked(page, topics["product"])
    assert _is_checked(page, topics["events"])
    assert _is_checked(page, topics["digest"])


# -- choosing topics ------------------------------------------------------------------------


def test_posting_topics_sets_exactly_those_and_says_it_is_saved(project, contact, topics, client) -> None:
    url = _url(contact)
    response = client.post(url, {"action": "topics", "topic": [str(topics["events"].pk)]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your choices are saved." in page
    assert _choices(contact) == {
        topics["product"].pk: False,
        topics["events"].pk: True,
        topics["digest"].pk: False,
    }
    # The page shown after saving reflects the new state.
    assert _is_checked(page, topics["events"])
    assert not _is_checked(page, topics["product"])
    assert not _is_checked(page, topics["digest"])
    # And the contact is still subscribed to the project's mail in general.
    assert _status(contact) == ContactStatus.SUBSCRIBED


def test_posting_again_changes_the_rows(project, contact, topics, client) -> None:
    url = _url(contact)
    client.post(url, {"action": "topics", "topic": [str(topics["events"].pk)]})
    client.post(url, {"action": "topics", "topic": [str(topics["product"].pk), str(topics["digest"].pk)]})
    assert _choices(contact) == {
        topics["product"].pk: True,
        topics["events"].pk: False,
        topics["digest"].pk: True,
    }


def test_posting_no_topic_turns_every_public_topic_off(project, contact, topics, client) -> None:
    response = client.post(_url(contact), {"action": "topics"})
    assert response.status_code == 200
    assert _choices(contact) == {
        topics["product"].pk: False,
        topics["events"].pk: False,
        topics["digest"].pk: False,
    }


def test_private_and_inactive_topics_are_never_touched(project, contact, topics, client) -> None:
    topic_set_subscription(topic=topics["internal"], contact=contact, subscribed=True)
    client.post(
        _url(contact),
        {"action": "topics", "topic": [str(topics["retired"].pk)]},
    )
    choices = _choices(contact)
    assert choices[topics["internal"].pk] is True  # left as it was
    assert topics["retired"].pk not in choices


def test_a_topic_of_another_project_in_the_post_is_ignored(
    project, other_project, contact, topics, client
) -> None:
    foreign = topic_create(project=other_project, name="Rival deals", default_subscription="opt_in")
    response = client.post(
        _url(contact), {"action": "topics", "topic": [str(foreign.pk), str(topics["events"].pk)]}
    )
    assert response.status_code == 200
    assert not TopicSubscription.objects.filter(topic=foreign).exists()
    assert _choices(contact)[topics["events"].pk] is True
    assert "Rival deals" not in response.content.decode()


def test_junk_topic_values_are_ignored(project, contact, topics, client) -> None:
    response = client.post(
        _url(contact), {"action": "topics", "topic": ["abc", "-1", "", "1e3", str(topics["events"].pk)]}
    )
    assert response.status_code == 200
    assert _choices(contact)[topics["events"].pk] is True


# -- unsubscribing and subscribing again -------------------------------------------------------


def test_unsubscribe_then_subscribe_again(project, contact, topics, client) -> None:
    url = _url(contact)
    response = client.post(url, {"action": "unsubscribe"})
    assert response.status_code == 200
    assert _status(contact) == ContactStatus.UNSUBSCRIBED
    page = response.content.decode()
    assert "You are unsubscribed from all our email." in page
    assert "Subscribe again" in page
    assert 'value="resubscribe"' in page
    assert 'name="topic"' not in page  # no topic choices while unsubscribed
    # The page reached later from the same link offers it too.
    assert "Subscribe again" in client.get(url).content.decode()
    again = client.post(url, {"action": "resubscribe"})
    assert again.status_code == 200
    assert _status(contact) == ContactStatus.SUBSCRIBED
    assert "You are subscribed again." in again.content.decode()
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.consent_method == "preference center"
    assert stored.consent_at is not None
    assert 'name="topic"' in again.content.decode()


@pytest.mark.parametrize("status", [ContactStatus.BOUNCED, ContactStatus.COMPLAINED])
def test_a_suppressed_contact_cannot_subscribe_again(project, topics, client, status) -> None:
    contact = Contact.objects.create(
        project=project, email="gone@example.net", email_key="gone@example.net", status=status
    )
    url = _url(contact)
    page = client.get(url).content.decode()
    assert "Subscribe again" not in page
    assert 'name="topic"' not in page
    response = client.post(url, {"action": "resubscribe"})
    assert response.status_code == 200
    assert _status(contact) == status
    assert "Subscribe again" not in response.content.decode()
    client.post(url, {"action": "unsubscribe"})
    assert _status(contact) == status


def test_a_non_subscribed_contact_cannot_subscribe_itself(project, client) -> None:
    contact = Contact.objects.create(
        project=project,
        email="ns@example.net",
        email_key="ns@example.net",
        status=ContactStatus.NON_SUBSCRIBED,
    )
    client.post(_url(contact), {"action": "resubscribe"})
    assert _status(contact) == ContactStatus.NON_SUBSCRIBED


# -- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize("campaign_id", [None, 987_654])
def test_a_link_from_an_old_message_still_works(project, contact, topics, client, campaign_id) -> None:
    url = _url(contact, campaign_id=campaign_id)  # no such campaign (any more)
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "topics", "topic": [str(topics["product"].pk)]})
    assert response.status_code == 200
    assert _choices(contact)[topics["product"].pk] is True


def test_a_tampered_token_is_a_404(project, contact, topics, client) -> None:
    url = _url(contact)
    bad = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    assert client.get(bad).status_code == 404
    response = client.post(bad, {"action": "unsubscribe"})
    assert response.status_code == 404
    assert _status(contact) == ContactStatus.SUBSCRIBED
    response = client.post(bad, {"action": "topics"})
    assert response.status_code == 404
    assert _choices(contact) == {}
    assert client.get("/p/").status_code == 404


def test_a_token_of_a_deleted_contact_is_a_404(project, contact, client) -> None:
    url = _url(contact)
    contact.delete()
    assert client.get(url).status_code == 404


# -- escaping ---------------------------------------------------------------------------------


def test_topic_names_and_descriptions_are_escaped(project, contact, client) -> None:
    topic_create(
        project=project,
        name="<script>alert(1)</script>",
        description='<img src=x onerror="alert(2)">',
    )
    page = client.get(_url(contact)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page


def test_the_project_name_is_escaped(make_project, client) -> None:
    evil = make_project('Evil <b onmouseover="x()">Co</b>')
    contact = Contact.objects.create(project=evil, email="e@example.net", email_key="e@example.net")
    page = client.get(_url(contact)).content.decode()
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=" in page
