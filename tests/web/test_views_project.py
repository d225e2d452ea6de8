"""Settings → Project: saving, service errors on their fields, roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tidings.core.models import Project, Role

PROJECT_FORM = {
    "name": "Acme Mail",
    "postal_address": "1 Main St, Springfield",
    "brand_color": "#2f5d8a",
    "logo_url": "",
    "default_from_name": "",
}


def test_project_settings_are_saved(project: Project, owner_client: Client) -> None:
    form = {**PROJECT_FORM, "name": "Acme News", "brand_color": "#112233", "default_from_name": "Acme"}

    response = owner_client.post("/settings/project/", form)

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.brand_color, project.default_from_name) == ("Acme News", "#112233", "Acme")
    assert "Project settings saved." in owner_client.get("/settings/project/").content.decode()


def test_the_soft_bounce_rule_is_set_in_project_settings(project: Project, owner_client: Client) -> None:
    saved = owner_client.post(
        "/settings/project/", {**PROJECT_FORM, "soft_bounce_limit": "5", "soft_bounce_days": "14"}
    )
    assert saved.status_code == 302
    project.refresh_from_db()
    assert (project.soft_bounce_limit, project.soft_bounce_days) == (5, 14)
    refused = owner_client.post("/settings/project/", {**PROJECT_FORM, "soft_bounce_limit": "0"})
    assert refused.status_code == 200
    assert "Must be a whole number from 1 to 100" in refused.content.decode()
    project.refresh_from_db()
    assert project.soft_bounce_limit == 5
    assert owner_client.post("/settings/project/", PROJECT_FORM).status_code == 302  # left out: kept
    project.refresh_from_db()
    assert (project.soft_bounce_limit, project.soft_bounce_days) == (5, 14)


def test_project_settings_show_a_bad_brand_colour_on_its_field(
    project: Project, owner_client: Client
) -> None:
    response = owner_client.post("/settings/project/", {**PROJECT_FORM, "name": "New", "brand_color": "blue"})

    assert response.status_code == 200
    body = response.content.decode()
    assert '<p class="field-error" id="id_brand_color-error">Must be a hex colour such as #2f5d8a</p>' in body
    assert 'value="blue"' in body
    project.refresh_from_db()
    assert (project.name, project.brand_color) == ("Acme Mail", "#2f5d8a")


def test_project_settings_show_every_field_error_at_once(owner_client: Client) -> None:
    form = {**PROJECT_FORM, "name": "", "logo_url": "ftp://x", "brand_color": "#12"}

    body = owner_client.post("/settings/project/", form).content.decode()

    assert '<p class="field-error" id="id_name-error">Must not be empty</p>' in body
    assert '<p class="field-error" id="id_logo_url-error">Must be an http(s) URL</p>' in body
    assert '<p class="field-error" id="id_brand_color-error">' in body


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_only_admins_may_change_project_settings(
    project: Project, member_client: Callable[..., Client], role: Role
) -> None:
    client = member_client(project, role)

    response = client.post("/settings/project/", {**PROJECT_FORM, "name": "Hijacked"})

    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name == "Acme Mail"


def test_project_settings_are_read_only_for_editors(
    project: Project, member_client: Callable[..., Client]
) -> None:
    body = member_client(project, Role.EDITOR).get("/settings/project/").content.decode()

    assert "<fieldset disabled>" in body
    assert "Save changes" not in body
    assert "only the project's owners and admins can change them" in body
