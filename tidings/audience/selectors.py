"""Reads of contacts, tags and topics, and the GDPR export."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from tidings.audience.models import (
    Contact,
    ContactActivity,
    ContactTag,
    Suppression,
    SuppressionRemoval,
    Tag,
    Topic,
    TopicDefault,
    TopicSubscription,
)
from tidings.core.errors import ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped


def contact_list(
    *, project: Project, search: str | None = None, status: str | None = None, tag_id: int | None = None
) -> QuerySet[Contact]:
    """The project's contacts, optionally by email/name prefix, status and tag."""
    contacts = scoped(Contact, project)
    if search:
        term = search.strip()
        contacts = contacts.filter(
            Q(email_key__startswith=term.lower())
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
        )
    if status:
        contacts = contacts.filter(status=status)
    if tag_id is not None:
        tag = tag_get(project=project, tag_id=tag_id)
        contacts = contacts.filter(Exists(ContactTag.objects.filter(tag=tag, contact_id=OuterRef("pk"))))
    return contacts


def contact_get(*, project: Project, contact_id: int) -> Contact:
    return get_scoped(Contact, project, pk=contact_id)


def contact_get_by_email(*, project: Project, email: str) -> Contact:
    return get_scoped(Contact, project, email_key=(email or "").strip().lower())


def contact_tags(*, contact: Contact) -> QuerySet[Tag]:
    return (
        scoped(Tag, contact.project_id)
        .filter(pk__in=ContactTag.objects.filter(contact=contact).values("tag_id"))
        .order_by("name")
    )


def tag_list(*, project: Project) -> QuerySet[Tag]:
    """Tags with ``contact_count``."""
    return scoped(Tag, project).annotate(contact_count=Count("contacts")).order_by("name")


def tag_get(*, project: Project, tag_id: int) -> Tag:
    return get_scoped(Tag.objects.annotate(contact_count=Count("contacts")), project, pk=tag_id)


def topic_list(*, project: Project) -> QuerySet[Topic]:
    return scoped(Topic, project).order_by("position", "id")


def topic_get(*, project: Project, topic_id: int) -> Topic:
    return get_scoped(Topic, project, pk=topic_id)


def contact_topics(*, contact: Contact) -> list[dict[str, Any]]:
    """Every active topic with the contact's effective state and whether it was chosen."""
    choices = dict(TopicSubscription.objects.filter(contact=contact).values_list("topic_id", "subscribed"))
    states = []
    for topic in topic_list(project=contact.project).filter(is_active=True):
        explicit = choices.get(topic.pk)
        default = topic.default_subscription == TopicDefault.OPT_OUT
        states.append(
            {
                "topic": topic,
                "subscribed": default if explicit is None else explicit,
                "explicit": explicit is not None,
            }
        )
    return states


def contact_gdpr_export(*, contact: Contact) -> dict[str, Any]:
    """Everything Tidings holds about the person, as plain JSON-ready data."""
    activity = (
        ContactActivity.objects.for_project(contact.project_id)
        .filter(contact=contact)
        .order_by("occurred_at")
    )
    return {
        "email": contact.email,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "company": contact.company,
        "phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "customFields": contact.custom_fields,
        "status": contact.status,
        "source": contact.source,
        "createdAt": contact.created_at.isoformat(),
        "updatedAt": contact.updated_at.isoformat(),
        "consent": {
            "at": contact.consent_at.isoformat() if contact.consent_at else None,
            "method": contact.consent_method,
            "ip": contact.consent_ip,
            "text": contact.consent_text,
        },
        "tags": [t.name for t in contact_tags(contact=contact)],
        "topics": [
            {"topic": s["topic"].name, "subscribed": s["subscribed"], "explicit": s["explicit"]}
            for s in contact_topics(contact=contact)
        ],
        "activity": [
            {"kind": a.kind, "campaignId": a.campaign_id, "at": a.occurred_at.isoformat()} for a in activity
        ],
        "project": {"name": contact.project.name, "postalAddress": contact.project.postal_address},
    }


def check_status(value: str | None) -> str | None:
    from tidings.audience.models import ContactStatus

    if value is not None and value not in ContactStatus.values:
        raise ValidationError.field("status", f"must be one of {', '.join(ContactStatus.values)}")
    return value


def suppression_list(
    *, project: Project, reason: str | None = None, search: str = ""
) -> QuerySet[Suppression]:
    """The project's suppression list, newest first; ``search`` matches part of an address."""
    found = scoped(Suppression, project).order_by("-created_at", "-id")
    if reason:
        found = found.filter(reason=reason)
    if search.strip():
        found = found.filter(email__icontains=search.strip())
    return found


def suppression_removals(*, project: Project) -> QuerySet[SuppressionRemoval]:
    return scoped(SuppressionRemoval, project).order_by("-removed_at", "-id")
