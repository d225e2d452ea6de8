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
from tidings.audience.services import emit_contacts, topic_set_subscription
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


@transaction.atomic
def unsubscribe(*, contact: Contact) -> bool:
    """Unsubscribe from all marketing mail; True if it changed anything (again is fine)."""
    if contact.status != ContactStatus.SUBSCRIBED:
        return False
    now = timezone.now()
    changed = Contact.objects.filter(pk=contact.pk, status=ContactStatus.SUBSCRIBED).update(
        status=ContactStatus.UNSUBSCRIBED, updated_at=now
    )
    contact.status = ContactStatus.UNSUBSCRIBED
    if changed:
        contact.updated_at = now
        emit_contacts(contact.project_id, "contact.updated", [contact])
        emit_contacts(contact.project_id, "contact.unsubscribed", [contact])
    return bool(changed)


@transaction.atomic
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
        emit_contacts(contact.project_id, "contact.updated", [contact.pk])
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


def tracked(token: str) -> Any:
    """What a pixel or link token names (project, message, link number); NotFound if forged."""
    from tidings.tracking.tokens import read_message_token

    try:
        return read_message_token(token)
    except BadToken as exc:
        raise NotFound("this link is not valid") from exc


# A campaign's links by number, per process: a stored link never changes, so a click needs no
# query once its campaign's links are here. A number not yet here (a link numbered since) reloads.
_LINKS: dict[tuple[int, int], dict[int, tuple[int, str]]] = {}
_LINKS_CAMPAIGNS = 256


def _campaign_link(project_id: int, campaign_id: int, number: int) -> tuple[int, str] | None:
    from tidings.tracking.models import TrackedLink

    links = _LINKS.get((project_id, campaign_id))
    if links is None or number not in links:
        links = {
            index: (pk, url)
            for pk, index, url in TrackedLink.objects.filter(
                project_id=project_id, campaign_id=campaign_id
            ).values_list("pk", "index", "url")
        }
        if len(_LINKS) >= _LINKS_CAMPAIGNS:
            _LINKS.clear()
        _LINKS[project_id, campaign_id] = links
    return links.get(number)


def forget_links() -> None:
    """Drop the cached links (a test database reuses campaign ids after a rollback)."""
    _LINKS.clear()


def click_target(token: str) -> tuple[Any, int, str]:
    """The token, and the id and URL of the stored link it names: only ever a link of the
    message's own campaign. NotFound for a forged token, a pixel's, or a number it does not have."""
    hit = tracked(token)
    if hit.link == 0:
        raise NotFound("a pixel's token is no link")
    campaign_id = hit.campaign_id
    if campaign_id == 0:  # a token of older mail: its message names the campaign
        from tidings.sending.models import Message

        found = Message.objects.filter(pk=hit.message_id, project_id=hit.project_id).values_list(
            "campaign_id"
        )
        campaign_id = (found.first() or (0,))[0]
    link = _campaign_link(hit.project_id, campaign_id, hit.link) if campaign_id else None
    if link is None:
        raise NotFound("this link is not valid")
    return hit, link[0], link[1]


def hit_record(
    *, token: Any, kind: str, link_id: int | None, user_agent: str, ip: str | None, method: str
) -> None:
    """Hand one open or click to the recorder (written in the next batch)."""
    from tidings.tracking.recorder import Hit, recorder

    recorder.add(
        Hit(
            project_id=token.project_id,
            message_id=token.message_id,
            kind=kind,
            link_id=link_id,
            at=timezone.now(),
            user_agent=clean_agent(user_agent),
            ip=ip,
            method=method,
        )
    )


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
