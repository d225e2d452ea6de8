"""Reads of tracking: a campaign's results and per-recipient log, a contact's activity, and a
project's recent figures.

Every figure is a handful of grouped queries over the messages and the events, never a loop
over messages, so a campaign of a hundred thousand recipients reads as fast as one of ten.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from tidings.campaigns.models import Campaign, CampaignOrigin
from tidings.core.errors import ValidationError
from tidings.core.models import Project
from tidings.core.pagination import cursor_page
from tidings.core.scoping import scoped
from tidings.sending.models import ConnectionKind, Message, MessageState, ProviderConnection
from tidings.tracking.models import Alert, BounceType, EventKind, TrackedLink, TrackingEvent

# Connections whose provider tells us when a message reached the mailbox server.
DELIVERY_REPORTING = frozenset(
    {
        ConnectionKind.SES,
        ConnectionKind.SENDGRID,
        ConnectionKind.MAILGUN,
        ConnectionKind.RESEND,
        ConnectionKind.POSTMARK,
    }
)
BOUNCES = (BounceType.HARD, BounceType.SOFT)
# A message that bounced or was refused for its sender did not arrive.
UNDELIVERED = (BounceType.HARD, BounceType.SOFT, BounceType.POLICY)
# The filters of the per-recipient log.
LOG_STATUSES = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "refused",
    "complained",
    "unsubscribed",
    "failed",
    "skipped",
    "queued",
    "cancelled",
)
LOG_PAGE = 2000  # messages per query when the whole log is read (CSV)

_EVENT_COUNTS = {
    "opens_unique": Count("message_id", distinct=True, filter=Q(kind=EventKind.OPENED, machine=False)),
    "opens_total": Count("id", filter=Q(kind=EventKind.OPENED, machine=False)),
    "opens_machine": Count("id", filter=Q(kind=EventKind.OPENED, machine=True)),
    "clicks_unique": Count("message_id", distinct=True, filter=Q(kind=EventKind.CLICKED, machine=False)),
    "clicks_total": Count("id", filter=Q(kind=EventKind.CLICKED, machine=False)),
    "clicks_machine": Count("id", filter=Q(kind=EventKind.CLICKED, machine=True)),
    "bounced": Count("message_id", distinct=True, filter=Q(kind=EventKind.BOUNCED, bounce_type__in=BOUNCES)),
    "hard": Count("message_id", distinct=True, filter=Q(kind=EventKind.BOUNCED, bounce_type=BounceType.HARD)),
    "refused": Count(
        "message_id", distinct=True, filter=Q(kind=EventKind.BOUNCED, bounce_type=BounceType.POLICY)
    ),
    "complaints": Count("message_id", distinct=True, filter=Q(kind=EventKind.COMPLAINED)),
    "unsubscribes": Count("message_id", distinct=True, filter=Q(kind=EventKind.UNSUBSCRIBED)),
    "delivered_events": Count("message_id", distinct=True, filter=Q(kind=EventKind.DELIVERED)),
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _event_of(kind: str, **more: Any) -> QuerySet[TrackingEvent]:
    """The events of one kind of the message in the outer query."""
    return TrackingEvent.objects.filter(message_id=OuterRef("pk"), kind=kind, **more)


def _undelivered() -> Exists:
    return Exists(_event_of(EventKind.BOUNCED, bounce_type__in=UNDELIVERED))


def deliveries_reported(project: Project, campaign_ids: Iterable[int]) -> set[int]:
    """The campaigns whose deliveries are counted from the provider's delivery reports.

    Those sent through an ESP that reports deliveries, once at least one report has
    arrived; for the others (SMTP, the outbox, an ESP whose webhook is not set up),
    delivered is what was sent minus what bounced or was refused.
    """
    ids = set(campaign_ids)
    if not ids:
        return set()
    connections = scoped(ProviderConnection, project)
    default = connections.filter(is_default=True).values_list("kind", flat=True).first()
    kinds = scoped(Campaign, project).filter(pk__in=ids).values_list("pk", "connection__kind")
    esp = [pk for pk, kind in kinds if (kind or default) in DELIVERY_REPORTING]
    if not esp:
        return set()
    delivered = TrackingEvent.objects.filter(campaign_id=OuterRef("pk"), kind=EventKind.DELIVERED)
    reported = scoped(Campaign, project).filter(pk__in=esp).filter(Exists(delivered))
    return set(reported.values_list("pk", flat=True))


def _counts(
    project: Project, messages: QuerySet[Message], events: QuerySet[TrackingEvent]
) -> tuple[dict[int, Counter[str]], set[int]]:
    """Raw counts per campaign of ``messages`` and ``events``, and the campaigns reporting deliveries."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    states = messages.values_list("campaign_id", "state").annotate(n=Count("id")).order_by()
    for campaign_id, state, n in states:
        counts[campaign_id][state] += n
    rows = events.exclude(campaign_id=None).values("campaign_id").annotate(**_EVENT_COUNTS).order_by()
    for row in rows:
        counts[row.pop("campaign_id")].update(row)
    reporting = deliveries_reported(project, counts)
    plain = messages.filter(state=MessageState.SENT).exclude(campaign_id__in=reporting).filter(_undelivered())
    for campaign_id, n in plain.values_list("campaign_id").annotate(n=Count("id")).order_by():
        counts[campaign_id]["undelivered"] = n
    for campaign_id, c in counts.items():
        if campaign_id in reporting:
            c["delivered"] = c["delivered_events"]
        else:
            c["delivered"] = max(c[MessageState.SENT] - c["undelivered"], 0)
    return counts, reporting


