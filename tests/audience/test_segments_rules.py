"""Checking rule trees: exact error paths, normalised output, hostile input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.audience.segment_factories import field, one
from tidings.audience.segment_rules import check_rules
from tidings.core.errors import ValidationError


def errors_of(filters: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        check_rules(filters)
    return [(e.path, e.message) for e in caught.value.errors]


def nest(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for _ in range(depth):
        node = {"match": "all", "conditions": [node]}
    return node


STATUS = {"type": "status", "operator": "is", "value": "subscribed"}
TOO_DEEP = "groups may nest at most 3 deep (the outer group counts)"
NOT_A_NODE = "must be an object: a condition (with a type) or a group (with match and conditions)"
THIRD_LEVEL = "filters.conditions[0].conditions[0].conditions[0]"
VALUE = "filters.conditions[0].value"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, [("filters", "must be an object: a group with match and conditions, or {}")]),
        ([], [("filters", "must be an object: a group with match and conditions, or {}")]),
        ("everyone", [("filters", "must be an object: a group with match and conditions, or {}")]),
        (STATUS, [("filters", 'the outer level must be a group: {"match": "all", "conditions": [...]}')]),
        ({"match": "all"}, [("filters.conditions", "is required")]),
        ({"match": "some", "conditions": []}, [("filters.match", "must be one of all, any")]),
        (
            {"match": "all", "conditions": {}},
            [("filters.conditions", "must be a list of conditions and groups")],
        ),
        ({"match": "all", "conditions": [], "limit": 5}, [("filters.limit", "is not a known key here")]),
        (
            one("firstName"),
            [
                (
                    "filters.conditions[0]",
                    "must be an object: a condition (with a type) or a group (with match and conditions)",
                )
            ],
        ),
        (one({}), [("filters.conditions[0]", "must have a type, or match and conditions")]),
        (
            one({"type": "segment"}),
            [("filters.conditions[0].type", "must be one of field, tag, status, topic, activity")],
        ),
        (
            one({"type": "field", "field": "nickname", "operator": "is", "value": "x"}),
            [
                (
                    "filters.conditions[0].field",
                    "unknown field 'nickname'; use one of email, firstName, lastName, company, phone, "
                    "country, language, source, createdAt or customFields.<key>",
                )
            ],
        ),
        (
            one(field("status", "is", "subscribed")),
            [
                (
                    "filters.conditions[0].field",
                    "status is not a field condition; use a condition of type status",
                )
            ],
        ),
        (
            one(field("customFields.9lives", "is", "x")),
            [
                (
                    "filters.conditions[0].field",
                    "a custom field key starts with a letter or _ and holds only letters, digits and _ "
                    "(at most 64)",
                )
            ],
        ),
        (
            one(field("firstName", "gt", 3)),
            [
                (
                    "filters.conditions[0].operator",
                    "must be one of is, is_not, contains, not_contains, starts_with, ends_with, is_set, "
                    "is_not_set for firstName",
                )
            ],
        ),
        (
            one(field("createdAt", "contains", "2024")),
            [
                (
                    "filters.conditions[0].operator",
                    "must be one of before, after, on, between, within_last, not_within_last for createdAt",
                )
            ],
        ),
        (one(field("firstName", "is")), [("filters.conditions[0].value", "is required for is")]),
        (
            one(field("firstName", "is", "  ")),
            [
                (
                    "filters.conditions[0].value",
                    "must not be empty (to find contacts without a value, use is_not_set)",
                )
            ],
        ),
        (one(field("firstName", "is", 5)), [("filters.conditions[0].value", "must be text")]),
        (
            one(field("firstName", "is_set", "x")),
            [("filters.conditions[0].value", "must not be given for is_set")],
        ),
        (
            one({**field("firstName", "is", "x"), "extra": 1}),
            [("filters.conditions[0].extra", "is not a known key here")],
        ),
        (one(field("customFields.age", "gt", "10")), [("filters.conditions[0].value", "must be a number")]),
        (one(field("customFields.age", "gt", True)), [("filters.conditions[0].value", "must be a number")]),
        (
            one(field("customFields.age", "between", [10])),
            [("filters.conditions[0].value", "must be [low, high] numbers or [from, to] ISO dates")],
        ),
        (
            one(field("customFields.age", "between", [10, "2024-01-01"])),
            [("filters.conditions[0].value", "must be [low, high] numbers or [from, to] ISO dates")],
        ),
        (
            one(field("customFields.age", "between", [10, 5])),
            [("filters.conditions[0].value", "the first value must not be greater than the second")],
        ),
        (
            one(field("createdAt", "before", "yesterday")),
            [("filters.conditions[0].value", "must be an ISO 8601 date or date-time, got 'yesterday'")],
        ),
        (
            one(field("createdAt", "on", "2024-02-30")),
            [("filters.conditions[0].value", "is not a real date: '2024-02-30'")],
        ),
        (
            one(field("createdAt", "between", ["2024-05-02", "2024-05-01"])),
            [("filters.conditions[0].value", "the first value must not be greater than the second")],
        ),
        (
            one(field("createdAt", "within_last", 0)),
            [("filters.conditions[0].value", "must be a whole number of days from 1 to 36500")],
        ),
        (
            one(field("createdAt", "within_last", 2.5)),
            [("filters.conditions[0].value", "must be a whole number of days from 1 to 36500")],
        ),
        (
            one({"type": "tag", "operator": "has_all", "value": [1]}),
            [("filters.conditions[0].operator", "must be one of has_any, has_none for a tag condition")],
        ),
        (
            one({"type": "tag", "operator": "has_any", "value": 1}),
            [("filters.conditions[0].value", "must be a list of 1 to 100 tag ids")],
        ),
        (
            one({"type": "tag", "operator": "has_any", "value": []}),
            [("filters.conditions[0].value", "must be a list of 1 to 100 tag ids")],
        ),
        (
            one({"type": "tag", "operator": "has_any", "value": [1, "vip"]}),
            [("filters.conditions[0].value[1]", "must be an id (a positive whole number)")],
        ),
        (
            one({"type": "tag", "operator": "has_any", "value": [2**63]}),
            [("filters.conditions[0].value[0]", "must be an id (a positive whole number)")],
        ),
        (
            one({"type": "status", "operator": "is", "value": "active"}),
            [
                (
                    "filters.conditions[0].value",
                    "must be one of subscribed, unsubscribed, non-subscribed, bounced, complained, "
                    "or a list of them",
                )
            ],
        ),
        (
            one({"type": "status", "operator": "is", "value": ["bounced", "gone"]}),
            [
                (
                    "filters.conditions[0].value[1]",
                    "must be one of subscribed, unsubscribed, non-subscribed, bounced, complained",
                )
            ],
        ),
        (one({"type": "status", "operator": "is"}), [("filters.conditions[0].value", "is required")]),
        (
            one({"type": "topic", "operator": "opted_in", "value": 1}),
            [
                (
                    "filters.conditions[0].operator",
                    "must be one of subscribed, not_subscribed for a topic condition",
                )
            ],
        ),
        (
            one({"type": "topic", "operator": "subscribed", "value": [1]}),
            [("filters.conditions[0].value", "must be a topic id (a positive whole number)")],
        ),
        (
            one({"type": "activity", "activity": "bounced", "operator": "never"}),
            [("filters.conditions[0].activity", "must be one of sent, opened, clicked")],
        ),
        (
            one({"type": "activity", "activity": "opened", "operator": "within"}),
            [("filters.conditions[0].days", "is required for within")],
        ),
        (
            one({"type": "activity", "activity": "opened", "operator": "never", "days": 3}),
            [("filters.conditions[0].days", "must not be given for never")],
        ),
        (
            one(
                {"type": "activity", "activity": "opened", "operator": "within", "days": 3, "campaignId": "x"}
            ),
            [("filters.conditions[0].campaignId", "must be a campaign id (a positive whole number)")],
        ),
    ],
)
def test_invalid_rules_are_reported_at_their_exact_path(
    filters: Any, expected: list[tuple[str, str]]
) -> None:
    assert errors_of(filters) == expected


def test_every_problem_in_a_tree_is_reported_with_its_nested_path() -> None:
    filters = {
        "match": "any",
        "conditions": [
            STATUS,
            {
                "match": "all",
                "conditions": [
                    field("firstName", "is", "x"),
                    {"type": "field", "field": "email", "operator": "eq"},
                ],
            },
            {"match": "either", "conditions": [{"match": "all", "conditions": ["oops"]}]},
        ],
    }
    assert errors_of(filters) == [
        (
            "filters.conditions[1].conditions[1].operator",
            "must be one of is, is_not, contains, not_contains, starts_with, ends_with, is_set, "
            "is_not_set for email",
        ),
        ("filters.conditions[2].match", "must be one of all, any"),
        (
            "filters.conditions[2].conditions[0].conditions[0]",
            "must be an object: a condition (with a type) or a group (with match and conditions)",
        ),
    ]


def test_groups_nest_at_most_three_deep() -> None:
    check_rules(nest(3, STATUS))
    assert errors_of(nest(4, STATUS)) == [
        (
            "filters.conditions[0].conditions[0].conditions[0]",
            "groups may nest at most 3 deep (the outer group counts)",
        )
    ]


def test_at_most_fifty_conditions_in_total() -> None:
    group = {"match": "all", "conditions": [STATUS] * 25}
    check_rules({"match": "any", "conditions": [group, group]})
    assert errors_of({"match": "any", "conditions": [group, group, STATUS]}) == [
        ("filters", "must hold at most 50 conditions in total")
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (nest(50, STATUS), [(THIRD_LEVEL, TOO_DEEP)]),
        (
            {"match": "all", "conditions": [STATUS] * 10_000},
            [("filters.conditions", "must hold at most 50 conditions")],
        ),
        ({"match": "all", "conditions": [None]}, [("filters.conditions[0]", NOT_A_NODE)]),
        (
            one({"type": "field", "field": 12, "operator": "is", "value": "x"}),
            [("filters.conditions[0].field", "must be a field name such as firstName or customFields.plan")],
        ),
        (
            one({"type": "field", "field": "x" * 10_000_000, "operator": "is", "value": "x"}),
            [("filters.conditions[0].field", "must be a field name such as firstName or customFields.plan")],
        ),
        (
            one(field("firstName", "is", "x" * 10_000_000)),
            [("filters.conditions[0].value", "must be at most 1000 characters")],
        ),
        (
            one({"type": "field", "x" * 10_000_000: 1}),
            [
                ("filters.conditions[0]." + "x" * 40 + "…", "is not a known key here"),
                ("filters.conditions[0].field", "is required"),
                ("filters.conditions[0].operator", "is required"),
            ],
        ),
        (one({**STATUS, 7: 1}), [("filters.conditions[0].7", "is not a known key here")]),
        (one(field("customFields.age", "gt", 10**400)), [(VALUE, "must be a finite number")]),
        (
            one(field("customFields.age", "gt", -1e31)),
            [("filters.conditions[0].value", "must be a number from -1e30 to 1e30")],
        ),
        (
            one(field("customFields.age", "gt", float("nan"))),
            [("filters.conditions[0].value", "must be a finite number")],
        ),
        (
            one(field("customFields.age", "lt", float("inf"))),
            [("filters.conditions[0].value", "must be a finite number")],
        ),
        (
            one(field("customFields.age", "is", {"$gt": 1})),
            [("filters.conditions[0].value", "must be text, a number or true/false")],
        ),
        (one(field("firstName", "is", b"ann")), [("filters.conditions[0].value", "must be text")]),
        (
            one({"type": "tag", "operator": "has_any", "value": [True]}),
            [("filters.conditions[0].value[0]", "must be an id (a positive whole number)")],
        ),
        (
            one({"type": "tag", "operator": "has_any", "value": list(range(1, 102))}),
            [("filters.conditions[0].value", "must be a list of 1 to 100 tag ids")],
        ),
        (
            one(field("createdAt", "within_last", 10**9)),
            [("filters.conditions[0].value", "must be a whole number of days from 1 to 36500")],
        ),
        (
            one(field("createdAt", "before", "2024-01-01" + " " * 100)),
            [("filters.conditions[0].value", "must be an ISO 8601 date such as 2024-05-31 or a date-time")],
        ),
    ],
)
def test_hostile_input_is_a_validation_error(filters: Any, expected: list[tuple[str, str]]) -> None:
    assert errors_of(filters) == expected


def test_a_tree_that_contains_itself_stops_at_the_depth_limit() -> None:
    loop: dict[str, Any] = {"match": "all", "conditions": []}
    loop["conditions"].append(loop)
    assert errors_of(loop) == [
        (
            "filters.conditions[0].conditions[0].conditions[0]",
            "groups may nest at most 3 deep (the outer group counts)",
        )
    ]


def test_errors_stop_at_twenty() -> None:
    assert len(errors_of({"match": "all", "conditions": ["x"] * 50})) == 20


def test_rules_are_normalised() -> None:
    filters = {
        "match": "any",
        "conditions": [
            field("firstName", "contains", "  ann "),
            field("createdAt", "before", "2024-05-01"),
            field("createdAt", "after", "2024-05-01T12:00:00+02:00"),
            field("customFields.renewal", "between", ["2024-05-01", "2024-05-01T00:00:00"]),
            {**field("email", "is_set"), "value": None},
            {"type": "tag", "operator": "has_any", "value": [3, 1, 3]},
            {"type": "status", "operator": "is", "value": ["bounced", "complained", "bounced"]},
            {"type": "activity", "activity": "opened", "operator": "never", "days": None, "campaignId": None},
        ],
    }
    assert check_rules(filters).filters == {
        "match": "any",
        "conditions": [
            field("firstName", "contains", "ann"),
            field("createdAt", "before", "2024-05-01"),
            field("createdAt", "after", "2024-05-01T10:00:00Z"),
            field("customFields.renewal", "between", ["2024-05-01", "2024-05-01T00:00:00Z"]),
            field("email", "is_set"),
            {"type": "tag", "operator": "has_any", "value": [3, 1]},
            {"type": "status", "operator": "is", "value": ["bounced", "complained"]},
            {"type": "activity", "activity": "opened", "operator": "never"},
        ],
    }


def test_empty_rules_are_stored_as_an_empty_all_group() -> None:
    assert check_rules({}).filters == {"match": "all", "conditions": []}


def test_checking_does_not_change_the_input() -> None:
    filters = one(field("firstName", "is", " Ann "))
    check_rules(filters)
    assert filters == one(field("firstName", "is", " Ann "))


def test_ids_named_by_the_rules_are_collected_with_their_paths() -> None:
    rules = check_rules(
        {
            "match": "all",
            "conditions": [
                {"type": "tag", "operator": "has_any", "value": [4, 5]},
                {"match": "any", "conditions": [{"type": "tag", "operator": "has_none", "value": [5]}]},
                {"type": "topic", "operator": "subscribed", "value": 9},
            ],
        }
    )
    assert rules.tag_paths == {
        4: ["filters.conditions[0].value[0]"],
        5: ["filters.conditions[0].value[1]", "filters.conditions[1].conditions[0].value[0]"],
    }
    assert rules.topic_paths == {9: ["filters.conditions[2].value"]}
    assert rules.conditions == 3
