"""The audience pages in a real Chromium: a CSV imported, a tag on some, a segment built by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_browser import _log_in
from tidings.audience import imports, segments
from tidings.audience.models import ContactImport, Segment
from tidings.core.models import Project

pytestmark = pytest.mark.browser

CSV = """email,first name,country
ada@example.com,Ada,GB
grace@example.com,Grace,US
alan@example.com,Alan,GB
zed@example.com,Zed,DE
not-an-address,Nobody,FR
"""


def _import_csv(page: Page, base_url: str, project: Project, folder: Path) -> None:
    csv_file = folder / "people.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    page.goto(f"{base_url}/audience/contacts/")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(csv_file)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Import of people.csv")).to_be_visible()
    expect(page.locator("#import-progress")).to_contain_text("Waiting for a worker to start")

    # The default task backend keeps the import in the database queue, and no
    # worker runs beside a live-server test: run the import's own function in
    # this process, as the worker's task would, while the page polls for progress.
    imports.contact_import_run(contact_import=ContactImport.objects.for_project(project).get())

    expect(page.locator("#count-created")).to_have_text("4")
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(page.get_by_role("link", name="Download the 1 rejected row")).to_be_visible()
    page.get_by_role("link", name="See the contacts").click()
    expect(page.get_by_label("Select zed@example.com")).to_be_visible()


def test_imported_contacts_tagged_in_bulk_then_a_segment_of_two_groups_counts_them(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any, tmp_path: Path
) -> None:
    base = live_server.url
    _log_in(page, base, "olivia")
    _import_csv(page, base, project, tmp_path)

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