def _figures(c: Counter[str], reported: bool) -> dict[str, Any]:
    sent, delivered = c[MessageState.SENT], c["delivered"]
    bounces = c["bounced"]
    return {
        "recipients": sum(c[state] for state in MessageState.values),
        "sent": sent,
        "delivered": delivered,
        "deliveries_reported": reported,
        "queued": c[MessageState.QUEUED],
        "failed": c[MessageState.FAILED],
        "skipped": c[MessageState.SKIPPED],
        "cancelled": c[MessageState.CANCELLED],
        "opens": {"unique": c["opens_unique"], "total": c["opens_total"], "machine": c["opens_machine"]},
        "clicks": {"unique": c["clicks_unique"], "total": c["clicks_total"], "machine": c["clicks_machine"]},
        "bounces": {"total": bounces, "hard": c["hard"], "soft": bounces - c["hard"]},
        "refused": c["refused"],
        "complaints": c["complaints"],
        "unsubscribes": c["unsubscribes"],
        "rates": {
            "delivery": _rate(delivered, sent),
            "open": _rate(c["opens_unique"], delivered),
            "click": _rate(c["clicks_unique"], delivered),
            "click_to_open": _rate(c["clicks_unique"], c["opens_unique"]),
            "bounce": _rate(bounces, sent),
            "complaint": _rate(c["complaints"], sent),
            "unsubscribe": _rate(c["unsubscribes"], delivered),
        },
    }


def campaign_results(campaign: Campaign) -> dict[str, Any]:
    """What became of a campaign: its figures with their rates, each link, and opens and clicks by
    the hour (people only; privacy proxies and link scanners are counted apart)."""
    project = campaign.project
    events = scoped(TrackingEvent, project).filter(campaign=campaign)
    counts, reporting = _counts(project, scoped(Message, project).filter(campaign=campaign), events)
    results = _figures(counts.get(campaign.pk, Counter()), campaign.pk in reporting)
    per_link = {
        row["link_id"]: row
        for row in events.filter(kind=EventKind.CLICKED, link__isnull=False)
        .values("link_id")
        .annotate(
            total=Count("id", filter=Q(machine=False)),
            unique=Count("message_id", distinct=True, filter=Q(machine=False)),
            machine=Count("id", filter=Q(machine=True)),
        )
        .order_by()
    }
    results["links"] = [
        {
            "index": link.index,
            "url": link.url,
            "unique": per_link.get(link.pk, {}).get("unique", 0),
            "total": per_link.get(link.pk, {}).get("total", 0),
            "machine": per_link.get(link.pk, {}).get("machine", 0),
        }
        for link in scoped(TrackedLink, project).filter(campaign=campaign).order_by("index")
    ]
    results["timeline"] = [
        {"hour": row["hour"], "kind": row["kind"], "count": row["n"]}
        for row in events.filter(machine=False, kind__in=(EventKind.OPENED, EventKind.CLICKED))
        .annotate(hour=TruncHour("occurred_at"))
        .values("hour", "kind")
        .annotate(n=Count("id"))
        .order_by("hour", "kind")
    ]
    return results


def campaigns_figures(*, project: Project, campaigns: list[Campaign]) -> dict[int, dict[str, Any]]:
    """The figures of several campaigns at once (a list, the dashboard), by campaign id."""
    ids = [c.pk for c in campaigns]
    counts, reporting = _counts(
        project,
        scoped(Message, project).filter(campaign_id__in=ids),
        scoped(TrackingEvent, project).filter(campaign_id__in=ids),
    )
    return {pk: _figures(counts.get(pk, Counter()), pk in reporting) for pk in ids}


