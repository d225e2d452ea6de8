"""Provider webhooks, per connection: real-format posts of SES (via SNS), SendGrid, Mailgun, Resend and
Postmark, signed where the provider signs, and what they change in the database.

Each post goes to the connection's own URL; the tests check the contact's status, the suppression
list, the stored events, alerts and soft-bounce counting; that a replay is stored once; and that a
forged, misaddressed or unreadable post is refused and changes nothing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from tests.sending import factories as f
from tests.sending.conftest import (  # noqa: F401 - the provider stand-ins, for the sending-ids test
    _ses_moto_server,
    esp_server,
    mailgun_server,
    postmark_server,
    resend_server,
    sendgrid_server,
    ses_server,
)
from tests.tracking import webhook_payloads as wp
from tidings.audience.models import Contact, ContactStatus, Suppression
from tidings.audience.validation import email_hash
from tidings.campaigns.models import Campaign
from tidings.campaigns.services import campaign_start
from tidings.core.models import Project
from tidings.sending import services
from tidings.sending.models import Message, MessageState, ProviderConnection
from tidings.sending.pipeline import run_campaign
from tidings.tracking.models import Alert, AlertKind, EventSource, TrackingEvent
from tidings.tracking.webhooks import SesWebhook

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # Django 6.1 deprecates get_connection()
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),  # SendGrid
]

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@pytest.fixture(autouse=True)
def outbox(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


def _connection(project: Project, kind: str, **secrets: str) -> ProviderConnection:
    options: dict[str, Any] = {}
    given: dict[str, str] = {}
    if kind == "ses":
        options = {
            "region": "eu-west-1",
            **({"snsTopicArn": secrets.pop("topic")} if "topic" in secrets else {}),
        }
        given = {"accessKeyId": "AKIAEXAMPLE", "secretAccessKey": "example-secret"}
    elif kind == "postmark":
        given = {"serverToken": "server-token"}
    else:
        given = {"apiKey": f"{kind}-api-key"}
    return services.connection_create(
        project=project, name=kind, kind=kind, options=options, secrets_given={**given, **secrets}
    )


def _sent(
    project: Project, connection: ProviderConnection, n: int = 3
) -> tuple[list[Contact], list[Message]]:
    """A campaign sent (through the outbox), then told to be the connection's, each message with
    the id the provider would have given it."""
    if not ProviderConnection.objects.filter(project=project, kind="outbox").exists():
        f.outbox_connection(project)
    news = f.tag(project, f"news-{connection.pk}")
    people = f.contacts(project, n, tag=news, prefix=f"c{connection.pk}-")
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news, name=f"News {connection.pk}")
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    run_campaign(campaign)
    # Opens and clicks left to the provider's tracking (with Tidings' own on, its reports of them
    # are not counted twice: tests/tracking/test_delivery.py).
    Campaign.objects.filter(pk=campaign.pk).update(
        connection=connection, track_opens=False, track_clicks=False
    )
    messages = list(Message.objects.filter(campaign=campaign).order_by("email"))
    assert {m.state for m in messages} == {MessageState.SENT}
    for m in messages:
        m.provider_message_id = _provider_id(connection.kind, m.pk)
        m.save(update_fields=["provider_message_id"])
    return sorted(people, key=lambda c: c.email), messages


def _provider_id(kind: str, pk: int) -> str:
    if kind == "mailgun":
        return f"<20260101120000.{pk:016x}@mg.example.com>"
    if kind == "ses":
        return f"0102018c{pk:08x}-1a2b3c4d-0000-0000-0000-000000000000-000000"
    return f"00000000-0000-4000-8000-{pk:012x}"


def _url(connection: ProviderConnection) -> str:
    return f"/webhooks/{connection.webhook_key}/"


def _auth(connection: ProviderConnection) -> dict[str, str]:
    return wp.basic_auth("tidings", services.connection_webhook_secret(connection) or "")


def _post(client: Client, connection: ProviderConnection, post: wp.Post) -> Any:
    body, headers = post
    return client.post(_url(connection), data=body, content_type="application/json", **headers)


def _status(contact: Contact) -> str:
    return Contact.objects.get(pk=contact.pk).status


def _suppressed(project: Project, address: str) -> Suppression | None:
    return Suppression.objects.filter(project=project, email_hash=email_hash(project.pk, address)).first()


def _events(project: Project, **filters: Any) -> list[TrackingEvent]:
    return list(TrackingEvent.objects.filter(project=project, **filters).order_by("id"))


# -- Amazon SES, through SNS -------------------------------------------------------------------


def test_an_ses_hard_bounce_suppresses_the_address(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    bounce = wp.ses_bounce(messages[0].provider_message_id, [people[0].email])
    response = _post(client, ses, wp.sns_notification(bounce, _auth(ses)))
    assert response.status_code == 200
    assert _status(people[0]) == ContactStatus.BOUNCED
    entry = _suppressed(project, people[0].email)
    assert entry is not None
    assert entry.reason == "bounced"
    [event] = _events(project, kind="bounced")
    assert (event.source, event.connection_id, event.message_id, event.bounce_type, event.status_code) == (
        EventSource.WEBHOOK,
        ses.pk,
        messages[0].pk,
        "hard",
        "5.1.1",
    )
    assert _status(people[1]) == ContactStatus.SUBSCRIBED


def test_sns_is_asked_for_credentials_first_and_nothing_changes(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    bounce = wp.ses_bounce(messages[0].provider_message_id, [people[0].email])
    response = _post(client, ses, wp.sns_notification(bounce, {}))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_an_ses_bounce_for_several_recipients_is_one_event_each(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    bounce = wp.ses_bounce(messages[0].provider_message_id, [people[0].email, people[1].email])
    assert _post(client, ses, wp.sns_notification(bounce, _auth(ses))).status_code == 200
    assert sorted(e.email for e in _events(project, kind="bounced")) == [people[0].email, people[1].email]
    assert (_status(people[0]), _status(people[1])) == (ContactStatus.BOUNCED, ContactStatus.BOUNCED)


def test_an_ses_complaint_suppresses_and_pauses_marketing(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    complaint = wp.ses_complaint(messages[1].provider_message_id, people[1].email)
    assert _post(client, ses, wp.sns_notification(complaint, _auth(ses))).status_code == 200
    assert _status(people[1]) == ContactStatus.COMPLAINED
    assert _suppressed(project, people[1].email).reason == "complained"
    assert Alert.objects.filter(project=project, kind=AlertKind.COMPLAINT_RATE).count() == 1
    project.refresh_from_db()
    assert project.marketing_paused_at is not None


def test_an_ses_delivery_is_stored_and_changes_no_one(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    delivery = wp.ses_delivery(messages[2].provider_message_id, people[2].email)
    assert _post(client, ses, wp.sns_notification(delivery, _auth(ses))).status_code == 200
    [event] = _events(project, kind="delivered")
    assert (event.message_id, event.contact_id) == (messages[2].pk, people[2].pk)
    assert _status(people[2]) == ContactStatus.SUBSCRIBED


def test_ses_transient_bounces_count_until_the_limit(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    people, messages = _sent(project, ses)
    for n in range(1, 4):
        bounce = wp.ses_bounce(
            messages[0].provider_message_id,
            [people[0].email],
            bounce_type="Transient",
            sub_type="MailboxFull",
            status="5.2.2",
            diagnostic="smtp; 552 5.2.2 mailbox full",
        )
        assert _post(client, ses, wp.sns_notification(bounce, _auth(ses))).status_code == 200
        assert _status(people[0]) == (ContactStatus.SUBSCRIBED if n < 3 else ContactStatus.BOUNCED)
    assert [e.bounce_type for e in _events(project, kind="bounced")] == ["soft", "soft", "soft"]


def test_an_ses_notification_from_another_topic_is_refused(project: Project, client: Client) -> None:
    ses = _connection(project, "ses", topic=wp.TOPIC)
    people, messages = _sent(project, ses)
    bounce = wp.ses_bounce(messages[0].provider_message_id, [people[0].email])
    other = "arn:aws:sns:eu-west-1:210987654321:someone-elses"
    response = _post(client, ses, wp.sns_notification(bounce, _auth(ses), topic=other))
    assert response.status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _post(client, ses, wp.sns_notification(bounce, _auth(ses))).status_code == 200
    assert _status(people[0]) == ContactStatus.BOUNCED


class _Sns:
    """Stands in for the SNS API, which cannot be reached from here: records what is confirmed."""

    def __init__(self) -> None:
        self.confirmed: list[dict[str, Any]] = []

    def client(self, service_name: str, **params: Any) -> Any:
        outer = self

        class Client:
            def confirm_subscription(self, **kwargs: Any) -> dict[str, Any]:
                outer.confirmed.append({"service": service_name, **params, **kwargs})
                return {"SubscriptionArn": kwargs["TopicArn"] + ":1"}

            def close(self) -> None:
                pass

        return Client()


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> _Sns:
    fake = _Sns()
    monkeypatch.setattr(SesWebhook, "get_boto_client", fake.client)
    return fake


def test_an_sns_subscription_is_confirmed_through_the_sns_api(
    project: Project, client: Client, sns: _Sns
) -> None:
    ses = _connection(project, "ses", topic=wp.TOPIC)
    body, headers = wp.sns_subscription_confirmation(_auth(ses))
    response = client.post(_url(ses), data=body, content_type="text/plain", **headers)
    assert response.status_code == 200
    [call] = sns.confirmed
    assert (call["service"], call["region_name"], call["TopicArn"]) == ("sns", "eu-west-1", wp.TOPIC)
    assert call["Token"] == json.loads(body)["Token"]


@pytest.mark.parametrize(
    "topic",
    [
        "arn:aws:sns:eu-west-1:210987654321:someone-elses",  # not the connection's topic
        "arn:aws:sns:evil.example/x#:123456789012:t",  # a region that would make another host
    ],
)
def test_a_subscription_to_another_or_a_malformed_topic_is_not_confirmed(
    project: Project, client: Client, sns: _Sns, topic: str
) -> None:
    ses = _connection(project, "ses", topic=wp.TOPIC) if "someone" in topic else _connection(project, "ses")
    body, headers = wp.sns_subscription_confirmation(_auth(ses), topic=topic)
    response = client.post(_url(ses), data=body, content_type="text/plain", **headers)
    assert response.status_code == 403
    assert sns.confirmed == []


def test_a_subscription_without_the_password_is_not_confirmed(
    project: Project, client: Client, sns: _Sns
) -> None:
    ses = _connection(project, "ses")
    body, headers = wp.sns_subscription_confirmation(wp.basic_auth("tidings", "guess"))
    assert client.post(_url(ses), data=body, content_type="text/plain", **headers).status_code == 403
    assert sns.confirmed == []


# -- SendGrid ----------------------------------------------------------------------------------


def test_a_sendgrid_batch_records_each_event(project: Project, client: Client) -> None:
    sendgrid = _connection(project, "sendgrid")
    people, messages = _sent(project, sendgrid)
    events = [
        wp.sendgrid_event("processed", people[0].email, messages[0].provider_message_id),
        wp.sendgrid_event("delivered", people[0].email, messages[0].provider_message_id, response="250 OK"),
        wp.sendgrid_event(
            "open", people[0].email, messages[0].provider_message_id, useragent="Mozilla/5.0", ip="192.0.2.7"
        ),
        wp.sendgrid_event(
            "bounce",
            people[1].email,
            messages[1].provider_message_id,
            type="bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account that you tried to reach does not exist",
        ),
        wp.sendgrid_event("spamreport", people[2].email, messages[2].provider_message_id),
    ]
    assert _post(client, sendgrid, wp.sendgrid_post(events, _auth(sendgrid))).status_code == 200
    assert [e.kind for e in _events(project, source=EventSource.WEBHOOK)] == [
        "delivered",
        "opened",
        "bounced",
        "complained",
    ]
    assert (_status(people[1]), _status(people[2])) == (ContactStatus.BOUNCED, ContactStatus.COMPLAINED)
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_a_replayed_sendgrid_post_is_stored_once(project: Project, client: Client) -> None:
    sendgrid = _connection(project, "sendgrid")
    people, messages = _sent(project, sendgrid)
    post = wp.sendgrid_post(
        [wp.sendgrid_event("bounce", people[0].email, messages[0].provider_message_id, type="blocked")],
        _auth(sendgrid),
    )
    assert _post(client, sendgrid, post).status_code == 200
    assert _post(client, sendgrid, post).status_code == 200
    [event] = _events(project, kind="bounced")
    assert event.bounce_type == "soft"


def test_a_sendgrid_drop_for_a_bounced_address_is_a_hard_rejection(project: Project, client: Client) -> None:
    sendgrid = _connection(project, "sendgrid")
    people, messages = _sent(project, sendgrid)
    drop = wp.sendgrid_event(
        "dropped", people[0].email, messages[0].provider_message_id, reason="Bounced Address"
    )
    assert _post(client, sendgrid, wp.sendgrid_post([drop], _auth(sendgrid))).status_code == 200
    [event] = _events(project, kind="rejected")
    assert event.bounce_type == "hard"
    assert _status(people[0]) == ContactStatus.BOUNCED


def test_signed_sendgrid_events_are_checked(project: Project, client: Client) -> None:
    private, public = wp.sendgrid_keys()
    sendgrid = _connection(project, "sendgrid", webhookVerificationKey=public)
    people, messages = _sent(project, sendgrid)
    bounce = [wp.sendgrid_event("bounce", people[0].email, messages[0].provider_message_id, type="bounce")]
    tampered_body, headers = wp.sendgrid_post(bounce, _auth(sendgrid), key=private)
    tampered = tampered_body.replace(people[0].email.encode(), people[1].email.encode())
    assert _post(client, sendgrid, (tampered, headers)).status_code == 403
    unsigned = wp.sendgrid_post(bounce, _auth(sendgrid))
    assert _post(client, sendgrid, unsigned).status_code == 403
    stale = wp.sendgrid_post(bounce, _auth(sendgrid), key=private, timestamp=int(time.time()) - 3600)
    assert _post(client, sendgrid, stale).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _post(client, sendgrid, wp.sendgrid_post(bounce, _auth(sendgrid), key=private)).status_code == 200
    assert _status(people[0]) == ContactStatus.BOUNCED
    assert _status(people[1]) == ContactStatus.SUBSCRIBED


def test_a_sendgrid_post_with_a_wrong_password_is_refused(project: Project, client: Client) -> None:
    sendgrid = _connection(project, "sendgrid")
    people, messages = _sent(project, sendgrid)
    bounce = [wp.sendgrid_event("bounce", people[0].email, messages[0].provider_message_id, type="bounce")]
    for auth in ({}, wp.basic_auth("tidings", "not-the-password")):
        assert _post(client, sendgrid, wp.sendgrid_post(bounce, auth)).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


# -- Mailgun -----------------------------------------------------------------------------------


def _mailgun_id(message: Message) -> str:
    return message.provider_message_id.strip("<>")  # Mailgun's headers give it without brackets


def test_a_signed_mailgun_failure_bounces_the_contact(project: Project, client: Client) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    people, messages = _sent(project, mailgun)
    failure = wp.mailgun_failure(people[0].email, _mailgun_id(messages[0]))
    post = wp.mailgun_post(failure, wp.mailgun_signature(MAILGUN_KEY), _auth(mailgun))
    assert _post(client, mailgun, post).status_code == 200
    [event] = _events(project, kind="bounced")
    assert (event.message_id, event.bounce_type, event.status_code) == (messages[0].pk, "hard", "5.1.1")
    assert _status(people[0]) == ContactStatus.BOUNCED


def test_a_mailgun_event_posted_again_with_a_new_signature_is_stored_once(
    project: Project, client: Client
) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    people, messages = _sent(project, mailgun)
    delivered = wp.mailgun_event("delivered", people[0].email, _mailgun_id(messages[0]))
    for _ in range(2):
        post = wp.mailgun_post(delivered, wp.mailgun_signature(MAILGUN_KEY), _auth(mailgun))
        assert _post(client, mailgun, post).status_code == 200
    assert len(_events(project, kind="delivered")) == 1


def test_a_mailgun_temporary_failure_is_a_deferral(project: Project, client: Client) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    people, messages = _sent(project, mailgun)
    failure = wp.mailgun_failure(
        people[0].email,
        _mailgun_id(messages[0]),
        severity="temporary",
        code=452,
        message="4.2.2 Mailbox full",
    )
    post = wp.mailgun_post(failure, wp.mailgun_signature(MAILGUN_KEY), _auth(mailgun))
    assert _post(client, mailgun, post).status_code == 200
    assert [e.kind for e in _events(project, source=EventSource.WEBHOOK)] == ["deferred"]
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_a_mailgun_policy_refusal_alerts_and_leaves_the_contact(project: Project, client: Client) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    people, messages = _sent(project, mailgun)
    failure = wp.mailgun_failure(
        people[0].email,
        _mailgun_id(messages[0]),
        message="5.7.26 This mail is unauthenticated, which poses a security risk to the sender",
    )
    post = wp.mailgun_post(failure, wp.mailgun_signature(MAILGUN_KEY), _auth(mailgun))
    assert _post(client, mailgun, post).status_code == 200
    assert Alert.objects.get(project=project, kind=AlertKind.SENDER_PROBLEM).title.endswith("(5.7.26)")
    assert _status(people[0]) == ContactStatus.SUBSCRIBED
    assert _suppressed(project, people[0].email) is None


def test_forged_or_stale_mailgun_signatures_are_refused(project: Project, client: Client) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    people, messages = _sent(project, mailgun)
    failure = wp.mailgun_failure(people[0].email, _mailgun_id(messages[0]))
    forged = wp.mailgun_signature("key-guessed")
    stale = wp.mailgun_signature(MAILGUN_KEY, timestamp=int(time.time()) - 3600)
    for signature in (forged, stale):
        assert _post(client, mailgun, wp.mailgun_post(failure, signature, _auth(mailgun))).status_code == 403
    wrong_password = wp.mailgun_post(
        failure, wp.mailgun_signature(MAILGUN_KEY), wp.basic_auth("tidings", "x")
    )
    assert _post(client, mailgun, wrong_password).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_mailgun_posts_are_refused_until_the_signing_key_is_set(project: Project, client: Client) -> None:
    mailgun = _connection(project, "mailgun")
    people, messages = _sent(project, mailgun)
    failure = wp.mailgun_failure(people[0].email, _mailgun_id(messages[0]))
    post = wp.mailgun_post(failure, wp.mailgun_signature(MAILGUN_KEY), _auth(mailgun))
    assert _post(client, mailgun, post).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []


# -- Resend ------------------------------------------------------------------------------------


def test_a_signed_resend_bounce_bounces_the_contact(project: Project, client: Client) -> None:
    secret = wp.resend_secret()
    resend = _connection(project, "resend", webhookSigningSecret=secret)
    people, messages = _sent(project, resend)
    bounce = wp.resend_event(
        "email.bounced",
        messages[0].provider_message_id,
        people[0].email,
        bounce={
            "message": "The recipient's email provider sent a hard bounce message.",
            "subType": "General",
            "type": "Permanent",
        },
    )
    post = wp.resend_post(bounce, secret)
    assert _post(client, resend, post).status_code == 200
    assert _post(client, resend, post).status_code == 200  # Svix delivering the same message again
    [event] = _events(project, kind="bounced")
    assert (event.message_id, event.bounce_type) == (messages[0].pk, "hard")
    assert _status(people[0]) == ContactStatus.BOUNCED


def test_forged_or_stale_resend_signatures_are_refused(project: Project, client: Client) -> None:
    secret = wp.resend_secret()
    resend = _connection(project, "resend", webhookSigningSecret=secret)
    people, messages = _sent(project, resend)
    complaint = wp.resend_event("email.complained", messages[0].provider_message_id, people[0].email)
    for post in (
        wp.resend_post(complaint, wp.resend_secret()),
        wp.resend_post(complaint, secret, timestamp=int(time.time()) - 3600),
        wp.resend_post(complaint, None, _auth(resend)),
    ):
        assert _post(client, resend, post).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_without_a_signing_secret_resend_posts_need_the_password(project: Project, client: Client) -> None:
    resend = _connection(project, "resend")
    people, messages = _sent(project, resend)
    opened = wp.resend_event("email.opened", messages[0].provider_message_id, people[0].email)
    assert (
        _post(client, resend, wp.resend_post(opened, None, wp.basic_auth("tidings", "x"))).status_code == 403
    )
    assert _post(client, resend, wp.resend_post(opened, None, _auth(resend))).status_code == 200
    [event] = _events(project, kind="opened")
    assert event.message_id == messages[0].pk


def test_resend_sent_events_are_answered_and_ignored(project: Project, client: Client) -> None:
    secret = wp.resend_secret()
    resend = _connection(project, "resend", webhookSigningSecret=secret)
    people, messages = _sent(project, resend)
    sent = wp.resend_event("email.sent", messages[0].provider_message_id, people[0].email)
    assert _post(client, resend, wp.resend_post(sent, secret)).status_code == 200
    assert _events(project, source=EventSource.WEBHOOK) == []


# -- Postmark ----------------------------------------------------------------------------------


def test_postmark_bounce_delivery_complaint_open_and_click(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    ids = [m.provider_message_id for m in messages]
    for record in (
        wp.postmark_delivery(ids[0], people[0].email),
        wp.postmark_open(ids[0], people[0].email),
        wp.postmark_click(ids[0], people[0].email, "https://example.com/offer"),
        wp.postmark_bounce(ids[1], people[1].email),
        wp.postmark_spam(ids[2], people[2].email),
    ):
        assert _post(client, postmark, wp.json_post(record, _auth(postmark))).status_code == 200
    assert [(e.kind, e.message_id) for e in _events(project, source=EventSource.WEBHOOK)] == [
        ("delivered", messages[0].pk),
        ("opened", messages[0].pk),
        ("clicked", messages[0].pk),
        ("bounced", messages[1].pk),
        ("complained", messages[2].pk),
    ]
    assert (_status(people[0]), _status(people[1]), _status(people[2])) == (
        ContactStatus.SUBSCRIBED,
        ContactStatus.BOUNCED,
        ContactStatus.COMPLAINED,
    )


def test_a_replayed_postmark_open_without_an_id_is_stored_once(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    post = wp.json_post(wp.postmark_open(messages[0].provider_message_id, people[0].email), _auth(postmark))
    for _ in range(2):
        assert _post(client, postmark, post).status_code == 200
    assert len(_events(project, kind="opened")) == 1


def test_a_postmark_soft_bounce_counts_and_does_not_suppress(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    record = wp.postmark_bounce(
        messages[0].provider_message_id,
        people[0].email,
        kind="SoftBounce",
        details="mailbox temporarily full",
    )
    assert _post(client, postmark, wp.json_post(record, _auth(postmark))).status_code == 200
    [event] = _events(project, kind="bounced")
    assert event.bounce_type == "soft"
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_a_postmark_unsubscribe_unsubscribes_the_contact(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    record = wp.postmark_unsubscribe(messages[0].provider_message_id, people[0].email)
    assert _post(client, postmark, wp.json_post(record, _auth(postmark))).status_code == 200
    assert _status(people[0]) == ContactStatus.UNSUBSCRIBED


def test_postmark_posts_without_the_right_password_are_refused(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    record = wp.postmark_bounce(messages[0].provider_message_id, people[0].email)
    for auth in ({}, wp.basic_auth("tidings", "guess"), wp.basic_auth("admin", "")):
        assert _post(client, postmark, wp.json_post(record, auth)).status_code == 403
    assert _events(project, source=EventSource.WEBHOOK) == []
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


# -- the URL names the connection --------------------------------------------------------------


def test_an_unknown_key_is_a_bare_404(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    response = client.post(
        "/webhooks/not-a-key/", data=b"{}", content_type="application/json", **_auth(postmark)
    )
    assert response.status_code == 404
    assert response.content == b"not found\n"


def test_smtp_and_outbox_connections_have_no_webhook(project: Project, client: Client) -> None:
    outbox = f.outbox_connection(project)
    assert services.connection_webhook_url(outbox) is None
    assert client.post(_url(outbox), data=b"{}", content_type="application/json").status_code == 404


def test_another_connections_password_is_refused(
    project: Project, other_project: Project, client: Client
) -> None:
    ours = _connection(project, "postmark")
    theirs = _connection(other_project, "postmark")
    people, messages = _sent(project, ours)
    record = wp.postmark_bounce(messages[0].provider_message_id, people[0].email)
    assert _post(client, ours, wp.json_post(record, _auth(theirs))).status_code == 403
    assert _post(client, theirs, wp.json_post(record, _auth(ours))).status_code == 403
    assert TrackingEvent.objects.filter(source=EventSource.WEBHOOK).count() == 0
    assert _status(people[0]) == ContactStatus.SUBSCRIBED


def test_a_payload_cannot_reach_another_projects_message(
    project: Project, make_project: Any, client: Client
) -> None:
    other_project = make_project("Rival Co", postal_address="2 High St, Shelbyville")
    ours = _connection(project, "postmark")
    theirs = _connection(other_project, "postmark")
    their_people, their_messages = _sent(other_project, theirs)
    record = wp.postmark_bounce(their_messages[0].provider_message_id, their_people[0].email)
    assert _post(client, ours, wp.json_post(record, _auth(ours))).status_code == 200
    [event] = TrackingEvent.objects.filter(source=EventSource.WEBHOOK)
    assert (event.project_id, event.message_id, event.contact_id) == (project.pk, None, None)
    assert _status(their_people[0]) == ContactStatus.SUBSCRIBED
    assert _suppressed(other_project, their_people[0].email) is None


def test_a_rotated_password_refuses_the_old_one(project: Project, client: Client) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    old = _auth(postmark)
    postmark = services.connection_webhook_rotate(connection=postmark)
    record = wp.postmark_bounce(messages[0].provider_message_id, people[0].email)
    assert _post(client, postmark, wp.json_post(record, old)).status_code == 403
    assert _post(client, postmark, wp.json_post(record, _auth(postmark))).status_code == 200


@pytest.mark.parametrize("kind", ["ses", "sendgrid", "mailgun", "resend", "postmark"])
@pytest.mark.parametrize("body", [b"not json", b"{}", b"[1, 2]", b'{"event-data": null}', b"\xff\xfe"])
def test_garbage_bodies_are_a_4xx_not_a_500(project: Project, client: Client, kind: str, body: bytes) -> None:
    secret = wp.resend_secret()
    connection = _connection(
        project,
        kind,
        **({"webhookSigningKey": MAILGUN_KEY} if kind == "mailgun" else {}),
        **({"webhookSigningSecret": secret} if kind == "resend" else {}),
    )
    headers = _auth(connection)
    if kind == "resend":
        body, headers = wp.resend_post(None, secret, body=body)
    elif kind == "ses":
        headers |= {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "x"}
    response = client.post(_url(connection), data=body, content_type="application/json", **headers)
    assert 400 <= response.status_code < 500
    assert not TrackingEvent.objects.exists()


def test_a_garbage_ses_event_inside_a_good_envelope_is_refused(project: Project, client: Client) -> None:
    ses = _connection(project, "ses")
    response = _post(client, ses, wp.sns_notification("{not json", _auth(ses)))
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


# -- the API and the provider's ids ------------------------------------------------------------


def test_the_api_shows_the_webhook_url_and_never_the_signing_key(project: Project, api: Any) -> None:
    created = api.post(
        "/api/v1/connections",
        {
            "name": "Mailgun",
            "kind": "mailgun",
            "secrets": {"apiKey": "key-1", "webhookSigningKey": MAILGUN_KEY},
        },
    ).json()
    connection = ProviderConnection.objects.get(project=project, kind="mailgun")
    password = services.connection_webhook_secret(connection)
    base = urlsplit(settings.BASE_URL)
    assert created["webhookUrl"] == (
        f"{base.scheme}://tidings:{password}@{base.netloc}/webhooks/{connection.webhook_key}/"
    )
    assert created["secretsSet"] == ["apiKey", "webhookSigningKey"]
    assert MAILGUN_KEY not in json.dumps(created)
    rotated = api.post(f"/api/v1/connections/{connection.pk}/webhook-secret").json()
    assert rotated["webhookUrl"] != created["webhookUrl"]
    assert rotated["webhookUrl"].endswith(f"/webhooks/{connection.webhook_key}/")


def test_a_bad_signing_key_is_refused_when_set(project: Project, api: Any) -> None:
    answer = api.post(
        "/api/v1/connections",
        {"name": "SG", "kind": "sendgrid", "secrets": {"apiKey": "SG.x", "webhookVerificationKey": "nope"}},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "secrets.webhookVerificationKey"
    answer = api.post(
        "/api/v1/connections",
        {"name": "RS", "kind": "resend", "secrets": {"apiKey": "re_x", "webhookSigningSecret": "whsec_***"}},
    )
    assert answer.json()["errors"][0]["path"] == "secrets.webhookSigningSecret"
    assert not ProviderConnection.objects.filter(project=project).exists()


def test_the_webhook_password_survives_a_change_of_account_and_signing_keys_do_not(project: Project) -> None:
    mailgun = _connection(project, "mailgun", webhookSigningKey=MAILGUN_KEY)
    password = services.connection_webhook_secret(mailgun)
    moved = services.connection_update(
        connection=mailgun,
        options={"apiUrl": "https://api.eu.mailgun.net/v3"},
        secrets_given={"apiKey": "key-eu"},
    )
    assert services.connection_webhook_secret(moved) == password
    assert services.connection_secrets(moved) == {"apiKey": "key-eu"}


def test_the_providers_ids_at_sending_are_the_ones_their_webhooks_give(
    project: Project,
    client: Client,
    esp_server: Any,  # noqa: F811 - the fixture imported above
) -> None:
    """Sent through each provider's stand-in, then a bounce in that provider's own words finds the message."""
    from tests.sending.test_esp_delivery import _connection as esp_connection

    connection = esp_connection(project, esp_server)
    extra = {
        "mailgun": {"webhookSigningKey": MAILGUN_KEY},
        "resend": {"webhookSigningSecret": wp.resend_secret()},
    }.get(connection.kind)
    if extra:
        connection = services.connection_update(connection=connection, secrets_given=extra)
    f.verified_domain(project)
    news = f.tag(project)
    people = f.contacts(project, 2, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    assert run_campaign(campaign).sent == 2
    message = Message.objects.get(campaign=campaign, email=people[0].email)
    stored, email, auth = message.provider_message_id, people[0].email, _auth(connection)
    assert stored
    kind = connection.kind
    if kind == "ses":
        post = wp.sns_notification(wp.ses_bounce(stored, [email]), auth)
    elif kind == "sendgrid":
        post = wp.sendgrid_post(
            [wp.sendgrid_event("bounce", email, stored, type="bounce", status="5.1.1")], auth
        )
    elif kind == "mailgun":
        post = wp.mailgun_post(
            wp.mailgun_failure(email, stored.strip("<>")), wp.mailgun_signature(MAILGUN_KEY), auth
        )
    elif kind == "resend":
        bounce = wp.resend_event("email.bounced", stored, email, bounce={"type": "Permanent", "message": "x"})
        post = wp.resend_post(bounce, extra["webhookSigningSecret"] if extra else None)
    else:
        post = wp.json_post(wp.postmark_bounce(stored, email), auth)
    assert _post(client, connection, post).status_code == 200
    [event] = _events(project, kind="bounced")
    assert event.message_id == message.pk
    assert _status(people[0]) == ContactStatus.BOUNCED


def test_providers_post_without_a_csrf_token(project: Project) -> None:
    postmark = _connection(project, "postmark")
    people, messages = _sent(project, postmark)
    strict = Client(enforce_csrf_checks=True)
    record = wp.postmark_delivery(messages[0].provider_message_id, people[0].email)
    assert _post(strict, postmark, wp.json_post(record, _auth(postmark))).status_code == 200
    assert len(_events(project, kind="delivered")) == 1
