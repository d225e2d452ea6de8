"""Opens and clicks written in batches: nothing lost, nothing counted twice, the same rows as one by one."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.sending import factories as f
from tidings.audience.models import Contact, ContactActivity
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message
from tidings.sending.pipeline import run_campaign
from tidings.tracking import recorder as recorder_module
from tidings.tracking.models import TrackingEvent
from tidings.tracking.recorder import Recorder
from tidings.tracking.tokens import message_token

pytestmark = pytest.mark.django_db(transaction=True)  # the writer thread has its own connection

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
BODY = '<html><body><p>Hi, see <a href="https://example.com/a">this</a>.</p></body></html>'


@pytest.fixture
def sent(settings: Any, tmp_path: Path, project: Any) -> tuple[Any, list[Message]]:
    settings.DATA_DIR = tmp_path
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 4, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project, fmt="html", body=BODY), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(hours=1))
    return campaign, list(Message.objects.filter(campaign=campaign).order_by("id"))


def _hits(campaign: Any, messages: list[Message]) -> None:
    client = Client()
    for message in messages:
        pixel = message_token(project_id=campaign.project_id, message_id=message.pk, campaign_id=campaign.pk)
        link = message_token(
            project_id=campaign.project_id, message_id=message.pk, campaign_id=campaign.pk, link=1
        )
        assert client.get(f"/o/{pixel}.gif", headers={"user-agent": BROWSER}).status_code == 200
        assert client.get(f"/o/{pixel}.gif", headers={"user-agent": BROWSER}).status_code == 200
        assert client.get(f"/o/{pixel}.gif", headers={"user-agent": "GoogleImageProxy"}).status_code == 200
        assert client.get(f"/c/{link}", headers={"user-agent": BROWSER}).status_code == 302


def _rows() -> list[tuple[Any, ...]]:
    events = TrackingEvent.objects.order_by("message_id", "kind", "machine", "occurred_at")
    return list(
        events.values_list("message_id", "kind", "machine", "link__index", "contact_id", "user_agent")
    )


def _activity() -> list[tuple[Any, ...]]:
    opens_and_clicks = ContactActivity.objects.filter(kind__in=("opened", "clicked"))
    return sorted(opens_and_clicks.values_list("contact_id", "kind", "campaign_id"))


def test_batched_hits_are_all_stored_and_equal_to_those_written_one_by_one(settings: Any, sent: Any) -> None:
    campaign, messages = sent
    _hits(campaign, messages[:2])  # written in each request (the suite's setting)
    at_once, activity_at_once = _rows(), _activity()
    TrackingEvent.objects.all().delete()
    ContactActivity.objects.filter(kind__in=("opened", "clicked")).delete()
    settings.TRACKING_FLUSH_SECONDS = 30  # the thread would wait long: only flush() writes here
    batcher = Recorder()
    original = recorder_module.recorder
    recorder_module.recorder = batcher
    try:
        _hits(campaign, messages[:2])
        assert batcher.pending() == 8
        assert not TrackingEvent.objects.exists()  # nothing written in the requests
        assert batcher.flush() == 8
    finally:
        recorder_module.recorder = original
    assert batcher.pending() == 0
    assert _rows() == at_once
    assert _activity() == activity_at_once
    # One person's first open and first click per message, no machine: the contact's activity.
    assert len(activity_at_once) == 4
    assert Contact.objects.filter(last_opened_at__isnull=False).count() == 2


def test_the_writer_thread_stores_hits_within_its_interval(settings: Any, sent: Any) -> None:
    campaign, messages = sent
    settings.TRACKING_FLUSH_SECONDS = 0.05
    batcher = Recorder()
    original = recorder_module.recorder
    recorder_module.recorder = batcher
    try:
        _hits(campaign, messages)
        deadline = timezone.now() + timedelta(seconds=10)
        while TrackingEvent.objects.count() < 16 and timezone.now() < deadline:
            time.sleep(0.05)
    finally:
        recorder_module.recorder = original
        batcher.flush()
    assert TrackingEvent.objects.count() == 16
    assert TrackingEvent.objects.filter(machine=True).count() == 4


def test_hits_for_a_deleted_message_are_dropped_and_the_rest_kept(settings: Any, sent: Any) -> None:
    campaign, messages = sent
    settings.TRACKING_FLUSH_SECONDS = 30
    batcher = Recorder()
    original = recorder_module.recorder
    recorder_module.recorder = batcher
    try:
        _hits(campaign, messages[:2])
        Message.objects.filter(pk=messages[0].pk).delete()
        assert batcher.flush() == 4
    finally:
        recorder_module.recorder = original
    assert set(TrackingEvent.objects.values_list("message_id", flat=True)) == {messages[1].pk}


def test_hits_are_kept_while_the_database_refuses_them(settings: Any, sent: Any, monkeypatch: Any) -> None:
    campaign, messages = sent
    settings.TRACKING_FLUSH_SECONDS = 30
    batcher = Recorder()
    original = recorder_module.recorder
    recorder_module.recorder = batcher
    real_write = recorder_module.write_hits

    def refuse(hits: list[Any]) -> int:
        raise OSError("connection refused")

    try:
        _hits(campaign, messages[:1])
        monkeypatch.setattr(recorder_module, "write_hits", refuse)
        assert batcher.flush() == 0
        assert batcher.pending() == 4
        _hits(campaign, messages[1:2])  # more arrive meanwhile; order is kept
        monkeypatch.setattr(recorder_module, "write_hits", real_write)
        assert batcher.flush() == 8
    finally:
        recorder_module.recorder = original
    assert TrackingEvent.objects.count() == 8
