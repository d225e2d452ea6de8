"""Acting on what became of a message: the one door for delivery, bounce and complaint events.

Provider webhooks, bounce messages (DSNs) and the SMTP reply at sending all
arrive here as a ``DeliveryEvent``. Each is stored once (a provider's event id
is de-duplicated per project and source) and then acted on:

- a hard bounce, or a complaint: the contact becomes ``bounced`` /
  ``complained`` and the address goes on the project's suppression list;
- soft bounces: ``project.soft_bounce_limit`` of them within
  ``project.soft_bounce_days`` days and the address counts as bounced;
- a refusal for policy (5.7.x: authentication, reputation): an alert to the
  project; the address did nothing wrong and stays as it is;
- a complaint rate over 0.3 % in a marketing campaign pauses the project's
  marketing sends and raises an alert;
- an unsubscribe reported by the provider unsubscribes the contact;
- opens and clicks reported by the provider are stored like our own.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tidings.audience.models import Contact, SuppressionReason
from tidings.audience.services import suppress
from tidings.audience.validation import normalize_email
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.core.models import Project
from tidings.hooks import events
from tidings.hooks import services as hooks
from tidings.sending.models import Message
from tidings.sending.transports import ENHANCED_CODE
from tidings.tracking.models import Alert, AlertKind, BounceType, EventKind, EventSource, TrackingEvent

log = logging.getLogger(__name__)

# A campaign whose complaints pass this share of its sent messages pauses marketing.
COMPLAINT_RATE_LIMIT = 0.003


@dataclass(frozen=True)
class DeliveryEvent:
    """One report about one message, as every source gives it.

    ``message_id`` is our message's id when the source knows it (a VERP token, the
    send itself); else ``provider_message_id`` finds it. ``email`` is the
    recipient's address when the message is not known (a bounce of mail sent by
    something else still suppresses the address).
    """

    kind: str
    email: str = ""
    message_id: int | None = None
    provider_message_id: str = ""
    occurred_at: datetime | None = None
    bounce_type: str = ""  # hard, soft or policy; "" to derive it from status_code
    status_code: str = ""  # enhanced status code (5.1.1) or the SMTP reply code
    detail: str = ""
    event_id: str = ""
    user_agent: str = ""
    url: str = ""  # of a click a provider reports
    ip: str | None = None


@dataclass
class Outcome:
    """What the event changed, for the caller's answer and for tests."""

    stored: bool = False
    duplicate: bool = False
    effect: str = ""  # suppressed, soft-bounce, alert, unsubscribed, paused-marketing, or ""
    event: TrackingEvent | None = None


def enhanced_code(text: str) -> str:
    """The first enhanced status code (RFC 3463) in a reply or a DSN field, or ""."""
    found = ENHANCED_CODE.search(text or "")
    return found.group(0) if found else ""


# 5.1.7 and 5.1.8: the *sender's* address is refused (a return path that does not resolve,
# say): the sender's problem, like a 5.7.x, never the recipient's.
_SENDER_ADDRESS = ("5.1.7", "5.1.8")
_REPLY_CODE = re.compile(r"\s*([45]\d\d)\b")


def bounce_type_of(status_code: str) -> str:
    """Hard, soft or policy, by the enhanced status code (or a bare SMTP reply code).

    5.1.x (the address) and 5.4.x (no route to the domain) are hard; 5.7.x, and 5.1.7/5.1.8
    (the sender's own address), are the sender's problem; every 4.x.x, and the other 5.x.x (a
    full mailbox, a message too large, a system refusing for now), are soft. A bare 550, 551
    or 553 is hard; with nothing to go by, soft (counted, and enough of them suppress).
    """
    code = status_code.strip()
    enhanced = ENHANCED_CODE.search(code)
    if enhanced:
        klass, subject = enhanced.group(1), enhanced.group(2)
        if klass != "5":
            return BounceType.SOFT
        if subject == "7" or enhanced.group(0) in _SENDER_ADDRESS:
            return BounceType.POLICY
        return BounceType.HARD if subject in ("1", "4") else BounceType.SOFT
    if code[:3] in ("550", "551", "553"):
        return BounceType.HARD
    return BounceType.SOFT


