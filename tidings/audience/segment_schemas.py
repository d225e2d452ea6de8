"""API shapes for segments. The rule tree (``filters``) is checked by the service, not here,
so every problem in it is reported with its exact path (``filters.conditions[1].operator``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from tidings.core.schemas import CamelIn, CamelSchema

FILTERS_DESCRIPTION = """\
The rule tree. A group is `{"match": "all" | "any", "conditions": [...]}`; the
outer level is a group, groups nest at most 3 deep, and a tree holds at most 50
conditions. `{}` (or a group with no conditions) means every contact.

Conditions:
- `{"type": "field", "field": "firstName", "operator": "contains", "value": "ann"}`:
  text fields (`email`, `firstName`, `lastName`, `company`, `phone`, `country`,
  `language`, `source`) take `is`, `is_not`, `contains`, `not_contains`,
  `starts_with`, `ends_with` (ignoring case), `is_set`, `is_not_set` (no value);
  `createdAt` takes `before`, `after`, `on` (an ISO date or date-time),
  `between` (`[from, to]`, inclusive), `within_last`, `not_within_last` (days);
  `customFields.<key>` takes all of these plus `gt`, `gte`, `lt`, `lte` and
  `between` with numbers, and `is`/`is_not` with a number or true/false.
- `{"type": "tag", "operator": "has_any" | "has_none", "value": [tagId, ...]}`
- `{"type": "status", "operator": "is" | "is_not", "value": "subscribed"}` (or a list of statuses)
- `{"type": "topic", "operator": "subscribed" | "not_subscribed", "value": topicId}`:
  the contact's own choice, else the topic's default.
- `{"type": "activity", "activity": "sent" | "opened" | "clicked",
  "operator": "within" | "not_within" | "before" | "never", "days": 30, "campaignId": 12}`
  (`days` for all but `never`; `campaignId` optional).
"""

FILTERS_EXAMPLE = {
    "match": "any",
    "conditions": [
        {
            "match": "all",
            "conditions": [
                {"type": "tag", "operator": "has_any", "value": [1]},
                {"type": "field", "field": "createdAt", "operator": "within_last", "value": 30},
            ],
        },
        {
            "match": "all",
            "conditions": [
                {"type": "status", "operator": "is", "value": "subscribed"},
                {"type": "activity", "activity": "opened", "operator": "not_within", "days": 60},
            ],
        },
    ],
}


def _filters_field(**kwargs: Any) -> Any:
    return Field(
        description=FILTERS_DESCRIPTION,
        examples=[FILTERS_EXAMPLE],
        json_schema_extra={"type": "object"},
        **kwargs,
    )


class SegmentIn(CamelIn):
    name: str = Field(examples=["Engaged VIPs"], description="Unique in the project, ignoring case.")
    description: str = ""
    filters: Any = _filters_field(default_factory=dict)


class SegmentPatch(CamelIn):
    name: str | None = None
    description: str | None = None
    filters: Any = _filters_field(default=None)


class SegmentOut(CamelSchema):
    id: int
    name: str
    description: str
    filters: dict[str, Any]
    count: int | None = Field(
        None,
        description="Contacts in the segment now. Null when its rules name a tag or topic that no "
        "longer exists (GET …/count says which).",
    )
    created_at: datetime
    updated_at: datetime


class SegmentCountOut(CamelSchema):
    count: int


class SegmentContactOut(CamelSchema):
    id: int
    email: str
    first_name: str
    last_name: str
    status: str


class SegmentSampleOut(CamelSchema):
    items: list[SegmentContactOut]


class SegmentPreviewIn(CamelIn):
    filters: Any = _filters_field(default_factory=dict)


class SegmentPreviewOut(CamelSchema):
    count: int
    sample: list[SegmentContactOut]
