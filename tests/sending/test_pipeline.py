"""The send pipeline end to end, through a real SMTP server on loopback."""

from __future__ import annotations

from typing import Any

import dkim
import pytest
from django.utils import timezone

from tests.sending import factories as f
from tidings.audience.models import Contact, ContactStatus
from tidings.campaigns.models import CampaignStatus
from tidings.campaigns.services import campaign_cancel, campaign_pause, campaign_resume, campaign_start
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign

pytestmark = pytest.mark.django_db


def _ready(project: Any, smtp_server: Any, n: int = 5) -> tuple[Any, list[Contact]]:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    return campaign, people


def _run(campaign: Any) -> Any:
    campaign.refresh_from_db()
    return run_campaign(campaign)


def test_a_campaign_reaches_every_subscribed_member_once(project, smtp_server) -> None:
    campaign, people = _ready(project, smtp_server, n=6)
    Contact.objects.filter(pk=people[0].pk).update(status=ContactStatus.UNSUBSCRIBED)
    Contact.objects.filter(pk=people[1].pk).update(status=ContactStatus.BOUNCED)
    campaign_start(campaign=campaign)
    result = _run(campaign)
    assert result.sent == 4
    assert result.stopped == "done"
    received = sorted(r.rcpt_tos[0] for r in smtp_server.messages)
    assert received == sorted(p.email for p in people[2:])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.excluded == {"unsubscribed": 1, "bounced": 1}
    skipped = dict(
        Message.objects.filter(campaign=campaign, state="skipped").values_list("email", "skip_reason")
    )
    assert skipped == {people[0].email: "unsubscribed", people[1].email: "bounced"}
    sent = Message.objects.get(campaign=campaign, email=people[2].email)
    assert sent.state == MessageState.SENT
    assert sent.provider_message_id.startswith("<")


def test_each_copy_is_personal_signed_and_carries_one_click_unsubscribe(project, smtp_server) -> None:
    campaign, people = _ready(project, smtp_server, n=2)
    campaign_start(campaign=campaign)
    _run(campaign)
    by_rcpt = {r.rcpt_tos[0]: r for r in smtp_server.messages}
    received = by_rcpt[people[0].email]
    message = received.message
    assert message["Subject"] == "News for First0"
    assert message["From"] == "Acme News <news@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http")
    assert "/u/" in unsubscribe
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Hello First0" in html
    assert "Hello First0" in text
    # The design has no unsubscribe link: one is added, with the postal address.
    assert "Unsubscribe or manage your preferences" in html
    assert "1 Main St, Springfield" in html
    assert "/p/" in text
    assert "1 Main St, Springfield" in text
    assert people[0].email not in unsubscribe  # no plain address in the link
    # DKIM: both signatures verify against the domain's published keys.
    from tidings.sending.models import SendingDomain

    domain_obj = SendingDomain.objects.get(project=project)
    records = {
        f"{selector}._domainkey.example.com.".encode(): f"v=DKIM1; k={k}; p={key}".encode()
        for selector, k, key in (
            (domain_obj.rsa_selector, "rsa", domain_obj.rsa_public_key),
            (domain_obj.ed25519_selector, "ed25519", domain_obj.ed25519_public_key),
        )
    }

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return records.get(name, b"")

    verifier = dkim.DKIM(received.content)
    assert verifier.verify(idx=0, dnsfunc=dns)
    assert verifier.verify(idx=1, dnsfunc=dns)


def test_starting_twice_plans_once(project, smtp_server) -> None:
    campaign, _people = _ready(project, smtp_server, n=3)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    campaign_start(campaign=campaign)
    assert Message.objects.filter(campaign=campaign).count() == 3
    _run(campaign)
    assert len(smtp_server.messages) == 3


def test_a_transient_refusal_is_retried_and_a_permanent_one_bounces(project, smtp_server, settings) -> None:
    settings.SEND_RETRY_SECONDS = 600
    campaign, people = _ready(project, smtp_server, n=3)
    smtp_server.reject(people[0].email, 451, "4.3.0 try later", times=1)
    smtp_server.reject(people[1].email, 550, "5.1.1 no such user")
    campaign_start(campaign=campaign)
    first = _run(campaign)
    assert first.sent == 1
    assert first.retried == 1
    assert first.failed == 1
    assert first.stopped == "waiting"
    assert 590 < first.next_attempt_in <= 600
    retried = Message.objects.get(campaign=campaign, email=people[0].email)
    assert retried.state == MessageState.QUEUED
    assert retried.attempts == 1
    assert "451" in retried.error
    failed = Message.objects.get(campaign=campaign, email=people[1].email)
    assert failed.state == MessageState.FAILED
    assert "550" in failed.error
    assert Contact.objects.get(pk=people[1].pk).status == ContactStatus.BOUNCED
    Message.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    second = _run(campaign)
    assert second.sent == 1
    assert Message.objects.get(pk=retried.pk).state == MessageState.SENT
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_gives_up_after_the_attempt_limit(project, smtp_server, settings) -> None:
    settings.SEND_RETRY_SECONDS = 0
    settings.SEND_MAX_ATTEMPTS = 3
    campaign, people = _ready(project, smtp_server, n=1)
    smtp_server.reject(people[0].email, 452, "4.2.2 mailbox full")
    campaign_start(campaign=campaign)
    for _ in range(3):
        _run(campaign)
    message = Message.objects.get(campaign=campaign)
    assert message.state == MessageState.FAILED
    assert message.attempts == 3
    assert Contact.objects.get(pk=people[0].pk).status == ContactStatus.SUBSCRIBED  # a 4xx is no bounce
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED


def test_pause_resume_and_an_unsubscribe_in_between(project, smtp_server) -> None:
    campaign, people = _ready(project, smtp_server, n=4)
    campaign_start(campaign=campaign)
    campaign_pause(campaign=campaign)
    assert _run(campaign).stopped == CampaignStatus.PAUSED
    assert smtp_server.messages == []
    Contact.objects.filter(pk=people[3].pk).update(status=ContactStatus.UNSUBSCRIBED)
    campaign_resume(campaign=campaign)
    result = _run(campaign)
    assert result.sent == 3
    assert result.skipped == 1
    skipped = Message.objects.get(campaign=campaign, email=people[3].email)
    assert skipped.state == MessageState.SKIPPED
    assert skipped.skip_reason == "unsubscribed"


def test_cancel_leaves_the_rest_unsent_and_says_how_many(project, smtp_server) -> None:
    campaign, _people = _ready(project, smtp_server, n=4)
    campaign_start(campaign=campaign)
    campaign_pause(campaign=campaign)
    campaign, unsent = campaign_cancel(campaign=campaign)
    assert unsent == 4
    assert campaign.status == CampaignStatus.CANCELLED
    assert _run(campaign).stopped == CampaignStatus.CANCELLED
    assert smtp_server.messages == []


def test_refused_credentials_stop_the_campaign_with_the_reason(project, smtp_auth_server) -> None:
    f.verified_domain(project)
    from tidings.sending.services import connection_create

    connection_create(
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
    news = f.tag(project)
    f.contacts(project, 2, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    assert _run(campaign).stopped == "failed"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "refused the login" in campaign.error
    assert Message.objects.filter(campaign=campaign, state="queued").count() == 2  # nothing lost


def test_a_design_test_goes_out_through_the_default_connection_signed(project, smtp_server) -> None:
    from tidings.content.selectors import design_preview, source_of
    from tidings.sending.testsend import send_design_test

    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    rendered = design_preview(project=project, source=source_of(f.design(project)))
    sent = send_design_test(project=project, rendered=rendered, to=" me@example.org ")
    assert sent.delivered_to == "smtp"
    assert sent.connection == "Relay"
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["me@example.org"]
    assert received.mail_from == "tests@example.com"
    assert received.message["Subject"] == "[Test] News for you"
    assert received.message["X-Tidings-Test"] == "yes"
    assert received.content.startswith(b"DKIM-Signature:")


def test_a_design_test_needs_a_verified_domain_to_leave_through_a_relay(project, smtp_server) -> None:
    from tidings.content.selectors import design_preview, source_of
    from tidings.core.errors import ValidationError
    from tidings.sending.testsend import send_design_test

    f.smtp_connection(project, smtp_server)
    rendered = design_preview(project=project, source=source_of(f.design(project)))
    with pytest.raises(ValidationError, match="verify one under Settings → Domains"):
        send_design_test(project=project, rendered=rendered, to="me@example.org")
    smtp_server.reject("you@example.org", 550, "5.1.1 no such user")
    f.verified_domain(project)
    with pytest.raises(ValidationError, match="Relay did not take the test: recipient refused: 550"):
        send_design_test(project=project, rendered=rendered, to="you@example.org")
    assert smtp_server.messages == []


def test_a_recipient_whose_copy_cannot_be_built_fails_alone(project, smtp_server) -> None:
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, 3, tag=news)
    # A loop over this person's own list runs past the render limit: their copy cannot be made.
    Contact.objects.filter(pk=people[1].pk).update(custom_fields={"items": ["x" * 100] * 1000})
    body = "<p>Hi {{ firstName }}</p>{% for i in items %}{% for j in items %}{{ j }}{% endfor %}{% endfor %}"
    campaign = f.campaign(project, design_obj=f.design(project, fmt="html", body=body), tag_obj=news)
    campaign_start(campaign=campaign)
    result = _run(campaign)
    assert result.sent == 2
    assert result.failed == 1
    failed = Message.objects.get(campaign=campaign, email=people[1].email)
    assert failed.state == MessageState.FAILED
    assert failed.error.startswith("the message could not be built")
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == [people[0].email, people[2].email]
