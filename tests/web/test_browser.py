"""The web UI in a real headless Chromium against a live server."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import PASSWORD, SECRET
from tidings.core import services
from tidings.core.models import ApiKey, Project, Role

pytestmark = pytest.mark.browser


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar")).to_contain_text(username)


def _api_project(base_url: str, secret: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/api/v1/project", headers={"Authorization": f"Bearer {secret}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_api_key_created_in_the_browser_is_shown_once_and_works(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any, tmp_path: Path
) -> None:
    _log_in(page, live_server.url, "olivia")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()

    page.get_by_label("Name").fill("Website signup")
    page.get_by_role("button", name="Create key").click()

    secret_field = page.locator("#new-key-secret")
    expect(secret_field).to_be_visible()
    secret = secret_field.input_value()
    assert SECRET.fullmatch(secret)
    expect(page.get_by_role("cell", name="Website signup")).to_be_visible()
    screenshot = tmp_path / "api-key-created.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0
    assert _api_project(live_server.url, secret)["name"] == "Acme Mail"

    page.reload()
    expect(page.get_by_role("cell", name="Website signup")).to_be_visible()
    expect(page.locator("#new-key-secret")).to_have_count(0)
    assert secret not in page.content()


def test_api_key_revoked_in_the_browser_after_confirming_stops_working(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any
) -> None:
    issued = services.api_key_create(project=project, name="Old integration")
    _log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/settings/api-keys/")
    page.once("dialog", lambda dialog: dialog.accept())

    page.get_by_role("link", name="Revoke").click()

    row = page.locator(f"#api-key-{issued.api_key.pk}")
    expect(row).to_contain_text("Revoked")
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is not None


def test_project_switcher_switches_project(
    transactional_db: None,
    live_server: Any,
    page: Page,
    project: Project,
    other_project: Project,
    owner: Any,
) -> None:
    services.membership_set(project=other_project, user=owner, role=Role.VIEWER)
    _log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/audience/tags/")
    expect(page.get_by_text("There are no tags in Acme Mail yet.")).to_be_visible()

    page.locator(".switcher summary").click()
    page.get_by_role("button", name="Rival Co").click()

    expect(page.get_by_text("There are no tags in Rival Co yet.")).to_be_visible()
    expect(page.locator(".switcher summary")).to_contain_text("Rival Co")
    assert page.url == f"{live_server.url}/audience/tags/"
