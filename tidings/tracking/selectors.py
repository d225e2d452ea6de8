"""Reads of tracking: a campaign's results."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncHour

from tidings.campaigns.models import Campaign
from tidings.sending.models import Message, MessageState
from tidings.tracking.models import EventKind, TrackedLink, TrackingEvent


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def campaign_results(campaign: Campaign) -> dict[str, Any]:
    """What became of a campaign: sent, opens and clicks (people and machines apart), links,
    unsubscribes, rates over the messages sent, and opens and clicks by the hour."""
    states = dict(
        Message.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")).order_by()
    )
    sent = states.get(MessageState.SENT, 0)
    events = TrackingEvent.objects.filter(campaign=campaign)
    person = Q(machine=False)

    def counted(kind: str) -> dict[str, int]:
        of_kind = events.filter(kind=kind)
        return {
            "unique": of_kind.filter(person).values("message_id").distinct().count(),
            "total": of_kind.filter(person).count(),
            "machine": of_kind.filter(machine=True).count(),
        }

    opens, clicks = counted(EventKind.OPENED), counted(EventKind.CLICKED)
    per_link = {
        row["link_id"]: row
        for row in events.filter(person, kind=EventKind.CLICKED)
        .values("link_id")
        .annotate(total=Count("id"), unique=Count("message_id", distinct=True))
        .order_by()
    }
    links = [
        {
            "index": link.index,
            "url": link.url,
            "unique": per_link.get(link.pk, {}).get("unique", 0),
            "total": per_link.get(link.pk, {}).get("total", 0),
        }
        for link in TrackedLink.objects.filter(campaign=campaign).order_by("index")
    ]
    unsubscribes = events.filter(kind=EventKind.UNSUBSCRIBED).values("message_id").distinct().count()
    timeline = [
        {"hour": row["hour"], "kind": row["kind"], "count": row["n"]}
        for row in events.filter(person, kind__in=(EventKind.OPENED, EventKind.CLICKED))
        .annotate(hour=TruncHour("occurred_at"))
        .values("hour", "kind")
        .annotate(n=Count("id"))
        .order_by("hour", "kind")
    ]
    return {
        "recipients": sum(states.values()),
        "sent": sent,
        "failed": states.get(MessageState.FAILED, 0),
        "skipped": states.get(MessageState.SKIPPED, 0),
        "opens": opens,
        "clicks": clicks,
        "unsubscribes": unsubscribes,
        "rates": {
            "open": _rate(opens["unique"], sent),
            "click": _rate(clicks["unique"], sent),
            "clickToOpen": _rate(clicks["unique"], opens["unique"]),
            "unsubscribe": _rate(unsubscribes, sent),
        },
        "links": links,
        "timeline": timeline,
    }
