"""``/u/<token>``: the RFC 8058 one-click unsubscribe address, and its confirm page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.sending import factories as f
from tests.sending.smtp_server import SmtpServer
from tidings.audience.models import Contact, ContactStatus
from tidings.campaigns.selectors import campaign_progress
from tidings.campaigns.services import campaign_pause, campaign_resume, campaign_start
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.tracking.tokens import recipient_token

pytestmark = pytest.mark.django_db

ONE_CLICK_FORM = "List-Unsubscribe=One-Click"
FORM_TYPE = "application/x-www-form-urlencoded"


@pytest.fixture
def client() -> Client:
    """No session, no cookie, no CSRF token: a mail provider's POST is all there is."""
    return Client(enforce_csrf_checks=True)


def _contact(
    project: Any, email: str = "reader@example.net", status: str = ContactStatus.SUBSCRIBED
) -> Contact:
    return Contact.objects.create(project=project, email=email, email_key=email.lower(), status=status)


def _url(contact: Contact, campaign_id: int | None = 1) -> str:
    token = recipient_token(project_id=contact.project_id, contact_id=contact.pk, campaign_id=campaign_id)
    return f"/u/{token}"


def _status(contact: Contact) -> str:
    return Contact.objects.values_list("status", flat=True).get(pk=contact.pk)


def _one_click(client: Client, url: str) -> Any:
    return client.post(url, data=ONE_CLICK_FORM, content_type=FORM_TYPE)


def _tampered(url: str) -> str:
    last = url[-2]
    return url[:-2] + ("B" if last != "B" else "C") + url[-1]


# -- one click -------------------------------------------------------------------------------


def test_one_click_post_unsubscribes_with_a_200_and_no_redirect(project, client) -> None:
    contact = _contact(project)
    response = _one_click(client, _url(contact))
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert _status(contact) == ContactStatus.UNSUBSCRIBED
    assert "You are unsubscribed" in response.content.decode()


def test_a_repeated_one_click_post_answers_200_again(project, client) -> None:
    contact = _contact(project)
    url = _url(contact)
    assert _one_click(client, url).status_code == 200
    again = _one_click(client, url)
    assert again.status_code == 200
    assert "Location" not in again.headers
    assert _status(contact) == ContactStatus.UNSUBSCRIBED


def test_one_click_as_multipart_form_data_works(project, client) -> None:
    contact = _contact(project)
    response = client.post(_url(contact), data={"List-Unsubscribe": "One-Click"})  # multipart by default
    assert response.status_code == 200
    assert _status(contact) == ContactStatus.UNSUBSCRIBED


def test_the_response_sets_no_cookie_and_asks_not_to_be_indexed_or_cached(project, client) -> None:
    contact = _contact(project)
    for response in (client.get(_url(contact)), _one_click(client, _url(contact))):
        assert response.status_code == 200
        assert not response.cookies
        assert "noindex" in response.content.decode()
        assert response.headers["X-Robots-Tag"] == "noindex"
        assert "no-store" in response.headers["Cache-Control"]


def test_a_post_without_the_one_click_body_is_a_400_and_changes_nothing(project, client) -> None:
    contact = _contact(project)
    url = _url(contact)
    for response in (
        client.post(url),
        client.post(url, data="", content_type=FORM_TYPE),
        client.post(url, data="List-Unsubscribe=Yes", content_type=FORM_TYPE),
        client.post(url, data={"something": "else"}),
    ):
        assert response.status_code == 400
        assert _status(contact) == ContactStatus.SUBSCRIBED


# -- the confirm page ----------------------------------------------------------------------


def test_get_shows_a_confirm_page_with_the_project_name_and_changes_nothing(project, client) -> None:
    contact = _contact(project)
    response = client.get(_url(contact))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Mail" in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "reader@example.net" in page
    assert _status(contact) == ContactStatus.SUBSCRIBED


def test_head_changes_nothing(project, client) -> None:
    contact = _contact(project)
    response = client.head(_url(contact))
    assert response.status_code == 200
    assert _status(contact) == ContactStatus.SUBSCRIBED


def test_other_methods_are_refused_and_change_nothing(project, client) -> None:
    contact = _contact(project)
    url = _url(contact)
    assert client.put(url, data=ONE_CLICK_FORM, content_type=FORM_TYPE).status_code == 405
    assert client.delete(url).status_code == 405
    assert _status(contact) == ContactStatus.SUBSCRIBED


def test_the_confirm_button_posts_one_click_and_works(project, client) -> None:
    """The confirm page's own form sends exactly what a mail provider sends."""
    contact = _contact(project)
    url = _url(contact)
    assert client.get(url).status_code == 200
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _status(contact) == ContactStatus.UNSUBSCRIBED


