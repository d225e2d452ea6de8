"""A campaign report in a real Chromium: the figures with their rates, the chart drawn, the
recipient log filtered, and a hostile user agent shown as text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.sending import factories as f
from tests.tracking.test_results import BROWSER, PROXY, _event, _sent_campaign
from tests.web.test_browser import _log_in
from tidings.core.models import Project
from tidings.sending.models import MessageState

pytestmark = pytest.mark.browser

EVIL_AGENT = "<img src=x onerror=document.body.dataset.pwned=1>"


def test_a_campaign_report_shows_its_figures_chart_and_recipients(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any
) -> None:
    sent_at = timezone.now() - timedelta(hours=4)
    states = [MessageState.SENT] * 4 + [MessageState.SKIPPED]
    campaign, m = _sent_campaign(project, f.outbox_connection(project), states, sent_at=sent_at)
    hour = timedelta(hours=1)
    _event(project, m[0], "opened", sent_at + hour, user_agent=BROWSER)
    _event(project, m[0], "clicked", sent_at + hour, user_agent=EVIL_AGENT, url="https://example.com/news")
    _event(project, m[1], "opened", sent_at + 2 * hour, user_agent=BROWSER)
    _event(project, m[2], "opened", sent_at + 2 * hour, user_agent=PROXY)
    _event(project, m[3], "bounced", sent_at + hour, status_code="550 5.1.1", detail="no such user")
    base = live_server.url
    _log_in(page, base, "olivia")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Results").click()
    row = page.locator(f"#result-{campaign.pk}")
    expect(row).to_contain_text("person news")
    row.get_by_role("link", name="person news").click()

    report = page.locator("#campaign-report")
    expect(report.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_test_id("figure-sent")).to_contain_text("4")
    expect(page.get_by_test_id("figure-delivered")).to_contain_text("3")
    expect(page.get_by_test_id("figure-delivered")).to_contain_text("75 % of sent")
    expect(page.get_by_test_id("figure-opened")).to_contain_text("2")
    expect(page.get_by_test_id("figure-opened")).to_contain_text("66.7 % of delivered")
    expect(page.get_by_test_id("figure-clicked")).to_contain_text("33.3 % of delivered")
    expect(page.get_by_test_id("figure-bounced")).to_contain_text("25 % of sent")

    chart = page.get_by_role("img", name="Opens and clicks of “person news” (per hour)")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
    expect(chart.locator("polyline")).to_have_count(2)
    expect(chart.locator("text.chart-legend")).to_have_text(["Opens", "Clicks"])

    log = page.get_by_test_id("recipient-log")
    expect(log.locator("tbody tr")).to_have_count(5)
    expect(log).to_contain_text(EVIL_AGENT)  # shown as text, never run
    assert page.evaluate("document.body.dataset.pwned") is None
    page.get_by_label("Show").select_option(label="Bounced")
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text(m[3].email)
    expect(log).to_contain_text("5.1.1")
    expect(page.get_by_test_id("results-csv")).to_have_attribute(
        "href", f"/campaigns/{campaign.pk}/results.csv?status=bounced"
    )