def classify_bounce(status: str = "", diagnostic: str = "", provider_type: str = "") -> tuple[str, str]:
    """(status code, bounce type) of one bounce, from every source's words alike.

    ``status`` is a status field (a DSN's ``Status``, a provider's code), ``diagnostic`` the
    server's reply text, ``provider_type`` a provider's own ``hard``/``soft`` ("" if none). A
    specific code in the diagnostic beats a vague ``x.0.0`` status of the same class (Exim and
    SendGrid write 5.0.0 whatever the reason). A specific code decides; else the provider's
    word; else the SMTP reply code the diagnostic starts with; else soft.
    """
    code, specific = enhanced_code(status), enhanced_code(diagnostic)
    if specific and (not code or (code.endswith(".0.0") and specific[0] == code[0])):
        code = specific
    if code and not code.endswith(".0.0"):
        return code, bounce_type_of(code)
    if provider_type in (BounceType.HARD, BounceType.SOFT):
        return code, provider_type
    reply = _REPLY_CODE.match(diagnostic or "") or _REPLY_CODE.match(status or "")
    if code[:1] == "4":
        return code, BounceType.SOFT
    return code or (reply.group(1) if reply else ""), bounce_type_of(reply.group(1) if reply else "")


def _message(project: Project, event: DeliveryEvent, connection_id: int | None) -> Message | None:
    messages = Message.objects.select_related("campaign__project").filter(project=project)
    if event.message_id is not None:
        return messages.filter(pk=event.message_id).first()
    bare = event.provider_message_id.strip().strip("<>")
    if not bare:
        return None
    # With or without the angle brackets some providers put around it; within the connection.
    found = messages.filter(provider_message_id__in={event.provider_message_id, bare, f"<{bare}>"})
    if connection_id is not None:
        found = found.filter(campaign__connection_id=connection_id)
    message = found.order_by("-id").first()
    if message is not None and event.email and message.email.lower() != event.email.strip().lower():
        return None  # each of our messages has one recipient: one to someone else is not it
    return message


def _counted_here(campaign: Campaign, kind: str) -> bool:
    """Opens or clicks the campaign's own pixel or redirect counts: a provider's report of the
    same (its tracking on too) would count them twice."""
    if kind == EventKind.OPENED:
        return campaign.track_opens and campaign.project.track_opens
    if kind == EventKind.CLICKED:
        return campaign.track_clicks and campaign.project.track_clicks
    return False


def _contact(project: Project, message: Message | None, email: str) -> Contact | None:
    if message is not None and message.contact_id is not None:
        return Contact.objects.filter(project=project, pk=message.contact_id).first()
    if email:
        try:
            _, key = normalize_email(email)
        except Exception:
            return None
        return Contact.objects.filter(project=project, email_key=key).first()
    return None


