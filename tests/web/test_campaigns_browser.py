"""A campaign in a real Chromium: made through the editor, checked, sent to the outbox, and followed
on its live progress view until it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.sending import factories as f
from tests.web.test_browser import _log_in
from tidings.audience.models import ContactStatus
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.core.models import Project
from tidings.sending.pipeline import run_campaign
from tidings.sending.transports import outbox_folder

pytestmark = pytest.mark.browser


def test_a_campaign_made_in_the_editor_is_sent_to_the_outbox_and_followed_live(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any
) -> None:
    outbox = f.outbox_connection(project)  # the project's default; it takes an unverified from domain
    f.design(project)
    vip = f.tag(project, "vip")
    f.contacts(project, 3, tag=vip)
    f.contacts(project, 1, tag=vip, status=ContactStatus.UNSUBSCRIBED, prefix="gone")
    f.tag(project, "other")
    folder = outbox_folder(outbox)
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    base = live_server.url
    _log_in(page, base, "olivia")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_text("There are no campaigns in Acme Mail yet.")).to_be_visible()
    page.get_by_role("link", name="New campaign").first.click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Spring news")
    # 1. the email
    page.get_by_label("Email design").select_option(label="Newsletter")
    # 2. the recipients: the count follows the choice
    page.get_by_label("Send to").select_option(label="vip")
    counts = page.get_by_test_id("recipient-counts")
    expect(counts).to_contain_text("3 eligible recipients now; 1 excluded.")
    expect(counts).to_contain_text("Unsubscribed: 1")
    # 3. the sender, through the default connection
    page.get_by_label("From address").fill("news@acme-mail.com")
    page.get_by_label("From name").fill("Acme News")
    expect(page.get_by_label("Send through")).to_have_value(str(outbox.pk))
    expect(page.get_by_label("Track opens")).to_be_checked()
    # 4. the schedule: now, so the date and time are hidden; the zone is the browser's or UTC
    expect(page.get_by_label("Send now")).to_be_checked()
    expect(page.get_by_label("Date and time", exact=True)).to_be_hidden()
    page.get_by_label("At a date and time").check()
    expect(page.get_by_label("Date and time", exact=True)).to_be_visible()
    assert page.get_by_label("Time zone").input_value()
    expect(page.get_by_role("button", name="Schedule", exact=True)).to_be_visible()
    page.get_by_label("Send now").check()
    # 5. the review: checked live, nothing stops it
    review = page.get_by_test_id("review")
    expect(review).to_contain_text("No problems found: ready to send to 3 recipients.")
    send = page.get_by_role("button", name="Send now", exact=True)
    expect(send).to_be_enabled()
    assert not Campaign.objects.filter(project=project).exists()  # checking saved nothing

    send.click()
    expect(page.get_by_text("“Spring news” is sending.")).to_be_visible()
    campaign = Campaign.objects.get(project=project)
    assert page.url == f"{base}/campaigns/{campaign.pk}/"
    assert campaign.status == CampaignStatus.SENDING
    expect(page.get_by_test_id("campaign-status")).to_have_text("Sending")
    expect(page.locator("#count-queued")).to_have_text("3")
    expect(page.locator("#count-skipped")).to_have_text("1")

    # No worker runs beside a live-server test: send here, as the worker's task would,
    # while the page polls for progress.
    campaign.refresh_from_db()
    result = run_campaign(campaign)
    assert result.sent == 3

    expect(page.get_by_test_id("progress-status")).to_have_text("Sent", timeout=10_000)
    expect(page.get_by_test_id("campaign-status")).to_have_text("Sent")
    expect(page.locator("#count-sent")).to_have_text("3")
    expect(page.locator("#count-queued")).to_have_text("0")
    expect(page.locator("#count-skipped")).to_have_text("1")
    expect(page.locator("#count-failed")).to_have_text("0")
    expect(page.get_by_test_id("progress-text")).to_have_text("100.0% done · 3 of 4 sent")
    expect(page.locator(".skipped-reason")).to_have_text("unsubscribed 1")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)

    written = set(folder.glob("*.eml")) - before
    assert len(written) == 3
    assert folder == Path(settings.DATA_DIR) / "outbox" / f"project-{project.pk}"
    recipients = sorted(
        line.split(":", 1)[1].strip()
        for path in written
        for line in path.read_text().splitlines()
        if line.startswith("To:")
    )
    assert recipients == [f"person{i}@example.net" for i in range(3)]

    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    row = page.locator(f"#campaign-{campaign.pk}")
    expect(row).to_contain_text("Sent")
    expect(row).to_contain_text("Tag: vip")
    expect(row).to_contain_text("3 / 4 sent")
