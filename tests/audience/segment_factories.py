"""Small factories for segment tests: contacts, tags, topics and activity rows, straight through the ORM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tidings.audience import segments
from tidings.audience.activity import Activity, activity_record
from tidings.audience.models import (
    Contact,
    ContactTag,
    Tag,
    Topic,
    TopicSubscription,
)
from tidings.core.models import Project

# Rules with relative times are evaluated at this moment in tests.
NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def make_contact(project: Project, email: str, **fields: Any) -> Contact:
    fields.setdefault("created_at", NOW - timedelta(days=1))
    return Contact.objects.create(project=project, email=email, email_key=email.lower(), **fields)


def make_tag(project: Project, name: str) -> Tag:
    return Tag.objects.create(project=project, name=name)


def tag(contact: Contact, *tags: Tag) -> None:
    for each in tags:
        ContactTag.objects.create(contact=contact, tag=each)


def make_topic(project: Project, name: str, default: str) -> Topic:
    return Topic.objects.create(project=project, name=name, default_subscription=default)


def choose(contact: Contact, topic: Topic, *, subscribed: bool) -> None:
    TopicSubscription.objects.create(contact=contact, topic=topic, subscribed=subscribed)


def act(contact: Contact, kind: str, *, days_ago: float, campaign_id: int | None = None) -> None:
    activity_record(
        project=contact.project_id,
        activities=[Activity(contact.pk, kind, NOW - timedelta(days=days_ago), campaign_id)],
    )


def one(condition: dict[str, Any], match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": [condition]}


def field(name: str, operator: str, *value: Any) -> dict[str, Any]:
    """A field condition; the value is left out when none is given (is_set, is_not_set)."""
    condition: dict[str, Any] = {"type": "field", "field": name, "operator": operator}
    if value:
        condition["value"] = value[0]
    return condition


def members(project: Project, filters: Any) -> set[str]:
    """The emails the rules select in ``project``, evaluated at ``NOW``."""
    return set(
        segments.segment_contacts(project=project, filters=filters, now=NOW).values_list("email", flat=True)
    )
