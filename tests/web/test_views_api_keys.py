"""Settings → API keys: the secret shown once, revocation, roles, other projects."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.web.conftest import SECRET
from tidings.core import services
from tidings.core.models import ApiKey, Project, Role

API_KEYS = "/settings/api-keys/"


def _revoke_url(key: ApiKey) -> str:
    return reverse("web:api_key_revoke", args=[key.pk])


# -- Settings → API keys --------------------------------------------------------------


def test_created_api_key_secret_is_shown_once(project: Project, owner_client: Client) -> None:
    response = owner_client.post(API_KEYS, {"name": "Website signup"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    secret = SECRET.search(response.content.decode()).group()
    key = ApiKey.objects.get(name="Website signup")
    assert key.project_id == project.pk
    assert secret.startswith(key.prefix + "_")
    again = owner_client.get(API_KEYS).content.decode()
    assert secret not in again
    assert f"<code>{key.prefix}…</code>" in again


def test_sending_the_same_create_form_twice_makes_one_key(project: Project, owner_client: Client) -> None:
    page = owner_client.get(API_KEYS).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)

    first = owner_client.post(API_KEYS, {"name": "Website signup", "nonce": nonce})
    again = owner_client.post(API_KEYS, {"name": "Website signup", "nonce": nonce})

    assert first.status_code == 200
    assert (again.status_code, again["Location"]) == (302, API_KEYS)
    assert ApiKey.objects.for_project(project).filter(name="Website signup").count() == 1
    assert "That key was created already" in owner_client.get(API_KEYS).content.decode()


def test_created_api_key_is_stored_only_as_its_hash(owner_client: Client) -> None:
    response = owner_client.post(API_KEYS, {"name": "Website signup"})
    secret = SECRET.search(response.content.decode()).group()

    row = ApiKey.objects.filter(name="Website signup").values().get()

    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row)
    assert not any(secret in repr(s.get_decoded()) for s in Session.objects.all())


def test_created_api_key_works_against_the_api(owner: Any, owner_client: Client) -> None:
    response = owner_client.post(API_KEYS, {"name": "Website signup"})
    secret = SECRET.search(response.content.decode()).group()

    api = Client().get("/api/v1/project", headers={"Authorization": f"Bearer {secret}"})

    assert api.status_code == 200
    assert api.json()["name"] == "Acme Mail"


def test_created_api_key_records_who_created_it(owner: Any, owner_client: Client) -> None:
    owner_client.post(API_KEYS, {"name": "Website signup"})

    assert ApiKey.objects.get(name="Website signup").created_by == owner


def test_api_key_with_an_empty_name_shows_the_error_and_creates_nothing(owner_client: Client) -> None:
    response = owner_client.post(API_KEYS, {"name": "   "})

    body = response.content.decode()
    assert '<p class="field-error" id="id_name-error">Must not be empty</p>' in body
    assert not SECRET.search(body)
    assert ApiKey.objects.count() == 0


def test_htmx_create_answers_with_the_keys_panel_only(owner_client: Client) -> None:
    response = owner_client.post(API_KEYS, {"name": "Website signup"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.startswith('<div id="api-keys" class="stack">')
    assert "<html" not in body
    assert SECRET.search(body)


def test_api_key_list_shows_only_this_projects_keys(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    services.api_key_create(project=project, name="ours")
    services.api_key_create(project=other_project, name="theirs")

    body = owner_client.get(API_KEYS).content.decode()

    assert "<td>ours</td>" in body
    assert "theirs" not in body


def test_revoke_asks_for_confirmation_first(project: Project, owner_client: Client) -> None:
    key = services.api_key_create(project=project, name="ours").api_key

    response = owner_client.get(_revoke_url(key))

    assert response.status_code == 200
    assert "Revoke “ours”?" in response.content.decode()
    key.refresh_from_db()
    assert key.is_active


def test_revoke_stops_the_key_at_once(project: Project, owner_client: Client) -> None:
    issued = services.api_key_create(project=project, name="ours")

    response = owner_client.post(_revoke_url(issued.api_key))

    assert response.status_code == 302
    assert response["Location"] == API_KEYS
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    api = Client().get("/api/v1/project", headers={"Authorization": f"Bearer {issued.secret}"})
    assert api.status_code == 401
    assert '<span class="badge badge-off"' in owner_client.get(API_KEYS).content.decode()


def test_htmx_revoke_answers_with_the_revoked_row(project: Project, owner_client: Client) -> None:
    key = services.api_key_create(project=project, name="ours").api_key

    response = owner_client.post(_revoke_url(key), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.startswith(f'<tr id="api-key-{key.pk}">')
    assert ">Revoked</span>" in body
    assert "hx-post" not in body


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_admins_may_create_api_keys(
    project: Project, member_client: Callable[..., Client], role: Role
) -> None:
    client = member_client(project, role)

    response = client.post(API_KEYS, {"name": "mine"})

    assert response.status_code == 403
    assert ApiKey.objects.count() == 0
    page = client.get(API_KEYS).content.decode()
    assert "Only the project's owners and admins can create or revoke keys." in page
    assert "Create key" not in page


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_admins_may_revoke_api_keys(
    project: Project, member_client: Callable[..., Client], role: Role
) -> None:
    key = services.api_key_create(project=project, name="ours").api_key
    client = member_client(project, role)

    response = client.post(_revoke_url(key))

    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert "Revoke" not in client.get(API_KEYS).content.decode()


def test_admin_may_create_and_revoke_api_keys(project: Project, member_client: Callable[..., Client]) -> None:
    client = member_client(project, Role.ADMIN)

    client.post(API_KEYS, {"name": "mine"})
    key = ApiKey.objects.get(name="mine")
    client.post(_revoke_url(key))

    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoking_another_projects_key_is_not_found_and_leaves_it_active(
    other_project: Project, owner_client: Client
) -> None:
    theirs = services.api_key_create(project=other_project, name="theirs").api_key

    response = owner_client.post(_revoke_url(theirs))

    assert response.status_code == 404
    assert owner_client.get(_revoke_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
