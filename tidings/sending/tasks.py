"""Background work of the send pipeline.

``campaign_send_task`` runs the worker loop for one campaign. Recovery does not
depend on the task queue noticing a dead worker: while a campaign is sending, a
``campaign_watch_task`` looks at it every lease period and, when due messages
are held by nobody alive (a worker was killed), starts a sender again. Task
arguments are ids only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.core.queue import can_defer
from tidings.core.scoping import get_scoped
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import finish_if_done, run_campaign

log = logging.getLogger("tidings.sending")

# One task runs at most this long, then queues its successor, so other work gets a turn.
SLICE_SECONDS = 300


def _campaign(project_id: int, campaign_id: int) -> Campaign:
    campaign = get_scoped(
        Campaign.objects.select_related("project", "connection", "topic"), project_id, pk=campaign_id
    )
    return campaign


def enqueue_campaign(project_id: int, campaign_id: int) -> None:
    """Start the campaign's senders (``TIDINGS_SEND_SENDERS``: they claim disjoint batches, so
    as many workers as there are send at once), and its watch where the queue can run tasks
    later. A queue that runs tasks at once gets one sender: a second would find nothing left."""
    senders = settings.SEND_SENDERS if can_defer() else 1
    for _ in range(senders):
        campaign_send_task.enqueue(project_id, campaign_id)
    if can_defer():
        campaign_watch_task.using(run_after=timezone.now() + _watch_period()).enqueue(project_id, campaign_id)


def enqueue_scheduled(project_id: int, campaign_id: int, when: datetime) -> None:
    if can_defer():
        campaign_start_task.using(run_after=when).enqueue(project_id, campaign_id, when.isoformat())


def _watch_period() -> timedelta:
    return timedelta(seconds=max(2.0, settings.SEND_LEASE_SECONDS))


@task
def campaign_send_task(project_id: int, campaign_id: int) -> dict[str, object]:
    campaign = _campaign(project_id, campaign_id)
    if campaign.status != CampaignStatus.SENDING:
        return {"campaignId": campaign_id, "stopped": campaign.status}
    result = run_campaign(campaign, max_seconds=SLICE_SECONDS)
    if result.stopped == "time":
        campaign_send_task.enqueue(project_id, campaign_id)
    elif result.stopped == "waiting" and result.next_attempt_in is not None:
        if can_defer():
            when = timezone.now() + timedelta(seconds=result.next_attempt_in)
            campaign_send_task.using(run_after=when).enqueue(project_id, campaign_id)
        else:
            # The immediate queue cannot run the retry later: pause, so a resume retries.
            Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
                status=CampaignStatus.PAUSED,
                error="some messages failed for now and wait for a retry, which this task queue "
                "cannot run later: resume the campaign to retry them",
            )
    return {
        "campaignId": campaign_id,
        "sent": result.sent,
        "failed": result.failed,
        "skipped": result.skipped,
        "retried": result.retried,
        "stopped": result.stopped,
    }


@task
def campaign_watch_task(project_id: int, campaign_id: int) -> str:
    """While the campaign sends: restart a sender if nobody alive holds its due messages."""
    campaign = _campaign(project_id, campaign_id)
    if campaign.status != CampaignStatus.SENDING:
        return campaign.status
    now = timezone.now()
    queued = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED)
    if not queued.exists():
        finish_if_done(campaign)
        return "finished"
    held = queued.filter(lease_until__gt=now).exists()
    due = (
        queued.filter(next_attempt_at__isnull=True).exists()
        or queued.filter(next_attempt_at__lte=now).exists()
    )
    if due and not held:
        log.info("campaign %s has due messages and no live worker: starting a sender", campaign_id)
        campaign_send_task.enqueue(project_id, campaign_id)
    campaign_watch_task.using(run_after=now + _watch_period()).enqueue(project_id, campaign_id)
    return "watching"


@task
def campaign_start_task(project_id: int, campaign_id: int, scheduled_at: str) -> str:
    """Start a scheduled campaign, if it is still scheduled for this time."""
    from tidings.campaigns.services import campaign_start

    campaign = _campaign(project_id, campaign_id)
    if campaign.status != CampaignStatus.SCHEDULED or campaign.scheduled_at is None:
        return "not scheduled"
    if campaign.scheduled_at != datetime.fromisoformat(scheduled_at):  # the same instant, in any zone
        return "rescheduled"
    try:
        campaign_start(campaign=campaign)
    except Exception as exc:
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
            status=CampaignStatus.FAILED, error=f"could not start at its time: {exc}"[:1000]
        )
        return "failed"
    return "started"


def watch_sending() -> int:
    """Give every sending campaign a watch (a worker starting up calls this): a campaign whose
    tasks were lost — a crash between a commit and its enqueue, a queue that was down — goes on."""
    if not can_defer():
        return 0
    campaigns = list(Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("project_id", "pk"))
    for project_id, campaign_id in campaigns:
        campaign_watch_task.enqueue(project_id, campaign_id)
    return len(campaigns)
