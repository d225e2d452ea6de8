"""Segment field conditions: every operator on contact fields, createdAt and custom fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.audience.segment_factories import field, make_contact, members, one
from tidings.core.models import Project

ANN, BOB, CY = "Ann@Example.org", "bob@example.com", "cy@other.net"
EVERYONE = {ANN, BOB, CY}


@pytest.fixture
def people(project: Project, other_project: Project) -> Project:
    make_contact(
        project,
        ANN,
        first_name="Ann",
        last_name="Lee",
        company="Acme",
        phone="+49 30 1234",
        country="DE",
        language="de",
        source="import",
        created_at=datetime(2024, 6, 25, 9, 0, tzinfo=UTC),
        custom_fields={"plan": "Gold", "age": 34, "score": "7.5", "renewal": "2024-05-10", "vip": True},
    )
    make_contact(
        project,
        BOB,
        first_name="Bob",
        country="US",
        source="api",
        created_at=datetime(2024, 5, 21, 12, 0, tzinfo=UTC),
        custom_fields={"plan": "silver", "age": "51", "renewal": "2024-06-01T12:00:00+00:00", "vip": False},
    )
    make_contact(
        project,
        CY,
        created_at=datetime(2023, 6, 1, tzinfo=UTC),
        custom_fields={"plan": "", "age": None, "renewal": "someday", "note": 12, "list": [1, 2]},
    )
    # Same data in another project: never part of this project's segments.
    make_contact(other_project, "ann@example.org", first_name="Ann", custom_fields={"plan": "Gold"})
    return project


def check(project: Project, condition: dict[str, Any], expected: set[str]) -> None:
    assert members(project, one(condition)) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("firstName", "is", "ANN"), {ANN}),
        (field("firstName", "is_not", "ann"), {BOB, CY}),
        (field("firstName", "contains", "O"), {BOB}),
        (field("firstName", "not_contains", "o"), {ANN, CY}),
        (field("firstName", "starts_with", "an"), {ANN}),
        (field("firstName", "ends_with", "OB"), {BOB}),
        (field("firstName", "is_set"), {ANN, BOB}),
        (field("firstName", "is_not_set"), {CY}),
        (field("lastName", "is", "lee"), {ANN}),
        (field("company", "contains", "cm"), {ANN}),
        (field("phone", "starts_with", "+49"), {ANN}),
        (field("country", "is", "us"), {BOB}),
        (field("language", "is_set"), {ANN}),
        (field("source", "is_not", "import"), {BOB, CY}),
    ],
)
def test_text_fields_compare_ignoring_case(
    people: Project, condition: dict[str, Any], expected: set[str]
) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("email", "is", "ANN@example.ORG"), {ANN}),
        (field("email", "is_not", "ann@example.org"), {BOB, CY}),
        (field("email", "contains", "EXAMPLE"), {ANN, BOB}),
        (field("email", "not_contains", "example"), {CY}),
        (field("email", "starts_with", "Bob@"), {BOB}),
        (field("email", "ends_with", ".NET"), {CY}),
        (field("email", "is_set"), EVERYONE),
        (field("email", "is_not_set"), set()),
    ],
)
def test_email_compares_ignoring_case(people: Project, condition: dict[str, Any], expected: set[str]) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize("pattern", ["%", "_", "\\"])
def test_like_wildcards_in_values_match_only_themselves(people: Project, pattern: str) -> None:
    check(people, field("firstName", "contains", pattern), set())
    check(people, field("email", "contains", pattern), set())


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("createdAt", "before", "2024-05-21"), {CY}),
        (field("createdAt", "before", "2024-05-21T13:00:00Z"), {BOB, CY}),
        (field("createdAt", "after", "2024-05-21"), {ANN}),
        (field("createdAt", "after", "2024-05-21T11:00:00Z"), {ANN, BOB}),
        (field("createdAt", "on", "2024-05-21"), {BOB}),
        (field("createdAt", "on", "2024-05-21T23:59:00+02:00"), {BOB}),
        (field("createdAt", "between", ["2024-05-01", "2024-05-21"]), {BOB}),
        (field("createdAt", "between", ["2024-05-22", "2024-06-30"]), {ANN}),
        (field("createdAt", "between", ["2024-05-21T12:00:00Z", "2024-06-25T09:00:00Z"]), {ANN, BOB}),
        (field("createdAt", "within_last", 30), {ANN}),
        (field("createdAt", "within_last", 41), {ANN, BOB}),
        (field("createdAt", "not_within_last", 30), {BOB, CY}),
        (field("createdAt", "not_within_last", 390), {CY}),
        (field("createdAt", "not_within_last", 400), set()),
    ],
)
def test_created_at_date_operators(people: Project, condition: dict[str, Any], expected: set[str]) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.plan", "is", "GOLD"), {ANN}),
        (field("customFields.plan", "is_not", "gold"), {BOB, CY}),
        (field("customFields.plan", "contains", "IL"), {BOB}),
        (field("customFields.plan", "not_contains", "il"), {ANN, CY}),
        (field("customFields.plan", "starts_with", "go"), {ANN}),
        (field("customFields.plan", "ends_with", "VER"), {BOB}),
        (field("customFields.plan", "is_set"), {ANN, BOB}),
        (field("customFields.plan", "is_not_set"), {CY}),
        (field("customFields.note", "is", "12"), {CY}),
        (field("customFields.vip", "contains", "t"), set()),
    ],
)
def test_custom_text_operators(people: Project, condition: dict[str, Any], expected: set[str]) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.age", "gt", 40), {BOB}),
        (field("customFields.age", "gte", 34), {ANN, BOB}),
        (field("customFields.age", "lt", 40), {ANN}),
        (field("customFields.age", "lte", 34), {ANN}),
        (field("customFields.age", "between", [30, 40]), {ANN}),
        (field("customFields.age", "between", [34, 51]), {ANN, BOB}),
        (field("customFields.age", "is", 34), {ANN}),
        (field("customFields.age", "is", 51.0), {BOB}),
        (field("customFields.age", "is_not", 34), {BOB, CY}),
        (field("customFields.score", "gt", 7), {ANN}),
        (field("customFields.score", "lt", 7.6), {ANN}),
        (field("customFields.note", "gte", 12), {CY}),
        (field("customFields.age", "is_set"), {ANN, BOB}),
        (field("customFields.age", "is_not_set"), {CY}),
    ],
)
def test_custom_number_operators(people: Project, condition: dict[str, Any], expected: set[str]) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.renewal", "before", "2024-06-01"), {ANN}),
        (field("customFields.renewal", "after", "2024-05-10"), {BOB}),
        (field("customFields.renewal", "on", "2024-05-10"), {ANN}),
        (field("customFields.renewal", "on", "2024-06-01"), {BOB}),
        (field("customFields.renewal", "on", "2024-06-01T23:30:00-02:00"), set()),
        (field("customFields.renewal", "between", ["2024-05-01", "2024-05-31"]), {ANN}),
        (field("customFields.renewal", "between", ["2024-05-10", "2024-06-01"]), {ANN, BOB}),
        (field("customFields.renewal", "within_last", 30), {BOB}),
        (field("customFields.renewal", "within_last", 60), {ANN, BOB}),
        (field("customFields.renewal", "not_within_last", 30), {ANN}),
        (field("customFields.renewal", "is_set"), EVERYONE),
    ],
)
def test_custom_date_operators(people: Project, condition: dict[str, Any], expected: set[str]) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.vip", "is", True), {ANN}),
        (field("customFields.vip", "is", False), {BOB}),
        (field("customFields.vip", "is_not", True), {BOB, CY}),
        (field("customFields.vip", "gt", 0), set()),
        (field("customFields.vip", "is", 1), set()),
    ],
)
def test_custom_booleans_are_neither_numbers_nor_text(
    people: Project, condition: dict[str, Any], expected: set[str]
) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.missing", "gt", 0), set()),
        (field("customFields.missing", "lt", 0), set()),
        (field("customFields.missing", "before", "2100-01-01"), set()),
        (field("customFields.missing", "is", "x"), set()),
        (field("customFields.missing", "is_not", "x"), EVERYONE),
        (field("customFields.missing", "is_set"), set()),
        (field("customFields.missing", "is_not_set"), EVERYONE),
    ],
)
def test_missing_custom_field_is_not_set_and_matches_no_comparison(
    people: Project, condition: dict[str, Any], expected: set[str]
) -> None:
    check(people, condition, expected)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (field("customFields.plan", "gt", 1), set()),
        (field("customFields.plan", "before", "2100-01-01"), set()),
        (field("customFields.renewal", "lt", 99999), set()),
        (field("customFields.list", "gt", 0), set()),
        (field("customFields.list", "is_set"), {CY}),
    ],
)
def test_values_of_another_kind_never_match_and_never_fail(
    people: Project, condition: dict[str, Any], expected: set[str]
) -> None:
    check(people, condition, expected)


def test_numbers_too_big_for_a_float_are_skipped_not_an_error(project: Project) -> None:
    make_contact(project, "big@example.org", custom_fields={"n": 10**400, "s": "9" * 31})
    make_contact(project, "ok@example.org", custom_fields={"n": 5, "s": "5"})
    assert members(project, one(field("customFields.n", "gt", 1))) == {"ok@example.org"}
    assert members(project, one(field("customFields.s", "gt", 1))) == {"ok@example.org"}


def test_custom_field_keys_with_double_underscores_are_one_key(project: Project) -> None:
    make_contact(project, "a@example.org", custom_fields={"a__b": "x", "a": {"b": "x"}})
    make_contact(project, "b@example.org", custom_fields={"a": {"b": "x"}})
    assert members(project, one(field("customFields.a__b", "is", "x"))) == {"a@example.org"}
