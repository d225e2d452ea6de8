"""Checking a segment's rule tree: untrusted JSON in, a normalised copy (or field errors) out.

The tree is small by design (at most 3 nested groups and 50 conditions), and
the checker never descends past those limits, so a hostile input (a deep
nest, a huge list, a megabyte string) costs no more than a valid one. Whether
the tag and topic ids belong to the project is checked by the caller with one
query (``segments.py``); this module needs no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_PREFIX
from tidings.audience.models import ActivityKind, ContactStatus
from tidings.audience.validation import CUSTOM_KEY, ISO_DATE, parse_when
from tidings.core.errors import FieldError, ValidationError

MAX_DEPTH = 3  # groups, the root included
MAX_CONDITIONS = 50
MAX_IDS = 100  # tag ids in one condition
MAX_TEXT = 1000
MAX_DAYS = 36_500
MAX_ID = 2**63 - 1  # a database bigint
MAX_ERRORS = 20
# Numbers beyond this are not compared, on either database (SQLite reads them as infinity).
NUMBER_LIMIT = 1e30

MATCHES = ("all", "any")
TEXT_OPERATORS = ("is", "is_not", "contains", "not_contains", "starts_with", "ends_with")
NUMBER_OPERATORS = ("gt", "gte", "lt", "lte", "between")
DATE_OPERATORS = ("before", "after", "on", "between", "within_last", "not_within_last")
PRESENCE_OPERATORS = ("is_set", "is_not_set")

# Which operators each kind of field takes. Custom fields hold any JSON value,
# so they take every operator; the value says whether `is` and `between`
# compare text, numbers, booleans or dates.
FIELD_OPERATORS: dict[str, tuple[str, ...]] = {
    "text": TEXT_OPERATORS + PRESENCE_OPERATORS,
    "date": DATE_OPERATORS,
    "custom": tuple(dict.fromkeys(TEXT_OPERATORS + NUMBER_OPERATORS + DATE_OPERATORS + PRESENCE_OPERATORS)),
}
RULE_FIELDS = tuple(name for name, f in CONTACT_FIELDS.items() if f.type in ("text", "date"))
STATUSES = tuple(ContactStatus.values)
ACTIVITIES = tuple(ActivityKind.values)
ACTIVITY_OPERATORS = ("within", "not_within", "before", "never")
TAG_OPERATORS = ("has_any", "has_none")
STATUS_OPERATORS = ("is", "is_not")
TOPIC_OPERATORS = ("subscribed", "not_subscribed")

# Keys each condition type takes: (required, optional).
CONDITION_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "field": (frozenset({"type", "field", "operator"}), frozenset({"value"})),
    "tag": (frozenset({"type", "operator", "value"}), frozenset()),
    "status": (frozenset({"type", "operator", "value"}), frozenset()),
    "topic": (frozenset({"type", "operator", "value"}), frozenset()),
    "activity": (frozenset({"type", "activity", "operator"}), frozenset({"days", "campaignId"})),
}
GROUP_KEYS = frozenset({"match", "conditions"})


class Invalid(ValueError):
    """One problem at one path of the tree."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class TooManyErrors(Exception):
    pass


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def _shown(raw: Any, limit: int = 40) -> str:
    """A user's value quoted in a message, cut short: messages never echo a megabyte back."""
    text = raw if isinstance(raw, str) else repr(raw)
    return repr(text[:limit] + "…" if len(text) > limit else text)


def _key_path(path: str, key: Any) -> str:
    name = key if isinstance(key, str) else repr(key)
    return f"{path}.{name[:40]}{'…' if len(name) > 40 else ''}"


# -- values -------------------------------------------------------------------------


def is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def clean_number(raw: Any) -> int | float:
    if not is_number(raw):
        raise ValueError("must be a number")
    try:
        finite = math.isfinite(raw)
    except OverflowError:  # an int too big for a float
        finite = False
    if not finite:
        raise ValueError("must be a finite number")
    if abs(raw) > NUMBER_LIMIT:
        raise ValueError("must be a number from -1e30 to 1e30")
    return raw


def clean_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be text")
    if len(raw) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    text = raw.strip()
    if not text:
        raise ValueError("must not be empty (to find contacts without a value, use is_not_set)")
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def clean_date(raw: Any) -> str:
    """An ISO date stays a date (a whole UTC day); a date-time becomes UTC, to the second."""
    if not isinstance(raw, str) or len(raw) > 64:
        raise ValueError("must be an ISO 8601 date such as 2024-05-31 or a date-time")
    when = parse_when(raw)
    if ISO_DATE.fullmatch(raw.strip()):
        return when.date().isoformat()
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def clean_pair(raw: Any, clean: Any, what: str) -> list[Any]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise ValueError(f"must be a list of two {what}: [from, to]")
    low, high = clean(raw[0]), clean(raw[1])
    order = parse_when if clean is clean_date else float  # a date sorts as its midnight
    if order(low) > order(high):
        raise ValueError("the first value must not be greater than the second")
    return [low, high]


