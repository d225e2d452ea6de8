"""Open pixel and click redirect: links rewritten per copy, events stored, people told from machines."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.sending import factories as f
from tidings.audience.models import Contact
from tidings.audience.segments import segment_contacts
from tidings.campaigns.models import Campaign
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message
from tidings.sending.pipeline import run_campaign
from tidings.sending.transports import outbox_folder
from tidings.tracking.models import TrackedLink, TrackingEvent
from tidings.tracking.tokens import message_token

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
BODY = """<html><body>
<p>Hi {{ firstName }}, read <a href="https://example.com/news?a=1&amp;b=2">the news</a>
and <a href='https://example.com/shop'>the shop</a>, or <a href="mailto:help@example.com">write</a>.</p>
<p><a href="https://example.com/news?a=1&amp;b=2">the news again</a>
<a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>
</body></html>"""


@pytest.fixture
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


def _send(project: Any, n: int = 2, **values: Any) -> tuple[Campaign, list[Contact]]:
    connection = f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    design = f.design(project, fmt="html", body=BODY)
    campaign = f.campaign(project, design_obj=design, tag_obj=news, **values)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    campaign.folder = outbox_folder(connection)  # type: ignore[attr-defined]
    return campaign, people


def _send_body(project: Any, body: str) -> tuple[Campaign, list[Contact]]:
    connection = f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, 1, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project, fmt="html", body=body), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    campaign.folder = outbox_folder(connection)  # type: ignore[attr-defined]
    return campaign, people


def _html_of(campaign: Any, address: str) -> str:
    for path in campaign.folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            return message.get_body(("html",)).get_content()
    raise AssertionError(f"no message to {address}")


def test_links_go_through_the_redirect_and_each_copy_has_a_pixel(project, outbox) -> None:
    campaign, people = _send(project)
    html = _html_of(campaign, people[0].email)
    hrefs = re.findall(r'href=["\']([^"\']+)["\']', html)
    redirected = [h for h in hrefs if "/c/" in h]
    assert len(redirected) == 3  # news, shop, news again
    assert "mailto:help@example.com" in hrefs
    assert any("/u/" in h for h in hrefs)  # the unsubscribe link stays as it is
    links = dict(TrackedLink.objects.filter(campaign=campaign).values_list("index", "url"))
    assert links == {1: "https://example.com/news?a=1&b=2", 2: "https://example.com/shop"}
    assert re.search(r'<img src="[^"]+/o/[A-Za-z0-9_-]{35}\.gif" width="1" height="1"', html)
    other = _html_of(campaign, people[1].email)
    assert set(re.findall(r"/c/([A-Za-z0-9_-]+)", html)).isdisjoint(re.findall(r"/c/([A-Za-z0-9_-]+)", other))


def test_a_click_redirects_to_the_stored_link_and_counts_once_for_the_contact(project, outbox) -> None:
    campaign, people = _send(project)
    message = Message.objects.get(campaign=campaign, email=people[0].email)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk, link=1)
    client = Client(enforce_csrf_checks=True)
    response = client.get(f"/c/{token}", headers={"user-agent": BROWSER})
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/news?a=1&b=2"
    client.get(f"/c/{token}", headers={"user-agent": BROWSER})
    events = TrackingEvent.objects.filter(message=message, kind="clicked")
    assert events.count() == 2
    assert not events.filter(machine=True).exists()
    assert events.first().link.index == 1
    contact = Contact.objects.get(pk=people[0].pk)
    assert contact.last_clicked_at is not None


@pytest.mark.parametrize(
    "forge",
    [
        lambda p, m, c: message_token(project_id=p, message_id=m, campaign_id=c, link=99),  # no such link
        lambda p, m, c: message_token(project_id=p, message_id=m, campaign_id=c, link=0),  # the pixel's
        lambda p, m, c: message_token(project_id=p + 1, message_id=m, campaign_id=c, link=1),  # other project
        lambda p, m, c: message_token(project_id=p, message_id=m, campaign_id=c + 999, link=1),  # no campaign
        lambda p, m, c: message_token(project_id=p, message_id=m + 999, link=1),  # old kind, no message
        lambda p, m, c: "x" * 35,
        lambda p, m, c: "//evil.com",
        lambda p, m, c: "javascript:alert(1)",
    ],
)
def test_a_forged_or_unknown_click_is_a_404_never_a_redirect(project, outbox, forge) -> None:
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = forge(project.pk, message.pk, campaign.pk)
    response = Client().get(f"/c/{token}")
    assert response.status_code == 404
    assert "Location" not in response
    assert not TrackingEvent.objects.exists()


def test_a_stored_link_that_is_no_web_address_is_never_followed(project, outbox) -> None:
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    for number, url in ((7, "javascript:alert(1)"), (8, "//evil.com/x"), (9, "/\\evil.com")):
        TrackedLink.objects.create(
            project=project, campaign=campaign, index=number, url=url, url_hash=str(number) * 64
        )
        token = message_token(
            project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk, link=number
        )
        response = Client().get(f"/c/{token}")
        assert response.status_code == 404, url
        assert "Location" not in response
    assert not TrackingEvent.objects.exists()


def test_hostile_links_in_a_design_are_left_as_they_are(project, outbox) -> None:
    body = (
        '<html><body><a href="//evil.com/a">a</a> <a href="/\\evil.com">b</a> '
        '<a href="javascript:x()">c</a></body></html>'
    )
    campaign, people = _send_body(project, body)
    html = _html_of(campaign, people[0].email)
    assert 'href="//evil.com/a"' in html
    assert 'href="javascript:x()"' in html
    assert "/c/" not in html
    assert not TrackedLink.objects.filter(campaign=campaign).exists()


def test_links_of_mail_sent_with_older_tokens_still_work(project, outbox) -> None:
    from tidings.tracking import tokens

    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    old_click = tokens._seal(tokens._LEGACY_LAYOUT.pack(project.pk, message.pk, 2), b"message")
    old_pixel = tokens._seal(tokens._LEGACY_LAYOUT.pack(project.pk, message.pk, 0), b"message")
    response = Client().get(f"/c/{old_click}", headers={"user-agent": BROWSER})
    assert response.status_code == 302
    assert response["Location"] == "https://example.com/shop"
    assert Client().get(f"/o/{old_pixel}.gif", headers={"user-agent": BROWSER}).status_code == 200
    assert sorted(TrackingEvent.objects.values_list("kind", flat=True)) == ["clicked", "opened"]


def test_every_changed_character_of_a_click_token_is_refused(project, outbox) -> None:
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk, link=1)
    client = Client()
    for i in range(len(token)):
        other = "A" if token[i] != "A" else "B"
        assert client.get(f"/c/{token[:i]}{other}{token[i + 1 :]}").status_code == 404, i


def test_the_pixel_is_a_gif_that_is_never_cached(project, outbox) -> None:
    campaign, people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk)
    response = Client().get(f"/o/{token}.gif", headers={"user-agent": BROWSER})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-store" in response["Cache-Control"]
    [event] = TrackingEvent.objects.filter(kind="opened")
    assert event.machine is False
    assert event.ip is None  # not kept unless the project says so
    assert Contact.objects.get(pk=people[0].pk).last_opened_at is not None
    assert Client().get(f"/o/{token[:-1]}x.gif").status_code == 404


@pytest.mark.parametrize(
    ("agent", "method"),
    [
        ("Mozilla/5.0", "GET"),  # Apple Mail Privacy Protection
        ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "GET"),
        ("", "GET"),
        (BROWSER, "HEAD"),
    ],
)
def test_proxy_opens_are_flagged_and_move_no_activity(project, outbox, agent, method) -> None:
    campaign, people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk)
    getattr(Client(), method.lower())(f"/o/{token}.gif", headers={"user-agent": agent})
    [event] = TrackingEvent.objects.all()
    assert event.machine is True
    assert Contact.objects.get(pk=people[0].pk).last_opened_at is None


def test_a_click_seconds_after_delivery_is_a_scanner(project, outbox) -> None:
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk, link=2)
    assert Client().get(f"/c/{token}", headers={"user-agent": BROWSER}).status_code == 302
    assert TrackingEvent.objects.get().machine is True


def test_an_event_from_anyone_is_stored_as_plain_text(project, outbox) -> None:
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk)
    Client().get(f"/o/{token}.gif", headers={"user-agent": "<svg onload=alert(1)>\x00" + "x" * 900})
    event = TrackingEvent.objects.get()
    assert event.user_agent.startswith("<svg onload=alert(1)>x")
    assert len(event.user_agent) == 500


def test_ip_addresses_are_kept_only_when_the_project_says_so(project, outbox) -> None:
    project.store_ip = True
    project.save()
    campaign, _people = _send(project, n=1)
    message = Message.objects.get(campaign=campaign)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk)
    Client(REMOTE_ADDR="203.0.113.7").get(f"/o/{token}.gif", headers={"user-agent": BROWSER})
    assert TrackingEvent.objects.get().ip == "203.0.113.7"


def test_tracking_is_off_where_the_project_or_campaign_turns_it_off(project, outbox) -> None:
    project.track_clicks = False
    project.save()
    campaign, people = _send(project, n=1, trackOpens=False)
    html = _html_of(campaign, people[0].email)
    assert "/c/" not in html
    assert "/o/" not in html
    assert "https://example.com/shop" in html


def test_transactional_sends_have_click_tracking_off(project, outbox, api) -> None:
    f.outbox_connection(project)
    response = api.post(
        "sending",
        {
            "recipientType": "email",
            "recipientEmail": "buyer@example.net",
            "from": "shop@example.com",
            "subject": "Your receipt",
            "template": '<html><body><a href="https://example.com/order/1">Your order</a></body></html>',
        },
    )
    assert response.status_code == 202, response.content
    campaign = Campaign.objects.get(pk=response.json()["batchId"])
    assert campaign.track_clicks is False
    run_campaign(campaign)
    [path] = outbox_folder(campaign.connection).glob("*.eml")
    html = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("html",))
    assert 'href="https://example.com/order/1"' in html.get_content()


def test_an_open_puts_the_contact_in_an_opened_within_7_days_segment(project, outbox) -> None:
    campaign, people = _send(project, n=2)
    opened = {"type": "activity", "activity": "opened", "operator": "within", "days": 7}
    filters = {"match": "all", "conditions": [opened]}
    assert list(segment_contacts(project=project, filters=filters)) == []
    message = Message.objects.get(campaign=campaign, email=people[1].email)
    token = message_token(project_id=project.pk, message_id=message.pk, campaign_id=campaign.pk)
    Client().get(f"/o/{token}.gif", headers={"user-agent": BROWSER})
    assert [c.email for c in segment_contacts(project=project, filters=filters)] == [people[1].email]


def test_tracking_settings_are_changed_through_the_api(project, api) -> None:
    response = api.patch("project", {"trackClicks": False, "storeIp": True})
    assert response.status_code == 200, response.content
    assert response.json()["trackClicks"] is False
    assert response.json()["storeIp"] is True
    project.refresh_from_db()
    assert project.track_clicks is False
    assert project.track_opens is True
    assert api.patch("project", {"trackOpens": None}).status_code == 422


def test_a_campaigns_results_count_people_and_machines_apart(project, outbox, api, other_api) -> None:
    campaign, people = _send(project, n=3)
    messages = {m.email: m for m in Message.objects.filter(campaign=campaign)}
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(hours=1))
    client = Client()

    def hit(person: Contact, link: int, agent: str = BROWSER) -> None:
        token = message_token(
            project_id=project.pk, message_id=messages[person.email].pk, campaign_id=campaign.pk, link=link
        )
        client.get(f"/o/{token}.gif" if link == 0 else f"/c/{token}", headers={"user-agent": agent})

    hit(people[0], 0)
    hit(people[0], 0)
    hit(people[0], 1)
    hit(people[0], 1)
    hit(people[1], 0)
    hit(people[1], 2)
    hit(people[2], 0, agent="Mozilla/5.0")  # Apple's proxy: a machine
    from tidings.tracking.tokens import recipient_token

    unsubscribe = recipient_token(project_id=project.pk, contact_id=people[2].pk, campaign_id=campaign.pk)
    assert client.post(f"/u/{unsubscribe}", {"List-Unsubscribe": "One-Click"}).status_code == 200
    client.post(f"/u/{unsubscribe}", {"List-Unsubscribe": "One-Click"})  # again: counted once

    body = api.get(f"campaigns/{campaign.pk}/results").json()
    assert body["sent"] == 3
    assert body["opens"] == {"unique": 2, "total": 3, "machine": 1}
    assert body["clicks"] == {"unique": 2, "total": 3, "machine": 0}
    assert body["unsubscribes"] == 1
    assert body["rates"]["open"] == round(2 / 3, 4)
    assert body["rates"]["clickToOpen"] == 1.0
    per_link = [(link["index"], link["unique"], link["total"]) for link in body["links"]]
    assert per_link == [(1, 1, 2), (2, 1, 1)]
    assert {point["kind"]: point["count"] for point in body["timeline"]} == {"opened": 3, "clicked": 3}
    assert other_api.get(f"campaigns/{campaign.pk}/results").status_code == 404
