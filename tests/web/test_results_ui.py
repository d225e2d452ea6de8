"""Results in the UI: the campaign report (figures, chart, links, recipient log, CSV), a contact's
activity, the Results page, the dashboard with its alerts and the marketing pause, and the
suppression list; what anyone can put in a tracking event is shown escaped; roles and tenancy."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.sending import factories as f
from tests.tracking.test_results import BROWSER, PROXY, _event, _sent_campaign
from tidings.audience.models import Contact, ContactStatus, Suppression, SuppressionRemoval
from tidings.audience.services import suppress
from tidings.campaigns.models import Campaign
from tidings.core.models import Project, Role
from tidings.sending.models import Message, MessageState
from tidings.tracking.models import Alert, TrackedLink

pytestmark = pytest.mark.django_db

EVIL_AGENT = "<svg onload=alert(1)>"
EVIL_NAME = "<svg onload=alert(2)> news"
QUOTED_URL = "https://example.com/?q=\"x\"&t='y'"
FORMULA = '=HYPERLINK("https://evil.example","click")'


def _text(response: Any) -> str:
    """The page's words without tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def sent_at() -> datetime:
    return timezone.now() - timedelta(hours=5)


@pytest.fixture
def report(project: Project, sent_at: datetime) -> dict[str, Any]:
    """A sent campaign of four: two opened (one by a person who clicked), one bounced, one complained;
    an event carries a hostile user agent and a link a URL with quotes."""
    campaign, m = _sent_campaign(
        project, f.outbox_connection(project), [MessageState.SENT] * 4, sent_at=sent_at
    )
    Campaign.objects.filter(pk=campaign.pk).update(name=EVIL_NAME)
    campaign.refresh_from_db()
    TrackedLink.objects.filter(campaign=campaign, index=2).update(url=QUOTED_URL)
    hour = timedelta(hours=1)
    _event(project, m[0], "opened", sent_at + hour, user_agent=BROWSER)
    _event(project, m[0], "clicked", sent_at + hour, user_agent=EVIL_AGENT, url=QUOTED_URL)
    _event(project, m[1], "opened", sent_at + 2 * hour, user_agent=PROXY)
    _event(project, m[2], "bounced", sent_at + hour, status_code="550 5.1.1", detail=FORMULA)
    _event(project, m[3], "complained", sent_at + 3 * hour)
    return {"campaign": campaign, "messages": m}


def test_a_sent_campaigns_page_shows_its_figures_with_their_rates(report, owner_client: Client) -> None:
    response = owner_client.get(f"/campaigns/{report['campaign'].pk}/")
    assert response.status_code == 200
    text = _text(response)
    assert "Sent 4" in text
    assert "Delivered 3 75 % of sent" in text  # 4 sent − 1 bounced
    assert "Opened 1 33.3 % of delivered" in text  # the proxy's open is a machine's
    assert "Clicked 1 33.3 % of delivered" in text
    assert "Bounced 1 25 % of sent" in text
    assert "Complaints 1 25 % of sent" in text
    assert "Opens: 1 unique, 1 in all by people, 1 by machines" in text
    assert "Bounces: 1 hard, 0 soft." in text


def test_the_timeline_is_an_accessible_svg_drawn_on_the_server(report, owner_client: Client) -> None:
    body = owner_client.get(f"/campaigns/{report['campaign'].pk}/").content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", body, re.S)
    assert svg is not None
    chart = svg.group(0)
    assert 'role="img"' in chart
    assert 'aria-labelledby="timeline-title timeline-desc"' in chart
    title = "Opens and clicks of “&lt;svg onload=alert(2)&gt; news” (per hour)"
    assert f'<title id="timeline-title">{title}</title>' in chart
    assert "1 open and 1 click in all" in chart
    assert chart.count("<polyline") == 2
    # No chart library and nothing from a CDN: the only scripts are the app's own.
    scripts = re.findall(r"<script[^>]*src=\"([^\"]+)\"", body)
    assert scripts
    assert all(src.startswith("/static/") for src in scripts)
    assert "The chart as a table" in body


def test_the_per_link_table_counts_clicks_per_link(report, owner_client: Client) -> None:
    text = _text(owner_client.get(f"/campaigns/{report['campaign'].pk}/"))
    assert "1 https://example.com/news 0 0 0" in text
    assert f"2 {QUOTED_URL} 1 1 0" in text


def test_what_anyone_can_put_in_an_event_is_shown_escaped(report, owner_client: Client) -> None:
    campaign, m = report["campaign"], report["messages"]
    pages = [
        owner_client.get(f"/campaigns/{campaign.pk}/").content.decode(),
        owner_client.get(f"/audience/contacts/{m[0].contact_id}/").content.decode(),
    ]
    for body in pages:
        assert "<svg onload" not in body
        assert "&lt;svg onload=alert(1)&gt;" in body
        assert 'q="x"' not in body
        assert "https://example.com/?q=&quot;x&quot;&amp;t=&#x27;y&#x27;" in body