def delivery_event_record(
    *,
    project: Project,
    event: DeliveryEvent,
    source: str,
    connection_id: int | None = None,
) -> Outcome:
    """Store one report and act on it; a repeated ``event_id`` changes nothing."""
    if event.kind not in EventKind.values:
        raise ValueError(f"unknown event kind {event.kind!r}")
    message = _message(project, event, connection_id)
    if source == EventSource.WEBHOOK and message is not None and _counted_here(message.campaign, event.kind):
        return Outcome(effect="ignored")
    email = (event.email or (message.email if message else "")).strip()[:254]
    bounce_type = event.bounce_type
    if event.kind == EventKind.BOUNCED and not bounce_type:
        bounce_type = classify_bounce(event.status_code, event.detail)[1]
    elif event.kind == EventKind.BOUNCED and bounce_type_of(enhanced_code(event.status_code)) == "policy":
        bounce_type = BounceType.POLICY  # whatever the provider calls it, a policy refusal is ours
    contact = _contact(project, message, email)
    from tidings.tracking.machines import is_machine
    from tidings.tracking.services import clean_agent

    now = timezone.now()
    # A provider's clock (or a forged date) may say anything: keep it within a sensible range.
    occurred_at = min(max(event.occurred_at or now, now - timedelta(days=365)), now + timedelta(hours=1))
    user_agent = clean_agent(event.user_agent)
    machine = event.kind in (EventKind.OPENED, EventKind.CLICKED) and is_machine(
        user_agent=user_agent,
        kind=event.kind,
        method="GET",
        sent_at=message.sent_at if message else None,
        now=occurred_at,
    )
    link = None
    if event.kind == EventKind.CLICKED and event.url and message is not None:
        from tidings.tracking.models import TrackedLink

        link = TrackedLink.objects.filter(campaign_id=message.campaign_id, url=event.url).first()

    row = TrackingEvent(
        project=project,
        campaign_id=message.campaign_id if message else None,
        message=message,
        contact_id=contact.pk if contact else None,
        email=email,
        kind=event.kind,
        link=link,
        occurred_at=occurred_at,
        user_agent=user_agent,
        machine=machine,
        ip=event.ip if project.store_ip else None,
        source=source,
        bounce_type=bounce_type if event.kind in (EventKind.BOUNCED, EventKind.REJECTED) else "",
        status_code=(enhanced_code(event.status_code) or event.status_code)[:12],
        detail="".join(c for c in event.detail if c.isprintable() or c == "\n")[:1000],
        connection_id=connection_id,
        event_id=event.event_id[:200],
    )
    outcome = Outcome(event=row)
    with transaction.atomic():
        if row.event_id:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                return Outcome(duplicate=True)
        else:
            row.save(force_insert=True)
        outcome.stored = True
        outcome.effect = _act(project, row, message, contact)
        if row.kind in events.MESSAGE_EVENTS:
            data = events.tracking_data(row, url=event.url if row.kind == EventKind.CLICKED else "")
            hooks.emit(project, events.MESSAGE_EVENTS[row.kind], data)
    return outcome


def _act(project: Project, row: TrackingEvent, message: Message | None, contact: Contact | None) -> str:
    kind = row.kind
    if kind in (EventKind.BOUNCED, EventKind.REJECTED) and row.bounce_type == BounceType.POLICY:
        _alert(
            project,
            AlertKind.SENDER_PROBLEM,
            campaign_id=row.campaign_id,
            title=f"Mail refused for the sender ({row.status_code or 'policy'})",
            detail=row.detail or "A receiving server refused the mail because of who sent it.",
        )
        return "alert"
    if kind in (EventKind.BOUNCED, EventKind.REJECTED) and row.bounce_type == BounceType.HARD:
        return _suppress(project, row, contact, SuppressionReason.BOUNCED)
    if kind == EventKind.BOUNCED and row.bounce_type == BounceType.SOFT:
        return _soft_bounce(project, row, contact)
    if kind == EventKind.COMPLAINED:
        effect = _suppress(project, row, contact, SuppressionReason.COMPLAINED)
        if message is not None and _complaint_rate_passed(message.campaign):
            _pause_marketing(project, message.campaign)
            return "paused-marketing"
        return effect
    if kind == EventKind.UNSUBSCRIBED and contact is not None:
        from tidings.tracking.services import unsubscribe

        return "unsubscribed" if unsubscribe(contact=contact) else ""
    if (
        kind in (EventKind.OPENED, EventKind.CLICKED)
        and message is not None
        and message.contact_id
        and not row.machine
    ):
        from tidings.tracking.recorder import Engagement, engagement_activity

        engagement = Engagement(
            project.pk, message.pk, message.contact_id, message.campaign_id, kind, row.occurred_at
        )
        engagement_activity([engagement], exclude_event=row.pk)
    return ""


def _suppress(
    project: Project, row: TrackingEvent, contact: Contact | None, reason: str, detail: str = ""
) -> str:
    if not row.email:
        return ""
    detail = detail or " ".join(p for p in (row.status_code, row.detail) if p)
    suppress(project=project, email=row.email, reason=reason, detail=detail[:500], contact=contact)
    return "suppressed"


