"""Campaign results: exact figures for known events, the rates' denominators, the per-recipient
log and its status filters, a contact's activity, the project's 30-day totals, and no way into
another project's results."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.sending import factories as f
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.core.models import Project
from tidings.sending.models import Message, MessageState, ProviderConnection
from tidings.sending.services import connection_create
from tidings.tracking.delivery import DeliveryEvent, delivery_event_record
from tidings.tracking.models import EventSource, TrackedLink
from tidings.tracking.selectors import campaign_results, contact_activity, project_totals

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
PROXY = "Mozilla/5.0"  # Apple Mail Privacy Protection: a machine
NEWS = "https://example.com/news"
SHOP = "https://example.com/shop"


def _sent_campaign(
    project: Project,
    connection: ProviderConnection,
    states: list[str],
    *,
    sent_at: datetime,
    prefix: str = "person",
) -> tuple[Campaign, list[Message]]:
    """A started campaign whose messages are in ``states`` (one message per recipient)."""
    tag = f.tag(project, prefix)
    people = f.contacts(project, len(states), tag=tag, prefix=prefix)
    campaign = f.campaign(
        project, design_obj=f.design(project), tag_obj=tag, name=f"{prefix} news", connectionId=connection.pk
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT, started_at=sent_at)
    campaign.refresh_from_db()
    Message.objects.bulk_create(
        Message(
            project=project,
            campaign=campaign,
            contact=person,
            email=person.email,
            email_key=person.email_key,
            state=state,
            sent_at=sent_at if state == MessageState.SENT else None,
        )
        for person, state in zip(people, states, strict=True)
    )
    for index, url in enumerate((NEWS, SHOP), start=1):
        TrackedLink.objects.create(
            project=project,
            campaign=campaign,
            index=index,
            url=url,
            url_hash=hashlib.sha256(url.encode()).hexdigest(),
        )
    return campaign, list(Message.objects.filter(campaign=campaign).order_by("id"))


def _event(project: Project, message: Message, kind: str, at: datetime, **fields: Any) -> None:
    # Opens and clicks as the campaign's own pixel and redirect record them; the rest as reported.
    delivery_event_record(
        project=project,
        event=DeliveryEvent(kind=kind, message_id=message.pk, occurred_at=at, **fields),
        source=EventSource.TRACKING if kind in ("opened", "clicked") else EventSource.WEBHOOK,
        connection_id=message.campaign.connection_id,
    )


@pytest.fixture
def sent_at() -> datetime:
    return timezone.now() - timedelta(hours=6)


@pytest.fixture
def smtp_campaign(project: Project, sent_at: datetime) -> tuple[Campaign, list[Message]]:
    """Eight sent, one failed, one skipped, one queued; opens, clicks, bounces and a complaint."""
    connection = f.outbox_connection(project)
    states = [MessageState.SENT] * 8 + [MessageState.FAILED, MessageState.SKIPPED, MessageState.QUEUED]
    campaign, m = _sent_campaign(project, connection, states, sent_at=sent_at)
    hour = timedelta(hours=1)
    _event(project, m[0], "opened", sent_at + hour, user_agent=BROWSER)
    _event(project, m[0], "opened", sent_at + 2 * hour, user_agent=BROWSER)
    _event(project, m[0], "opened", sent_at + hour, user_agent=PROXY)
    _event(project, m[0], "clicked", sent_at + hour, user_agent=BROWSER, url=NEWS)
    _event(project, m[0], "clicked", sent_at + 2 * hour, user_agent=BROWSER, url=NEWS)
    _event(project, m[1], "opened", sent_at + hour, user_agent=BROWSER)
    _event(project, m[1], "clicked", sent_at + hour, user_agent=BROWSER, url=SHOP)
    _event(project, m[1], "unsubscribed", sent_at + 2 * hour)
    _event(project, m[2], "opened", sent_at, user_agent=PROXY)
    # A scanner clicks within seconds of the message going out: a machine, whatever its agent says.
    _event(project, m[2], "clicked", sent_at + timedelta(seconds=3), user_agent=BROWSER, url=SHOP)
    _event(project, m[3], "bounced", sent_at + hour, status_code="550 5.1.1", detail="no such user")
    _event(project, m[4], "bounced", sent_at + hour, status_code="452 4.2.2", detail="mailbox full")
    _event(project, m[4], "bounced", sent_at + 2 * hour, status_code="452 4.2.2", detail="mailbox full")
    _event(project, m[5], "bounced", sent_at + hour, status_code="452 4.2.2")
    _event(project, m[5], "bounced", sent_at + 2 * hour, status_code="550 5.1.1")
    _event(project, m[6], "bounced", sent_at + hour, status_code="550 5.7.26", detail="unauthenticated")
    _event(project, m[7], "complained", sent_at + 3 * hour)
    return campaign, m


def test_a_campaigns_figures_are_exact(smtp_campaign, api) -> None:
    campaign, _ = smtp_campaign
    body = api.get(f"campaigns/{campaign.pk}/results").json()
    assert body["recipients"] == 11
    assert body["sent"] == 8
    assert body["failed"] == 1
    assert body["skipped"] == 1
    assert body["queued"] == 1
    assert body["cancelled"] == 0
    assert body["delivered"] == 4  # 8 sent − 3 bounced − 1 refused
    assert body["deliveriesReported"] is False
    assert body["opens"] == {"unique": 2, "total": 3, "machine": 2}
    assert body["clicks"] == {"unique": 2, "total": 3, "machine": 1}
    assert body["bounces"] == {"total": 3, "hard": 2, "soft": 1}
    assert body["refused"] == 1
    assert body["complaints"] == 1
    assert body["unsubscribes"] == 1


def test_rates_use_sent_or_delivered_as_their_denominator(smtp_campaign, api) -> None:
    campaign, _ = smtp_campaign
    rates = api.get(f"campaigns/{campaign.pk}/results").json()["rates"]
    assert rates == {
        "delivery": 0.5,  # 4 delivered ÷ 8 sent
        "open": 0.5,  # 2 unique opens ÷ 4 delivered
        "click": 0.5,  # 2 unique clicks ÷ 4 delivered
        "clickToOpen": 1.0,  # 2 ÷ 2
        "bounce": 0.375,  # 3 bounced ÷ 8 sent
        "complaint": 0.125,  # 1 ÷ 8 sent
        "unsubscribe": 0.25,  # 1 ÷ 4 delivered
    }


def test_links_and_the_timeline_count_people_and_keep_machines_apart(smtp_campaign, sent_at) -> None:
    campaign, _ = smtp_campaign
    results = campaign_results(campaign)
    links = [(link["index"], link["unique"], link["total"], link["machine"]) for link in results["links"]]
    assert links == [(1, 1, 2, 0), (2, 1, 1, 1)]
    by_kind: dict[str, int] = {}
    for point in results["timeline"]:
        by_kind[point["kind"]] = by_kind.get(point["kind"], 0) + point["count"]
    assert by_kind == {"opened": 3, "clicked": 3}
    hours = sorted({point["hour"] for point in results["timeline"]})
    assert hours == [
        (sent_at + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0),
        (sent_at + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0),
    ]


def test_an_esp_that_reports_deliveries_counts_delivered_from_its_reports(project, sent_at, api) -> None:
    postmark = connection_create(
        project=project, name="Postmark", kind="postmark", secrets_given={"serverToken": "token"}
    )
    campaign, m = _sent_campaign(project, postmark, [MessageState.SENT] * 4, sent_at=sent_at)
    for message in m[:3]:
        _event(project, message, "delivered", sent_at + timedelta(minutes=1))
    _event(project, m[0], "delivered", sent_at + timedelta(minutes=2))  # a repeat counts once
    _event(project, m[3], "bounced", sent_at + timedelta(minutes=1), status_code="5.1.1")
    _event(project, m[0], "opened", sent_at + timedelta(hours=1), user_agent=BROWSER)
    body = api.get(f"campaigns/{campaign.pk}/results").json()
    assert body["delivered"] == 3
    assert body["deliveriesReported"] is True
    assert body["rates"]["delivery"] == 0.75
    assert body["rates"]["open"] == round(1 / 3, 4)
    delivered = api.get(f"campaigns/{campaign.pk}/results/recipients?status=delivered").json()["items"]
    assert sorted(row["email"] for row in delivered) == sorted(x.email for x in m[:3])


def test_an_esp_without_any_delivery_report_yet_falls_back_to_sent_minus_bounces(project, sent_at) -> None:
    ses = connection_create(
        project=project,
        name="SES",
        kind="ses",
        options={"region": "eu-west-1"},
        secrets_given={"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "secret"},
    )
    campaign, m = _sent_campaign(project, ses, [MessageState.SENT] * 3, sent_at=sent_at)
    _event(project, m[0], "bounced", sent_at, status_code="5.1.1")
    results = campaign_results(campaign)
    assert results["delivered"] == 2
    assert results["deliveries_reported"] is False


def test_a_campaign_with_nothing_sent_has_no_rates(project, sent_at) -> None:
    campaign, _ = _sent_campaign(
        project, f.outbox_connection(project), [MessageState.QUEUED], sent_at=sent_at
    )
    results = campaign_results(campaign)
    assert results["recipients"] == 1
    assert results["sent"] == 0
    assert set(results["rates"].values()) == {None}


@pytest.mark.parametrize(
    ("status", "indexes"),
    [
        ("sent", [0, 1, 2, 3, 4, 5, 6, 7]),
        ("delivered", [0, 1, 2, 7]),
        ("opened", [0, 1]),
        ("clicked", [0, 1]),
        ("bounced", [3, 4, 5]),
        ("refused", [6]),
        ("complained", [7]),
        ("unsubscribed", [1]),
        ("failed", [8]),
        ("skipped", [9]),
        ("queued", [10]),
        ("cancelled", []),
    ],
)
def test_the_recipient_log_filters_by_status(smtp_campaign, api, status, indexes) -> None:
    campaign, m = smtp_campaign
    response = api.get(f"campaigns/{campaign.pk}/results/recipients?status={status}")
    assert response.status_code == 200, response.content
    ids = [row["id"] for row in response.json()["items"]]
    assert ids == sorted((m[i].pk for i in indexes), reverse=True)  # newest first


def test_a_recipient_log_row_says_what_became_of_the_message(smtp_campaign, api) -> None:
    campaign, m = smtp_campaign
    rows = {row["id"]: row for row in api.get(f"campaigns/{campaign.pk}/results/recipients").json()["items"]}
    first = rows[m[0].pk]
    assert first["email"] == m[0].email
    assert first["contactId"] == m[0].contact_id
    assert first["state"] == "sent"
    assert first["delivered"] is True
    assert (first["opened"], first["opens"], first["machineOpens"]) == (True, 2, 1)
    assert (first["clicked"], first["clicks"]) == (True, 2)
    assert first["lastEvent"] == "clicked"
    assert first["lastUserAgent"] == BROWSER
    hard = rows[m[5].pk]
    assert (hard["bounceType"], hard["statusCode"], hard["delivered"]) == ("hard", "5.1.1", False)
    refused = rows[m[6].pk]
    assert (refused["bounceType"], refused["bounceDetail"]) == ("policy", "unauthenticated")
    assert rows[m[7].pk]["complained"] is True
    assert rows[m[1].pk]["unsubscribed"] is True


def test_the_recipient_log_pages_through_every_message_once(smtp_campaign, api) -> None:
    campaign, m = smtp_campaign
    seen: list[int] = []
    url = f"campaigns/{campaign.pk}/results/recipients?limit=4"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["items"]]
        cursor = body["nextCursor"]
        url = f"campaigns/{campaign.pk}/results/recipients?limit=4&cursor={cursor}" if cursor else ""
    assert seen == sorted((x.pk for x in m), reverse=True)


def test_an_unknown_status_is_refused_with_the_choices(smtp_campaign, api) -> None:
    campaign, _ = smtp_campaign
    for path in ("results/recipients?status=read", "results.csv?status=read"):
        response = api.get(f"campaigns/{campaign.pk}/{path}")
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert error["path"] == "status"
        assert "sent, delivered, opened" in error["message"]


def test_another_projects_campaign_results_are_not_found(smtp_campaign, other_api) -> None:
    campaign, m = smtp_campaign
    for path in ("results", "results/recipients", "results.csv"):
        assert other_api.get(f"campaigns/{campaign.pk}/{path}").status_code == 404
    assert other_api.get(f"contacts/{m[0].contact_id}/activity").status_code == 404


def test_a_contacts_activity_lists_messages_and_events_newest_first(smtp_campaign, api, sent_at) -> None:
    campaign, m = smtp_campaign
    body = api.get(f"contacts/{m[0].contact_id}/activity").json()
    kinds = [(item["type"], item["kind"], item["machine"]) for item in body["items"]]
    assert kinds == [
        ("event", "clicked", False),
        ("event", "opened", False),
        ("event", "clicked", False),
        ("event", "opened", True),
        ("event", "opened", False),
        ("message", "sent", False),
    ]
    assert body["items"][0]["linkUrl"] == NEWS
    assert body["items"][0]["campaignName"] == campaign.name
    assert body["items"][-1]["at"].startswith(sent_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["nextCursor"] is None
    bounced = api.get(f"contacts/{m[3].contact_id}/activity").json()["items"][0]
    expected = ("bounced", "hard", "5.1.1", "no such user")
    assert (bounced["kind"], bounced["bounceType"], bounced["statusCode"], bounced["detail"]) == expected


def test_a_contacts_activity_pages_through_every_item_once_even_at_the_same_moment(
    smtp_campaign, sent_at
) -> None:
    campaign, m = smtp_campaign
    project, contact_id = campaign.project, m[2].contact_id  # a machine open at the very moment it was sent
    whole, _ = contact_activity(project=project, contact_id=contact_id, limit=50)
    assert len(whole) == 3
    seen, cursor = [], None
    while True:
        page, cursor = contact_activity(project=project, contact_id=contact_id, cursor=cursor, limit=1)
        seen += page
        if cursor is None:
            break
    assert seen == whole


def test_a_bad_activity_cursor_is_refused(smtp_campaign, api) -> None:
    _, m = smtp_campaign
    response = api.get(f"contacts/{m[0].contact_id}/activity?cursor=nonsense")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "cursor"


def test_the_projects_totals_cover_the_last_30_days(project, smtp_campaign, sent_at) -> None:
    connection = smtp_campaign[0].connection
    long_ago = sent_at - timedelta(days=40)
    _, old = _sent_campaign(project, connection, [MessageState.SENT] * 2, sent_at=long_ago, prefix="old")
    _event(project, old[0], "opened", sent_at - timedelta(days=39), user_agent=BROWSER)
    totals = project_totals(project=project)
    assert totals["days"] == 30
    assert totals["sent"] == 8
    assert totals["delivered"] == 4
    assert totals["opens"]["unique"] == 2
    assert totals["clicks"]["unique"] == 2
    assert totals["bounces"]["total"] == 3
    assert totals["complaints"] == 1
    assert totals["unsubscribes"] == 1
