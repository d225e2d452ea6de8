"""/api/v1/campaigns end to end: create, list, change, preflight, send, pause, resume, cancel,
duplicate, archive, delete, and that one project never reaches another's campaigns."""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.conftest import ok, refused
from tests.conftest import ApiClient
from tests.sending import factories as f
from tests.sending.conftest import smtp_auth_server, smtp_server  # noqa: F401
from tidings.audience.models import Contact, ContactStatus
from tidings.audience.segments import segment_create
from tidings.audience.services import topic_create
from tidings.campaigns.models import Campaign, CampaignStatus, IdempotentRequest
from tidings.content.models import EmailDesign
from tidings.sending.models import Message, MessageState, ProviderConnection
from tidings.sending.pipeline import run_campaign
from tidings.sending.services import connection_create, connection_update

pytestmark = pytest.mark.django_db

POSTAL = "1 Main St, Springfield"


# -- helpers ------------------------------------------------------------------------------------


def conflict(response: Any) -> str:
    assert response.status_code == 409, response.content
    problem = response.json()
    assert problem["status"] == 409
    return problem["detail"]


def news_tag(project: Any, subscribed: int = 3, *, unsubscribed: int = 0, bounced: int = 0) -> Any:
    """A tag with ``subscribed`` subscribed members and the given numbers of others."""
    news = f.tag(project)
    f.contacts(project, subscribed, tag=news, prefix="sub")
    f.contacts(project, unsubscribed, tag=news, status=ContactStatus.UNSUBSCRIBED, prefix="unsub")
    f.contacts(project, bounced, tag=news, status=ContactStatus.BOUNCED, prefix="bounced")
    return news


def draft(api: ApiClient, project: Any, news: Any = None, **values: Any) -> dict[str, Any]:
    """A draft made through the API, sending to ``news`` (a fresh tag of 3 when not given)."""
    news = news if news is not None else news_tag(project)
    body = {
        "name": "December news",
        "designId": f.design(project).pk,
        "from": "news@example.com",
        "fromName": "Acme News",
        "recipientType": "tag",
        "recipientId": news.pk,
        **values,
    }
    return ok(api.post("campaigns", body), 201)


def preflight(api: ApiClient, campaign_id: int) -> dict[str, Any]:
    return ok(api.get(f"campaigns/{campaign_id}/preflight"))


def codes(answer: dict[str, Any]) -> list[str]:
    return [p["code"] for p in answer["problems"]]


def run(campaign_id: int) -> Any:
    return run_campaign(Campaign.objects.select_related("project", "connection").get(pk=campaign_id))


def recipients(api: ApiClient, campaign_id: int, query: str = "") -> list[dict[str, Any]]:
    return ok(api.get(f"campaigns/{campaign_id}/recipients{query}"))["items"]


# -- create -------------------------------------------------------------------------------------


