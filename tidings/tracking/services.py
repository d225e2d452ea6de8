"""What a recipient does from a message: unsubscribe, and choose topics.

Both act at once: the send pipeline re-reads a contact's status and topic
choices just before each message, so nothing more is sent to someone who has
just said no, also not the queued rest of a running campaign.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tidings.audience.models import Contact, ContactStatus, Topic, TopicVisibility
from tidings.audience.selectors import contact_topics
from tidings.audience.services import topic_set_subscription
from tidings.core.errors import NotFound
from tidings.core.models import Project
from tidings.tracking.tokens import BadToken, Recipient, read_token


def recipient_from_token(token: str) -> tuple[Project, Contact, Recipient]:
    """The project and contact a token names; NotFound for a forged, changed or stale token."""
    try:
        recipient = read_token(token)
    except BadToken as exc:
        raise NotFound("this link is not valid") from exc
    contact = (
        Contact.objects.select_related("project")
        .filter(project_id=recipient.project_id, pk=recipient.contact_id)
        .first()
    )
    if contact is None:
        raise NotFound("this link is not valid")
    return contact.project, contact, recipient


def unsubscribe(*, contact: Contact) -> bool:
    """Unsubscribe from all marketing mail; True if it changed anything (again is fine)."""
    if contact.status != ContactStatus.SUBSCRIBED:
        return False
    changed = Contact.objects.filter(pk=contact.pk, status=ContactStatus.SUBSCRIBED).update(
        status=ContactStatus.UNSUBSCRIBED, updated_at=timezone.now()
    )
    contact.status = ContactStatus.UNSUBSCRIBED
    return bool(changed)


def resubscribe(*, contact: Contact) -> bool:
    """Undo one's own unsubscribe from the preference center. Bounced and complained stay."""
    changed = Contact.objects.filter(pk=contact.pk, status=ContactStatus.UNSUBSCRIBED).update(
        status=ContactStatus.SUBSCRIBED,
        updated_at=timezone.now(),
        consent_method="preference center",
        consent_at=timezone.now(),
    )
    if changed:
        contact.status = ContactStatus.SUBSCRIBED
    return bool(changed)


def public_topics(*, contact: Contact) -> list[dict[str, Any]]:
    return [t for t in contact_topics(contact=contact) if t["topic"].visibility == TopicVisibility.PUBLIC]


@transaction.atomic
def topics_choose(*, contact: Contact, chosen: set[int]) -> None:
    """Set every public topic: subscribed if its id is in ``chosen``, else not."""
    for state in public_topics(contact=contact):
        topic: Topic = state["topic"]
        wanted = topic.pk in chosen
        if wanted != state["subscribed"] or not state["explicit"]:
            topic_set_subscription(topic=topic, contact=contact, subscribed=wanted)


# -- opens and clicks -------------------------------------------------------------------------------


def clean_agent(user_agent: str) -> str:
    """A user agent as stored: printable characters only, 500 at most (anyone can send anything)."""
    return "".join(c for c in user_agent if c.isprintable())[:500]


def tracked_message(token: str) -> tuple[Any, int]:
    """The message a pixel or link token names, and the link number; NotFound if forged or gone."""
    from tidings.sending.models import Message
    from tidings.tracking.tokens import read_message_token

    try:
        tracked = read_message_token(token)
    except BadToken as exc:
        raise NotFound("this link is not valid") from exc
    message = (
        Message.objects.select_related("campaign", "project")
        .filter(pk=tracked.message_id, project_id=tracked.project_id)
        .first()
    )
    if message is None:
        raise NotFound("this link is not valid")
    return message, tracked.link


def link_target(message: Any, number: int) -> Any:
    """The stored link of the message's campaign; NotFound for a number it does not have."""
    from tidings.tracking.models import TrackedLink

    link = TrackedLink.objects.filter(campaign_id=message.campaign_id, index=number).first()
    if link is None:
        raise NotFound("this link is not valid")
    return link


def event_record(
    *, message: Any, kind: str, link: Any = None, user_agent: str, ip: str | None, method: str = "GET"
) -> Any:
    """Store one open or click; a person's first of each kind also counts as the contact's activity."""
    from tidings.audience.activity import Activity, activity_record
    from tidings.tracking.machines import is_machine
    from tidings.tracking.models import TrackingEvent

    now = timezone.now()
    user_agent = clean_agent(user_agent)
    machine = is_machine(user_agent=user_agent, kind=kind, method=method, sent_at=message.sent_at, now=now)
    first = (
        not machine and not TrackingEvent.objects.filter(message=message, kind=kind, machine=False).exists()
    )
    event = TrackingEvent.objects.create(
        project_id=message.project_id,
        campaign_id=message.campaign_id,
        message=message,
        contact_id=message.contact_id,
        kind=kind,
        link=link,
        occurred_at=now,
        user_agent=user_agent,
        ip=ip if message.project.store_ip else None,
        machine=machine,
    )
    if first and message.contact_id is not None:
        activity_record(
            project=message.project_id,
            activities=[Activity(message.contact_id, kind, now, campaign_id=message.campaign_id)],
        )
    return event


def unsubscribe_event(*, recipient: Recipient, contact: Contact, user_agent: str = "") -> None:
    """Count an unsubscribe for the campaign whose message carried the link (if it still exists)."""
    from tidings.sending.models import Message
    from tidings.tracking.models import EventKind, TrackingEvent

    if recipient.campaign_id is None:
        return
    message = Message.objects.filter(campaign_id=recipient.campaign_id, contact_id=contact.pk).first()
    if message is None:
        return
    TrackingEvent.objects.create(
        project_id=contact.project_id,
        campaign_id=message.campaign_id,
        message=message,
        contact_id=contact.pk,
        kind=EventKind.UNSUBSCRIBED,
        occurred_at=timezone.now(),
        user_agent=clean_agent(user_agent),
    )
