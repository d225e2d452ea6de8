"""The audience pages in a real Chromium: contacts in, a tag on some, a segment built by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_browser import _log_in
from tidings.audience import segments
from tidings.audience.models import Segment
from tidings.core.models import Project

pytestmark = pytest.mark.browser

PEOPLE = [
    ("ada@example.com", "Ada", "GB"),
    ("grace@example.com", "Grace", "US"),
    ("alan@example.com", "Alan", "GB"),
    ("zed@example.com", "Zed", "DE"),
]


def _add_contacts(page: Page, base_url: str) -> None:
    for email, first_name, country in PEOPLE:
        page.goto(f"{base_url}/audience/contacts/new/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("First name").fill(first_name)
        page.get_by_label("Country").fill(country)
        page.get_by_role("button", name="Add contact").click()
        expect(page.get_by_role("heading", name=email)).to_be_visible()


def test_contacts_tagged_in_bulk_then_a_segment_of_two_groups_counts_them(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any, tmp_path: Path
) -> None:
    base = live_server.url
    _log_in(page, base, "olivia")
    _add_contacts(page, base)

    page.goto(f"{base}/audience/tags/")
    page.get_by_label("Name").fill("vip")
    page.get_by_label("Colour").fill("#d9480f")
    page.get_by_role("button", name="Create tag").click()
    expect(page.get_by_text("The tag “vip” was created.")).to_be_visible()

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Contacts").click()
    page.get_by_label("Select ada@example.com").check()
    page.get_by_label("Select grace@example.com").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.locator("#bulk-action").select_option("add_tag")
    page.locator("#bulk-tag").select_option(label="vip")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Tagged 2 contacts “vip”.")).to_be_visible()
    expect(page.locator("#contact-results .chip")).to_have_count(2)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").first.click()
    page.get_by_label("Name").fill("Engaged VIPs")
    expect(page.locator("#segment-count")).to_have_text("4")
    outer = page.locator(".rule-depth-1")
    outer.get_by_label("Match").first.select_option("any")
    add_group = page.locator(".rule-depth-1 > .rule-group-actions").get_by_role(
        "button", name="Add a group inside this group"
    )

    # First group: VIPs in Britain.
    add_group.click()
    first = page.locator(".rule-depth-2").nth(0)
    first.get_by_label("Match").select_option("all")
    first.locator(".rule-row").nth(0).get_by_label("Condition type").select_option("tag")
    first.locator(".rule-row").nth(0).get_by_label("Tags").select_option(label="vip")
    first.get_by_role("button", name="Add a condition to this group").click()
    country = first.locator(".rule-row").nth(1)
    country.get_by_label("Field").select_option("country")
    country.get_by_label("Operator").select_option("is")
    country.get_by_label("Value").fill("GB")

    # Second group: anyone whose first name starts with "Al".
    add_group.click()
    second = page.locator(".rule-depth-2").nth(1)
    name = second.locator(".rule-row").nth(0)
    name.get_by_label("Field").select_option("firstName")
    name.get_by_label("Operator").select_option("starts_with")
    name.get_by_label("Value").fill("Al")

    expect(page.locator("#segment-count")).to_have_text("2")
    expect(page.locator("#segment-preview")).to_contain_text("ada@example.com")
    expect(page.locator("#segment-preview")).to_contain_text("alan@example.com")
    screenshot = tmp_path / "segment-builder.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0

    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_text("The segment “Engaged VIPs” was created.")).to_be_visible()
    expect(page.locator("td.number")).to_have_text("2")
    segment = Segment.objects.for_project(project).get(name="Engaged VIPs")
    assert segment.filters["match"] == "any"
    assert [group["match"] for group in segment.filters["conditions"]] == ["all", "any"]
    assert segments.segment_count(project=project, filters=segment.filters) == 2