def test_create_with_every_field_answers_camel_case(api, project, ready) -> None:
    news = news_tag(project)
    design = f.design(project)
    topic = topic_create(project=project, name="Offers")
    relay = ProviderConnection.objects.get(project=project)
    body = {
        "name": "  December news  ",
        "designId": design.pk,
        "subject": "Our December {{ firstName }}",
        "preheader": "All the news",
        "from": "news@example.com",
        "fromName": "Acme News",
        "replyTo": "replies@example.com",
        "recipientType": "tag",
        "recipientId": news.pk,
        "connectionId": relay.pk,
        "topicId": topic.pk,
        "trackOpens": False,
        "trackClicks": False,
    }
    response = api.post("campaigns", body, **{"Idempotency-Key": "create-december"})
    created = ok(response, 201)
    assert created["name"] == "December news"
    assert created["status"] == "draft"
    assert created["designId"] == design.pk
    assert created["subject"] == "Our December {{ firstName }}"
    assert created["preheader"] == "All the news"
    assert created["from"] == "news@example.com"
    assert created["fromName"] == "Acme News"
    assert created["replyTo"] == "replies@example.com"
    assert created["recipientType"] == "tag"
    assert created["recipientId"] == news.pk
    assert created["connectionId"] == relay.pk
    assert created["topicId"] == topic.pk
    assert created["trackOpens"] is False
    assert created["trackClicks"] is False
    assert created["transactional"] is False
    assert created["scheduledAt"] is None
    assert created["startedAt"] is None
    assert created["archivedAt"] is None
    assert created["error"] == ""
    assert created["excluded"] == {}
    assert created["progress"]["total"] == 0
    assert created["progress"]["percent"] == 0.0
    for snake in ("from_", "from_name", "reply_to", "recipient_type", "design_id", "track_opens"):
        assert snake not in created

    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.project_id == project.pk
    assert campaign.from_email == "news@example.com"
    assert campaign.reply_to == "replies@example.com"
    assert campaign.topic_id == topic.pk
    assert campaign.track_opens is False

    # The same key and body: the first answer again, nothing new.
    again = api.post("campaigns", body, **{"Idempotency-Key": "create-december"})
    assert again.status_code == 201, again.content
    assert again.json()["id"] == created["id"]
    assert Campaign.objects.count() == 1
    assert IdempotentRequest.objects.filter(project=project, key="create-december").count() == 1
    # The same key with another body is a conflict.
    conflict(api.post("campaigns", {**body, "name": "Other"}, **{"Idempotency-Key": "create-december"}))
    assert Campaign.objects.count() == 1

    got = ok(api.get(f"campaigns/{created['id']}"))
    assert got["fromName"] == "Acme News"
    assert got["from"] == "news@example.com"
    assert got["recipientId"] == news.pk