# -- links that are not valid ------------------------------------------------------------


def test_a_tampered_token_is_a_404_for_get_and_post(project, client) -> None:
    contact = _contact(project)
    bad = _tampered(_url(contact))
    assert client.get(bad).status_code == 404
    response = _one_click(client, bad)
    assert response.status_code == 404
    assert _status(contact) == ContactStatus.SUBSCRIBED
    assert client.get("/u/not-a-token").status_code == 404


def test_the_token_of_a_deleted_contact_is_a_404(project, client) -> None:
    contact = _contact(project)
    url = _url(contact)
    contact.delete()
    assert client.get(url).status_code == 404
    assert _one_click(client, url).status_code == 404


def test_a_token_naming_another_project_is_a_404(project, other_project, client) -> None:
    contact = _contact(project)
    token = recipient_token(project_id=other_project.pk, contact_id=contact.pk, campaign_id=None)
    assert _one_click(client, f"/u/{token}").status_code == 404
    assert _status(contact) == ContactStatus.SUBSCRIBED


# -- contacts who already receive nothing ---------------------------------------------------


@pytest.mark.parametrize(
    "status", [ContactStatus.BOUNCED, ContactStatus.COMPLAINED, ContactStatus.NON_SUBSCRIBED]
)
def test_a_contact_that_receives_nothing_keeps_its_status(project, client, status) -> None:
    contact = _contact(project, status=status)
    url = _url(contact)
    response = _one_click(client, url)
    assert response.status_code == 200
    assert _status(contact) == status
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="One-Click"' not in page.content.decode()  # nothing to confirm


def test_an_unsubscribed_contact_sees_no_confirm_button(project, client) -> None:
    contact = _contact(project, status=ContactStatus.UNSUBSCRIBED)
    page = client.get(_url(contact)).content.decode()
    assert 'value="One-Click"' not in page
    assert "receives no marketing email" in page


# -- end to end, through a real campaign -----------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (as ``tests.sending.conftest`` gives its own tests)."""
    with SmtpServer() as server:
        yield server


def _ready(project: Any, smtp_server: Any, n: int) -> tuple[Any, list[Contact]]:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    return campaign, people


def _run(campaign: Any) -> Any:
    campaign.refresh_from_db()
    return run_campaign(campaign)


@pytest.mark.django_db(transaction=True)
def test_the_list_unsubscribe_url_of_a_received_message_unsubscribes(project, smtp_server, client) -> None:
    campaign, people = _ready(project, smtp_server, n=2)
    campaign_start(campaign=campaign)
    assert _run(campaign).sent == 2
    received = {r.rcpt_tos[0]: r.message for r in smtp_server.messages}
    message = received[people[1].email]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<")
    assert header.endswith(">")
    url = urlsplit(header[1:-1])
    assert url.scheme in ("http", "https")
    assert url.path.startswith("/u/")
    assert not url.query
    response = _one_click(client, url.path)
    assert response.status_code == 200
    assert _status(people[1]) == ContactStatus.UNSUBSCRIBED
    assert _status(people[0]) == ContactStatus.SUBSCRIBED  # each copy's link is its own


@pytest.mark.django_db(transaction=True)
def test_an_unsubscribe_takes_effect_before_the_next_message(project, smtp_server, client) -> None:
    campaign, people = _ready(project, smtp_server, n=5)
    campaign_start(campaign=campaign)
    campaign_pause(campaign=campaign)
    assert _run(campaign).stopped == "paused"
    assert smtp_server.messages == []
    leaving = people[2]
    token = recipient_token(project_id=project.pk, contact_id=leaving.pk, campaign_id=campaign.pk)
    assert _one_click(client, f"/u/{token}").status_code == 200
    campaign_resume(campaign=campaign)
    result = _run(campaign)
    assert result.sent == 4
    assert result.skipped == 1
    skipped = Message.objects.get(campaign=campaign, email=leaving.email)
    assert skipped.state == MessageState.SKIPPED
    assert skipped.skip_reason == "unsubscribed"
    received = sorted(r.rcpt_tos[0] for r in smtp_server.messages)
    assert leaving.email not in received
    assert received == sorted(p.email for p in people if p.pk != leaving.pk)
    campaign.refresh_from_db()
    progress = campaign_progress(campaign)
    assert progress["total"] == 5
    assert progress["sent"] == 4
    assert progress["skipped"] == 1
    assert progress["skippedReasons"] == {"unsubscribed": 1}
    assert progress["queued"] == 0