def project_totals(*, project: Project, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """What happened in the last ``days`` days across the project's campaigns and sends: messages
    sent in that time, and opens, clicks, bounces, complaints and unsubscribes that happened in it.
    Delivered follows each campaign's rule (provider reports, or sent minus bounces)."""
    since = (now or timezone.now()) - timedelta(days=days)
    counts, _ = _counts(
        project,
        scoped(Message, project).filter(sent_at__gte=since),
        scoped(TrackingEvent, project).filter(occurred_at__gte=since),
    )
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    figures = _figures(total, reported=False)
    del figures["deliveries_reported"], figures["recipients"]
    figures["days"] = days
    return figures


def recent_campaigns(*, project: Project, limit: int = 5) -> list[Campaign]:
    """The campaigns that started most recently (not send API batches)."""
    return list(
        scoped(Campaign, project)
        .filter(origin=CampaignOrigin.CAMPAIGN, started_at__isnull=False)
        .order_by("-started_at", "-id")[:limit]
    )


def alert_list(*, project: Project, open_only: bool = True) -> QuerySet[Alert]:
    alerts = scoped(Alert, project).select_related("campaign")
    return alerts.filter(resolved_at__isnull=True) if open_only else alerts


# -- the per-recipient log ----------------------------------------------------------------------


def check_log_status(status: str | None) -> None:
    if status and status not in LOG_STATUSES:
        raise ValidationError.field("status", f"must be one of: {', '.join(LOG_STATUSES)}")


def _log_filter(messages: QuerySet[Message], status: str, reported: bool) -> QuerySet[Message]:
    if status in MessageState.values:
        return messages.filter(state=status)
    if status == "delivered":
        if reported:
            return messages.filter(Exists(_event_of(EventKind.DELIVERED)))
        return messages.filter(state=MessageState.SENT).exclude(_undelivered())
    if status in ("opened", "clicked"):
        return messages.filter(Exists(_event_of(status, machine=False)))
    if status == "bounced":
        return messages.filter(Exists(_event_of(EventKind.BOUNCED, bounce_type__in=BOUNCES)))
    if status == "refused":
        return messages.filter(Exists(_event_of(EventKind.BOUNCED, bounce_type=BounceType.POLICY)))
    return messages.filter(Exists(_event_of(status)))  # complained, unsubscribed


_LOG_EVENT_FIELDS = (
    "message_id",
    "kind",
    "occurred_at",
    "machine",
    "bounce_type",
    "status_code",
    "detail",
    "user_agent",
)


def _log_rows(messages: list[Message], reported: bool) -> list[dict[str, Any]]:
    """Each message with what became of it, from one query over the page's events."""
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        TrackingEvent.objects.filter(message_id__in=[m.pk for m in messages])
        .order_by("occurred_at", "id")
        .values(*_LOG_EVENT_FIELDS)
    )
    for row in rows:
        events[row["message_id"]].append(row)
    out = []
    for message in messages:
        mine = events.get(message.pk, [])
        kinds = Counter((e["kind"], e["machine"]) for e in mine)
        bounce = next((e for e in reversed(mine) if e["kind"] == EventKind.BOUNCED), None)
        last = mine[-1] if mine else None
        if reported:
            delivered = kinds[(EventKind.DELIVERED, False)] > 0
        else:
            delivered = message.state == MessageState.SENT and bounce is None
        out.append(
            {
                "id": message.pk,
                "email": message.email,
                "contact_id": message.contact_id,
                "state": message.state,
                "skip_reason": message.skip_reason,
                "error": message.error,
                "sent_at": message.sent_at,
                "delivered": delivered,
                "opened": kinds[(EventKind.OPENED, False)] > 0,
                "opens": kinds[(EventKind.OPENED, False)],
                "machine_opens": kinds[(EventKind.OPENED, True)],
                "clicked": kinds[(EventKind.CLICKED, False)] > 0,
                "clicks": kinds[(EventKind.CLICKED, False)],
                "bounce_type": bounce["bounce_type"] if bounce else "",
                "status_code": bounce["status_code"] if bounce else "",
                "bounce_detail": bounce["detail"] if bounce else "",
                "complained": kinds[(EventKind.COMPLAINED, False)] > 0,
                "unsubscribed": kinds[(EventKind.UNSUBSCRIBED, False)] > 0,
                "last_event": last["kind"] if last else "",
                "last_event_at": last["occurred_at"] if last else None,
                "last_user_agent": last["user_agent"] if last else "",
            }
        )
    return out


