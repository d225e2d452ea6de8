"""Edges of the pipeline: a lost lease, a cancel mid-batch, a contact gone, refusals that are not bounces."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sending import factories as f
from tidings.audience.models import Contact, ContactStatus
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.campaigns.services import campaign_cancel, campaign_start, campaign_update
from tidings.core.errors import Conflict
from tidings.sending import tasks, transports
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign

pytestmark = pytest.mark.django_db


def _outbox_campaign(project: Any, n: int) -> tuple[Any, list[Contact]]:
    f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign, people


def _hook_push(monkeypatch: Any, after_first: Any) -> list[str]:
    pushed: list[str] = []
    original = transports.OutboxTransport.push

    def push(self: Any, outgoing: Any, data: Any) -> str:
        pushed.append(outgoing.to)
        answer = original(self, outgoing, data)
        if len(pushed) == 1:
            after_first()
        return answer

    monkeypatch.setattr(transports.OutboxTransport, "push", push)
    return pushed


def test_a_worker_that_lost_its_lease_stops_instead_of_sending_the_rest_again(project, monkeypatch) -> None:
    campaign, _people = _outbox_campaign(project, 6)

    def another_worker_took_over() -> None:  # our lease ran out during a slow push
        Message.objects.filter(campaign=campaign, state="queued").update(lease_owner="another worker")

    pushed = _hook_push(monkeypatch, another_worker_took_over)
    result = run_campaign(campaign)
    assert result.stopped == "lost"
    assert len(pushed) == 1  # only the message in flight; the other worker sends the rest once
    assert Message.objects.filter(campaign=campaign, lease_owner="another worker").count() == 6


def test_a_cancel_during_a_batch_sends_nothing_more(project, monkeypatch) -> None:
    campaign, _people = _outbox_campaign(project, 6)
    unsent: list[int] = []
    pushed = _hook_push(
        monkeypatch, lambda: unsent.append(campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))[1])
    )
    run_campaign(campaign)
    assert len(pushed) == 1
    assert unsent == [6]  # counted while the first was in flight; it went out, and says so
    states = dict(Message.objects.filter(campaign=campaign).values_list("email", "state"))
    assert sorted(states.values()) == [MessageState.CANCELLED] * 5 + [MessageState.SENT]


def test_a_contact_deleted_after_planning_gets_no_marketing_mail(project) -> None:
    campaign, people = _outbox_campaign(project, 3)
    Contact.objects.filter(pk=people[0].pk).delete()
    result = run_campaign(campaign)
    assert result.sent == 2
    assert result.skipped == 1
    gone = Message.objects.get(campaign=campaign, email=people[0].email)
    assert gone.state == MessageState.SKIPPED
    assert gone.skip_reason == "not_a_contact"


def test_a_policy_refusal_fails_the_message_without_bouncing_the_contact(project, smtp_server) -> None:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, 2, tag=news)
    smtp_server.reject(people[0].email, 550, "5.7.1 Message refused by policy")
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    result = run_campaign(campaign)
    assert result.sent == 1
    assert result.failed == 1
    assert Contact.objects.get(pk=people[0].pk).status == ContactStatus.SUBSCRIBED


def test_a_relay_that_will_not_relay_stops_the_campaign_and_bounces_nobody(project, smtp_server) -> None:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, 3, tag=news)
    for person in people:
        smtp_server.reject(person.email, 554, "5.7.1 Relay access denied")
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    assert run_campaign(campaign).stopped == "failed"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "refused to relay" in campaign.error
    assert not Contact.objects.filter(status=ContactStatus.BOUNCED).exists()
    assert Message.objects.filter(campaign=campaign, state="queued").count() == 3


def test_an_unreadable_retry_after_is_ignored_not_a_crash() -> None:
    class Answer:
        def __init__(self, value: str) -> None:
            self.headers = {"Retry-After": value}

    class Refused(Exception):
        def __init__(self, value: str) -> None:
            self.response = Answer(value)

    assert transports._retry_after(Refused("soon")) is None
    assert transports._retry_after(Refused("7")) == 7.0
    assert transports._retry_after(Refused("Wed, 21 Oct 2015 07:28:00 -0000")) == 0.0  # naive: read as UTC
    assert transports._retry_after(Refused("Wed, 21 Oct 2099 07:28:00 GMT")) > 0


def test_an_edit_never_overwrites_a_start_made_meanwhile(project) -> None:
    f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 2, tag=news)
    stale = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=Campaign.objects.get(pk=stale.pk))
    with pytest.raises(Conflict, match="sending now"):
        campaign_update(campaign=stale, values={"name": "Renamed"})
    fresh = Campaign.objects.get(pk=stale.pk)
    assert fresh.status == CampaignStatus.SENDING
    assert fresh.name == "December news"


def test_a_queue_that_cannot_retry_later_pauses_the_campaign(project, smtp_server, monkeypatch) -> None:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, 1, tag=news)
    smtp_server.reject(people[0].email, 451, "4.3.0 try later", times=1)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    monkeypatch.setattr(tasks, "can_defer", lambda: False)
    tasks.campaign_send_task.call(project.pk, campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert "resume" in campaign.error


def test_a_starting_worker_watches_every_sending_campaign(project) -> None:
    from django_tasks_db.models import DBTaskResult

    campaign, _people = _outbox_campaign(project, 1)
    DBTaskResult.objects.all().delete()
    assert tasks.watch_sending() == 1
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "tidings.sending.tasks.campaign_watch_task"
    assert queued.args_kwargs["args"] == [project.pk, campaign.pk]
