"""Create in a real Chromium: a tag persona picked from the menu, a draft that uses its data,
a follow-up, and the first version restored."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.test_browser import _log_in
from tidings.audience import services as audience
from tidings.core.models import Project
from tidings.drafts.models import Draft

pytestmark = pytest.mark.browser


def test_draft_for_a_tag_persona_follow_up_and_restore(
    transactional_db: None, live_server: Any, page: Page, project: Project, owner: Any
) -> None:
    for _i, name in enumerate(["Ada", "Grace", "Alan"]):
        audience.contact_create(
            project=project,
            values={"email": f"{name.lower()}@example.com", "first_name": name, "tags": ["vip"]},
        )
    audience.contact_create(project=project, values={"email": "other@example.com", "tags": ["newsletter"]})
    base = live_server.url
    _log_in(page, base, "olivia")

    page.goto(f"{base}/create/")
    expect(page.get_by_test_id("composer-label")).to_contain_text("offline composer")
    expect(page.get_by_test_id("persona-badge")).to_have_count(0)
    page.locator("summary.persona-control").click()
    page.get_by_label("Search audiences, tags and contacts").fill("vi")
    page.get_by_role("button", name="vip", exact=True).click()
    expect(page.get_by_test_id("persona-badge")).to_have_text("1")
    expect(page.locator(".persona-current")).to_contain_text("Tag: vip")
    expect(page.locator(".catalog")).to_contain_text("firstName")

    page.get_by_label("Prompt").fill(
        "Announce our spring sale: 20% off all plans until March 31. Link: https://shop.example.com/sale"
    )
    page.get_by_role("button", name="Draft it").click()
    expect(page.locator(".chat-message[data-role=assistant]")).to_have_count(1)
    expect(page.get_by_test_id("preview-as")).to_contain_text("1 of 3")
    frame = page.frame_locator("iframe.preview-frame")
    # The draft greets by first name: the preview shows a real member's, and Next shows another's.
    shown = page.get_by_test_id("preview-as").locator("strong").inner_text()
    assert shown in ("Ada", "Grace", "Alan")
    expect(frame.locator("body")).to_contain_text(f"Hi {shown},")
    page.get_by_test_id("preview-as").get_by_role("link", name="Next").click()
    expect(page.get_by_test_id("preview-as")).to_contain_text("2 of 3")
    second = page.get_by_test_id("preview-as").locator("strong").inner_text()
    assert second != shown
    expect(page.frame_locator("iframe.preview-frame").locator("body")).to_contain_text(f"Hi {second},")
    draft = Draft.objects.get(project=project)
    assert "{{ firstName" in draft.design.body
    first_body = draft.design.body

    page.get_by_label("Prompt").fill("more formal")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat-message[data-role=assistant]")).to_have_count(2)
    expect(page.locator(".version-row")).to_have_count(2)

    page.locator(".version-row[data-version='1']").get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Restored version 1 as version 3.").first).to_be_visible()
    draft.design.refresh_from_db()
    assert draft.design.version == 3
    assert draft.design.body == first_body
