"""The send pipeline: workers claim queued messages, send each, and record what happened.

Correctness rests on the message rows alone (DESIGN §4):

- a worker *claims* up to a batch of due, unleased ``queued`` messages by
  writing its lease on them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  workers never wait on each other; on SQLite writes are serial anyway);
- just before sending it re-reads each recipient's status and topic choice,
  so an unsubscribe made a moment ago is honoured (the message is skipped);
- each message is rendered → tracked → assembled → signed → pushed (``MessageBuilder``
  and a ``Transport``), then marked ``sent`` with the provider's id; a worker
  that dies leaves at most the message it was pushing unmarked, and its lease
  runs out so another worker takes the rest;
- a transient failure puts the message back with capped exponential backoff,
  a permanent one fails it (and a refused address is marked bounced);
- every half second the worker looks at the campaign: paused or cancelled, it
  lets go of what it holds and stops.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from tidings.audience.activity import Activity, activity_record
from tidings.audience.models import ActivityKind, Contact
from tidings.audience.services import is_suppressed
from tidings.campaigns.models import Campaign, CampaignStatus, RecipientType
from tidings.hooks import events as hook_events
from tidings.hooks import services as hooks
from tidings.sending import assemble
from tidings.sending.copies import MessageBuilder
from tidings.sending.models import (
    ConnectionKind,
    ConnectionThrottle,
    Message,
    MessageState,
    ProviderConnection,
    SkipReason,
)
from tidings.sending.planner import skip_reason, with_opt_out
from tidings.sending.transports import (
    ConnectionUnusable,
    PermanentFailure,
    TransientFailure,
    Transport,
    open_transport,
)

log = logging.getLogger("tidings.sending")

CONTROL_INTERVAL = 0.5  # seconds between looks at the campaign's status
# Connections whose bounces come back to us (to the VERP return path); an ESP handles its own.
VERP_KINDS = frozenset({ConnectionKind.SMTP, ConnectionKind.OUTBOX})


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- claiming and recording ------------------------------------------------------------------


def _due(campaign_id: int, now: Any) -> Any:
    return (
        Message.objects.filter(campaign_id=campaign_id, state=MessageState.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )


# Claiming on PostgreSQL, in one statement. The state is bounded as a row with the id rather than
# compared equal: with "state = 'queued'" the planner drops the campaign and the state from the
# ORDER BY and may walk the primary key from the first message of every campaign, filtering, which
# for a campaign planned after a million other messages took 750 ms a claim. Bounded this way the
# order is only the campaign's index's (campaign, state, id): the campaign's queued rows, in order.
_CLAIM_SQL = """
UPDATE sending_message SET lease_owner = %s, lease_until = %s
WHERE id IN (
    SELECT id FROM sending_message
    WHERE campaign_id = %s AND (state, id) >= (%s, 0) AND (state, id) <= (%s, 9223372036854775807)
        AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
        AND (lease_until IS NULL OR lease_until < %s)
    ORDER BY state, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
""".replace("sending_message", Message._meta.db_table)


def claim(campaign_id: int, *, owner: str, limit: int, lease_seconds: float) -> list[int]:
    """Lease up to ``limit`` due messages to ``owner``; returns their ids in order."""
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    if db_connection.vendor == "postgresql":
        queued = MessageState.QUEUED
        with db_connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [owner, until, campaign_id, queued, queued, now, now, limit])
            return sorted(row[0] for row in cursor.fetchall())
    with transaction.atomic():
        candidates = _due(campaign_id, now).order_by("id")
        if db_connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        # The same conditions again: a worker that read the same rows first has leased them.
        _due(campaign_id, now).filter(id__in=ids).update(lease_owner=owner, lease_until=until)
        return list(
            Message.objects.filter(id__in=ids, lease_owner=owner, lease_until=until)
            .order_by("id")
            .values_list("id", flat=True)
        )


def release(campaign_id: int, owner: str) -> int:
    """Give back the campaign's queued messages ``owner`` holds (on pause, cancel or a stop).
    (By the campaign's index: there is none on the owner, which changes with every claim.)"""
    return Message.objects.filter(
        campaign_id=campaign_id, state=MessageState.QUEUED, lease_owner=owner
    ).update(lease_owner="", lease_until=None)


@dataclass
class _Pushed:
    """A message the transport took, not yet marked sent: at most one per sender at any moment."""

    message_id: int
    contact_id: int | None
    provider_id: str
    attempts: int
    at: Any  # when it went out
    email: str = ""


_NOTHING_PUSHED = _Pushed(0, None, "", 0, None)

_SETTLE_SQL = """
WITH recorded AS (
    UPDATE sending_message SET state = %s, provider_message_id = %s, attempts = %s, error = '',
        sent_at = %s, updated_at = %s, lease_owner = '', lease_until = NULL
    WHERE id = %s AND lease_owner = %s
    RETURNING 1
)
SELECT (SELECT count(*) FROM recorded),
    EXISTS (SELECT 1 FROM sending_message WHERE id = %s AND lease_owner = %s AND state = %s)
""".replace("sending_message", Message._meta.db_table)


def _settle(pushed: _Pushed | None, owner: str, next_id: int | None) -> tuple[bool, bool]:
    """Mark the message just pushed sent (if ``owner`` still holds it), and see that the next one is
    still ``owner``'s to send (not cancelled, not taken over by another worker after our lease ran
    out); one round trip on PostgreSQL. Returns (recorded, next is ours); each True when not asked.

    The batch's leases are renewed every ``CONTROL_INTERVAL``, so the check needs no write."""
    if pushed is None and next_id is None:
        return True, True
    if db_connection.vendor == "postgresql":
        sent = pushed or _NOTHING_PUSHED
        with db_connection.cursor() as cursor:
            cursor.execute(
                _SETTLE_SQL,
                (
                    *(MessageState.SENT, sent.provider_id[:255], sent.attempts, sent.at, sent.at),
                    *(sent.message_id, owner, next_id or 0, owner, MessageState.QUEUED),
                ),
            )
            recorded, ours = cursor.fetchone()
        return (pushed is None or bool(recorded)), (next_id is None or bool(ours))
    with transaction.atomic():
        recorded = pushed is None or _record(
            pushed.message_id,
            owner,
            state=MessageState.SENT,
            provider_message_id=pushed.provider_id[:255],
            attempts=pushed.attempts,
            error="",
            sent_at=pushed.at,
        )
        ours = (
            next_id is None
            or Message.objects.filter(pk=next_id, lease_owner=owner, state=MessageState.QUEUED).exists()
        )
    return recorded, ours


def _record(message_id: int, owner: str, **values: Any) -> bool:
    """Write a message's outcome if ``owner`` still holds it; False if the lease was lost."""
    values.setdefault("lease_owner", "")
    values.setdefault("lease_until", None)
    values["updated_at"] = timezone.now()
    return bool(Message.objects.filter(pk=message_id, lease_owner=owner).update(**values))


def backoff_seconds(attempts: int) -> float:
    """Capped exponential backoff: base, 2×base, 4×base… never over the cap."""
    return float(
        min(settings.SEND_RETRY_MAX_SECONDS, settings.SEND_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    )


class Throttle:
    """A connection's messages-per-second limit, shared by every worker through one row."""

    def __init__(self, connection: ProviderConnection) -> None:
        self.connection_id = connection.pk
        self.rate = float(connection.rate_limit or 0)
        self.block = (
            max(1, int(self.rate / 10)) if self.rate else 0
        )  # slots reserved a tenth of a second at a time
        self.slots: list[float] = []

    def wait(self) -> None:
        if not self.rate:
            return
        if not self.slots:
            self.slots = self._reserve(self.block)
        slot = self.slots.pop(0)
        delay = slot - time.time()
        if delay > 0:
            time.sleep(delay)

    def _reserve(self, n: int) -> list[float]:
        span = n / self.rate
        with transaction.atomic():
            ConnectionThrottle.objects.get_or_create(connection_id=self.connection_id)
            now = time.time()
            # Slots follow on from the last block, so a worker a little behind its slots catches
            # up and the average holds to the limit; after an idle spell (more than a block
            # behind) they start from now, so an idle connection never turns into a burst.
            ConnectionThrottle.objects.filter(connection_id=self.connection_id).update(
                next_slot=Case(When(next_slot__lt=now - span, then=Value(now)), default=F("next_slot")) + span
            )
            end = ConnectionThrottle.objects.values_list("next_slot", flat=True).get(
                connection_id=self.connection_id
            )
        start = end - span
        return [start + i / self.rate for i in range(n)]


# -- the worker loop -----------------------------------------------------------------------


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    stopped: str = ""  # why the loop ended: done | paused | cancelled | failed | waiting | lost
    next_attempt_in: float | None = None


def _recipients(ids: list[int], campaign: Campaign) -> list[tuple[Message, Contact | None, bool]]:
    """The claimed messages with each contact as it is now, and its topic choice."""
    messages = list(Message.objects.filter(id__in=ids).order_by("id"))
    contact_ids = [m.contact_id for m in messages if m.contact_id]
    contacts = {c.pk: c for c in with_opt_out(Contact.objects.filter(pk__in=contact_ids), campaign.topic)}
    return [
        (
            m,
            contacts.get(m.contact_id) if m.contact_id else None,
            bool(getattr(contacts.get(m.contact_id), "topic_opted_out", False)),
        )
        for m in messages
    ]


def _campaign_state(campaign_id: int) -> str:
    return Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)


def run_campaign(
    campaign: Campaign, *, owner: str | None = None, max_seconds: float | None = None
) -> RunResult:
    """Send the campaign's due messages until none is left, it is paused or cancelled, or time is up."""
    owner = owner or worker_name()
    result = RunResult()
    connection = campaign.connection
    if connection is None:
        _fail_campaign(campaign, "the campaign has no provider connection")
        result.stopped = "failed"
        return result
    try:
        transport = open_transport(connection)
        builder = MessageBuilder(
            campaign,
            signs=transport.signs,
            verp=connection.kind in VERP_KINDS,
            outbox=connection.kind == ConnectionKind.OUTBOX,
        )
    except Exception as exc:
        # Nothing can be sent as the campaign stands (unreadable secrets, a design that no
        # longer renders): say why and keep every message queued for a resume.
        _fail_campaign(campaign, f"the campaign could not be prepared: {exc}")
        result.stopped = "failed"
        return result
    throttle = Throttle(connection)
    lease = settings.SEND_LEASE_SECONDS
    batch = settings.SEND_BATCH_SIZE
    if throttle.rate:
        # Never hold more than half a lease's worth of messages at this rate.
        batch = max(1, min(batch, int(throttle.rate * lease / 2)))
    started = time.monotonic()
    try:
        while True:
            status = _campaign_state(campaign.pk)
            if status != CampaignStatus.SENDING:
                result.stopped = status
                return result
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                result.stopped = "time"
                return result
            ids = claim(campaign.pk, owner=owner, limit=batch, lease_seconds=lease)
            if not ids:
                result.stopped, result.next_attempt_in = _after_last(campaign)
                return result
            stop = _send_batch(campaign, ids, owner, builder, transport, throttle, result)
            if stop:
                result.stopped = stop
                return result
    finally:
        release(campaign.pk, owner)
        transport.close()


def _send_batch(
    campaign: Campaign,
    ids: list[int],
    owner: str,
    builder: MessageBuilder,
    transport: Transport,
    throttle: Throttle,
    result: RunResult,
) -> str:
    """Send one claimed batch; returns why it stopped early, or ''.

    A pushed message is marked sent in the same round trip that checks the next one is still to
    be sent (``_settle``), so a sender that dies leaves at most the message it pushed last unmarked.
    """
    sent_activity: list[Activity] = []
    sent: list[_Pushed] = []
    last_look = time.monotonic()
    pushed: _Pushed | None = None

    def settle(next_id: int | None) -> str:
        nonlocal pushed
        recorded, ours = _settle(pushed, owner, next_id)
        if pushed is not None:
            done, pushed = pushed, None
            if not recorded:
                log.warning("message %s was sent after its lease ran out", done.message_id)
                return "lost"  # the rest of the batch is another worker's now
            sent.append(done)
            if done.contact_id is not None:
                sent_activity.append(
                    Activity(done.contact_id, ActivityKind.SENT, done.at, campaign_id=campaign.pk)
                )
        # Cancelled meanwhile, or the lease ran out and another worker has it: leave it.
        return "" if ours else "lost"

    try:
        for message, contact, opted_out in _recipients(ids, campaign):
            if time.monotonic() - last_look > CONTROL_INTERVAL:
                last_look = time.monotonic()
                if stop := settle(None):
                    return stop
                status = _campaign_state(campaign.pk)
                if status != CampaignStatus.SENDING:
                    return status
                # The batch's own rows, by their ids: a million-message campaign is no slower.
                Message.objects.filter(id__in=ids, lease_owner=owner, state=MessageState.QUEUED).update(
                    lease_until=timezone.now() + timedelta(seconds=settings.SEND_LEASE_SECONDS)
                )
            reason = _recheck(message, contact, opted_out, campaign)
            if reason:
                if stop := settle(None):
                    return stop
                _record(message.pk, owner, state=MessageState.SKIPPED, skip_reason=reason)
                result.skipped += 1
                continue
            if stop := settle(message.pk):
                return stop
            outcome, pushed = _send_one(message, contact, owner, builder, transport, throttle, result)
            if outcome:
                return outcome
        return settle(None)
    finally:
        try:
            # An error on the way out: the message that went out is marked all the same.
            if pushed is not None:
                settle(None)
        except Exception:
            log.warning("message %s was sent but could not be marked", pushed.message_id, exc_info=True)
        finally:
            if sent_activity:
                activity_record(project=campaign.project_id, activities=sent_activity)
            if sent:
                _emit_sent(campaign, sent)


def _emit_sent(campaign: Campaign, sent: list[_Pushed]) -> None:
    """message.sent for the batch's messages, built only when an endpoint listens."""
    endpoints = hooks.listeners(campaign.project_id, "message.sent")
    if not endpoints:
        return
    hooks.emit_many(
        campaign.project_id,
        "message.sent",
        [
            {
                "messageId": done.message_id,
                "campaignId": campaign.pk,
                "contactId": done.contact_id,
                "email": done.email,
                "providerMessageId": done.provider_id,
                "sentAt": done.at.isoformat(),
            }
            for done in sent
        ],
        endpoints=endpoints,
    )


def _recheck(message: Message, contact: Contact | None, opted_out: bool, campaign: Campaign) -> str:
    if contact is None:
        if campaign.transactional and campaign.recipient_type == RecipientType.EMAIL:
            # A transactional send to an address that is no contact: unless it was erased since.
            erased = is_suppressed(project=campaign.project, email_key=message.email_key)
            return SkipReason.SUPPRESSED if erased else ""
        return SkipReason.NOT_A_CONTACT  # deleted (or erased) since the send was planned
    return skip_reason(status=contact.status, transactional=campaign.transactional, opted_out=opted_out)


def _send_one(
    message: Message,
    contact: Contact | None,
    owner: str,
    builder: MessageBuilder,
    transport: Transport,
    throttle: Throttle,
    result: RunResult,
) -> tuple[str, _Pushed | None]:
    """Build and push one message. A failure is written at once; a message that went out is
    returned to be marked sent by the next ``_settle``. The first value says why to stop, or ''."""
    try:
        try:
            outgoing, data = builder.build(message, contact, signed=transport.signs)
        except (PermanentFailure, assemble.AssemblyError):
            raise
        except Exception as exc:
            # This recipient's copy cannot be made (their data breaks a limit of the template,
            # say): fail this one message with the reason rather than stall the campaign on it.
            log.warning("message %s could not be built", message.pk, exc_info=True)
            detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
            raise PermanentFailure(f"the message could not be built: {detail}") from exc
        throttle.wait()
        try:
            provider_id = transport.push(outgoing, data)
        except (TransientFailure, PermanentFailure, ConnectionUnusable):
            raise
        except Exception as exc:
            # Anything else the transport did not expect: try again later, and give up after
            # the attempt limit, rather than crash the worker on this message again and again.
            log.warning("pushing message %s failed unexpectedly", message.pk, exc_info=True)
            raise TransientFailure(f"unexpected error: {type(exc).__name__}: {exc}") from exc
    except TransientFailure as exc:
        attempts = message.attempts + 1
        if attempts >= settings.SEND_MAX_ATTEMPTS:
            _record(message.pk, owner, state=MessageState.FAILED, attempts=attempts, error=exc.message)
            result.failed += 1
        else:
            delay = max(backoff_seconds(attempts), exc.retry_after or 0)
            _record(
                message.pk,
                owner,
                attempts=attempts,
                error=exc.message,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            )
            result.retried += 1
        return "", None
    except PermanentFailure as exc:
        _record(
            message.pk, owner, state=MessageState.FAILED, attempts=message.attempts + 1, error=exc.message
        )
        result.failed += 1
        if exc.bounce or exc.code.startswith("5.7"):
            _refusal_record(builder.campaign, message, exc)
        return "", None
    except ConnectionUnusable as exc:
        _fail_campaign(builder.campaign, exc.message)
        return "failed", None
    except assemble.AssemblyError as exc:
        _record(message.pk, owner, state=MessageState.FAILED, error=str(exc))
        result.failed += 1
        return "", None
    result.sent += 1
    return "", _Pushed(
        message.pk, message.contact_id, provider_id, message.attempts + 1, timezone.now(), message.email
    )


def _refusal_record(campaign: Campaign, message: Message, exc: PermanentFailure) -> None:
    """A refusal at sending is a bounce like one reported later: the address is suppressed, or
    (5.7.x, a policy refusal) the project is alerted."""
    from tidings.tracking.delivery import DeliveryEvent, delivery_event_record
    from tidings.tracking.models import BounceType, EventKind, EventSource

    delivery_event_record(
        project=campaign.project,
        event=DeliveryEvent(
            kind=EventKind.BOUNCED,
            message_id=message.pk,
            bounce_type="" if exc.code else BounceType.HARD,  # a code says which; else refused outright
            status_code=exc.code,
            detail=exc.message,
        ),
        source=EventSource.SMTP,
        connection_id=campaign.connection_id,
    )


def _fail_campaign(campaign: Campaign, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        failed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.FAILED, error=reason[:1000], updated_at=now
        )
        if failed:
            campaign.status, campaign.error = CampaignStatus.FAILED, reason[:1000]
            campaign.finished_at = now  # for the event: the campaign may still be resumed
            hooks.emit(campaign.project_id, "campaign.finished", hook_events.campaign_data(campaign))
    log.warning("campaign %s failed: %s", campaign.pk, reason)


def _after_last(campaign: Campaign) -> tuple[str, float | None]:
    """Nothing more to claim now: finished, waiting for retries, or held by another worker."""
    queued = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED)
    if not queued.exists():
        finish_if_done(campaign)
        return "done", None
    now = timezone.now()
    waiting = queued.filter(next_attempt_at__gt=now).order_by("next_attempt_at").first()
    if waiting is not None and waiting.next_attempt_at is not None:
        return "waiting", (waiting.next_attempt_at - now).total_seconds()
    return "held", None


def finish_if_done(campaign: Campaign) -> bool:
    """Mark a sending campaign sent (or failed, if nothing went out) once no message is queued."""
    if Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).exists():
        return False
    states = set(Message.objects.filter(campaign=campaign).values_list("state", flat=True).distinct())
    failed = MessageState.FAILED in states and MessageState.SENT not in states
    now = timezone.now()
    ended = {
        "status": CampaignStatus.FAILED if failed else CampaignStatus.SENT,
        "error": "every message failed" if failed else "",
        "finished_at": now,
    }
    with transaction.atomic():
        won = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
            **ended, updated_at=now
        )
        if won:
            for field, value in ended.items():
                setattr(campaign, field, value)
            hooks.emit(campaign.project_id, "campaign.finished", hook_events.campaign_data(campaign))
    return bool(won)
