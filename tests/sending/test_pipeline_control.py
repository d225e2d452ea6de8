"""Control of a running send: concurrent starts, pause between two messages, the shared rate limit."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.db import connection, connections

from tests.sending import factories as f
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.campaigns.services import campaign_pause, campaign_resume, campaign_start
from tidings.sending import pipeline, transports
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import Throttle, claim, run_campaign
from tidings.sending.services import connection_create

pytestmark = pytest.mark.django_db(transaction=True)


def _ready(project: Any, n: int) -> Any:
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, n, tag=news)
    return f.campaign(project, design_obj=f.design(project), tag_obj=news)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_concurrent_starts_plan_each_recipient_once(project: Any) -> None:
    campaign = _ready(project, 300)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            campaign_start(campaign=Campaign.objects.select_related("project").get(pk=campaign.pk))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Message.objects.filter(campaign=campaign).count() == 300
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
def test_concurrent_workers_never_claim_the_same_message(project: Any) -> None:
    campaign = _ready(project, 400)
    campaign_start(campaign=campaign)
    claimed: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def work(i: int) -> None:
        try:
            barrier.wait()
            while ids := claim(campaign.pk, owner=f"worker-{i}", limit=7, lease_seconds=60):
                claimed[i].extend(ids)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everyone = [pk for ids in claimed for pk in ids]
    assert len(everyone) == 400
    assert len(set(everyone)) == 400


def test_a_claimed_message_is_not_claimed_again_until_its_lease_runs_out(project: Any) -> None:
    campaign = _ready(project, 3)
    campaign_start(campaign=campaign)
    first = claim(campaign.pk, owner="a", limit=2, lease_seconds=60)
    assert len(first) == 2
    second = claim(campaign.pk, owner="b", limit=10, lease_seconds=60)
    assert len(second) == 1
    assert set(first).isdisjoint(second)
    Message.objects.filter(pk__in=first).update(lease_until=Message.objects.get(pk=first[0]).created_at)
    assert sorted(claim(campaign.pk, owner="c", limit=10, lease_seconds=60)) == sorted(first)


def test_pause_stops_between_two_messages_and_resume_goes_on_with_the_next(project: Any, monkeypatch) -> None:
    campaign = _ready(project, 10)
    campaign_start(campaign=campaign)
    monkeypatch.setattr(pipeline, "CONTROL_INTERVAL", 0)  # look at the campaign before every message
    pushed: list[str] = []
    original = transports.OutboxTransport.push

    def push(self: Any, outgoing: Any, data: Any) -> str:
        pushed.append(outgoing.to)
        if len(pushed) == 3:
            campaign_pause(campaign=Campaign.objects.get(pk=campaign.pk))  # someone clicks Pause
        return original(self, outgoing, data)

    monkeypatch.setattr(transports.OutboxTransport, "push", push)
    campaign.refresh_from_db()
    result = run_campaign(campaign)
    assert result.stopped == CampaignStatus.PAUSED
    assert result.sent == 3
    queued = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED)
    assert queued.count() == 7
    assert not queued.exclude(lease_owner="").exists()  # let go of, for whoever resumes
    campaign_resume(campaign=Campaign.objects.select_related("project").get(pk=campaign.pk))
    campaign.refresh_from_db()
    assert run_campaign(campaign).sent == 7
    assert len(pushed) == 10
    assert len(set(pushed)) == 10
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_the_rate_limit_hands_out_evenly_spaced_slots_shared_by_every_worker(project: Any) -> None:
    connection_obj = f.outbox_connection(project)
    connection_obj.rate_limit = 50
    connection_obj.save()
    one, two = Throttle(connection_obj), Throttle(connection_obj)
    blocks = [one._reserve(5), two._reserve(5), one._reserve(5)]
    for block in blocks:
        assert [round(b - a, 6) for a, b in itertools.pairwise(block)] == [0.02] * 4  # 50 a second
    # Whichever worker asks, a block starts no sooner than a fiftieth of a second after the last.
    for earlier, later in itertools.pairwise(blocks):
        assert later[0] - earlier[-1] >= 0.02 - 1e-6
    unlimited = connection_create(project=project, name="Unlimited", kind="outbox")
    assert Throttle(unlimited).rate == 0
