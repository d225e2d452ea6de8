"""/api/v1/segments: CRUD, live count, sample, preview, tenancy and hostile bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.audience.segment_factories import field, make_contact, make_tag, make_topic, one, tag
from tests.conftest import ApiClient
from tests.core.test_api import assert_problem
from tidings.audience import segments
from tidings.audience.models import Segment
from tidings.core.models import Project

DE = one(field("country", "is", "DE"))
DE_STORED = {
    "match": "all",
    "conditions": [{"type": "field", "field": "country", "operator": "is", "value": "DE"}],
}


@pytest.fixture
def audience(project: Project, other_project: Project) -> Project:
    make_contact(project, "ann@example.org", first_name="Ann", last_name="Lee", country="DE")
    make_contact(project, "bob@example.org", first_name="Bob", country="DE", status="unsubscribed")
    make_contact(project, "cy@example.org", country="US")
    make_contact(other_project, "dora@example.org", country="DE")
    return project


def create(api: ApiClient, name: str = "Germany", filters: Any = DE, **extra: Any) -> dict[str, Any]:
    response = api.post("segments", {"name": name, "filters": filters, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_returns_the_stored_segment_with_its_live_count(api: ApiClient, audience: Project) -> None:
    response = api.post("segments", {"name": " Germany ", "description": "DACH launch", "filters": DE})
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Germany",
        "description": "DACH launch",
        "filters": DE_STORED,
        "count": 2,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    stored = Segment.objects.get(pk=body["id"])
    assert (stored.project_id, stored.filters) == (audience.pk, DE_STORED)


def test_create_without_filters_means_everyone(api: ApiClient, audience: Project) -> None:
    body = create(api, "All", filters={})
    assert (body["filters"], body["count"]) == ({"match": "all", "conditions": []}, 3)
    assert api.post("segments", {"name": "Also all"}).json()["count"] == 3


def test_invalid_rules_are_a_problem_with_paths_and_nothing_is_saved(
    api: ApiClient, audience: Project
) -> None:
    filters = {
        "match": "any",
        "conditions": [DE, {"match": "all", "conditions": [field("nickname", "is", "x")]}],
    }
    body = assert_problem(api.post("segments", {"name": "Bad", "filters": filters}), 422, "validation_error")
    assert [e["path"] for e in body["errors"]] == ["filters.conditions[1].conditions[0].field"]
    assert not Segment.objects.exists()


def test_names_are_unique_per_project_ignoring_case(
    api: ApiClient, other_api: ApiClient, audience: Project
) -> None:
    create(api, "Germany")
    body = assert_problem(api.post("segments", {"name": "GERMANY", "filters": DE}), 409, "conflict")
    assert body["detail"] == "a segment named 'GERMANY' already exists in this project; choose another name"
    assert other_api.post("segments", {"name": "Germany", "filters": {}}).status_code == 201


@pytest.mark.parametrize(
    ("payload", "path", "message"),
    [
        ({"name": "  "}, "name", "must not be empty"),
        ({"name": "x" * 201}, "name", "must be at most 200 characters"),
        ({"name": "ok", "description": "x" * 1001}, "description", "must be at most 1000 characters"),
        ({"name": 5}, "name", "Input should be a valid string"),
        ({"name": "ok", "rules": {}}, "rules", "Extra inputs are not permitted"),
        (
            {"name": "ok", "filters": None},
            "filters",
            "must be an object: a group with match and conditions, or {}",
        ),
    ],
)
def test_invalid_segment_fields_are_reported(
    api: ApiClient, payload: dict[str, Any], path: str, message: str
) -> None:
    body = assert_problem(api.post("segments", payload), 422, "validation_error")
    assert body["errors"] == [{"path": path, "message": message}]


def test_get_count_and_sample(api: ApiClient, audience: Project) -> None:
    segment = create(api)
    assert api.get(f"segments/{segment['id']}").json()["count"] == 2
    assert api.get(f"segments/{segment['id']}/count").json() == {"count": 2}
    sample = api.get(f"segments/{segment['id']}/sample?limit=1").json()
    bob = {"email": "bob@example.org", "firstName": "Bob", "lastName": "", "status": "unsubscribed"}
    assert sample == {"items": [{"id": sample["items"][0]["id"], **bob}]}
    assert [c["email"] for c in api.get(f"segments/{segment['id']}/sample").json()["items"]] == [
        "bob@example.org",
        "ann@example.org",
    ]


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_sample_limit_is_checked(api: ApiClient, audience: Project, limit: str) -> None:
    segment = create(api)
    body = assert_problem(api.get(f"segments/{segment['id']}/sample?limit={limit}"), 422, "validation_error")
    assert [e["path"] for e in body["errors"]] == ["limit"]


def test_list_pages_carry_live_counts(api: ApiClient, audience: Project) -> None:
    vip = make_tag(audience, "vip")
    ids = [create(api, f"s{n}", one(field("firstName", "is_set")))["id"] for n in range(3)]
    create(api, "Subscribed", one({"type": "status", "operator": "is", "value": "subscribed"}))
    create(api, "VIP", one({"type": "tag", "operator": "has_none", "value": [vip.pk]}))
    vip.delete()  # that segment's rules no longer hold: null, not an error for the whole list
    first = api.get("segments?limit=3").json()
    assert [(s["name"], s["count"]) for s in first["items"]] == [("VIP", None), ("Subscribed", 2), ("s2", 2)]
    rest = api.get(f"segments?limit=3&cursor={first['nextCursor']}").json()
    assert [(s["id"], s["count"]) for s in rest["items"]] == [(ids[1], 2), (ids[0], 2)]
    assert rest["nextCursor"] is None


def test_count_of_a_segment_whose_tag_was_deleted_says_why(api: ApiClient, audience: Project) -> None:
    vip = make_tag(audience, "vip")
    vip_id = vip.pk
    segment = create(api, "VIP", one({"type": "tag", "operator": "has_any", "value": [vip_id]}))
    vip.delete()
    body = assert_problem(api.get(f"segments/{segment['id']}/count"), 422, "validation_error")
    assert body["errors"] == [
        {"path": "filters.conditions[0].value[0]", "message": f"no tag with id {vip_id} in this project"}
    ]


def test_patch_changes_only_given_fields(api: ApiClient, audience: Project) -> None:
    segment = create(api, description="keep me")
    us = one(field("country", "is", "US"))
    body = api.patch(f"segments/{segment['id']}", {"filters": us}).json()
    assert (body["name"], body["description"], body["count"]) == ("Germany", "keep me", 1)
    body = api.patch(f"segments/{segment['id']}", {"name": "USA"}).json()
    assert (body["name"], body["filters"]["conditions"][0]["value"]) == ("USA", "US")


def test_patch_with_invalid_rules_changes_nothing(api: ApiClient, audience: Project) -> None:
    segment = create(api)
    response = api.patch(f"segments/{segment['id']}", {"name": "New", "filters": one({"type": "x"})})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "path": "filters.conditions[0].type",
            "message": "must be one of field, tag, status, topic, activity",
        }
    ]
    stored = Segment.objects.get(pk=segment["id"])
    assert (stored.name, stored.filters) == ("Germany", DE_STORED)


def test_patch_to_a_name_in_use_is_a_conflict(api: ApiClient, audience: Project) -> None:
    create(api, "Germany")
    other = create(api, "Other")
    assert_problem(api.patch(f"segments/{other['id']}", {"name": "germany"}), 409, "conflict")
    assert api.patch(f"segments/{other['id']}", {"name": "OTHER"}).json()["name"] == "OTHER"


def test_delete_answers_204_and_leaves_contacts(api: ApiClient, audience: Project) -> None:
    segment = create(api)
    response = api.delete(f"segments/{segment['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert not Segment.objects.exists()
    assert_problem(api.get(f"segments/{segment['id']}"), 404, "not_found")
    assert segments.segment_count(project=audience, filters={}) == 3


def test_preview_counts_and_samples_unsaved_rules(api: ApiClient, audience: Project) -> None:
    body = api.post("segments/preview?limit=1", {"filters": DE}).json()
    assert (body["count"], [c["email"] for c in body["sample"]]) == (2, ["bob@example.org"])
    assert api.post("segments/preview", {}).json()["count"] == 3
    assert not Segment.objects.exists()


def test_preview_reports_invalid_rules(api: ApiClient, audience: Project) -> None:
    body = assert_problem(
        api.post("segments/preview", {"filters": one(field("createdAt", "within_last", -1))}),
        422,
        "validation_error",
    )
    assert body["errors"] == [
        {"path": "filters.conditions[0].value", "message": "must be a whole number of days from 1 to 36500"}
    ]


# -- tenancy ---------------------------------------------------------------------------


@pytest.fixture
def theirs(other_api: ApiClient, other_project: Project) -> dict[str, Any]:
    make_contact(other_project, "dora@example.org", country="DE")
    return create(other_api, "Their Germany")


@pytest.mark.parametrize("suffix", ["", "/count", "/sample"])
def test_key_of_one_project_cannot_read_another_projects_segment(
    api: ApiClient, theirs: dict[str, Any], suffix: str
) -> None:
    assert_problem(api.get(f"segments/{theirs['id']}{suffix}"), 404, "not_found")


def test_key_of_one_project_cannot_patch_another_projects_segment(
    api: ApiClient, theirs: dict[str, Any]
) -> None:
    assert_problem(api.patch(f"segments/{theirs['id']}", {"name": "Mine", "filters": {}}), 404, "not_found")
    stored = Segment.objects.get(pk=theirs["id"])
    assert (stored.name, stored.filters) == ("Their Germany", DE_STORED)


def test_key_of_one_project_cannot_delete_another_projects_segment(
    api: ApiClient, other_api: ApiClient, theirs: dict[str, Any]
) -> None:
    assert_problem(api.delete(f"segments/{theirs['id']}"), 404, "not_found")
    assert Segment.objects.filter(pk=theirs["id"]).exists()
    assert other_api.get(f"segments/{theirs['id']}/count").json() == {"count": 1}


def test_lists_hold_only_the_keys_project(api: ApiClient, theirs: dict[str, Any]) -> None:
    mine = create(api, "Mine", {})
    assert [s["id"] for s in api.get("segments").json()["items"]] == [mine["id"]]


def test_rules_cannot_name_another_projects_tag_or_topic(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    their_tag, their_topic = make_tag(other_project, "vip"), make_topic(other_project, "News", "opt_in")
    tag(make_contact(other_project, "dora@example.org"), their_tag)
    filters = {
        "match": "all",
        "conditions": [
            {"type": "tag", "operator": "has_any", "value": [their_tag.pk]},
            {"type": "topic", "operator": "subscribed", "value": their_topic.pk},
        ],
    }
    for response in (
        api.post("segments", {"name": "Sneaky", "filters": filters}),
        api.post("segments/preview", {"filters": filters}),
    ):
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"] == [
            {
                "path": "filters.conditions[0].value[0]",
                "message": f"no tag with id {their_tag.pk} in this project",
            },
            {
                "path": "filters.conditions[1].value",
                "message": f"no topic with id {their_topic.pk} in this project",
            },
        ]
    assert not Segment.objects.filter(project=project).exists()


# -- hostile bodies ----------------------------------------------------------------------


BOUNCED = {"type": "status", "operator": "is", "value": "bounced"}


def deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "status", "operator": "is", "value": "subscribed"}
    for _ in range(depth):
        node = {"match": "all", "conditions": [node]}
    return node


@pytest.mark.parametrize(
    ("filters", "path"),
    [
        (deep(50), "filters.conditions[0].conditions[0].conditions[0]"),
        ({"match": "all", "conditions": [BOUNCED] * 10_000}, "filters.conditions"),
        ({"match": "all", "conditions": ["a", "b"]}, "filters.conditions[0]"),
        (None, "filters"),
        ("all", "filters"),
        (one({"type": "field", "field": 12, "operator": "is", "value": "x"}), "filters.conditions[0].field"),
        (one(field("firstName", "contains", "x" * 1_000_000)), "filters.conditions[0].value"),
        (one(field("customFields.n", "gt", 10**31)), "filters.conditions[0].value"),
        (one({"type": "tag", "operator": "has_any", "value": [10**23]}), "filters.conditions[0].value[0]"),
    ],
)
def test_hostile_rules_are_422_not_500(api: ApiClient, filters: Any, path: str) -> None:
    for response in (
        api.post("segments", {"name": "x", "filters": filters}),
        api.post("segments/preview", {"filters": filters}),
    ):
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["path"] == path


def test_nesting_too_deep_to_parse_is_400_not_500(api: ApiClient) -> None:
    body = '{"name": "x", "filters": ' + '{"match": "all", "conditions": [' * 20_000 + "]}" * 20_000 + "}"
    assert_problem(api.post("segments", body), 400, "bad_request")


def test_json_nan_in_rules_is_422(api: ApiClient) -> None:
    condition = '{"type": "field", "field": "customFields.n", "operator": "gt", "value": NaN}'
    body = '{"filters": {"match": "all", "conditions": [' + condition + "]}}"
    assert_problem(api.post("segments/preview", body), 422, "validation_error")


@pytest.mark.parametrize("segment_id", ["abc", "0", "99999999999999999999"])
def test_segment_id_out_of_range_is_a_validation_error(api: ApiClient, segment_id: str) -> None:
    body = assert_problem(api.get(f"segments/{segment_id}"), 422, "validation_error")
    assert [e["path"] for e in body["errors"]] == ["segmentId"]


def test_openapi_documents_the_segment_endpoints(db: None) -> None:
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    paths = {p: sorted(ops) for p, ops in document["paths"].items() if p.startswith("/api/v1/segments")}
    assert paths == {
        "/api/v1/segments": ["get", "post"],
        "/api/v1/segments/preview": ["post"],
        "/api/v1/segments/{segmentId}": ["delete", "get", "patch"],
        "/api/v1/segments/{segmentId}/count": ["get"],
        "/api/v1/segments/{segmentId}/sample": ["get"],
    }
    assert "filters" in document["components"]["schemas"]["SegmentIn"]["properties"]
