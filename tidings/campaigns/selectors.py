"""Reads for campaigns: lists, one campaign, and live progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from tidings.campaigns.models import Campaign, CampaignOrigin
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped
from tidings.sending.models import Message, MessageState

RATE_WINDOW = timedelta(seconds=30)


def campaign_list(
    *, project: Project, status: str | None = None, archived: bool = False, search: str | None = None
) -> QuerySet[Campaign]:
    campaigns = scoped(Campaign, project).filter(
        origin=CampaignOrigin.CAMPAIGN, archived_at__isnull=not archived
    )
    if status:
        campaigns = campaigns.filter(status=status)
    if search:
        campaigns = campaigns.filter(name__icontains=search)
    return campaigns


def campaign_get(*, project: Project, campaign_id: int) -> Campaign:
    return get_scoped(
        Campaign.objects.select_related("project", "design", "connection", "topic"), project, pk=campaign_id
    )


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    """Messages by state, the send rate of the last half minute, and the time left at that rate."""
    states = dict.fromkeys(MessageState.values, 0)
    for state, n in Message.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")):
        states[state] = n
    skipped = dict(
        Message.objects.filter(campaign=campaign, state=MessageState.SKIPPED)
        .values_list("skip_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    now = timezone.now()
    recent = Message.objects.filter(
        campaign=campaign, state=MessageState.SENT, sent_at__gte=now - RATE_WINDOW
    ).count()
    rate = recent / RATE_WINDOW.total_seconds()
    queued = states[MessageState.QUEUED]
    total = sum(states.values())
    done = total - queued
    return {
        "total": total,
        **states,
        "skippedReasons": skipped,
        "percent": round(100.0 * done / total, 1) if total else 0.0,
        "rate": round(rate, 1),
        "etaSeconds": round(queued / rate) if rate and queued else (0 if not queued else None),
    }
