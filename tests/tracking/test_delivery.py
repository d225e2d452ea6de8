"""The delivery door: bounces, complaints and deliveries, whatever reports them, and what they change.

Suppression of hard bounces and complaints, soft bounces counted against the
project's limit, policy refusals as alerts, the complaint-rate pause of
marketing sends, de-duplication by event id, and the suppression list's API.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.audience.test_import_support import reasons, run_import
from tests.conftest import ApiClient
from tests.sending import factories as f
from tests.sending.conftest import smtp_server  # noqa: F401 - the fixture, for the refusal-at-sending test
from tidings.audience.models import Contact, ContactStatus, Suppression, SuppressionRemoval
from tidings.audience.validation import email_hash
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.campaigns.services import campaign_preflight, campaign_resume, campaign_start
from tidings.core.errors import Conflict
from tidings.core.models import Project
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.tracking.delivery import (
    DeliveryEvent,
    bounce_type_of,
    classify_bounce,
    delivery_event_record,
    enhanced_code,
    marketing_resume,
)
from tidings.tracking.models import Alert, AlertKind, EventSource, TrackingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


def _sent(project: Project, n: int = 3, **values: Any) -> tuple[Campaign, list[Contact], list[Message]]:
    f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news, **values)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    messages = list(Message.objects.filter(campaign=campaign).order_by("email"))
    assert {m.state for m in messages} == {MessageState.SENT}
    return campaign, people, messages


def _record(project: Project, source: str = EventSource.DSN, **fields: Any) -> Any:
    return delivery_event_record(project=project, event=DeliveryEvent(**fields), source=source)


def _status(contact: Contact) -> str:
    return Contact.objects.get(pk=contact.pk).status


def _suppressed(project: Project, address: str) -> Suppression | None:
    return Suppression.objects.filter(project=project, email_hash=email_hash(project.pk, address)).first()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("5.1.1", "hard"),
        ("5.1.10", "hard"),
        ("5.4.4", "hard"),
        ("5.2.2", "soft"),
        ("5.3.4", "soft"),
        ("4.2.2", "soft"),
        ("4.4.1", "soft"),
        ("5.7.1", "policy"),
        ("5.7.26", "policy"),
        ("550", "hard"),
        ("452", "soft"),
        ("554", "soft"),
        ("5.1.7", "policy"),  # the sender's address, not the recipient's
        ("5.1.8", "policy"),
        ("", "soft"),
    ],
)
def test_bounce_types_follow_the_enhanced_status_code(code: str, kind: str) -> None:
    assert bounce_type_of(code) == kind


@pytest.mark.parametrize(
    ("status", "diagnostic", "provider", "expected"),
    [
        (
            "5.0.0",
            "550 5.1.1 The email account that you tried to reach does not exist",
            "",
            ("5.1.1", "hard"),
        ),
        ("5.0.0", "552 mailbox full", "", ("5.0.0", "soft")),
        ("5.0.0", "550 no such user", "", ("5.0.0", "hard")),
        ("5.0.0", "", "soft", ("5.0.0", "soft")),
        ("", "", "hard", ("", "hard")),
        ("", "", "", ("", "soft")),
        ("4.0.0", "", "hard", ("4.0.0", "hard")),
        ("5.7.1", "", "hard", ("5.7.1", "policy")),
        ("", "553 5.1.8 sender domain does not exist", "hard", ("5.1.8", "policy")),
        ("4.4.7", "550 5.1.1 no such user", "", ("4.4.7", "soft")),
    ],
)
def test_one_classification_for_every_source(
    status: str, diagnostic: str, provider: str, expected: Any
) -> None:
    assert classify_bounce(status, diagnostic, provider) == expected


def test_the_enhanced_code_is_found_in_a_reply() -> None:
    assert enhanced_code("550-5.1.1 The email account that you tried to reach does not exist") == "5.1.1"
    assert enhanced_code("smtp; 550 no such user") == ""


def test_a_hard_bounce_suppresses_the_address_and_marks_the_contact(project: Project) -> None:
    campaign, people, messages = _sent(project)
    outcome = _record(
        project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1", detail="no such user"
    )
    assert outcome.stored
    assert outcome.effect == "suppressed"
    assert _status(people[0]) == ContactStatus.BOUNCED
    entry = _suppressed(project, people[0].email)
    assert entry is not None
    assert (entry.reason, entry.email, entry.previous_status) == ("bounced", people[0].email, "subscribed")
    assert entry.detail == "5.1.1 no such user"
    event = TrackingEvent.objects.get(kind="bounced")
    assert (event.bounce_type, event.campaign_id, event.contact_id, event.source) == (
        "hard",
        campaign.pk,
        people[0].pk,
        "dsn",
    )
    assert _status(people[1]) == ContactStatus.SUBSCRIBED


def test_a_repeated_event_id_is_stored_once_and_changes_nothing_more(project: Project) -> None:
    _, _people, messages = _sent(project)
    first = _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2", event_id="ev-1")
    again = _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2", event_id="ev-1")
    assert first.stored
    assert again.duplicate
    assert not again.stored
    assert TrackingEvent.objects.filter(kind="bounced").count() == 1
    # The same id from another source is another event.
    other = _record(
        project,
        source=EventSource.WEBHOOK,
        kind="bounced",
        message_id=messages[0].pk,
        status_code="4.2.2",
        event_id="ev-1",
    )
    assert other.stored


def test_soft_bounces_count_within_the_window_up_to_the_projects_limit(project: Project) -> None:
    _, people, messages = _sent(project)
    old = _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2")
    TrackingEvent.objects.filter(pk=old.event.pk).update(occurred_at=timezone.now() - timedelta(days=31))
    for n in range(2):
        outcome = _record(
            project, kind="bounced", message_id=messages[0].pk, status_code="5.2.2", detail=f"{n}"
        )
        assert outcome.effect == "soft-bounce"
        assert _status(people[0]) == ContactStatus.SUBSCRIBED
    third = _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2", detail="full")
    assert third.effect == "suppressed"
    assert _status(people[0]) == ContactStatus.BOUNCED
    entry = _suppressed(project, people[0].email)
    assert entry is not None
    assert entry.detail == "3 soft bounces within 30 days; the last: 4.2.2 full"


def test_the_soft_bounce_limit_is_a_project_setting(project: Project, api: ApiClient) -> None:
    _, people, messages = _sent(project)
    response = api.patch("project", {"softBounceLimit": 1, "softBounceDays": 7})
    assert response.status_code == 200
    assert response.json()["softBounceLimit"] == 1
    project.refresh_from_db()
    assert (
        _record(project, kind="bounced", message_id=messages[1].pk, status_code="4.4.1").effect
        == "suppressed"
    )
    assert _status(people[1]) == ContactStatus.BOUNCED


@pytest.mark.parametrize("field", ["softBounceLimit", "softBounceDays"])
@pytest.mark.parametrize("value", [0, -1, 1000, None])
def test_soft_bounce_settings_out_of_range_are_refused(api: ApiClient, field: str, value: Any) -> None:
    response = api.patch("project", {field: value})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == field


def test_a_policy_refusal_alerts_the_project_and_leaves_the_address_alone(project: Project) -> None:
    campaign, people, messages = _sent(project)
    for message in messages[:2]:
        outcome = _record(
            project,
            kind="bounced",
            message_id=message.pk,
            bounce_type="hard",  # a provider's word; the 5.7 code says whose problem it is
            status_code="550 5.7.26 This mail is unauthenticated",
            detail="unauthenticated",
        )
        assert outcome.effect == "alert"
    assert {_status(p) for p in people} == {ContactStatus.SUBSCRIBED}
    assert not Suppression.objects.exists()
    alert = Alert.objects.get()
    assert (alert.kind, alert.campaign_id, alert.count) == (AlertKind.SENDER_PROBLEM, campaign.pk, 2)
    assert "5.7.26" in alert.title


def test_a_complaint_suppresses_and_outranks_a_bounce(project: Project) -> None:
    _, _people, messages = _sent(project, n=400)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1")
    outcome = _record(project, kind="complained", message_id=messages[0].pk)
    assert outcome.effect == "suppressed"  # 1 of 400 is 0.25 %: under the limit
    contact = Contact.objects.get(email_key=messages[0].email_key)
    assert contact.status == ContactStatus.COMPLAINED
    entry = _suppressed(project, messages[0].email_key)
    assert entry is not None
    assert entry.reason == "complained"
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1")
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.COMPLAINED
    project.refresh_from_db()
    assert project.marketing_paused_at is None


def test_a_complaint_rate_over_the_limit_pauses_marketing_until_lifted(project: Project) -> None:
    _, _, messages = _sent(project, n=400)
    other = f.campaign(project, design_obj=f.design(project), tag_obj=f.tag(project), name="Next")
    campaign_start(campaign=other)
    scheduled = f.campaign(project, design_obj=f.design(project), tag_obj=f.tag(project), name="Soon")
    Campaign.objects.filter(pk=scheduled.pk).update(status=CampaignStatus.SCHEDULED)
    receipt = f.campaign(project, design_obj=f.design(project), tag_obj=f.tag(project), name="Receipts")
    Campaign.objects.filter(pk=receipt.pk).update(transactional=True)
    receipt.refresh_from_db()
    assert _record(project, kind="complained", message_id=messages[0].pk).effect == "suppressed"
    outcome = _record(project, kind="complained", message_id=messages[1].pk)  # 2 / 400 = 0.5 %
    assert outcome.effect == "paused-marketing"
    project.refresh_from_db()
    assert project.marketing_paused_at is not None
    assert "December news" in project.marketing_paused_reason
    other.refresh_from_db()
    assert other.status == CampaignStatus.PAUSED
    # A scheduled one stays scheduled: its preflight refuses it when its time comes.
    assert Campaign.objects.get(pk=scheduled.pk).status == CampaignStatus.SCHEDULED
    alert = Alert.objects.get(kind=AlertKind.COMPLAINT_RATE)
    assert "paused" in alert.title
    with pytest.raises(Conflict, match="marketing sends are paused"):
        campaign_resume(campaign=other)
    third = f.campaign(project, design_obj=f.design(project), tag_obj=f.tag(project), name="Later")
    problems, _ = campaign_preflight(third)
    assert [p.code for p in problems] == ["marketing_paused"]
    problems, _ = campaign_preflight(receipt)
    assert problems == []  # transactional mail goes on
    marketing_resume(project=project)
    assert project.marketing_paused_at is None
    assert Alert.objects.get(kind=AlertKind.COMPLAINT_RATE).resolved_at is not None
    assert campaign_preflight(third)[0] == []


def test_lifting_the_pause_through_the_api(project: Project, api: ApiClient) -> None:
    campaign, _, messages = _sent(project, n=2)
    _record(project, kind="complained", message_id=messages[0].pk)
    assert api.get("project").json()["marketingPausedAt"] is not None
    send = api.post(
        "sending",
        {"recipientType": "tag", "recipientId": campaign.recipient_id, "from": "news@example.com",
         "subject": "Hi", "template": "<p>Hi</p>"},
    )  # fmt: skip
    assert send.status_code == 422
    assert "marketing sends are paused" in send.text
    response = api.post("project/marketing/resume")
    assert response.status_code == 200
    assert response.json()["marketingPausedAt"] is None
    alerts = api.get("alerts?open=false").json()["items"]
    assert [a["kind"] for a in alerts] == ["complaint_rate"]


def test_a_provider_id_finds_the_message_only_in_its_own_project(
    project: Project, other_project: Project
) -> None:
    _, people, messages = _sent(project, n=1)
    Message.objects.filter(pk=messages[0].pk).update(provider_message_id="esp-123")
    outcome = _record(other_project, kind="bounced", provider_message_id="esp-123", status_code="5.1.1")
    assert outcome.stored
    assert outcome.event.message_id is None
    assert _status(people[0]) == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.filter(project=project).exists()
    mine = _record(project, kind="bounced", provider_message_id="esp-123", status_code="5.1.1")
    assert mine.event.message_id == messages[0].pk
    assert _status(people[0]) == ContactStatus.BOUNCED


def test_a_bounce_of_an_address_that_is_no_contact_still_keeps_it_from_mail(
    project: Project, api: ApiClient
) -> None:
    f.verified_domain(project)
    f.outbox_connection(project)
    outcome = _record(project, kind="bounced", email="Stranger@Example.org", status_code="5.1.1")
    assert outcome.effect == "suppressed"
    assert _suppressed(project, "stranger@example.org") is not None
    body = api.post(
        "sending",
        {"recipientType": "email", "recipientEmail": "stranger@example.org", "from": "news@example.com",
         "subject": "Receipt", "template": "<p>Thanks</p>"},
    ).json()  # fmt: skip
    assert (body["state"], body["reason"]) == ("skipped", "suppressed")
    assert api.post("contacts", {"email": "stranger@example.org"}).status_code == 422


def test_a_provider_unsubscribe_unsubscribes(project: Project) -> None:
    _, people, messages = _sent(project, n=1)
    assert _record(
        project, source=EventSource.WEBHOOK, kind="unsubscribed", message_id=messages[0].pk
    ).effect == ("unsubscribed")
    assert _status(people[0]) == ContactStatus.UNSUBSCRIBED


def test_provider_opens_of_a_campaign_that_tracks_itself_are_not_counted_twice(project: Project) -> None:
    campaign, _people, messages = _sent(project, n=2)
    ignored = _record(project, source=EventSource.WEBHOOK, kind="opened", message_id=messages[0].pk)
    assert ignored.effect == "ignored"
    assert not ignored.stored
    Campaign.objects.filter(pk=campaign.pk).update(track_opens=False)
    Message.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(hours=1))
    machine = _record(
        project,
        source=EventSource.WEBHOOK,
        kind="opened",
        message_id=messages[0].pk,
        user_agent="GoogleImageProxy",
    )
    assert machine.event.machine
    assert Contact.objects.get(email_key=messages[0].email_key).last_opened_at is None  # a proxy is no reader
    person = _record(
        project,
        source=EventSource.WEBHOOK,
        kind="opened",
        message_id=messages[0].pk,
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
    )
    assert not person.event.machine
    assert Contact.objects.get(email_key=messages[0].email_key).last_opened_at is not None


def test_soft_bounces_before_a_removal_from_the_list_are_not_counted_again(
    project: Project, api: ApiClient
) -> None:
    _, people, messages = _sent(project, n=1)
    for _ in range(3):
        _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2")
    assert _status(people[0]) == ContactStatus.BOUNCED
    entry = Suppression.objects.get()
    assert api.post(f"suppressions/{entry.pk}/remove", {"note": "mailbox cleaned up"}).status_code == 200
    assert (
        _record(project, kind="bounced", message_id=messages[0].pk, status_code="4.2.2").effect
        == "soft-bounce"
    )
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_a_provider_time_far_off_is_kept_within_a_year_and_an_hour(project: Project) -> None:
    from datetime import UTC, datetime

    _, _, messages = _sent(project, n=1)
    past = _record(
        project, kind="delivered", message_id=messages[0].pk, occurred_at=datetime(1970, 1, 1, tzinfo=UTC)
    )
    future = _record(
        project, kind="deferred", message_id=messages[0].pk, occurred_at=datetime(2999, 1, 1, tzinfo=UTC)
    )
    now = timezone.now()
    assert now - timedelta(days=366) < past.event.occurred_at < now - timedelta(days=364)
    assert future.event.occurred_at <= now + timedelta(hours=1, seconds=5)


def test_an_unknown_kind_is_a_programming_error(project: Project) -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        _record(project, kind="exploded")


def test_suppressions_survive_an_import_upsert(project: Project) -> None:
    _, people, messages = _sent(project, n=2)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1")
    Contact.objects.filter(pk=people[0].pk).delete()  # deleted (not erased): the list still holds it
    done = run_import(project, f"email,first_name\n{people[0].email},Back\n{people[1].email},Kept\n")
    assert reasons(done) == {2: "suppressed address"}
    assert not Contact.objects.filter(project=project, email_key=people[0].email).exists()


def test_an_api_upsert_leaves_a_suppressed_address_and_says_why(project: Project, api: ApiClient) -> None:
    _, people, messages = _sent(project, n=2)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1")
    _record(project, kind="complained", message_id=messages[1].pk)
    Contact.objects.filter(pk=people[1].pk).delete()
    body = api.post(
        "contacts/bulk",
        {"contacts": [{"email": people[0].email, "status": "subscribed"}, {"email": people[1].email}]},
    ).json()
    assert [(r["result"], r["reason"]) for r in body["results"]] == [
        ("suppressed", "the address bounced: it is on the suppression list"),
        ("suppressed", "the recipient complained: the address is on the suppression list"),
    ]
    assert _status(people[0]) == ContactStatus.BOUNCED
    assert not Contact.objects.filter(pk=people[1].pk).exists()


def test_a_refusal_at_sending_goes_through_the_same_door(project: Project, smtp_server: Any) -> None:  # noqa: F811
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, 3, tag=news)
    smtp_server.reject(people[0].email, 550, "5.1.1 no such user")
    smtp_server.reject(people[1].email, 550, "5.7.26 unauthenticated mail is refused")
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    assert _status(people[0]) == ContactStatus.BOUNCED
    assert _suppressed(project, people[0].email) is not None
    assert _status(people[1]) == ContactStatus.SUBSCRIBED
    assert Alert.objects.get().kind == AlertKind.SENDER_PROBLEM
    events = dict(TrackingEvent.objects.filter(kind="bounced").values_list("email", "bounce_type"))
    assert events == {people[0].email: "hard", people[1].email: "policy"}
    assert set(TrackingEvent.objects.values_list("source", flat=True)) == {"smtp"}


# -- the suppression list's API ----------------------------------------------------------------


def test_the_suppression_list_is_listed_filtered_and_searched(project: Project, api: ApiClient) -> None:
    _, _, messages = _sent(project, n=3)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1", detail="no such user")
    _record(project, kind="complained", message_id=messages[1].pk)
    items = api.get("suppressions").json()["items"]
    assert {(i["email"], i["reason"]) for i in items} == {
        (messages[0].email, "bounced"),
        (messages[1].email, "complained"),
    }
    bounced = api.get("suppressions?reason=bounced").json()["items"]
    assert [i["detail"] for i in bounced] == ["5.1.1 no such user"]
    assert [i["email"] for i in api.get(f"suppressions?search={messages[1].email[:7]}").json()["items"]] == [
        messages[1].email
    ]
    assert api.get("suppressions?reason=lost").status_code == 422


def test_removing_an_address_needs_a_note_and_restores_the_contact(project: Project, api: ApiClient) -> None:
    _, people, messages = _sent(project, n=1)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.1.1")
    entry = Suppression.objects.get()
    refused = api.post(f"suppressions/{entry.pk}/remove", {"note": "   "})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "note"
    assert api.post(f"suppressions/{entry.pk}/remove", {}).status_code == 422
    assert Suppression.objects.exists()
    response = api.post(f"suppressions/{entry.pk}/remove", {"note": "The mailbox exists again (ticket 42)."})
    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["reason"], body["note"]) == (
        people[0].email,
        "bounced",
        "The mailbox exists again (ticket 42).",
    )
    assert body["removedBy"].startswith("API key ")
    assert not Suppression.objects.exists()
    assert _status(people[0]) == ContactStatus.SUBSCRIBED
    assert SuppressionRemoval.objects.get().note == "The mailbox exists again (ticket 42)."
    assert [r["email"] for r in api.get("suppressions/removals").json()["items"]] == [people[0].email]


def test_another_projects_suppression_cannot_be_removed(
    project: Project, other_project: Project, api: ApiClient
) -> None:
    theirs = Suppression.objects.create(
        project=other_project, email_hash="x" * 64, email="a@example.org", reason="bounced"
    )
    response = api.post(f"suppressions/{theirs.pk}/remove", {"note": "mine now"})
    assert response.status_code == 404
    assert Suppression.objects.filter(pk=theirs.pk).exists()
    assert api.get("suppressions").json()["items"] == []


def test_alerts_are_listed_and_resolved_within_the_project(
    project: Project, api: ApiClient, other_api: ApiClient
) -> None:
    _, _, messages = _sent(project, n=1)
    _record(project, kind="bounced", message_id=messages[0].pk, status_code="5.7.1 spam policy")
    alert = api.get("alerts?open=true").json()["items"][0]
    assert alert["kind"] == "sender_problem"
    assert other_api.post(f"alerts/{alert['id']}/resolve").status_code == 404
    resolved = api.post(f"alerts/{alert['id']}/resolve").json()
    assert resolved["resolvedAt"] is not None
    assert api.get("alerts?open=true").json()["items"] == []