def test_the_recipient_log_filters_by_status_and_pages(report, owner_client: Client) -> None:
    campaign, m = report["campaign"], report["messages"]
    body = owner_client.get(f"/campaigns/{campaign.pk}/?status=bounced").content.decode()
    rows = re.findall(r'<tr id="message-(\d+)">', body)
    assert rows == [str(m[2].pk)]
    assert "Hard bounce <code>5.1.1</code>" in body
    unknown = owner_client.get(f"/campaigns/{campaign.pk}/?status=nonsense").content.decode()
    assert len(re.findall(r'<tr id="message-(\d+)">', unknown)) == 4  # an unknown filter shows everyone


def test_a_draft_has_no_report(project: Project, owner_client: Client) -> None:
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=f.tag(project))
    body = owner_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-report"' not in body


def _rows(response: Any) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


def test_the_csv_has_one_row_per_message_and_defuses_formulas(report, owner_client: Client, api) -> None:
    campaign, m = report["campaign"], report["messages"]
    response = owner_client.get(f"/campaigns/{campaign.pk}/results.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="results-{campaign.pk}-svg-onload'
    )
    rows = _rows(response)
    assert [row["messageId"] for row in rows] == [str(x.pk) for x in m]  # oldest first
    first, bounced = rows[0], rows[2]
    assert (first["email"], first["delivered"], first["opened"], first["clicked"]) == (
        m[0].email,
        "yes",
        "yes",
        "yes",
    )
    assert first["lastEvent"] == "clicked"
    assert first["lastUserAgent"] == EVIL_AGENT  # a CSV is data: kept as it came
    assert (bounced["bounceType"], bounced["statusCode"]) == ("hard", "5.1.1")
    assert bounced["bounceDetail"] == "'" + FORMULA
    assert rows[3]["complained"] == "yes"
    through_api = _rows(api.get(f"campaigns/{campaign.pk}/results.csv?status=bounced"))
    assert [row["email"] for row in through_api] == [m[2].email]
    assert through_api[0]["bounceDetail"] == "'" + FORMULA


def test_viewers_see_the_report_but_cannot_download_the_csv(report, project: Project, member_client) -> None:
    viewer = member_client(project, Role.VIEWER)
    page = viewer.get(f"/campaigns/{report['campaign'].pk}/")
    assert page.status_code == 200
    assert 'data-testid="figure-delivered"' in page.content.decode()
    assert "Download CSV" not in page.content.decode()
    assert viewer.get(f"/campaigns/{report['campaign'].pk}/results.csv").status_code == 403


def test_another_projects_report_and_csv_are_not_found(report, make_project, member_client) -> None:
    stranger = member_client(make_project("Rival Co"))
    assert stranger.get(f"/campaigns/{report['campaign'].pk}/").status_code == 404
    assert stranger.get(f"/campaigns/{report['campaign'].pk}/results.csv").status_code == 404


def test_a_contacts_page_shows_its_activity_newest_first(report, owner_client: Client) -> None:
    m = report["messages"]
    body = owner_client.get(f"/audience/contacts/{m[0].contact_id}/").content.decode()
    kinds = re.findall(r'<li class="activity-item activity-(\w+)" data-kind="(\w+)">', body)
    assert kinds == [("event", "clicked"), ("event", "opened"), ("message", "sent")]
    bounced = _text(owner_client.get(f"/audience/contacts/{m[2].contact_id}/"))
    assert f"Bounced · from {EVIL_NAME} Hard bounce 5.1.1 {FORMULA}" in bounced
    machine = _text(owner_client.get(f"/audience/contacts/{m[1].contact_id}/"))
    assert "Opened machine · from" in machine


def test_the_results_page_lists_started_campaigns_with_their_rates(report, owner_client: Client) -> None:
    text = _text(owner_client.get("/results/"))
    assert f"{EVIL_NAME} " in text
    assert "4 3 75 % 1 33.3 % 1 33.3 % 1 25 % 1 25 %" in text
    assert "The last 30 days" in text


def test_the_dashboard_shows_the_latest_campaigns_totals_and_open_alerts(
    report, project: Project, owner_client: Client
) -> None:
    Alert.objects.create(
        project=project, kind="sender_problem", title="Mail refused for the sender (5.7.26)",
        detail=EVIL_AGENT, last_seen_at=timezone.now(),
    )  # fmt: skip
    response = owner_client.get("/")
    text = _text(response)
    assert "Latest campaigns" in text
    assert f"{EVIL_NAME} " in text
    assert "Sent 4 Delivered 3 75 % of sent" in text
    assert "Mail refused for the sender (5.7.26)" in text
    assert "&lt;svg onload=alert(1)&gt;" in response.content.decode()


def test_an_alert_is_marked_dealt_with(project: Project, owner_client: Client, member_client) -> None:
    alert = Alert.objects.create(
        project=project, kind="sender_problem", title="Refused", last_seen_at=timezone.now()
    )
    viewer = member_client(project, Role.VIEWER)
    assert viewer.post(f"/alerts/{alert.pk}/resolve/").status_code == 403
    alert.refresh_from_db()
    assert alert.resolved_at is None
    assert owner_client.post(f"/alerts/{alert.pk}/resolve/").status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert f'id="alert-{alert.pk}"' not in owner_client.get("/").content.decode()


