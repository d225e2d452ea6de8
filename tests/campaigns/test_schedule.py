"""Scheduling a campaign: the time and its zone, the start task the queue holds for it, and
what that task does when the campaign was unscheduled, rescheduled or can no longer start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.campaigns.conftest import ok, refused
from tests.conftest import ApiClient
from tests.sending import factories as f
from tests.sending.conftest import smtp_server  # noqa: F401
from tidings.audience.models import Contact, ContactStatus
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.sending.models import Message, MessageState, SendingDomain
from tidings.sending.tasks import campaign_start_task

pytestmark = pytest.mark.django_db(transaction=True)


def draft(api: ApiClient, project: Any, members: int = 3) -> dict[str, Any]:
    news = f.tag(project)
    f.contacts(project, members, tag=news)
    body = {
        "name": "December news",
        "designId": f.design(project).pk,
        "from": "news@example.com",
        "fromName": "Acme News",
        "recipientType": "tag",
        "recipientId": news.pk,
    }
    return ok(api.post("campaigns", body), 201)


def schedule(api: ApiClient, cid: int, when: str, zone: str | None = None) -> Any:
    body = {"scheduledAt": when} if zone is None else {"scheduledAt": when, "timezone": zone}
    return api.post(f"campaigns/{cid}/schedule", body)


def start_tasks(cid: int) -> list[DBTaskResult]:
    """The queued start tasks of campaign ``cid``, oldest first."""
    return [
        row
        for row in DBTaskResult.objects.filter(task_path=campaign_start_task.module_path).order_by(
            "enqueued_at"
        )
        if row.args_kwargs["args"][1] == cid
    ]


def run_start(row: DBTaskResult) -> str:
    """Run the start task as the worker would, with the arguments the queue stored."""
    return campaign_start_task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])


def next_year() -> int:
    return timezone.now().year + 1


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- the time and its zone ------------------------------------------------------------------------


def test_a_naive_time_is_read_in_the_time_zone(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    year = next_year()
    answer = ok(schedule(api, cid, f"{year}-01-15T09:30", "Europe/Berlin"))
    assert answer["status"] == "scheduled"
    assert answer["timezone"] == "Europe/Berlin"
    winter = datetime(year, 1, 15, 8, 30, tzinfo=UTC)  # CET is UTC+1
    assert parsed(answer["scheduledAt"]) == winter
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at == winter
    assert campaign.timezone == "Europe/Berlin"

    # In summer Berlin is UTC+2.
    answer = ok(schedule(api, cid, f"{year}-07-15T09:30", "Europe/Berlin"))
    assert parsed(answer["scheduledAt"]) == datetime(year, 7, 15, 7, 30, tzinfo=UTC)
    assert Campaign.objects.get(pk=cid).scheduled_at == datetime(year, 7, 15, 7, 30, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_its_offset_and_no_zone_means_utc(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    year = next_year()
    answer = ok(schedule(api, cid, f"{year}-03-01T12:00:00+05:00", "Europe/Berlin"))
    assert parsed(answer["scheduledAt"]) == datetime(year, 3, 1, 7, 0, tzinfo=UTC)
    answer = ok(schedule(api, cid, f"{year}-03-01T12:00"))
    assert parsed(answer["scheduledAt"]) == datetime(year, 3, 1, 12, 0, tzinfo=UTC)
    assert answer["timezone"] == "UTC"


def test_a_time_in_the_past_is_refused(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert "future" in refused(schedule(api, cid, past, "UTC"), "scheduledAt")
    assert "future" in refused(schedule(api, cid, "2001-01-01T09:00", "Europe/Berlin"), "scheduledAt")
    soon = (timezone.now() + timedelta(seconds=5)).isoformat()
    assert "future" in refused(schedule(api, cid, soon), "scheduledAt")
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.DRAFT
    assert start_tasks(cid) == []


def test_an_unknown_time_zone_is_refused(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    when = f"{next_year()}-01-15T09:30"
    for zone in ("Mars/Olympus_Mons", "Europe/../../etc/passwd", "CEST!"):
        message = refused(schedule(api, cid, when, zone), "timezone")
        assert "not a known time zone" in message, zone
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.scheduled_at is None
    assert start_tasks(cid) == []


def test_a_garbage_date_is_refused(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    for garbage in ("next tuesday", "", "12:00", "2030-01-15 around noon"):
        message = refused(schedule(api, cid, garbage, "UTC"), "scheduledAt")
        assert "date and time" in message, garbage
    refused(api.post(f"campaigns/{cid}/schedule", {"timezone": "UTC"}), "scheduledAt")
    refused(api.post(f"campaigns/{cid}/schedule", {"scheduledAt": 1893456000}), "scheduledAt")
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.DRAFT
    assert start_tasks(cid) == []


@pytest.mark.parametrize("impossible", ["2030-13-45T09:30", "2030-02-30T09:00", "2030-01-15T25:00"])
def test_an_impossible_date_is_refused_not_a_server_error(api, project, ready, impossible) -> None:
    """Shaped like a date and time, but no such day or hour: a 422 on scheduledAt, not a 500."""
    cid = draft(api, project)["id"]
    message = refused(schedule(api, cid, impossible, "Europe/Berlin"), "scheduledAt")
    assert "date and time" in message
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.DRAFT
    assert start_tasks(cid) == []


def test_scheduling_with_preflight_problems_is_refused(api, project, ready) -> None:
    created = ok(api.post("campaigns", {"name": "Not ready"}), 201)
    response = schedule(api, created["id"], f"{next_year()}-01-15T09:30", "UTC")
    assert response.status_code == 422, response.content
    paths = sorted(e["path"] for e in response.json()["errors"])
    assert paths == ["designId", "from", "recipientId"]
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.scheduled_at is None
    assert start_tasks(created["id"]) == []


def test_a_sending_campaign_cannot_be_scheduled(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    ok(api.post(f"campaigns/{cid}/send"))
    response = schedule(api, cid, f"{next_year()}-01-15T09:30", "UTC")
    assert response.status_code == 409, response.content
    assert Campaign.objects.get(pk=cid).scheduled_at is None


# -- the start task --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "zone", "utc"),
    [
        ("{year}-01-15T08:30:00Z", None, (1, 15, 8, 30)),
        ("{year}-01-15T08:30", "UTC", (1, 15, 8, 30)),
        ("{year}-01-15T09:30", "Europe/Berlin", (1, 15, 8, 30)),
        ("{year}-01-15T10:30:00+02:00", None, (1, 15, 8, 30)),
    ],
    ids=["utc-z", "utc-zone", "berlin", "offset"],
)
def test_the_start_task_runs_at_the_scheduled_time_and_starts_the_campaign(
    api, project, ready, when, zone, utc
) -> None:
    cid = draft(api, project)["id"]
    year = next_year()
    instant = datetime(year, *utc, tzinfo=UTC)
    ok(schedule(api, cid, when.format(year=year), zone))
    [row] = start_tasks(cid)
    assert row.run_after == instant
    assert row.args_kwargs["args"][:2] == [project.pk, cid]
    assert parsed(row.args_kwargs["args"][2]) == instant
    assert row.status == "READY"
    assert Message.objects.filter(campaign_id=cid).count() == 0  # nothing until the time comes

    assert run_start(row) == "started"
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.SENDING
    assert campaign.started_at is not None
    assert Message.objects.filter(campaign_id=cid, state=MessageState.QUEUED).count() == 3
    got = ok(api.get(f"campaigns/{cid}"))
    assert got["status"] == "sending"
    assert got["progress"]["queued"] == 3
    # The task running twice (a retry, two workers) starts nothing more.
    assert run_start(row) == "not scheduled"
    assert Message.objects.filter(campaign_id=cid).count() == 3


def test_unschedule_makes_a_draft_and_the_stale_task_does_nothing(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    ok(schedule(api, cid, f"{next_year()}-01-15T08:30:00Z"))
    [row] = start_tasks(cid)
    answer = ok(api.post(f"campaigns/{cid}/unschedule"))
    assert answer["status"] == "draft"
    assert answer["scheduledAt"] is None
    assert run_start(row) == "not scheduled"
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.started_at is None
    assert Message.objects.filter(campaign_id=cid).count() == 0
    # Unscheduling a draft changes nothing.
    assert ok(api.post(f"campaigns/{cid}/unschedule"))["status"] == "draft"


def test_a_rescheduled_campaign_starts_only_from_its_new_task(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    year = next_year()
    ok(schedule(api, cid, f"{year}-01-15T08:30:00Z"))
    later = ok(schedule(api, cid, f"{year}-02-01T10:00:00Z"))
    assert later["status"] == "scheduled"
    assert parsed(later["scheduledAt"]) == datetime(year, 2, 1, 10, 0, tzinfo=UTC)
    old, new = start_tasks(cid)
    assert old.run_after == datetime(year, 1, 15, 8, 30, tzinfo=UTC)
    assert new.run_after == datetime(year, 2, 1, 10, 0, tzinfo=UTC)

    assert run_start(old) == "rescheduled"
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.SCHEDULED
    assert Message.objects.filter(campaign_id=cid).count() == 0

    assert run_start(new) == "started"
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.SENDING
    assert Message.objects.filter(campaign_id=cid).count() == 3


def test_a_campaign_rescheduled_in_its_zone_starts_from_its_new_task(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    year = next_year()
    ok(schedule(api, cid, f"{year}-01-15T09:30", "Europe/Berlin"))
    ok(schedule(api, cid, f"{year}-02-01T11:00", "Europe/Berlin"))
    old, new = start_tasks(cid)
    assert new.run_after == datetime(year, 2, 1, 10, 0, tzinfo=UTC)
    assert run_start(old) == "rescheduled"
    assert run_start(new) == "started"
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.SENDING


def test_a_scheduled_campaign_that_cannot_start_at_its_time_fails_with_the_reason(
    api, project, ready
) -> None:
    cid = draft(api, project)["id"]
    ok(schedule(api, cid, f"{next_year()}-01-15T08:30:00Z"))
    [row] = start_tasks(cid)
    Contact.objects.filter(project=project).update(status=ContactStatus.UNSUBSCRIBED)

    assert run_start(row) == "failed"
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.FAILED
    assert "could not start at its time" in campaign.error
    assert "no eligible recipients" in campaign.error
    assert "3 unsubscribed" in campaign.error
    assert Message.objects.filter(campaign_id=cid).count() == 0
    got = ok(api.get(f"campaigns/{cid}"))
    assert got["status"] == "failed"
    assert "no eligible recipients" in got["error"]
    assert run_start(row) == "not scheduled"


def test_a_scheduled_campaign_whose_domain_lost_its_verification_fails_at_its_time(
    api, project, ready
) -> None:
    cid = draft(api, project)["id"]
    ok(schedule(api, cid, f"{next_year()}-01-15T08:30:00Z"))
    [row] = start_tasks(cid)
    SendingDomain.objects.filter(project=project).update(verified_at=None)
    assert run_start(row) == "failed"
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status == CampaignStatus.FAILED
    assert "example.com is not verified" in campaign.error
    assert Message.objects.filter(campaign_id=cid).count() == 0


def test_resuming_a_campaign_that_failed_to_start_does_not_mark_it_sent(api, project, ready) -> None:
    """A campaign that failed at its time never planned a message; resuming it once the cause is
    fixed must either start it (plan its messages) or be refused — never report it as sent."""
    cid = draft(api, project)["id"]
    ok(schedule(api, cid, f"{next_year()}-01-15T08:30:00Z"))
    [row] = start_tasks(cid)
    Contact.objects.filter(project=project).update(status=ContactStatus.UNSUBSCRIBED)
    assert run_start(row) == "failed"
    Contact.objects.filter(project=project).update(status=ContactStatus.SUBSCRIBED)

    response = api.post(f"campaigns/{cid}/resume")
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.status != CampaignStatus.SENT, (
        f"resume answered {response.status_code} and marked the campaign sent "
        f"with {Message.objects.filter(campaign_id=cid).count()} messages"
    )
    if response.status_code == 200:
        assert campaign.status == CampaignStatus.SENDING
        assert Message.objects.filter(campaign_id=cid, state=MessageState.QUEUED).count() == 3
    else:
        assert response.status_code == 409, response.content
        assert campaign.status == CampaignStatus.FAILED


def test_sending_a_scheduled_campaign_now_leaves_its_task_nothing_to_do(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    ok(schedule(api, cid, f"{next_year()}-01-15T08:30:00Z"))
    [row] = start_tasks(cid)
    assert ok(api.post(f"campaigns/{cid}/send"))["status"] == "sending"
    assert Message.objects.filter(campaign_id=cid).count() == 3
    assert run_start(row) == "not scheduled"
    assert Message.objects.filter(campaign_id=cid).count() == 3
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.SENDING
