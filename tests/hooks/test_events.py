"""Which events each area emits, with what ``data``: a campaign's messages, provider reports,
opens, unsubscribes, imports and drafts. Deliveries are read from the log (their sending has its
own tests in test_webhooks.py)."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from django.utils import timezone

from tests.sending import factories as f
from tidings.audience.imports import contact_import_create, contact_import_run
from tidings.campaigns.services import campaign_start
from tidings.hooks.models import WebhookDelivery
from tidings.hooks.services import endpoint_create
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.tracking.delivery import DeliveryEvent, delivery_event_record
from tidings.tracking.models import EventKind, EventSource
from tidings.tracking.recorder import Hit, write_hits
from tidings.tracking.services import unsubscribe

pytestmark = pytest.mark.django_db


def listen(project: Any, receiver: Any, *events: str) -> int:
    return endpoint_create(
        project=project, values={"url": receiver.url(), "events": list(events)}
    ).endpoint.pk


def emitted(event_type: str) -> list[dict[str, Any]]:
    rows = WebhookDelivery.objects.filter(event_type=event_type).order_by("id")
    return [json.loads(row.body) for row in rows]


def test_a_campaign_emits_started_each_message_sent_and_finished(project, receiver) -> None:
    listen(project, receiver, "campaign.started", "message.sent", "campaign.finished")
    f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, 3, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    [started] = emitted("campaign.started")
    assert started["data"]["id"] == campaign.pk
    assert started["data"]["status"] == "sending"
    assert emitted("message.sent") == []
    run_campaign(campaign)
    sent = emitted("message.sent")
    assert sorted(e["data"]["email"] for e in sent) == sorted(p.email for p in people)
    messages = {m.pk: m for m in Message.objects.filter(campaign=campaign, state=MessageState.SENT)}
    for event in sent:
        message = messages[event["data"]["messageId"]]
        assert event["data"]["contactId"] == message.contact_id
        assert event["data"]["providerMessageId"] == message.provider_message_id != ""
        assert event["projectId"] == project.pk
    assert len({e["id"] for e in sent}) == 3
    [finished] = emitted("campaign.finished")
    assert finished["data"]["status"] == "sent"
    assert finished["data"]["finishedAt"] is not None


def test_nothing_is_written_for_a_project_without_listeners(project, other_project, receiver) -> None:
    listen(other_project, receiver, "*")
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 2, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    run_campaign(campaign)
    assert WebhookDelivery.objects.count() == 0


def _sent_message(project: Any) -> Message:
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 1, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    run_campaign(campaign)
    return Message.objects.get(campaign=campaign)


def test_provider_reports_become_message_events(project, receiver) -> None:
    message = _sent_message(project)
    listen(project, receiver, "message.delivered", "message.bounced", "message.complained")
    for kind, event_id in [
        (EventKind.DELIVERED, "d1"),
        (EventKind.BOUNCED, "b1"),
        (EventKind.COMPLAINED, "c1"),
    ]:
        delivery_event_record(
            project=project,
            event=DeliveryEvent(
                kind=kind,
                message_id=message.pk,
                event_id=event_id,
                status_code="5.1.1" if kind == EventKind.BOUNCED else "",
                detail="user unknown" if kind == EventKind.BOUNCED else "",
            ),
            source=EventSource.WEBHOOK,
        )
    [delivered] = emitted("message.delivered")
    assert delivered["data"]["messageId"] == message.pk
    assert delivered["data"]["email"] == message.email
    [bounced] = emitted("message.bounced")
    assert bounced["data"]["bounceType"] == "hard"
    assert bounced["data"]["statusCode"] == "5.1.1"
    assert len(emitted("message.complained")) == 1
    # A provider's repeat of one report is not a second event.
    delivery_event_record(
        project=project,
        event=DeliveryEvent(kind=EventKind.DELIVERED, message_id=message.pk, event_id="d1"),
        source=EventSource.WEBHOOK,
    )
    assert len(emitted("message.delivered")) == 1


def test_opens_and_clicks_from_tracking_are_emitted_with_the_link(project, receiver) -> None:
    from tidings.tracking.models import TrackedLink

    message = _sent_message(project)
    listen(project, receiver, "message.opened", "message.clicked")
    url = "https://example.com/sale"
    link = TrackedLink.objects.create(
        project=project,
        campaign_id=message.campaign_id,
        index=99,
        url=url,
        url_hash=hashlib.sha256(url.encode()).hexdigest(),
    )
    now = timezone.now()
    write_hits(
        [
            Hit(project.pk, message.pk, "opened", None, now, "Mozilla/5.0 (Windows NT 10.0)", None, "GET"),
            Hit(
                project.pk, message.pk, "clicked", link.pk, now, "Mozilla/5.0 (Windows NT 10.0)", None, "GET"
            ),
        ]
    )
    [opened] = emitted("message.opened")
    assert opened["data"]["messageId"] == message.pk
    assert opened["data"]["email"] == message.email
    assert opened["data"]["machine"] is False
    [clicked] = emitted("message.clicked")
    assert clicked["data"]["url"] == "https://example.com/sale"


def test_an_unsubscribe_is_emitted_once(project, receiver) -> None:
    [person] = f.contacts(project, 1)
    listen(project, receiver, "contact.unsubscribed", "contact.updated")
    assert unsubscribe(contact=person)
    assert not unsubscribe(contact=person)  # again: nothing changed, nothing sent
    [event] = emitted("contact.unsubscribed")
    assert event["data"]["email"] == person.email
    assert event["data"]["status"] == "unsubscribed"
    [updated] = emitted("contact.updated")  # as when its status is changed through the API
    assert updated["data"]["status"] == "unsubscribed"


def test_bulk_upserts_emit_created_and_updated(api, project, receiver) -> None:
    listen(project, receiver, "contact.created", "contact.updated", "contact.unsubscribed")
    api.post("contacts", {"email": "old@example.com"})
    response = api.post(
        "contacts/bulk",
        {
            "contacts": [
                {"email": "new@example.com"},
                {"email": "old@example.com", "status": "unsubscribed"},
                {"email": "not an address"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert [e["data"]["email"] for e in emitted("contact.created")] == ["old@example.com", "new@example.com"]
    assert [e["data"]["email"] for e in emitted("contact.updated")] == ["old@example.com"]
    assert [e["data"]["email"] for e in emitted("contact.unsubscribed")] == ["old@example.com"]


def test_an_import_emits_finished_once_not_a_contact_each(project, receiver) -> None:
    listen(project, receiver, "import.finished", "contact.created")
    upload = io.BytesIO(b"email,first_name\nada@example.com,Ada\nbob@example.com,Bob\nnot-an-address,X\n")
    job = contact_import_create(project=project, upload=upload, file_name="people.csv", enqueue=False)
    contact_import_run(contact_import=job)
    [finished] = emitted("import.finished")
    assert finished["data"]["id"] == job.pk
    assert finished["data"]["status"] == "finished"
    assert (finished["data"]["created"], finished["data"]["rejected"]) == (2, 1)
    assert emitted("contact.created") == []


def test_a_finished_draft_is_emitted(api, project, receiver) -> None:
    listen(project, receiver, "draft.completed")
    response = api.post("drafts", {"prompt": "Announce our spring sale: 20% off until March 31."})
    assert response.status_code == 201, response.content
    [event] = emitted("draft.completed")
    assert event["data"]["id"] == response.json()["id"]
    assert event["data"]["subject"]
    assert event["data"]["designId"] is not None


def test_tagging_and_untagging_emit_contact_updated_with_the_tags(api, project, receiver) -> None:
    people = f.contacts(project, 2)
    listen(project, receiver, "contact.updated")
    tag = api.post("tags", {"name": "vip"}).json()
    ids = [p.pk for p in people]
    assert api.post(f"tags/{tag['id']}/contacts", {"contactIds": ids}).status_code == 200
    updated = emitted("contact.updated")
    assert sorted(e["data"]["id"] for e in updated) == ids
    assert all(e["data"]["tags"] == ["vip"] for e in updated)
    assert api.post(f"tags/{tag['id']}/contacts/remove", {"contactIds": ids[:1]}).status_code == 200
    last = emitted("contact.updated")[-1]
    assert last["data"]["id"] == ids[0]
    assert last["data"]["tags"] == []


def test_a_campaign_that_fails_is_finished_with_its_status(project, receiver) -> None:
    from tidings.sending.pipeline import _fail_campaign

    listen(project, receiver, "campaign.finished")
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 1, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    _fail_campaign(campaign, "the connection's password was refused")
    _fail_campaign(campaign, "again")  # no longer sending: nothing more
    [finished] = emitted("campaign.finished")
    assert finished["data"]["status"] == "failed"
    assert finished["data"]["error"] == "the connection's password was refused"