def clean_days(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_DAYS:
        raise ValueError(f"must be a whole number of days from 1 to {MAX_DAYS}")
    return raw


def clean_id(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_ID:
        raise ValueError("must be an id (a positive whole number)")
    return raw


def clean_custom_equal(raw: Any) -> str | int | float | bool:
    if isinstance(raw, bool):
        return raw
    if is_number(raw):
        return clean_number(raw)
    if isinstance(raw, str):
        return clean_text(raw)
    raise ValueError("must be text, a number or true/false")


def clean_custom_between(raw: Any) -> list[Any]:
    if isinstance(raw, list) and len(raw) == 2 and all(is_number(v) for v in raw):
        return clean_pair(raw, clean_number, "numbers")
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, str) for v in raw):
        return clean_pair(raw, clean_date, "dates")
    raise ValueError("must be [low, high] numbers or [from, to] ISO dates")


def field_value_cleaner(kind: str, operator: str) -> Any:
    """The cleaner of a field condition's value; None when the operator takes no value."""
    if operator in PRESENCE_OPERATORS:
        return None
    if operator in ("within_last", "not_within_last"):
        return clean_days
    if operator in ("before", "after", "on"):
        return clean_date
    if operator == "between":
        return clean_custom_between if kind == "custom" else lambda v: clean_pair(v, clean_date, "dates")
    if operator in ("gt", "gte", "lt", "lte"):
        return clean_number
    if kind == "custom" and operator in ("is", "is_not"):
        return clean_custom_equal
    return clean_text


# -- the tree -----------------------------------------------------------------------


