"""Planning a send: one message row per recipient, in bulk, once.

Who may receive what is decided here and nowhere else, so the planner and the
worker's re-check just before each message apply the same rules:

- bounced and complained addresses receive nothing, ever;
- a marketing message goes only to ``subscribed`` contacts who have not opted
  out of its topic;
- a transactional message ignores subscription and topics.

Every recipient the campaign names gets a row: ``queued``, or ``skipped`` with
the reason, so a batch's result lists each excluded address and why. The row's
unique key (campaign, address) makes a second plan insert nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from tidings.audience.models import Contact, ContactStatus, Tag, Topic, TopicDefault, TopicSubscription
from tidings.audience.segments import segment_contacts, segment_get
from tidings.audience.selectors import tag_get
from tidings.campaigns.models import Campaign, RecipientType
from tidings.core.dbstats import LARGE_WRITE, analyze
from tidings.sending.models import Message, MessageState, SkipReason

_BULK = 2000

_STATUS_REASON = {
    ContactStatus.BOUNCED: SkipReason.BOUNCED,
    ContactStatus.COMPLAINED: SkipReason.COMPLAINED,
    ContactStatus.UNSUBSCRIBED: SkipReason.UNSUBSCRIBED,
    ContactStatus.NON_SUBSCRIBED: SkipReason.NON_SUBSCRIBED,
}
_SUPPRESSED_STATUSES = (ContactStatus.BOUNCED, ContactStatus.COMPLAINED)


def topic_opted_out(topic: Topic) -> Q:
    """Contacts whose effective choice for ``topic`` is "no" (an explicit row, else the default)."""
    if topic.default_subscription == TopicDefault.OPT_OUT:
        return Q(
            Exists(TopicSubscription.objects.filter(contact_id=OuterRef("pk"), topic=topic, subscribed=False))
        )
    return ~Q(
        Exists(TopicSubscription.objects.filter(contact_id=OuterRef("pk"), topic=topic, subscribed=True))
    )


def with_opt_out(contacts: QuerySet[Contact], topic: Topic | None) -> QuerySet[Contact]:
    if topic is None:
        return contacts
    return contacts.annotate(topic_opted_out=topic_opted_out(topic))


def skip_reason(*, status: str, transactional: bool, opted_out: bool = False) -> str:
    """Why this contact must not get the message now; "" when it may."""
    if status in _SUPPRESSED_STATUSES:
        return _STATUS_REASON[ContactStatus(status)]
    if transactional:
        return ""
    if status != ContactStatus.SUBSCRIBED:
        return _STATUS_REASON.get(ContactStatus(status), SkipReason.NON_SUBSCRIBED)
    if opted_out:
        return SkipReason.TOPIC_OPT_OUT
    return ""


def campaign_contacts(campaign: Campaign) -> QuerySet[Contact]:
    """Everyone the campaign names (before eligibility), from its segment or tag, as of now."""
    project = campaign.project
    if campaign.recipient_type == RecipientType.AUDIENCE:
        segment = segment_get(project=project, segment_id=campaign.recipient_id)
        return segment_contacts(project=project, filters=segment.filters)
    if campaign.recipient_type == RecipientType.TAG:
        tag: Tag = tag_get(project=project, tag_id=campaign.recipient_id)
        return Contact.objects.for_project(project).filter(tags=tag)
    return Contact.objects.for_project(project).filter(email_key=campaign.recipient_email.lower())


def _rows(campaign: Campaign) -> Iterator[tuple[int, str, str, str, bool]]:
    contacts = with_opt_out(campaign_contacts(campaign), campaign.topic)
    fields = ["id", "email", "email_key", "status"]
    if campaign.topic is not None:
        fields.append("topic_opted_out")
    for row in contacts.order_by("id").values_list(*fields).iterator(chunk_size=_BULK):
        yield (*row[:4], bool(row[4]) if len(row) > 4 else False)


def eligibility_counts(campaign: Campaign) -> tuple[int, dict[str, int]]:
    """How many would be queued now, and how many excluded for each reason."""
    excluded: Counter[str] = Counter()
    eligible = 0
    for _pk, _email, _key, status, opted_out in _rows(campaign):
        reason = skip_reason(status=status, transactional=campaign.transactional, opted_out=opted_out)
        if reason:
            excluded[reason] += 1
        else:
            eligible += 1
    return eligible, dict(excluded)


def skip_reason_expression(*, transactional: bool, opted_out: Any = None) -> Case:
    """``skip_reason`` as SQL, over a contacts query (``opted_out``: its topic opt-out
    annotation, or None): the same rules, so a campaign is planned in one statement."""
    whens = [
        When(status=status, then=Value(str(_STATUS_REASON[status])))
        for status in (ContactStatus.BOUNCED, ContactStatus.COMPLAINED)
    ]
    if not transactional:
        whens += [
            When(status=status, then=Value(str(reason)))
            for status, reason in _STATUS_REASON.items()
            if status not in _SUPPRESSED_STATUSES
        ]
        whens.append(When(~Q(status=ContactStatus.SUBSCRIBED), then=Value(str(SkipReason.NON_SUBSCRIBED))))
        if opted_out is not None:
            whens.append(When(opted_out, then=Value(str(SkipReason.TOPIC_OPT_OUT))))
    return Case(*whens, default=Value(""), output_field=CharField())


def plan_campaign(campaign: Campaign) -> tuple[int, dict[str, int]]:
    """Insert the campaign's message rows (call inside the transaction that starts it).

    One INSERT … SELECT over the campaign's contacts, each row's skip reason worked out
    in the same statement (``skip_reason_expression``): a million recipients are planned
    without a row passing through Python. Rows that exist already are left as they are.
    Returns how many are queued and the excluded count per reason.
    """
    contacts = campaign_contacts(campaign)
    opted_out = None
    if campaign.topic is not None:
        contacts = with_opt_out(contacts, campaign.topic)
        opted_out = Q(topic_opted_out=True)
    rows = contacts.annotate(
        plan_reason=skip_reason_expression(transactional=campaign.transactional, opted_out=opted_out)
    ).values_list("id", "email", "email_key", "plan_reason")
    select, params = rows.query.sql_with_params()
    table = Message._meta.db_table
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    columns = (
        "project_id, campaign_id, contact_id, email, email_key, state, skip_reason, attempts, "
        "lease_owner, provider_message_id, error, created_at, updated_at"
    )
    # The inner query is Django's own SQL for the contacts; every value is a parameter.
    head = "SELECT %s, %s, r.id, r.email, r.email_key, CASE WHEN r.plan_reason = '' THEN %s ELSE %s END, "
    picked = head + f"r.plan_reason, 0, '', '', '', %s, %s FROM ({select}) AS r"
    if connection.vendor == "postgresql":
        sql = f"INSERT INTO {table} ({columns}) {picked} ON CONFLICT DO NOTHING"
    else:
        sql = f"INSERT OR IGNORE INTO {table} ({columns}) {picked}"
    with connection.cursor() as cursor:
        states = [str(MessageState.QUEUED), str(MessageState.SKIPPED)]
        cursor.execute(sql, [campaign.project_id, campaign.pk, *states, stamp, stamp, *params])
    counts = (
        Message.objects.filter(campaign=campaign)
        .values_list("state", "skip_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    queued = 0
    excluded: dict[str, int] = {}
    for state, reason, n in counts:
        if state == MessageState.SKIPPED:
            excluded[reason] = excluded.get(reason, 0) + n
        elif state == MessageState.QUEUED:
            queued += n
    if queued + sum(excluded.values()) >= LARGE_WRITE:
        analyze(Message)  # the senders' claims are planned on these rows from the first second
    return queued, excluded


def plan_single(campaign: Campaign, *, email: str, contact: Contact | None, reason: str = "") -> Message:
    """The one message of a send to a single address (a contact or, transactional, anyone)."""
    message, _ = Message.objects.get_or_create(
        campaign=campaign,
        email_key=email.lower(),
        defaults={
            "project_id": campaign.project_id,
            "contact": contact,
            "email": email,
            "state": MessageState.SKIPPED if reason else MessageState.QUEUED,
            "skip_reason": reason,
        },
    )
    return message