def campaign_recipient_log(
    *, campaign: Campaign, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the campaign's messages, newest first, each with what became of it;
    ``status`` keeps only those sent, delivered, opened, clicked, bounced, … (``LOG_STATUSES``)."""
    check_log_status(status)
    reported = campaign.pk in deliveries_reported(campaign.project, [campaign.pk])
    messages = scoped(Message, campaign.project).filter(campaign=campaign)
    if status:
        messages = _log_filter(messages, status, reported)
    page, next_cursor = cursor_page(messages, cursor=cursor, limit=limit)
    return _log_rows(page, reported), next_cursor


def campaign_recipient_log_all(
    *, campaign: Campaign, status: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The whole log in pages, oldest message first (for the CSV export), in constant memory."""
    check_log_status(status)
    reported = campaign.pk in deliveries_reported(campaign.project, [campaign.pk])
    messages = scoped(Message, campaign.project).filter(campaign=campaign)
    if status:
        messages = _log_filter(messages, status, reported)
    last = 0
    while True:
        page = list(messages.filter(pk__gt=last).order_by("pk")[:LOG_PAGE])
        if not page:
            return
        yield _log_rows(page, reported)
        last = page[-1].pk


# -- a contact's activity -----------------------------------------------------------------------


def _encode(at: datetime, rank: int, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{rank}|{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, rank, pk = text.split("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or rank not in ("0", "1"):
            raise ValueError(cursor)
        return moment, int(rank), int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValidationError.field("cursor", "is not a cursor this API returned") from exc


def _before(at: datetime, rank: int, pk: int, mine: int, field: str) -> Q:
    """Rows that come after the cursor in (time, rank, id) descending order."""
    earlier = Q(**{f"{field}__lt": at})
    if mine < rank:
        return earlier | Q(**{field: at})
    if mine == rank:
        return earlier | Q(**{field: at, "pk__lt": pk})
    return earlier


def contact_activity(
    *, project: Project, contact_id: int, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """A contact's messages and what happened to them, newest first: each message (sent, or
    queued, skipped, failed) and each event (opened, clicked, delivered, bounced, …) with its
    campaign, time, link, machine flag and bounce details."""
    messages = (
        scoped(Message, project)
        .filter(contact_id=contact_id)
        .annotate(at=Coalesce("sent_at", "created_at"))
        .select_related("campaign")
    )
    events = scoped(TrackingEvent, project).filter(contact_id=contact_id).select_related("campaign", "link")
    if cursor:
        at, rank, pk = _decode(cursor)
        messages = messages.filter(_before(at, rank, pk, 0, "at"))
        events = events.filter(_before(at, rank, pk, 1, "occurred_at"))
    # Events rank above messages at the same moment: newest first, then events first.
    items = [(m.at, 0, m.pk, _message_item(m)) for m in messages.order_by("-at", "-pk")[: limit + 1]]
    newest = events.order_by("-occurred_at", "-pk")[: limit + 1]
    items += [(e.occurred_at, 1, e.pk, _event_item(e)) for e in newest]
    items.sort(key=lambda item: (item[0], item[1], item[2]), reverse=True)
    page = items[:limit]
    next_cursor = _encode(*page[-1][:3]) if len(items) > limit else None
    return [item[3] for item in page], next_cursor


def _campaign(campaign: Campaign | None) -> dict[str, Any]:
    return {
        "campaign_id": campaign.pk if campaign else None,
        "campaign_name": campaign.name if campaign else "",
        "campaign_origin": campaign.origin if campaign else "",
    }


def _message_item(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "kind": message.state,
        "at": message.at,  # type: ignore[attr-defined]
        "message_id": message.pk,
        **_campaign(message.campaign),
        "link_url": "",
        "machine": False,
        "bounce_type": "",
        "status_code": "",
        "detail": message.error or (message.get_skip_reason_display() if message.skip_reason else ""),
        "user_agent": "",
    }


def _event_item(event: TrackingEvent) -> dict[str, Any]:
    return {
        "type": "event",
        "kind": event.kind,
        "at": event.occurred_at,
        "message_id": event.message_id,
        **_campaign(event.campaign),
        "link_url": event.link.url if event.link else "",
        "machine": event.machine,
        "bounce_type": event.bounce_type,
        "status_code": event.status_code,
        "detail": event.detail,
        "user_agent": event.user_agent,
    }
