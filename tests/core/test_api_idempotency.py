"""``Idempotency-Key`` on every POST of the API (the send API's own cases, with concurrency, are in
tests/campaigns/test_idempotency.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tidings.audience.models import Contact, ContactImport, Tag
from tidings.campaigns.models import IdempotentRequest

pytestmark = pytest.mark.django_db


def test_every_post_in_the_document_takes_the_header(api) -> None:
    document = api.get("openapi.json").json()
    posts = [(path, ops["post"]) for path, ops in document["paths"].items() if "post" in ops]
    assert len(posts) > 40
    for path, operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names.count("Idempotency-Key") == 1, path
    for path, ops in document["paths"].items():
        for method in set(ops) - {"post"}:
            assert "Idempotency-Key" not in [p["name"] for p in ops[method].get("parameters", [])], path


def test_a_repeated_create_is_answered_from_the_store(api) -> None:
    key = {"Idempotency-Key": "contact-ada-1"}
    first = api.post("contacts", {"email": "ada@example.com"}, **key)
    again = api.post("contacts", {"email": "ada@example.com"}, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1
    # Without the key, the same request is a new one (and here a conflict).
    assert api.post("contacts", {"email": "ada@example.com"}).status_code == 409


def test_keys_are_per_endpoint_and_per_project(api, other_api) -> None:
    key = {"Idempotency-Key": "same"}
    assert api.post("tags", {"name": "vip"}, **key).status_code == 201
    assert api.post("topics", {"name": "News"}, **key).status_code == 201
    assert other_api.post("tags", {"name": "vip"}, **key).status_code == 201
    assert Tag.objects.count() == 2
    assert IdempotentRequest.objects.count() == 3


def test_another_body_with_the_key_is_a_conflict_and_changes_nothing(api) -> None:
    key = {"Idempotency-Key": "tag-1"}
    api.post("tags", {"name": "vip"}, **key)
    response = api.post("tags", {"name": "other"}, **key)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "another request body" in response.json()["detail"]
    assert list(Tag.objects.values_list("name", flat=True)) == ["vip"]


def test_an_error_is_not_stored_so_the_fixed_request_can_use_the_key(api) -> None:
    key = {"Idempotency-Key": "contact-1"}
    refused = api.post("contacts", {"email": "not an address"}, **key)
    assert refused.status_code == 422
    assert IdempotentRequest.objects.count() == 0
    # The same body again is worked again (and refused again), not answered from a store.
    assert api.post("contacts", {"email": "not an address"}, **key).status_code == 422
    fixed = api.post("contacts", {"email": "ada@example.com"}, **key)
    assert fixed.status_code == 201


def test_a_bad_key_is_refused_naming_the_header(api) -> None:
    response = api.post("tags", {"name": "vip"}, **{"Idempotency-Key": "x" * 256})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert Tag.objects.count() == 0


def test_an_unknown_key_with_the_header_is_still_a_401(api) -> None:
    response = api.client.post(
        "/api/v1/tags",
        {"name": "vip"},
        content_type="application/json",
        headers={"Authorization": "Bearer tdk_forged", "Idempotency-Key": "k"},
    )
    assert response.status_code == 401
    assert IdempotentRequest.objects.count() == 0


def test_an_upload_is_fingerprinted_by_its_file(api, settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"

    def upload(content: bytes) -> Any:
        return api.client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("people.csv", content, content_type="text/csv")},
            headers={"Authorization": f"Bearer {api.secret}", "Idempotency-Key": "import-1"},
        )

    first = upload(b"email\nada@example.com\n")
    again = upload(b"email\nada@example.com\n")
    assert first.status_code == again.status_code == 202, first.content
    assert again.json()["id"] == first.json()["id"]
    assert ContactImport.objects.count() == 1
    assert upload(b"email\nbob@example.com\n").status_code == 409
    assert ContactImport.objects.count() == 1


def test_a_malformed_upload_with_a_key_is_a_400(api) -> None:
    response = api.client.post(
        "/api/v1/imports",
        b"--nope\r\nContent-Disposition: form-data; name=file\r\n",
        content_type="multipart/form-data; boundary=",
        headers={"Authorization": f"Bearer {api.secret}", "Idempotency-Key": "import-1"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert ContactImport.objects.count() == 0


def test_a_body_too_large_with_a_key_is_a_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("tags", {"name": "x" * 2000}, **{"Idempotency-Key": "k"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_204_answer_is_kept_and_replayed_empty(api) -> None:
    contact = api.post("contacts", {"email": "ada@example.com"}).json()
    key = {"Idempotency-Key": "erase-ada"}
    first = api.post(f"contacts/{contact['id']}/erase", None, **key)
    assert first.status_code == 204, first.content
    again = api.post(f"contacts/{contact['id']}/erase", None, **key)
    assert again.status_code == 204
    assert again.content == b""
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 0


def test_a_secret_in_an_answer_is_not_stored_in_the_clear(api) -> None:
    created = api.post("api-keys", {"name": "deploy"}, **{"Idempotency-Key": "key-1"}).json()
    stored = IdempotentRequest.objects.get()
    assert created["key"] not in json.dumps(stored.response)
    again = api.post("api-keys", {"name": "deploy"}, **{"Idempotency-Key": "key-1"}).json()
    assert again["key"] == created["key"]  # the client that lost the first answer gets it
