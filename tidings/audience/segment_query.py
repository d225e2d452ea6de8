"""Compiling a checked rule tree (``segment_rules``) to one condition on ``Contact``.

Everything becomes a ``Q`` over the contact row: tags, topics and activity are
``EXISTS`` subqueries, so no contact is counted twice and the whole segment is
one SQL statement. Values travel as query parameters, never as SQL text.

Semantics worth knowing:

- Text compares ignore case (``email`` through its lower-cased key; other
  fields with the database's case-insensitive lookups, which on SQLite fold
  ASCII letters only).
- A custom field that is missing (or null) is "not set" and matches no
  comparison; ``is_not`` and ``not_contains`` are the exact opposites of
  ``is`` and ``contains``, so they do match it.
- Custom numbers are JSON numbers or text holding a plain decimal (``"42"``,
  ``"-3.5"``), as a CSV import leaves them. Custom dates are text starting
  with an ISO date and compare by that date (UTC for date-time rule values).
  Text operators read a custom number as its text; booleans only match
  ``is``/``is_not`` true or false.
- ``createdAt`` compares exact instants; a date-only rule value is the whole
  UTC day (``after 2024-05-01`` starts on 2024-05-02).
- ``within_last N`` is the last N days up to now; ``not_within_last N`` is
  longer ago than that.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from django.db import NotSupportedError
from django.db.models import Case, CharField, Exists, F, FloatField, Func, OuterRef, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Abs, Cast, Length, Substr
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
    Regex,
)

from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_PREFIX
from tidings.audience.models import (
    LAST_ACTIVITY_COLUMN,
    ContactActivity,
    ContactTag,
    TopicDefault,
    TopicSubscription,
)
from tidings.audience.segment_rules import NUMBER_LIMIT, is_number
from tidings.audience.validation import ISO_DATE, parse_when
from tidings.core.scoping import scoped

DAY = timedelta(days=1)
# Text a custom number may be written as: bounded, so a cast can never overflow.
DECIMAL_TEXT = r"^[-+]?[0-9]{1,30}([.][0-9]{1,30})?$"
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"


class CustomFieldType(Func):
    """The JSON type of ``custom_fields[key]`` in the same words on every database:
    ``number``, ``string``, ``true``, ``false``, ``null``, ``array``, ``object`` or ``missing``."""

    output_field = CharField()

    def __init__(self, key: str) -> None:
        super().__init__(F("custom_fields"))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.get_source_expressions()[0])
        kind = f"json_type({column}, %s)"
        sql = (
            f"COALESCE(CASE {kind} WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
            f"WHEN 'text' THEN 'string' ELSE {kind} END, 'missing')"
        )
        path = connection.ops.compile_json_path([self.key])
        return sql, (*params, path, *params, path)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.get_source_expressions()[0])
        kind = f"jsonb_typeof({column} -> %s)"
        sql = f"COALESCE(CASE {kind} WHEN 'boolean' THEN ({column} ->> %s) ELSE {kind} END, 'missing')"
        return sql, (*params, self.key, *params, self.key, *params, self.key)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        raise NotSupportedError(
            f"segments on custom fields need SQLite or PostgreSQL, not {connection.vendor}"
        )


class Compiler:
    """One rule tree → one ``Q``. ``now`` is fixed per compile, so every condition agrees on it."""

    def __init__(self, *, project_id: int, topics: Mapping[int, str], now: datetime) -> None:
        self.project_id = project_id
        self.topics = topics
        self.now = now

    def compile(self, filters: dict[str, Any]) -> Q:
        return self.group(filters) or Q()

    def group(self, node: dict[str, Any]) -> Q | None:
        parts = [q for q in (self.node(child) for child in node["conditions"]) if q is not None]
        if not parts:
            return None  # an empty group adds no restriction
        return reduce(operator.and_ if node["match"] == "all" else operator.or_, parts)

    def node(self, node: dict[str, Any]) -> Q | None:
        if "conditions" in node:
            return self.group(node)
        return CONDITIONS[node["type"]](self, node)

    # -- condition types --------------------------------------------------------------

    def tag(self, node: dict[str, Any]) -> Q:
        tagged = Exists(ContactTag.objects.filter(contact_id=OuterRef("pk"), tag_id__in=node["value"]))
        return Q(tagged) if node["operator"] == "has_any" else ~Q(tagged)

    def status(self, node: dict[str, Any]) -> Q:
        value = node["value"]
        match = Q(status__in=value if isinstance(value, list) else [value])
        return match if node["operator"] == "is" else ~match

    def topic(self, node: dict[str, Any]) -> Q:
        topic_id = node["value"]
        # The effective choice: an explicit row if there is one, else the topic's default.
        # Opt-out topics count everyone but those who said no; opt-in ones only those who said yes.
        opt_out = self.topics[topic_id] == TopicDefault.OPT_OUT
        choice = Exists(
            TopicSubscription.objects.filter(
                contact_id=OuterRef("pk"), topic_id=topic_id, subscribed=not opt_out
            )
        )
        subscribed = ~Q(choice) if opt_out else Q(choice)
        return subscribed if node["operator"] == "subscribed" else ~subscribed

    def activity(self, node: dict[str, Any]) -> Q:
        op = node["operator"]
        if "campaignId" not in node and op != "before":
            # The contact row holds the latest event of each kind (kept by
            # audience.activity): no scan of the events at all.
            column = LAST_ACTIVITY_COLUMN[node["activity"]]
            if op == "never":
                return Q(**{f"{column}__isnull": True})
            recent = Q(**{f"{column}__gte": self.now - node["days"] * DAY})
            return recent if op == "within" else ~recent | Q(**{f"{column}__isnull": True})
        # The project filter is what lets PostgreSQL answer a large segment with
        # one pass over the project's own rows (activity_project_kind_time)
        # instead of one probe per contact.
        rows = scoped(ContactActivity, self.project_id).filter(
            contact_id=OuterRef("pk"), kind=node["activity"]
        )
        if "campaignId" in node:
            rows = rows.filter(campaign_id=node["campaignId"])
        if op in ("within", "not_within"):
            rows = rows.filter(occurred_at__gte=self.now - node["days"] * DAY)
        elif op == "before":
            rows = rows.filter(occurred_at__lt=self.now - node["days"] * DAY)
        happened = Q(Exists(rows))
        return happened if op in ("within", "before") else ~happened

    def field(self, node: dict[str, Any]) -> Q:
        name, op, value = node["field"], node["operator"], node.get("value")
        if name.startswith(CUSTOM_PREFIX):
            return custom_field(name.removeprefix(CUSTOM_PREFIX), op, value, self.now)
        if name == "email":
            return email_field(op, value)
        column = CONTACT_FIELDS[name].column
        if CONTACT_FIELDS[name].type == "date":
            return instant_field(column, op, value, self.now)
        return text_field(column, op, value)


CONDITIONS: dict[str, Callable[[Compiler, dict[str, Any]], Q]] = {
    "field": Compiler.field,
    "tag": Compiler.tag,
    "status": Compiler.status,
    "topic": Compiler.topic,
    "activity": Compiler.activity,
}

# Each text operator: (lookup on the column, negated?)
TEXT_LOOKUPS = {
    "is": ("iexact", False),
    "is_not": ("iexact", True),
    "contains": ("icontains", False),
    "not_contains": ("icontains", True),
    "starts_with": ("istartswith", False),
    "ends_with": ("iendswith", False),
}


def text_field(column: str, op: str, value: str | None) -> Q:
    if op in ("is_set", "is_not_set"):
        empty = Q(**{column: ""})
        return ~empty if op == "is_set" else empty
    lookup, negated = TEXT_LOOKUPS[op]
    match = Q(**{f"{column}__{lookup}": value})
    return ~match if negated else match


def email_field(op: str, value: str | None) -> Q:
    # email_key is the lower-cased address (indexed per project): compare there,
    # case-sensitively, against the lower-cased value — the same on both databases.
    if op in ("is_set", "is_not_set"):
        return text_field("email_key", op, value)
    lookup, negated = TEXT_LOOKUPS[op]
    match = Q(**{f"email_key__{lookup.removeprefix('i')}": (value or "").lower()})
    return ~match if negated else match


def day_bounds(value: str) -> tuple[datetime, datetime, bool]:
    """(start, end of its UTC day, whether the value was a whole day)."""
    when = parse_when(value)
    start_of_day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when, start_of_day + DAY, bool(ISO_DATE.fullmatch(value))


def instant_field(column: str, op: str, value: Any, now: datetime) -> Q:
    if op == "within_last":
        return Q(**{f"{column}__gte": now - value * DAY, f"{column}__lte": now})
    if op == "not_within_last":
        return Q(**{f"{column}__lt": now - value * DAY})
    if op == "between":
        low, _, _ = day_bounds(value[0])
        high, high_day_end, whole_day = day_bounds(value[1])
        upper = Q(**{f"{column}__lt": high_day_end}) if whole_day else Q(**{f"{column}__lte": high})
        return Q(**{f"{column}__gte": low}) & upper
    when, day_end, whole_day = day_bounds(value)
    if op == "before":
        return Q(**{f"{column}__lt": when})
    if op == "after":
        return Q(**{f"{column}__gte": day_end}) if whole_day else Q(**{f"{column}__gt": when})
    # on: the UTC day of the value
    return Q(**{f"{column}__gte": day_end - DAY, f"{column}__lt": day_end})


# -- custom fields ----------------------------------------------------------------------

CUSTOM_TEXT_LOOKUPS = {
    "is": IExact,
    "contains": IContains,
    "starts_with": IStartsWith,
    "ends_with": IEndsWith,
}
NUMBER_LOOKUPS = {
    "is": Exact,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
DATE_LOOKUPS = {"before": LessThan, "after": GreaterThan, "on": Exact}
NEGATIONS = {"is_not": "is", "not_contains": "contains"}


def custom_field(key: str, op: str, value: Any, now: datetime) -> Q:
    kind = CustomFieldType(key)
    text = KeyTextTransform(key, "custom_fields")
    if op in NEGATIONS:
        # Each positive match below is never NULL, so NOT is its exact complement.
        return ~custom_field(key, NEGATIONS[op], value, now)
    if op in ("is_set", "is_not_set"):
        empty_text = Q(Exact(kind, "string")) & Q(Exact(text, ""))
        is_set = ~Q(In(kind, ["missing", "null"])) & ~empty_text
        return is_set if op == "is_set" else ~is_set
    if op == "is" and isinstance(value, bool):
        return Q(Exact(kind, "true" if value else "false"))
    if (op in NUMBER_LOOKUPS and is_number(value)) or (op == "between" and is_number(value[0])):
        return custom_number(kind, text, op, value)
    if op in CUSTOM_TEXT_LOOKUPS:
        return Q(In(kind, ["string", "number"])) & Q(CUSTOM_TEXT_LOOKUPS[op](text, value))
    return custom_date(kind, text, op, value, now)


def custom_number(kind: CustomFieldType, text: KeyTextTransform, op: str, value: Any) -> Q:
    numeric = (Q(Exact(kind, "number")) & Q(LessThanOrEqual(Length(text), 40))) | (
        Q(Exact(kind, "string")) & Q(Regex(text, DECIMAL_TEXT))
    )
    # CASE keeps the cast away from rows that are not numbers: PostgreSQL does
    # not promise to test the guard before it casts.
    number = Case(When(numeric, then=Cast(text, FloatField())), default=None, output_field=FloatField())
    if op == "between":
        compare = Q(GreaterThanOrEqual(number, float(value[0]))) & Q(LessThanOrEqual(number, float(value[1])))
    else:
        compare = Q(NUMBER_LOOKUPS[op](number, float(value)))
    return numeric & Q(LessThanOrEqual(Abs(number), NUMBER_LIMIT)) & compare


def custom_date(kind: CustomFieldType, text: KeyTextTransform, op: str, value: Any, now: datetime) -> Q:
    dated = Q(Exact(kind, "string")) & Q(Regex(text, DATE_TEXT))
    day = Substr(text, 1, 10)

    def iso(raw: str | date) -> Value:
        as_date = raw if isinstance(raw, date) else parse_when(raw).date()
        return Value(as_date.isoformat())

    today = now.date()
    if op == "within_last":
        compare = Q(GreaterThanOrEqual(day, iso(today - value * DAY))) & Q(LessThanOrEqual(day, iso(today)))
    elif op == "not_within_last":
        compare = Q(LessThan(day, iso(today - value * DAY)))
    elif op == "between":
        compare = Q(GreaterThanOrEqual(day, iso(value[0]))) & Q(LessThanOrEqual(day, iso(value[1])))
    else:
        compare = Q(DATE_LOOKUPS[op](day, iso(value)))
    return dated & compare


def compile_rules(filters: dict[str, Any], *, project_id: int, topics: Mapping[int, str], now: datetime) -> Q:
    """The ``Q`` on ``Contact`` for a checked tree; ``topics`` maps each named topic to its default."""
    return Compiler(project_id=project_id, topics=topics, now=now).compile(filters)