@dataclass
class Rules:
    """A checked rule tree and the ids it names, to be matched against the project."""

    filters: dict[str, Any]
    tag_paths: dict[int, list[str]] = field(default_factory=dict)
    topic_paths: dict[int, list[str]] = field(default_factory=dict)
    conditions: int = 0


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.rules = Rules(filters={})

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))
        if len(self.errors) >= MAX_ERRORS:
            raise TooManyErrors

    def keys(
        self, node: dict[Any, Any], path: str, required: frozenset[str], optional: frozenset[str]
    ) -> bool:
        ok = True
        for key in node:
            if key not in required and key not in optional:
                self.fail(_key_path(path, key), "is not a known key here")
                ok = False
        for key in sorted(required - node.keys()):
            self.fail(f"{path}.{key}", "is required")
            ok = False
        return ok

    def group(self, node: dict[Any, Any], path: str, depth: int) -> dict[str, Any] | None:
        if depth > MAX_DEPTH:
            self.fail(path, f"groups may nest at most {MAX_DEPTH} deep (the outer group counts)")
            return None
        if not self.keys(node, path, GROUP_KEYS, frozenset()):
            return None
        match, conditions = node["match"], node["conditions"]
        if match not in MATCHES:
            self.fail(f"{path}.match", f"must be one of {_one_of(MATCHES)}")
        if not isinstance(conditions, list):
            self.fail(f"{path}.conditions", "must be a list of conditions and groups")
            return None
        if len(conditions) > MAX_CONDITIONS:
            self.fail(f"{path}.conditions", f"must hold at most {MAX_CONDITIONS} conditions")
            return None
        clean = []
        for index, child in enumerate(conditions):
            out = self.node(child, f"{path}.conditions[{index}]", depth)
            if out is not None:
                clean.append(out)
        return {"match": match, "conditions": clean}

    def node(self, node: Any, path: str, depth: int) -> dict[str, Any] | None:
        if not isinstance(node, dict):
            self.fail(
                path, "must be an object: a condition (with a type) or a group (with match and conditions)"
            )
            return None
        if "type" not in node and ("match" in node or "conditions" in node):
            return self.group(node, path, depth + 1)
        kind = node.get("type")
        if not isinstance(kind, str) or kind not in CONDITION_KEYS:
            where = f"{path}.type" if "type" in node else path
            message = f"must be one of {_one_of(tuple(CONDITION_KEYS))}"
            self.fail(where, message if "type" in node else "must have a type, or match and conditions")
            return None
        self.rules.conditions += 1
        if self.rules.conditions > MAX_CONDITIONS:
            self.fail("filters", f"must hold at most {MAX_CONDITIONS} conditions in total")
            raise TooManyErrors
        if not self.keys(node, path, *CONDITION_KEYS[kind]):
            return None
        try:
            return getattr(self, f"condition_{kind}")(node, path)
        except Invalid as exc:
            self.fail(exc.path, exc.message)
            return None

    def operator(self, node: dict[str, Any], path: str, allowed: tuple[str, ...], what: str) -> str:
        operator = node["operator"]
        if not isinstance(operator, str) or operator not in allowed:
            raise Invalid(f"{path}.operator", f"must be one of {_one_of(allowed)} for {what}")
        return operator

    def condition_field(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        name = node["field"]
        if not isinstance(name, str) or len(name) > 100:
            raise Invalid(f"{path}.field", "must be a field name such as firstName or customFields.plan")
        if name == "status":
            raise Invalid(f"{path}.field", "status is not a field condition; use a condition of type status")
        if name.startswith(CUSTOM_PREFIX):
            if not CUSTOM_KEY.fullmatch(name[len(CUSTOM_PREFIX) :]):
                raise Invalid(
                    f"{path}.field",
                    "a custom field key starts with a letter or _ and holds only letters, digits and _ "
                    "(at most 64)",
                )
            kind = "custom"
        elif name in RULE_FIELDS:
            kind = CONTACT_FIELDS[name].type
        else:
            raise Invalid(
                f"{path}.field",
                f"unknown field {_shown(name)}; use one of {_one_of(RULE_FIELDS)} or customFields.<key>",
            )
        operator = self.operator(node, path, FIELD_OPERATORS[kind], name)
        clean: dict[str, Any] = {"type": "field", "field": name, "operator": operator}
        cleaner = field_value_cleaner(kind, operator)
        if cleaner is None:
            if node.get("value") is not None:
                raise Invalid(f"{path}.value", f"must not be given for {operator}")
            return clean
        if "value" not in node:
            raise Invalid(f"{path}.value", f"is required for {operator}")
        try:
            clean["value"] = cleaner(node["value"])
        except ValueError as exc:
            raise Invalid(f"{path}.value", str(exc)) from exc
        return clean

    def condition_tag(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        operator = self.operator(node, path, TAG_OPERATORS, "a tag condition")
        raw = node["value"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_IDS:
            raise Invalid(f"{path}.value", f"must be a list of 1 to {MAX_IDS} tag ids")
        ids: list[int] = []
        for index, item in enumerate(raw):
            try:
                tag_id = clean_id(item)
            except ValueError as exc:
                raise Invalid(f"{path}.value[{index}]", str(exc)) from exc
            if tag_id not in ids:
                ids.append(tag_id)
                self.rules.tag_paths.setdefault(tag_id, []).append(f"{path}.value[{index}]")
        return {"type": "tag", "operator": operator, "value": ids}

    def condition_status(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        operator = self.operator(node, path, STATUS_OPERATORS, "a status condition")
        raw = node["value"]
        message = f"must be one of {_one_of(STATUSES)}, or a list of them"
        if isinstance(raw, str):
            if raw not in STATUSES:
                raise Invalid(f"{path}.value", message)
            return {"type": "status", "operator": operator, "value": raw}
        if not isinstance(raw, list) or not 1 <= len(raw) <= len(STATUSES) * 2:
            raise Invalid(f"{path}.value", message)
        for index, item in enumerate(raw):
            if not isinstance(item, str) or item not in STATUSES:
                raise Invalid(f"{path}.value[{index}]", f"must be one of {_one_of(STATUSES)}")
        return {"type": "status", "operator": operator, "value": list(dict.fromkeys(raw))}

    def condition_topic(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        operator = self.operator(node, path, TOPIC_OPERATORS, "a topic condition")
        try:
            topic_id = clean_id(node["value"])
        except ValueError as exc:
            raise Invalid(f"{path}.value", "must be a topic id (a positive whole number)") from exc
        self.rules.topic_paths.setdefault(topic_id, []).append(f"{path}.value")
        return {"type": "topic", "operator": operator, "value": topic_id}

    def condition_activity(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        activity = node["activity"]
        if not isinstance(activity, str) or activity not in ACTIVITIES:
            raise Invalid(f"{path}.activity", f"must be one of {_one_of(ACTIVITIES)}")
        operator = self.operator(node, path, ACTIVITY_OPERATORS, "an activity condition")
        clean: dict[str, Any] = {"type": "activity", "activity": activity, "operator": operator}
        if operator == "never":
            if node.get("days") is not None:
                raise Invalid(f"{path}.days", "must not be given for never")
        elif "days" not in node:
            raise Invalid(f"{path}.days", f"is required for {operator}")
        else:
            try:
                clean["days"] = clean_days(node["days"])
            except ValueError as exc:
                raise Invalid(f"{path}.days", str(exc)) from exc
        if node.get("campaignId") is not None:
            try:
                clean["campaignId"] = clean_id(node["campaignId"])
            except ValueError as exc:
                raise Invalid(
                    f"{path}.campaignId", "must be a campaign id (a positive whole number)"
                ) from exc
        return clean


EMPTY: dict[str, Any] = {"match": "all", "conditions": []}


def check_rules(filters: Any, path: str = "filters") -> Rules:
    """The normalised tree and the tag and topic ids it names; ``ValidationError`` with paths if not valid.

    ``{}`` (and a root group without conditions) means everyone in the project.
    """
    checker = _Checker()
    if not isinstance(filters, dict):
        raise ValidationError.field(path, "must be an object: a group with match and conditions, or {}")
    if "type" in filters and "conditions" not in filters:
        raise ValidationError.field(
            path, 'the outer level must be a group: {"match": "all", "conditions": [...]}'
        )
    try:
        clean = {**EMPTY} if filters == {} else checker.group(filters, path, 1)
    except TooManyErrors:
        clean = None
    if checker.errors or clean is None:
        raise ValidationError(checker.errors or [FieldError(path, "is not a valid rule tree")])
    checker.rules.filters = clean
    return checker.rules