def test_only_an_admin_lifts_the_marketing_pause(project: Project, member_client) -> None:
    project.marketing_paused_at = timezone.now()
    project.marketing_paused_reason = "the complaint rate of campaign “News” passed 0.3 %"
    project.save(update_fields=["marketing_paused_at", "marketing_paused_reason"])
    editor = member_client(project, Role.EDITOR)
    page = _text(editor.get("/"))
    assert "Marketing sends are paused" in page
    assert "Lift the pause" not in page
    assert editor.post("/marketing/resume/").status_code == 403
    project.refresh_from_db()
    assert project.marketing_paused_at is not None
    admin = member_client(project, Role.ADMIN)
    assert "Lift the pause" in _text(admin.get("/"))
    assert admin.post("/marketing/resume/").status_code == 302
    project.refresh_from_db()
    assert project.marketing_paused_at is None
    assert "Marketing sends are paused" not in _text(admin.get("/"))


# -- the suppression list -------------------------------------------------------------------------


@pytest.fixture
def suppressed(project: Project, make_contact) -> dict[str, Any]:
    gone = make_contact(project, "gone@example.net")
    suppress(project=project, email=gone.email, reason="bounced", detail="5.1.1 no such user", contact=gone)
    suppress(project=project, email="angry@example.net", reason="complained")
    return {
        "bounce": Suppression.objects.get(project=project, email="gone@example.net"),
        "complaint": Suppression.objects.get(project=project, email="angry@example.net"),
        "contact": gone,
    }


def test_the_suppression_list_is_filtered_by_reason_and_searched(suppressed, owner_client: Client) -> None:
    whole = _text(owner_client.get("/settings/suppressions/"))
    assert "gone@example.net Hard bounce 5.1.1 no such user" in whole
    assert "angry@example.net Complaint" in whole
    by_reason = _text(owner_client.get("/settings/suppressions/?reason=complained"))
    assert "angry@example.net" in by_reason
    assert "gone@example.net" not in by_reason
    searched = _text(owner_client.get("/settings/suppressions/?q=gone"))
    assert "gone@example.net" in searched
    assert "angry@example.net" not in searched


def test_the_settings_navigation_links_the_suppression_list(owner_client: Client) -> None:
    body = owner_client.get("/settings/suppressions/").content.decode()
    assert '<a href="/settings/suppressions/" aria-current="page">Suppression list</a>' in body


def test_only_an_admin_removes_an_address_and_only_with_a_note(
    suppressed, project: Project, member_client
) -> None:
    row = suppressed["bounce"]
    editor = member_client(project, Role.EDITOR)
    assert "Remove…" not in _text(editor.get("/settings/suppressions/"))
    assert editor.post(f"/settings/suppressions/{row.pk}/remove/", {"note": "asked"}).status_code == 403
    assert Suppression.objects.filter(pk=row.pk).exists()

    admin = member_client(project, Role.ADMIN, username="ada")
    assert "Remove…" in _text(admin.get("/settings/suppressions/"))
    refused = admin.post(f"/settings/suppressions/{row.pk}/remove/", {"note": "   "})
    assert refused.status_code == 422
    assert "Say why the address may be mailed again" in _text(refused)
    assert Suppression.objects.filter(pk=row.pk).exists()
    assert not SuppressionRemoval.objects.exists()

    done = admin.post(f"/settings/suppressions/{row.pk}/remove/", {"note": "They wrote to ask <b>back</b>"})
    assert done.status_code == 302
    assert not Suppression.objects.filter(pk=row.pk).exists()
    assert Contact.objects.get(pk=suppressed["contact"].pk).status == ContactStatus.SUBSCRIBED
    history = admin.get("/settings/suppressions/")
    assert "gone@example.net Hard bounce They wrote to ask <b>back</b> ada" in _text(history)
    assert "&lt;b&gt;back&lt;/b&gt;" in history.content.decode()


def test_another_projects_suppression_cannot_be_removed(suppressed, make_project, member_client) -> None:
    stranger = member_client(make_project("Rival Co"), Role.OWNER)
    row = suppressed["complaint"]
    assert stranger.post(f"/settings/suppressions/{row.pk}/remove/", {"note": "mine"}).status_code == 404
    assert Suppression.objects.filter(pk=row.pk).exists()
    assert "angry@example.net" not in _text(stranger.get("/settings/suppressions/"))


def test_messages_keep_their_rows_when_the_contact_is_gone(report, owner_client: Client) -> None:
    m = report["messages"]
    Contact.objects.filter(pk=m[3].contact_id).delete()
    body = owner_client.get(f"/campaigns/{report['campaign'].pk}/").content.decode()
    assert f'<tr id="message-{m[3].pk}">' in body
    assert Message.objects.get(pk=m[3].pk).contact_id is None