def _soft_bounce(project: Project, row: TrackingEvent, contact: Contact | None) -> str:
    """Count soft bounces of the address in the project's window; enough of them and it is bounced."""
    since = timezone.now() - timedelta(days=project.soft_bounce_days)
    if row.email:
        # Taken off the list by an admin: the soft bounces before that were dealt with.
        from tidings.audience.models import SuppressionRemoval
        from tidings.audience.services import suppression_hash

        removed = (
            SuppressionRemoval.objects.filter(
                project=project, email_hash=suppression_hash(project, row.email)
            )
            .order_by("-removed_at")
            .values_list("removed_at", flat=True)
            .first()
        )
        since = max(since, removed) if removed else since
    soft = TrackingEvent.objects.filter(
        project=project, kind=EventKind.BOUNCED, bounce_type=BounceType.SOFT, occurred_at__gte=since
    )
    if contact is not None:
        soft = soft.filter(contact_id=contact.pk)
    elif row.email:
        soft = soft.filter(email__iexact=row.email)
    else:
        return "soft-bounce"
    if soft.count() < project.soft_bounce_limit:
        return "soft-bounce"
    last = " ".join(p for p in (row.status_code, row.detail) if p) or "no detail"
    detail = (
        f"{project.soft_bounce_limit} soft bounces within {project.soft_bounce_days} days; the last: {last}"
    )
    return _suppress(project, row, contact, SuppressionReason.BOUNCED, detail)


def _complaint_rate_passed(campaign: Campaign) -> bool:
    if campaign.transactional:
        return False
    sent = Message.objects.filter(campaign=campaign, sent_at__isnull=False).count()
    complaints = (
        TrackingEvent.objects.filter(campaign=campaign, kind=EventKind.COMPLAINED)
        .values("message_id")
        .distinct()
        .count()
    )
    return bool(sent) and complaints / sent > COMPLAINT_RATE_LIMIT


def _pause_marketing(project: Project, campaign: Campaign) -> None:
    """Stop the project's marketing mail: sending marketing campaigns pause, none may start."""
    now = timezone.now()
    reason = (
        f"the complaint rate of campaign “{campaign.name}” passed "
        f"{COMPLAINT_RATE_LIMIT * 100:.1f} % of the messages sent"
    )
    first = Project.objects.filter(pk=project.pk, marketing_paused_at__isnull=True).update(
        marketing_paused_at=now, marketing_paused_reason=reason[:500]
    )
    project.refresh_from_db(fields=["marketing_paused_at", "marketing_paused_reason"])
    # Sending ones pause; scheduled ones are refused by the preflight when their time comes.
    paused = Campaign.objects.filter(
        project=project, transactional=False, status=CampaignStatus.SENDING
    ).update(status=CampaignStatus.PAUSED, error=reason[:1000], updated_at=now)
    if first or paused:
        log.warning("project %s: marketing paused: %s", project.pk, reason)
    _alert(
        project,
        AlertKind.COMPLAINT_RATE,
        campaign_id=campaign.pk,
        title="Marketing sends paused: too many complaints",
        detail=f"Marketing sends are paused because {reason}. {paused} campaign(s) were paused. "
        "Check how these people were added, then lift the pause on the overview page "
        "(or POST /api/v1/project/marketing/resume).",
    )


def _alert(project: Project, kind: str, *, campaign_id: int | None, title: str, detail: str) -> Alert:
    """Raise an alert, or count a repeat on the open one of the same kind and campaign."""
    now = timezone.now()
    same = Alert.objects.filter(project=project, kind=kind, campaign_id=campaign_id, resolved_at__isnull=True)
    if same.update(count=F("count") + 1, last_seen_at=now, detail=detail[:5000]):
        return same.first()  # type: ignore[return-value]
    return Alert.objects.create(
        project=project,
        kind=kind,
        campaign_id=campaign_id,
        title=title[:200],
        detail=detail,
        last_seen_at=now,
    )


def alert_resolve(*, project: Project, alert_id: int) -> Alert:
    from tidings.core.errors import NotFound

    alert = Alert.objects.filter(project=project, pk=alert_id).first()
    if alert is None:
        raise NotFound(f"no alert with id {alert_id} in this project")
    if alert.resolved_at is None:
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["resolved_at"])
    return alert


def marketing_resume(*, project: Project) -> Project:
    """Lift the pause on marketing sends (paused campaigns stay paused until resumed one by one)."""
    Project.objects.filter(pk=project.pk).update(marketing_paused_at=None, marketing_paused_reason="")
    Alert.objects.filter(project=project, kind=AlertKind.COMPLAINT_RATE, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    project.refresh_from_db()
    return project
