"""What the visual rule builder offers: fields, operators and values, in people's words.

The rule format and its limits are ``tidings.audience.segment_rules``'s; this
module only labels them and lists the project's tags and topics, as one JSON
document the builder script reads.
"""

from __future__ import annotations

from typing import Any

from tidings.audience import segment_rules as rules
from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_PREFIX
from tidings.audience.models import ActivityKind, ContactStatus, Tag, Topic

FIELD_LABELS = {
    "email": "Email",
    "firstName": "First name",
    "lastName": "Last name",
    "company": "Company",
    "phone": "Phone",
    "country": "Country",
    "language": "Language",
    "source": "Source",
    "createdAt": "Signed up",
}

OPERATOR_LABELS = {
    "is": "is",
    "is_not": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "is_set": "is set",
    "is_not_set": "is not set",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "before": "is before",
    "after": "is after",
    "on": "is on",
    "within_last": "is within the last",
    "not_within_last": "is not within the last",
}

CONDITION_TYPES = [
    ("field", "Field"),
    ("tag", "Tag"),
    ("status", "Status"),
    ("topic", "Topic"),
    ("activity", "Activity"),
]
TAG_OPERATORS = [("has_any", "has any of"), ("has_none", "has none of")]
STATUS_OPERATORS = [("is", "is"), ("is_not", "is not")]
TOPIC_OPERATORS = [("subscribed", "is subscribed to"), ("not_subscribed", "is not subscribed to")]
ACTIVITY_OPERATORS = [
    ("within", "in the last"),
    ("not_within", "not in the last"),
    ("before", "more than … ago"),
    ("never", "never"),
]


def _operators(kind: str) -> list[tuple[str, str]]:
    return [(op, OPERATOR_LABELS[op]) for op in rules.FIELD_OPERATORS[kind]]


def builder_options(*, tags: list[Tag], topics: list[Topic]) -> dict[str, Any]:
    """Everything the builder's selects offer, for this project."""
    return {
        "maxDepth": rules.MAX_DEPTH,
        "customPrefix": CUSTOM_PREFIX,
        "types": CONDITION_TYPES,
        "fields": [
            {"name": name, "label": FIELD_LABELS.get(name, name), "kind": CONTACT_FIELDS[name].type}
            for name in rules.RULE_FIELDS
        ],
        "fieldOperators": {kind: _operators(kind) for kind in rules.FIELD_OPERATORS},
        "tagOperators": TAG_OPERATORS,
        "statusOperators": STATUS_OPERATORS,
        "topicOperators": TOPIC_OPERATORS,
        "activityOperators": ACTIVITY_OPERATORS,
        "statuses": ContactStatus.choices,
        "activities": ActivityKind.choices,
        "tags": [[t.pk, t.name] for t in tags],
        "topics": [[t.pk, t.name] for t in topics],
    }