def test_create_accepts_email_id_for_the_design(api, project, ready) -> None:
    design = f.design(project)
    created = ok(api.post("campaigns", {"name": "By email id", "emailId": design.pk}), 201)
    assert created["designId"] == design.pk


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"bcc": "evil@example.org"}, "bcc", ""),
        ({"name": None}, "name", ""),
        ({"name": "   "}, "name", "required"),
        ({"from": "me@gmail.com"}, "from", "gmail.com is a free-mail domain"),
        ({"from": "not an address"}, "from", "not a valid email"),
        ({"replyTo": "nobody"}, "replyTo", "not a valid email"),
        ({"replyTo": "a@example.com\r\nBcc: evil@example.org"}, "replyTo", "line break"),
        ({"subject": "Hi\r\nBcc: evil@example.org"}, "subject", "one line"),
        ({"subject": "Hi\nBcc: evil@example.org"}, "subject", "one line"),
        ({"fromName": "Acme\r\nBcc: evil@example.org"}, "fromName", "one line"),
        ({"fromName": "Acme\nBcc: evil@example.org"}, "fromName", "one line"),
        ({"preheader": "x\ry"}, "preheader", "one line"),
        ({"recipientType": "everyone"}, "recipientType", "audience or tag"),
        ({"recipientId": 0}, "recipientId", "positive"),
        ({"trackOpens": "maybe"}, "trackOpens", ""),
    ],
)
def test_create_refuses_bad_input_naming_the_field(api, project, ready, change, path, words) -> None:
    news = news_tag(project)
    body: dict[str, Any] = {
        "name": "December news",
        "designId": f.design(project).pk,
        "from": "news@example.com",
        "recipientType": "tag",
        "recipientId": news.pk,
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    message = refused(api.post("campaigns", body), path)
    assert words.lower() in message.lower()
    assert Campaign.objects.count() == 0


def test_ids_of_another_project_are_refused_naming_the_field(api, project, other_project, ready) -> None:
    news = news_tag(project)
    their_tag = f.tag(other_project, "theirs")
    their_segment = segment_create(project=other_project, name="All of theirs", filters={})
    their_design = f.design(other_project)
    their_topic = topic_create(project=other_project, name="Their topic")
    their_connection = f.outbox_connection(other_project)
    base = {"name": "December news", "recipientType": "tag", "recipientId": news.pk}
    cases = [
        ({"designId": their_design.pk}, "designId", "email"),
        ({"emailId": their_design.pk}, "emailId", "email"),
        ({"recipientType": "tag", "recipientId": their_tag.pk}, "recipientId", "tag"),
        ({"recipientType": "audience", "recipientId": their_segment.pk}, "recipientId", "audience"),
        ({"connectionId": their_connection.pk}, "connectionId", "provider connection"),
        ({"topicId": their_topic.pk}, "topicId", "topic"),
    ]
    for change, path, what in cases:
        message = refused(api.post("campaigns", {**base, **change}), path)
        assert f"no {what} with id" in message, message
        assert "in this project" in message
        assert Campaign.objects.count() == 0
    # Nor may a draft be changed to point at them.
    mine = draft(api, project, news)
    for change, path, _what in cases:
        refused(api.patch(f"campaigns/{mine['id']}", change), path)
    campaign = Campaign.objects.get(pk=mine["id"])
    assert campaign.recipient_id == news.pk
    assert campaign.connection_id is None
    assert campaign.topic_id is None
    assert campaign.design.project_id == project.pk
    assert Campaign.objects.count() == 1


# -- list ---------------------------------------------------------------------------------------


def test_list_is_newest_first_and_filters_by_status_and_name(api, project, ready) -> None:
    news = news_tag(project)
    names = ["Spring sale", "Summer news", "Autumn sale", "Winter news", "New year"]
    ids = [draft(api, project, news, name=name)["id"] for name in names]
    listed = ok(api.get("campaigns"))
    assert [c["id"] for c in listed["items"]] == list(reversed(ids))
    assert listed["nextCursor"] is None
    assert listed["items"][0]["name"] == "New year"
    assert "fromName" in listed["items"][0]
    assert "progress" in listed["items"][0]

    Campaign.objects.filter(pk__in=[ids[1], ids[3]]).update(status=CampaignStatus.SENT)
    sent = ok(api.get("campaigns?status=sent"))["items"]
    assert [c["id"] for c in sent] == [ids[3], ids[1]]
    drafts = ok(api.get("campaigns?status=draft"))["items"]
    assert [c["id"] for c in drafts] == [ids[4], ids[2], ids[0]]
    assert ok(api.get("campaigns?status=paused"))["items"] == []

    sales = ok(api.get("campaigns?q=SALE"))["items"]
    assert [c["name"] for c in sales] == ["Autumn sale", "Spring sale"]
    sent_news = ok(api.get("campaigns?q=news&status=sent"))["items"]
    assert [c["name"] for c in sent_news] == ["Winter news", "Summer news"]


def test_list_hides_archived_campaigns_unless_asked(api, project, ready) -> None:
    news = news_tag(project)
    kept = draft(api, project, news, name="Kept")
    shelved = draft(api, project, news, name="Shelved")
    ok(api.post(f"campaigns/{shelved['id']}/archive"))
    assert [c["id"] for c in ok(api.get("campaigns"))["items"]] == [kept["id"]]
    archived = ok(api.get("campaigns?archived=true"))["items"]
    assert [c["id"] for c in archived] == [shelved["id"]]
    assert archived[0]["archivedAt"] is not None
    assert [c["id"] for c in ok(api.get("campaigns?archived=false"))["items"]] == [kept["id"]]


def test_list_pages_with_a_cursor_and_sees_each_campaign_once(api, project, ready) -> None:
    news = news_tag(project)
    ids = [draft(api, project, news, name=f"Campaign {i}")["id"] for i in range(5)]
    seen: list[int] = []
    pages = 0
    cursor = None
    while True:
        query = "campaigns?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ok(api.get(query))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert seen == list(reversed(ids))
    assert len(set(seen)) == 5
    refused(api.get("campaigns?cursor=garbage!"), "cursor")
    assert api.get("campaigns?limit=0").status_code == 422


def test_the_list_shows_only_campaigns_not_send_api_batches(api, project, ready) -> None:
    Contact.objects.create(project=project, email="ann@example.net", email_key="ann@example.net")
    batch = api.post(
        "sending",
        {
            "recipientType": "email",
            "recipientEmail": "ann@example.net",
            "from": "hello@example.com",
            "subject": "Receipt",
            "template": "<p>Thanks</p>",
        },
    )
    assert batch.status_code == 202, batch.content
    mine = draft(api, project)
    assert [c["id"] for c in ok(api.get("campaigns"))["items"]] == [mine["id"]]


# -- change -------------------------------------------------------------------------------------


def test_patch_changes_a_draft(api, project, ready) -> None:
    news = news_tag(project)
    created = draft(api, project, news)
    other_design = f.design(project, subject="Another subject")
    changed = ok(
        api.patch(
            f"campaigns/{created['id']}",
            {
                "name": "January news",
                "subject": "Happy new year",
                "fromName": "Acme",
                "designId": other_design.pk,
                "trackClicks": False,
            },
        )
    )
    assert changed["name"] == "January news"
    assert changed["subject"] == "Happy new year"
    assert changed["fromName"] == "Acme"
    assert changed["designId"] == other_design.pk
    assert changed["trackClicks"] is False
    assert changed["trackOpens"] is True  # left out: kept
    assert changed["from"] == "news@example.com"
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.name == "January news"
    assert campaign.design_id == other_design.pk
    assert campaign.track_clicks is False
    refused(api.patch(f"campaigns/{created['id']}", {"fromName": "A\r\nB"}), "fromName")
    refused(api.patch(f"campaigns/{created['id']}", {"name": ""}), "name")
    refused(api.patch(f"campaigns/{created['id']}", {"from": "x@gmail.com"}), "from")
    assert Campaign.objects.get(pk=created["id"]).from_name == "Acme"


def test_patch_of_a_sending_campaign_is_a_conflict(api, project, ready) -> None:
    created = draft(api, project)
    ok(api.post(f"campaigns/{created['id']}/send"))
    detail = conflict(api.patch(f"campaigns/{created['id']}", {"name": "Changed while sending"}))
    assert "sending" in detail
    assert Campaign.objects.get(pk=created["id"]).name == "December news"


# -- preflight ----------------------------------------------------------------------------------


def test_preflight_ok_counts_the_eligible_and_the_excluded_by_reason(api, project, ready) -> None:
    news = news_tag(project, 2, unsubscribed=1, bounced=3)
    created = draft(api, project, news)
    answer = preflight(api, created["id"])
    assert answer["ok"] is True
    assert answer["problems"] == []
    assert answer["eligible"] == 2
    assert answer["excluded"] == {"unsubscribed": 1, "bounced": 3}
    assert Message.objects.count() == 0  # a preflight plans nothing


def test_preflight_without_a_provider_connection(make_project, make_api) -> None:
    bare = make_project("Bare", postal_address=POSTAL)
    f.verified_domain(bare)
    news = news_tag(bare)
    api = make_api(bare)
    created = draft(api, bare, news)
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert codes(answer) == ["no_provider"]
    assert answer["problems"][0]["path"] == "connectionId"
    assert "no provider connection" in answer["problems"][0]["message"]
    assert answer["eligible"] == 3


def test_preflight_names_an_unverified_domain_with_an_smtp_connection(
    api,
    project,
    smtp_server,  # noqa: F811
) -> None:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    created = draft(api, project, **{"from": "news@unverified.example"})
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert codes(answer) == ["domain_not_verified"]
    problem = answer["problems"][0]
    assert problem["path"] == "from"
    assert "unverified.example" in problem["message"]
    assert "not verified" in problem["message"]


def test_preflight_with_the_outbox_takes_an_unverified_domain(api, project) -> None:
    f.outbox_connection(project)
    created = draft(api, project, **{"from": "news@unverified.example"})
    answer = preflight(api, created["id"])
    assert answer["ok"] is True, answer
    assert answer["problems"] == []
    assert answer["eligible"] == 3


def test_preflight_without_a_postal_address(
    other_project,
    make_api,
    smtp_server,  # noqa: F811
) -> None:
    assert other_project.postal_address == ""
    f.verified_domain(other_project)
    f.smtp_connection(other_project, smtp_server)
    api = make_api(other_project)
    created = draft(api, other_project)
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert codes(answer) == ["no_postal_address"]
    assert answer["problems"][0]["path"] == "project.postalAddress"
    assert "postal address" in answer["problems"][0]["message"]


def test_preflight_names_a_design_that_does_not_render(api, project, ready) -> None:
    created = draft(api, project)
    EmailDesign.objects.filter(pk=created["designId"]).update(body="<p>{% if %}</p>")
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert codes(answer) == ["design_does_not_render"]
    assert answer["problems"][0]["path"] == "designId"
    assert "does not render" in answer["problems"][0]["message"]


def test_preflight_with_no_eligible_recipients_names_the_exclusions(api, project, ready) -> None:
    news = news_tag(project, 0, unsubscribed=3)
    created = draft(api, project, news)
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert codes(answer) == ["no_eligible_recipients"]
    assert answer["eligible"] == 0
    assert answer["excluded"] == {"unsubscribed": 3}
    message = answer["problems"][0]["message"]
    assert "no eligible recipients" in message
    assert "3 unsubscribed" in message


def test_preflight_without_email_or_recipients_lists_each_problem(api, project, ready) -> None:
    created = ok(api.post("campaigns", {"name": "Empty"}), 201)
    answer = preflight(api, created["id"])
    assert answer["ok"] is False
    assert sorted(codes(answer)) == ["no_content", "no_recipients", "no_sender"]
    assert answer["eligible"] is None


# -- send ---------------------------------------------------------------------------------------


def test_send_plans_every_message_once_and_run_finishes_it(api, project, ready) -> None:
    news = news_tag(project, 3, unsubscribed=1)
    created = draft(api, project, news)
    started = ok(api.post(f"campaigns/{created['id']}/send"))
    assert started["status"] == "sending"
    assert started["startedAt"] is not None
    assert started["excluded"] == {"unsubscribed": 1}
    assert started["progress"]["total"] == 4
    assert started["progress"]["queued"] == 3
    assert started["progress"]["skipped"] == 1
    assert Message.objects.filter(campaign_id=created["id"]).count() == 4

    listed = recipients(api, created["id"])
    assert len(listed) == 4
    states = {r["email"]: r["state"] for r in listed}
    assert states == {
        "sub0@example.net": "queued",
        "sub1@example.net": "queued",
        "sub2@example.net": "queued",
        "unsub0@example.net": "skipped",
    }
    skipped = recipients(api, created["id"], "?state=skipped")
    assert [(r["email"], r["skipReason"]) for r in skipped] == [("unsub0@example.net", "unsubscribed")]
    assert len(recipients(api, created["id"], "?state=queued")) == 3
    refused(api.get(f"campaigns/{created['id']}/recipients?state=lost"), "state")

    again = ok(api.post(f"campaigns/{created['id']}/send"))
    assert again["status"] == "sending"
    assert again["startedAt"] == started["startedAt"]
    assert Message.objects.filter(campaign_id=created["id"]).count() == 4

    result = run(created["id"])
    assert result.sent == 3
    assert sorted(r.rcpt_tos[0] for r in ready.messages) == [
        "sub0@example.net",
        "sub1@example.net",
        "sub2@example.net",
    ]
    done = ok(api.get(f"campaigns/{created['id']}"))
    assert done["status"] == "sent"
    assert done["finishedAt"] is not None
    progress = done["progress"]
    assert progress["total"] == 4
    assert progress["sent"] == 3
    assert progress["skipped"] == 1
    assert progress["queued"] == 0
    assert progress["percent"] == 100.0
    assert progress["skippedReasons"] == {"unsubscribed": 1}
    assert {r["state"] for r in recipients(api, created["id"], "?state=sent")} == {"sent"}
    assert len(recipients(api, created["id"], "?state=sent")) == 3
    # A sent campaign does not start again.
    assert ok(api.post(f"campaigns/{created['id']}/send"))["status"] == "sent"
    assert Message.objects.filter(campaign_id=created["id"]).count() == 4


def test_recipients_page_with_a_cursor(api, project, ready) -> None:
    news = news_tag(project, 5)
    created = draft(api, project, news)
    ok(api.post(f"campaigns/{created['id']}/send"))
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = ok(
            api.get(f"campaigns/{created['id']}/recipients?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        )
        seen += [r["email"] for r in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"sub{i}@example.net" for i in range(5)]
    assert len(seen) == 5


def test_send_with_problems_lists_each_and_plans_nothing(api, project, other_project) -> None:
    # No connection in the project, no email, no sender, no recipients.
    created = ok(api.post("campaigns", {"name": "Not ready"}), 201)
    response = api.post(f"campaigns/{created['id']}/send")
    assert response.status_code == 422, response.content
    problem = response.json()
    paths = sorted(e["path"] for e in problem["errors"])
    assert paths == ["connectionId", "designId", "from", "recipientId"]
    assert "no provider connection" in problem["detail"]
    assert "no email is chosen" in problem["detail"]
    assert Message.objects.count() == 0
    assert Campaign.objects.get(pk=created["id"]).status == CampaignStatus.DRAFT
    assert ok(api.get(f"campaigns/{created['id']}"))["status"] == "draft"


def test_send_to_no_eligible_recipients_is_refused_and_stays_a_draft(api, project, ready) -> None:
    news = news_tag(project, 0, unsubscribed=2, bounced=1)
    created = draft(api, project, news)
    message = refused(api.post(f"campaigns/{created['id']}/send"), "recipientId")
    assert "no eligible recipients" in message
    assert "2 unsubscribed" in message
    assert "1 bounced" in message
    assert Message.objects.count() == 0
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.started_at is None
    assert campaign.content is None


def test_send_with_a_design_that_does_not_render_is_refused(api, project, ready) -> None:
    created = draft(api, project)
    EmailDesign.objects.filter(pk=created["designId"]).update(body="{% if %}")
    message = refused(api.post(f"campaigns/{created['id']}/send"), "designId")
    assert "does not render" in message
    assert Message.objects.count() == 0
    assert Campaign.objects.get(pk=created["id"]).status == CampaignStatus.DRAFT


# -- pause, resume, cancel ------------------------------------------------------------------------


def test_pause_resume_and_cancel(api, project, ready) -> None:
    news = news_tag(project, 3, unsubscribed=1)
    created = draft(api, project, news)
    cid = created["id"]
    assert "draft" in conflict(api.post(f"campaigns/{cid}/pause"))
    assert "draft" in conflict(api.post(f"campaigns/{cid}/resume"))

    ok(api.post(f"campaigns/{cid}/send"))
    paused = ok(api.post(f"campaigns/{cid}/pause"))
    assert paused["status"] == "paused"
    assert ok(api.post(f"campaigns/{cid}/pause"))["status"] == "paused"  # twice: no harm
    assert run(cid).stopped == "paused"
    assert ready.messages == []
    conflict(api.patch(f"campaigns/{cid}", {"name": "Changed while paused"}))
    conflict(api.post(f"campaigns/{cid}/archive"))

    resumed = ok(api.post(f"campaigns/{cid}/resume"))
    assert resumed["status"] == "sending"
    assert ok(api.post(f"campaigns/{cid}/resume"))["status"] == "sending"  # already: no harm
    queued = Message.objects.filter(campaign_id=cid, state=MessageState.QUEUED).count()
    assert queued == 3

    cancelled = ok(api.post(f"campaigns/{cid}/cancel"))
    assert cancelled["unsent"] == queued
    assert cancelled["campaign"]["status"] == "cancelled"
    assert cancelled["campaign"]["finishedAt"] is not None
    assert cancelled["campaign"]["progress"]["cancelled"] == 3
    assert cancelled["campaign"]["progress"]["skipped"] == 1
    assert Message.objects.filter(campaign_id=cid, state=MessageState.CANCELLED).count() == 3
    assert Message.objects.filter(campaign_id=cid, state=MessageState.QUEUED).count() == 0

    assert "cancelled" in conflict(api.post(f"campaigns/{cid}/resume"))
    conflict(api.post(f"campaigns/{cid}/cancel"))
    conflict(api.post(f"campaigns/{cid}/pause"))
    assert ok(api.post(f"campaigns/{cid}/send"))["status"] == "cancelled"
    assert run(cid).stopped == "cancelled"
    assert ready.messages == []
    assert Campaign.objects.get(pk=cid).status == CampaignStatus.CANCELLED


def test_cancel_a_draft_leaves_nothing_unsent(api, project, ready) -> None:
    created = draft(api, project)
    cancelled = ok(api.post(f"campaigns/{created['id']}/cancel"))
    assert cancelled["unsent"] == 0
    assert cancelled["campaign"]["status"] == "cancelled"


def test_a_failed_campaign_resumes_once_its_login_is_fixed(
    api,
    project,
    smtp_auth_server,  # noqa: F811
) -> None:
    f.verified_domain(project)
    relay = connection_create(
        project=project,
        name="Relay",
        kind="smtp",
        options={
            "host": smtp_auth_server.host,
            "port": smtp_auth_server.port,
            "security": "none",
            "username": "mailer",
        },
        secrets_given={"password": "wrong"},
        is_default=True,
    )
    news = news_tag(project, 2)
    created = draft(api, project, news)
    cid = created["id"]
    ok(api.post(f"campaigns/{cid}/send"))
    assert run(cid).stopped == "failed"
    failed = ok(api.get(f"campaigns/{cid}"))
    assert failed["status"] == "failed"
    assert "login" in failed["error"]
    assert failed["progress"]["queued"] == 2  # nothing lost
    assert smtp_auth_server.messages == []

    connection_update(connection=relay, secrets_given={"password": "s3cret"})
    resumed = ok(api.post(f"campaigns/{cid}/resume"))
    assert resumed["status"] == "sending"
    assert resumed["error"] == ""
    result = run(cid)
    assert result.sent == 2
    done = ok(api.get(f"campaigns/{cid}"))
    assert done["status"] == "sent"
    assert done["progress"]["sent"] == 2
    assert done["progress"]["percent"] == 100.0
    assert sorted(r.rcpt_tos[0] for r in smtp_auth_server.messages) == [
        "sub0@example.net",
        "sub1@example.net",
    ]


# -- duplicate, archive, delete -----------------------------------------------------------------


def test_duplicate_makes_a_draft_with_the_same_settings(api, project, ready) -> None:
    news = news_tag(project)
    topic = topic_create(project=project, name="Offers")
    relay = ProviderConnection.objects.get(project=project)
    created = draft(
        api,
        project,
        news,
        subject="Subject override",
        preheader="Preview",
        replyTo="replies@example.com",
        connectionId=relay.pk,
        topicId=topic.pk,
        trackOpens=False,
    )
    ok(api.post(f"campaigns/{created['id']}/send"))
    run(created["id"])
    copy = ok(api.post(f"campaigns/{created['id']}/duplicate"), 201)
    assert copy["id"] != created["id"]
    assert copy["name"] == "December news (copy)"
    assert copy["status"] == "draft"
    assert copy["startedAt"] is None
    assert copy["finishedAt"] is None
    assert copy["progress"]["total"] == 0
    for key in (
        "designId",
        "subject",
        "preheader",
        "from",
        "fromName",
        "replyTo",
        "recipientType",
        "recipientId",
        "connectionId",
        "topicId",
        "trackOpens",
        "trackClicks",
        "transactional",
    ):
        assert copy[key] == created[key], key
    assert copy["trackOpens"] is False
    assert Message.objects.filter(campaign_id=copy["id"]).count() == 0
    assert ok(api.get(f"campaigns/{created['id']}"))["status"] == "sent"  # the original is untouched
    # The copy can be sent.
    assert ok(api.post(f"campaigns/{copy['id']}/send"))["status"] == "sending"


def test_archive_and_unarchive(api, project, ready) -> None:
    news = news_tag(project, 1)
    a_draft = draft(api, project, news, name="A draft")
    a_sent = draft(api, project, news, name="A sent one")
    sending = draft(api, project, news, name="Sending")
    ok(api.post(f"campaigns/{a_sent['id']}/send"))
    run(a_sent["id"])
    assert Campaign.objects.get(pk=a_sent["id"]).status == CampaignStatus.SENT
    ok(api.post(f"campaigns/{sending['id']}/send"))

    archived = ok(api.post(f"campaigns/{a_draft['id']}/archive"))
    assert archived["archivedAt"] is not None
    assert archived["status"] == "draft"
    assert ok(api.post(f"campaigns/{a_sent['id']}/archive"))["archivedAt"] is not None
    assert "sending" in conflict(api.post(f"campaigns/{sending['id']}/archive"))
    assert Campaign.objects.get(pk=sending["id"]).archived_at is None

    assert [c["id"] for c in ok(api.get("campaigns"))["items"]] == [sending["id"]]
    assert sorted(c["id"] for c in ok(api.get("campaigns?archived=true"))["items"]) == sorted(
        [a_draft["id"], a_sent["id"]]
    )
    # Archived, still readable by id.
    assert ok(api.get(f"campaigns/{a_sent['id']}"))["archivedAt"] is not None

    back = ok(api.post(f"campaigns/{a_draft['id']}/unarchive"))
    assert back["archivedAt"] is None
    assert sorted(c["id"] for c in ok(api.get("campaigns"))["items"]) == sorted(
        [a_draft["id"], sending["id"]]
    )
    assert [c["id"] for c in ok(api.get("campaigns?archived=true"))["items"]] == [a_sent["id"]]


def test_delete_a_draft_but_not_a_sent_campaign(api, project, ready) -> None:
    news = news_tag(project, 1)
    a_draft = draft(api, project, news, name="A draft")
    a_sent = draft(api, project, news, name="A sent one")
    ok(api.post(f"campaigns/{a_sent['id']}/send"))
    run(a_sent["id"])

    response = api.delete(f"campaigns/{a_draft['id']}")
    assert response.status_code == 204, response.content
    assert not Campaign.objects.filter(pk=a_draft["id"]).exists()
    assert api.get(f"campaigns/{a_draft['id']}").status_code == 404
    assert api.delete(f"campaigns/{a_draft['id']}").status_code == 404

    assert "draft" in conflict(api.delete(f"campaigns/{a_sent['id']}"))
    assert Campaign.objects.filter(pk=a_sent["id"]).exists()
    assert Message.objects.filter(campaign_id=a_sent["id"]).count() == 1


# -- tenancy and keys ---------------------------------------------------------------------------


def _routes(cid: int) -> list[tuple[str, str, Any]]:
    return [
        ("get", f"campaigns/{cid}", None),
        ("patch", f"campaigns/{cid}", {"name": "Taken over"}),
        ("delete", f"campaigns/{cid}", None),
        ("get", f"campaigns/{cid}/preflight", None),
        ("post", f"campaigns/{cid}/send", None),
        ("post", f"campaigns/{cid}/schedule", {"scheduledAt": "2099-01-01T09:00", "timezone": "UTC"}),
        ("post", f"campaigns/{cid}/unschedule", None),
        ("post", f"campaigns/{cid}/pause", None),
        ("post", f"campaigns/{cid}/resume", None),
        ("post", f"campaigns/{cid}/cancel", None),
        ("post", f"campaigns/{cid}/duplicate", None),
        ("post", f"campaigns/{cid}/archive", None),
        ("post", f"campaigns/{cid}/unarchive", None),
        ("get", f"campaigns/{cid}/recipients", None),
    ]


def _call(client: ApiClient, method: str, path: str, body: Any) -> Any:
    if method in ("get", "delete"):
        return getattr(client, method)(path)
    return getattr(client, method)(path, body)


def test_another_projects_campaign_is_not_found_on_every_route(api, other_api, project, ready) -> None:
    created = draft(api, project)
    cid = created["id"]
    before = Campaign.objects.get(pk=cid)
    for method, path, body in _routes(cid):
        response = _call(other_api, method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert "December news" not in response.content.decode()
    after = Campaign.objects.get(pk=cid)
    assert after.name == before.name
    assert after.status == CampaignStatus.DRAFT
    assert after.archived_at is None
    assert after.scheduled_at is None
    assert Campaign.objects.count() == 1
    assert Message.objects.count() == 0
    assert ok(other_api.get("campaigns"))["items"] == []
    # A missing id answers the same.
    for method, path, body in _routes(cid + 1000):
        assert _call(api, method, path, body).status_code == 404, (method, path)


def test_every_route_needs_a_key(api, project, ready) -> None:
    cid = draft(api, project)["id"]
    anonymous = ApiClient(None)
    wrong = ApiClient("tid_not_a_real_key")
    routes = [("get", "campaigns", None), ("post", "campaigns", {"name": "Anonymous"}), *_routes(cid)]
    for client in (anonymous, wrong):
        for method, path, body in routes:
            response = _call(client, method, path, body)
            assert response.status_code == 401, (method, path, response.content)
            assert response["WWW-Authenticate"].startswith("Bearer")
    campaign = Campaign.objects.get(pk=cid)
    assert campaign.name == "December news"
    assert campaign.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1
