"""/api/v1 basics: key auth, problem+json errors, camelCase, pagination, OpenAPI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from tests.conftest import ApiClient
from tidings.core import services
from tidings.core.models import ApiKey, Project

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


def test_request_without_a_key_gets_401_problem(db: None) -> None:
    response = Client().get("/api/v1/project")
    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="tidings"'


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer tdk_", "Basic dXNlcjpwdw==", "Bearer " + "x" * 5000]
)
def test_unknown_or_malformed_key_gets_401(db: None, header: str) -> None:
    assert_problem(Client().get("/api/v1/project", headers={"Authorization": header}), 401, "unauthenticated")


def test_key_acts_for_its_own_project_in_camel_case(api: ApiClient, project: Project) -> None:
    body = api.get("project").json()
    assert body == {
        "id": project.pk,
        "name": "Acme Mail",
        "slug": "acme-mail",
        "postalAddress": "1 Main St, Springfield",
        "brandColor": "#2f5d8a",
        "logoUrl": "",
        "defaultFromName": "",
        "trackOpens": True,
        "trackClicks": True,
        "storeIp": False,
        "softBounceLimit": 3,
        "softBounceDays": 30,
        "marketingPausedAt": None,
        "marketingPausedReason": "",
        "createdAt": body["createdAt"],
    }


def test_project_patch_changes_only_given_fields(api: ApiClient, project: Project) -> None:
    response = api.patch("project", {"postalAddress": "2 Side St", "brandColor": "#112233"})
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.name, project.postal_address, project.brand_color) == (
        "Acme Mail",
        "2 Side St",
        "#112233",
    )


def test_invalid_fields_are_reported_with_their_paths_and_nothing_changes(
    api: ApiClient, project: Project
) -> None:
    response = api.patch("project", {"name": "New", "brandColor": "red", "logoUrl": "javascript:alert(1)"})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"path": "brandColor", "message": "must be a hex colour such as #2f5d8a"},
        {"path": "logoUrl", "message": "must be an http(s) URL"},
    ]
    project.refresh_from_db()
    assert project.name == "Acme Mail"


def test_unknown_body_field_is_an_error_not_ignored(api: ApiClient) -> None:
    body = assert_problem(api.patch("project", {"brandColour": "#112233"}), 422, "validation_error")
    assert body["errors"] == [{"path": "brandColour", "message": "Extra inputs are not permitted"}]


def test_body_that_is_not_json_gets_400(api: ApiClient) -> None:
    body = assert_problem(api.post("api-keys", "{not json"), 400, "bad_request")
    assert body["detail"] == "the request body is not valid JSON"


def test_null_for_an_optional_text_clears_it(api: ApiClient, project: Project) -> None:
    assert api.patch("project", {"postalAddress": None}).status_code == 200
    project.refresh_from_db()
    assert project.postal_address == ""


def test_unknown_endpoint_and_wrong_method_are_problems(api: ApiClient) -> None:
    assert_problem(api.get("no-such-thing"), 404, "not_found")
    response = api.put("project", {})
    assert_problem(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]


def test_path_parameter_of_wrong_type_is_a_validation_error(api: ApiClient) -> None:
    body = assert_problem(api.get("api-keys/abc"), 422, "validation_error")
    assert body["errors"][0]["path"] == "keyId"


def test_created_key_is_shown_once_and_stored_only_as_a_digest(api: ApiClient, project: Project) -> None:
    response = api.post("api-keys", {"name": "Checkout service"})
    assert response.status_code == 201
    created = response.json()
    secret = created["key"]
    assert secret.startswith(created["prefix"] + "_")
    stored = ApiKey.objects.get(pk=created["id"])
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(api.get(f"api-keys/{created['id']}").json())
    assert ApiClient(secret).get("project").json()["id"] == project.pk


def test_revoked_key_stops_working_at_once(api: ApiClient, project: Project) -> None:
    issued = services.api_key_create(project=project, name="old")
    assert ApiClient(issued.secret).get("project").status_code == 200
    response = api.delete(f"api-keys/{issued.api_key.pk}")
    assert response.status_code == 200
    assert response.json()["revokedAt"] is not None
    assert_problem(ApiClient(issued.secret).get("project"), 401, "unauthenticated")


def test_revoking_a_key_revokes_the_keys_made_with_it(api: ApiClient) -> None:
    child = api.post("api-keys", {"name": "child"}).json()
    grandchild = ApiClient(child["key"]).post("api-keys", {"name": "grandchild"}).json()
    sibling = api.post("api-keys", {"name": "sibling"}).json()

    ApiClient(sibling["key"]).delete(f"api-keys/{child['id']}")

    assert_problem(ApiClient(child["key"]).get("project"), 401, "unauthenticated")
    assert_problem(ApiClient(grandchild["key"]).get("project"), 401, "unauthenticated")
    assert ApiClient(sibling["key"]).get("project").status_code == 200
    assert api.get("project").status_code == 200


def test_body_over_the_size_limit_is_413_not_500(api: ApiClient, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # type: ignore[attr-defined]
    body = assert_problem(api.post("api-keys", {"name": "x" * 2000}), 413, "payload_too_large")
    assert body["detail"] == "the body exceeds 1000 bytes"


def test_bad_host_header_under_api_is_a_problem(db: None) -> None:
    response = Client().get("/api/v1/project", headers={"Host": "evil.example"})
    assert_problem(response, 400, "bad_request")


def test_revoking_twice_keeps_the_first_time(api: ApiClient, project: Project) -> None:
    issued = services.api_key_create(project=project, name="old")
    first = api.delete(f"api-keys/{issued.api_key.pk}").json()["revokedAt"]
    assert api.delete(f"api-keys/{issued.api_key.pk}").json()["revokedAt"] == first


def test_last_used_time_is_written_at_most_once_a_minute(api: ApiClient) -> None:
    api.get("project")
    key = ApiKey.objects.get(pk=api.key.pk)
    first = key.last_used_at
    assert first is not None
    api.get("project")
    key.refresh_from_db()
    assert key.last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("project")
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(seconds=1)
    assert key.last_used_at <= timezone.now()


# -- the cross-project pattern every endpoint copies --------------------------------


def test_key_of_one_project_cannot_read_another_projects_key(
    api: ApiClient, other_api: ApiClient, other_project: Project
) -> None:
    theirs = other_api.key
    assert_problem(api.get(f"api-keys/{theirs.pk}"), 404, "not_found")


def test_key_of_one_project_cannot_revoke_another_projects_key(api: ApiClient, other_api: ApiClient) -> None:
    theirs = other_api.key
    assert_problem(api.delete(f"api-keys/{theirs.pk}"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert other_api.get("project").status_code == 200


def test_lists_hold_only_the_keys_project(api: ApiClient, other_api: ApiClient) -> None:
    ids = {item["id"] for item in api.get("api-keys").json()["items"]}
    assert ids == {api.key.pk}


def test_patch_never_reaches_another_project(api: ApiClient, other_project: Project) -> None:
    api.patch("project", {"name": "Renamed"})
    other_project.refresh_from_db()
    assert other_project.name == "Rival Co"


# -- pagination ----------------------------------------------------------------------


def test_cursor_pages_cover_everything_once_newest_first(api: ApiClient, project: Project) -> None:
    for n in range(6):
        services.api_key_create(project=project, name=f"k{n}")
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "api-keys?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ApiKey.objects.for_project(project).values_list("pk", flat=True), reverse=True)


@pytest.mark.parametrize(
    ("query", "path"),
    [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=%%%", "cursor"), ("cursor=cGs6LTE", "cursor")],
)
def test_bad_pagination_input_is_a_validation_error(api: ApiClient, query: str, path: str) -> None:
    body = assert_problem(api.get(f"api-keys?{query}"), 422, "validation_error")
    assert [e["path"] for e in body["errors"]] == [path]


def test_members_list(api: ApiClient, project: Project, make_user: Callable[..., object]) -> None:
    user = make_user("mira")
    services.membership_set(project=project, user=user, role="viewer")
    items = api.get("members").json()["items"]
    assert [(m["username"], m["role"]) for m in items] == [("mira", "viewer")]


# -- OpenAPI -------------------------------------------------------------------------


def test_openapi_document_is_valid_and_camel_case(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    schemas = document["components"]["schemas"]
    assert "postalAddress" in schemas["ProjectOut"]["properties"]
    assert "nextCursor" in schemas["PagedApiKeyOut"]["properties"]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    revoke = document["paths"]["/api/v1/api-keys/{keyId}"]["delete"]
    assert [p["name"] for p in revoke["parameters"]] == ["keyId"]
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    assert revoke["responses"]["404"]["content"][PROBLEM]["schema"] == problem_ref
    assert set(revoke["responses"]) == {"200", "400", "401", "404", "422"}


def test_api_docs_page_loads_nothing_from_the_internet(db: None) -> None:
    html = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
