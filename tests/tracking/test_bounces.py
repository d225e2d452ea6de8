"""Bounce and complaint reports for mail sent over SMTP: VERP, reading them, and what they change.

The reports are the real layouts of Postfix, Exim, Sendmail, Gmail, Microsoft 365 and qmail
(``dsn_samples/``), filled in with a message this test really sent (to the outbox, which
keeps the envelope sender as ``Return-Path``).
"""

from __future__ import annotations

import base64
import email
import email.policy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tidings.audience.models import Contact, ContactStatus, Suppression
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message
from tidings.sending.pipeline import run_campaign
from tidings.sending.transports import outbox_folder
from tidings.tracking.bounces import (
    bounce_domain,
    bounce_receive,
    read_verp_token,
    verp_address,
    verp_read,
    verp_token,
)
from tidings.tracking.models import Alert, AlertKind, BounceType, EventKind, EventSource, TrackingEvent
from tidings.tracking.tokens import BadToken, message_token, recipient_token

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "dsn_samples"


@dataclass
class Copy:
    """One message as it left: its row, the return path and Message-ID it carried."""

    message: Message
    verp: str
    message_id: str

    def report(self, sample: str, **changes: str) -> bytes:
        text = (SAMPLES / sample).read_text()
        for old, new in changes.items():
            text = text.replace(old, new)
        text = (
            text.replace("${VERP}", self.verp)
            .replace("${RECIPIENT}", self.message.email)
            .replace("${MESSAGE_ID}", self.message_id)
        )
        return text.replace("\n", "\r\n").encode()


@pytest.fixture
def copies(project: Any, settings: Any, tmp_path: Path) -> list[Copy]:
    """A campaign of three, sent to the outbox: one ``Copy`` per recipient."""
    settings.DATA_DIR = tmp_path
    connection = f.outbox_connection(project)
    news = f.tag(project)
    f.contacts(project, 3, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    assert run_campaign(campaign).sent == 3
    found = []
    for path in sorted(outbox_folder(connection).glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        message = Message.objects.get(campaign=campaign, email=parsed["To"])
        found.append(Copy(message, parsed["Return-Path"].strip("<>"), parsed["Message-ID"]))
    return sorted(found, key=lambda c: c.message.pk)


def _contact(copy: Copy) -> Contact:
    return Contact.objects.get(pk=copy.message.contact_id)


def _events(**filters: Any) -> list[TrackingEvent]:
    return list(TrackingEvent.objects.filter(source=EventSource.DSN, **filters).order_by("id"))


# -- VERP ------------------------------------------------------------------------------------


def test_each_copy_leaves_with_its_own_verp_return_path(copies: list[Copy]) -> None:
    for copy in copies:
        local, _, domain = copy.verp.partition("@")
        assert domain == "bounces.example.com"
        assert local.startswith("bounces+")
        assert len(local) <= 64  # RFC 5321's limit for a local part
        assert local == local.lower()
        tracked = verp_read(copy.verp)
        assert tracked is not None
        assert (tracked.project_id, tracked.message_id) == (copy.message.project_id, copy.message.pk)
    assert len({c.verp for c in copies}) == 3


def test_the_return_path_is_used_only_where_bounces_can_arrive(project: Any, settings: Any) -> None:
    domain = f.verified_domain(project)
    # The CNAME was not found (or never checked): no VERP, rather than a domain nobody receives.
    assert bounce_domain(project_id=project.pk, from_domain="Example.COM") == ""
    assert (
        bounce_domain(project_id=project.pk, from_domain="Example.COM", published=True)
        == "bounces.example.com"
    )
    domain.last_results = [{"purpose": "return-path", "state": "found"}]
    domain.save(update_fields=["last_results"])
    assert bounce_domain(project_id=project.pk, from_domain="Example.COM") == "bounces.example.com"
    domain.last_results = [{"purpose": "return-path", "state": "wrong"}]
    domain.save(update_fields=["last_results"])
    assert bounce_domain(project_id=project.pk, from_domain="example.com") == ""
    settings.BOUNCE_DOMAIN = "returns.mailer.example"
    assert bounce_domain(project_id=project.pk, from_domain="example.com") == "returns.mailer.example"


def test_a_pixel_token_is_no_return_path_token(copies: list[Copy]) -> None:
    message = copies[0].message
    pixel = message_token(project_id=message.project_id, message_id=message.pk)
    as_local_part = base64.b32encode(base64.urlsafe_b64decode(pixel + "=")).decode().rstrip("=").lower()
    assert verp_read(f"bounces+{as_local_part}@bounces.example.com") is None


def test_a_token_survives_a_server_that_changes_the_case_of_local_parts() -> None:
    address = verp_address(project_id=7, message_id=123_456_789, domain="bounces.example.com")
    for seen in (address.upper(), address.title()):
        tracked = verp_read(seen)
        assert tracked is not None
        assert (tracked.project_id, tracked.message_id) == (7, 123_456_789)


def test_a_changed_or_foreign_token_is_refused() -> None:
    token = verp_token(project_id=7, message_id=99)
    flipped = ("a" if token[5] != "a" else "b").join((token[:5], token[6:]))
    for bad in (flipped, token[:-1], token + "a", "a" * 42, "0" * 42, token[:-1] + "7"):
        with pytest.raises(BadToken):
            read_verp_token(bad)
    # A token made for something else (a link, a recipient) is no return path.
    import base64

    def as_verp(sealed: str) -> str:
        return base64.b32encode(base64.urlsafe_b64decode(sealed + "=")).decode().rstrip("=").lower()

    with pytest.raises(BadToken):
        read_verp_token(as_verp(message_token(project_id=7, message_id=99, link=2)))
    with pytest.raises(BadToken):
        read_verp_token(as_verp(recipient_token(project_id=7, contact_id=99)))
    assert verp_read("someone@bounces.example.com") is None
    assert verp_read(f"x-bounces+{token}@bounces.example.com") is None


# -- reports from the common mail servers ------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "status"),
    [
        ("postfix_failed.eml", "5.1.1"),
        ("exim_failed.eml", "5.1.1"),  # Status: 5.0.0, the real code in Diagnostic-Code
        ("sendmail_failed.eml", "5.1.1"),
        ("gmail_failed.eml", "5.1.1"),
        ("office365_failed.eml", "5.1.10"),
        ("qmail_failed.txt", "5.1.1"),  # no delivery-status part: read by flufl.bounce
    ],
)
def test_a_hard_bounce_suppresses_the_address(copies: list[Copy], sample: str, status: str) -> None:
    copy = copies[0]
    receipt = bounce_receive(copy.report(sample))
    assert (receipt.status, receipt.kind, receipt.effect) == ("recorded", EventKind.BOUNCED, "suppressed")
    (event,) = _events()
    assert event.message_id == copy.message.pk
    assert event.campaign_id == copy.message.campaign_id
    assert event.email == copy.message.email
    assert event.bounce_type == BounceType.HARD
    assert event.status_code == status
    assert event.event_id.startswith("dsn:")
    assert _contact(copy).status == ContactStatus.BOUNCED
    suppressed = Suppression.objects.get(project=copy.message.project)
    assert suppressed.reason == "bounced"
    assert status in suppressed.detail
    assert _contact(copies[1]).status == ContactStatus.SUBSCRIBED


def test_a_delay_warning_is_a_deferral_and_changes_no_contact(copies: list[Copy]) -> None:
    copy = copies[0]
    receipt = bounce_receive(copy.report("postfix_delayed.eml"))
    assert (receipt.status, receipt.kind, receipt.effect) == ("recorded", EventKind.DEFERRED, "")
    (event,) = _events()
    assert (event.kind, event.status_code, event.bounce_type) == (EventKind.DEFERRED, "4.4.1", "")
    assert "Connection timed out" in event.detail
    assert _contact(copy).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_an_unauthenticated_refusal_alerts_the_project_and_leaves_the_contact(copies: list[Copy]) -> None:
    copy = copies[0]
    receipt = bounce_receive(copy.report("postfix_unauthenticated.eml"))
    assert (receipt.status, receipt.effect) == ("recorded", "alert")
    (event,) = _events()
    assert (event.bounce_type, event.status_code) == (BounceType.POLICY, "5.7.26")
    alert = Alert.objects.get(project=copy.message.project)
    assert alert.kind == AlertKind.SENDER_PROBLEM
    assert "5.7.26" in alert.title
    assert "unauthenticated" in alert.detail
    assert _contact(copy).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_a_complaint_report_marks_the_contact_complained(copies: list[Copy]) -> None:
    copy = copies[0]
    receipt = bounce_receive(copy.report("arf_abuse.eml"))
    assert (receipt.status, receipt.kind) == ("recorded", EventKind.COMPLAINED)
    (event,) = _events()
    assert event.kind == EventKind.COMPLAINED
    assert "abuse" in event.detail
    assert _contact(copy).status == ContactStatus.COMPLAINED
    assert Suppression.objects.get(project=copy.message.project).reason == "complained"


def test_a_feedback_report_that_is_no_complaint_records_nothing(copies: list[Copy]) -> None:
    receipt = bounce_receive(
        copies[0].report("arf_abuse.eml", **{"Feedback-Type: abuse": "Feedback-Type: not-spam"})
    )
    assert receipt.status == "nothing"
    assert _events() == []


def test_soft_bounces_add_up_to_a_bounce(copies: list[Copy]) -> None:
    copy = copies[0]
    limit = copy.message.project.soft_bounce_limit
    for n in range(limit):
        report = copy.report(
            "postfix_failed.eml",
            **{
                "Status: 5.1.1": "Status: 4.2.2",
                "550 5.1.1": "452 4.2.2",
                "<4SVq1d2kQbz9sTn@relay.example.com>": f"<full-{n}@relay.example.com>",
            },
        )
        receipt = bounce_receive(report)
        assert receipt.status == "recorded"
        expected = "suppressed" if n == limit - 1 else "soft-bounce"
        assert receipt.effect == expected
    assert [e.bounce_type for e in _events()] == [BounceType.SOFT] * limit
    assert _contact(copy).status == ContactStatus.BOUNCED


def test_a_bare_reply_code_decides_when_the_status_is_undefined(copies: list[Copy]) -> None:
    """Status 5.0.0 with no better code: a 550 reply is the address, a 552 is not."""
    hard, soft = copies[0], copies[1]
    changes = {"550 5.1.1": "550"}
    bounce_receive(hard.report("exim_failed.eml", **changes))
    bounce_receive(soft.report("exim_failed.eml", **{"550 5.1.1": "552 mailbox over quota"}))
    first, second = _events()
    assert (first.message_id, first.bounce_type, first.status_code) == (hard.message.pk, "hard", "5.0.0")
    assert (second.message_id, second.bounce_type) == (soft.message.pk, "soft")
    assert _contact(hard).status == ContactStatus.BOUNCED
    assert _contact(soft).status == ContactStatus.SUBSCRIBED


def test_relayed_and_delivered_reports_bounce_nobody(copies: list[Copy]) -> None:
    relayed = copies[0].report("postfix_failed.eml", **{"Action: failed": "Action: relayed"})
    assert bounce_receive(relayed).status == "nothing"
    delivered = copies[1].report(
        "postfix_failed.eml", **{"Action: failed": "Action: delivered", "5.1.1": "2.0.0"}
    )
    receipt = bounce_receive(delivered)
    assert (receipt.status, receipt.kind) == ("recorded", EventKind.DELIVERED)
    assert [e.kind for e in _events()] == [EventKind.DELIVERED]
    assert Contact.objects.filter(status=ContactStatus.SUBSCRIBED).count() == 3


# -- finding the message ---------------------------------------------------------------------


def test_without_a_token_our_message_id_in_the_returned_headers_finds_the_message(copies: list[Copy]) -> None:
    copy = copies[1]
    report = copy.report("sendmail_failed.eml", **{"${VERP}": "bounces@bounces.example.com"})
    assert b"bounces+" not in report
    receipt = bounce_receive(report)
    assert (receipt.status, receipt.message_id) == ("recorded", copy.message.pk)
    assert _contact(copy).status == ContactStatus.BOUNCED


def test_the_envelope_recipient_is_believed_before_the_headers(copies: list[Copy]) -> None:
    named, delivered_for = copies[0], copies[2]
    receipt = bounce_receive(named.report("postfix_failed.eml"), envelope_to=[delivered_for.verp])
    assert receipt.message_id == delivered_for.message.pk


def test_a_report_cannot_choose_the_address_it_suppresses(copies: list[Copy]) -> None:
    """The token names the message; the address in the report is only what the far end saw
    (a forward): the message's own recipient is the one suppressed."""
    copy, bystander = copies[0], copies[1]
    report = copy.report("postfix_failed.eml").replace(
        copy.message.email.encode(), bystander.message.email.encode()
    )
    receipt = bounce_receive(report)
    assert receipt.message_id == copy.message.pk
    assert _contact(copy).status == ContactStatus.BOUNCED
    assert _contact(bystander).status == ContactStatus.SUBSCRIBED
    assert list(Suppression.objects.values_list("email", flat=True)) == [copy.message.email]


def test_a_forged_token_changes_nothing(copies: list[Copy]) -> None:
    copy = copies[0]
    token = copy.verp.split("+")[1].split("@")[0]
    forged_token = ("a" if token[3] != "a" else "b").join((token[:3], token[4:]))
    report = copy.report("postfix_failed.eml", **{"${VERP}": copy.verp.replace(token, forged_token)})
    assert bounce_receive(report).status == "forged"
    assert _events() == []
    assert TrackingEvent.objects.count() == 0
    assert _contact(copy).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_a_token_naming_another_project_changes_nothing(copies: list[Copy], other_project: Any) -> None:
    copy = copies[0]
    elsewhere = verp_address(
        project_id=other_project.pk, message_id=copy.message.pk, domain="bounces.example.com"
    )
    report = copy.report("postfix_failed.eml", **{"${VERP}": elsewhere})
    assert bounce_receive(report).status == "unmatched"
    assert TrackingEvent.objects.count() == 0
    assert _contact(copy).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_a_report_about_mail_we_did_not_send_is_unmatched(copies: list[Copy]) -> None:
    report = copies[0].report(
        "postfix_failed.eml",
        **{
            "${VERP}": "newsletter@elsewhere.example",
            "${MESSAGE_ID}": "<0123456789abcdef01234567@elsewhere.example>",
        },
    )
    assert bounce_receive(report).status == "unmatched"
    assert TrackingEvent.objects.count() == 0


def test_the_same_report_read_twice_is_recorded_once(copies: list[Copy]) -> None:
    copy = copies[0]
    for sample in ("postfix_failed.eml", "qmail_failed.txt"):  # the qmail text has no Message-ID of its own
        report = copy.report(sample)
        first, again = bounce_receive(report), bounce_receive(report)
        assert (first.status, again.status) == ("recorded", "duplicate")
    assert len(_events()) == 2


# -- input from anyone --------------------------------------------------------------------------


def test_a_report_over_the_size_limit_is_not_read(copies: list[Copy], settings: Any, caplog: Any) -> None:
    settings.BOUNCE_MAX_BYTES = 10_000
    report = copies[0].report("postfix_failed.eml") + b"x" * 10_000
    with caplog.at_level(logging.WARNING, logger="tidings.bounces"):
        assert bounce_receive(report).status == "too-large"
    assert "over the 10000-byte limit" in caplog.text
    assert TrackingEvent.objects.count() == 0


def test_ten_thousand_recipients_are_cut_and_said_so(copies: list[Copy], caplog: Any) -> None:
    copy = copies[0]
    block = "Final-Recipient: rfc822; someone{n}@example.net\nAction: failed\nStatus: 5.1.1\n\n"
    many = "".join(block.format(n=n) for n in range(10_000))
    report = copy.report(
        "postfix_failed.eml",
        **{"Final-Recipient: rfc822; ${RECIPIENT}": many + "Final-Recipient: rfc822; ${RECIPIENT}"},
    )
    with caplog.at_level(logging.WARNING, logger="tidings.bounces"):
        receipt = bounce_receive(report)
    assert receipt.status == "recorded"
    assert "names more than 100 recipients: 9901 not read" in caplog.text
    assert len(_events()) == 1  # one event for the one message the return path names


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\nno parts at all",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n",  # unterminated
        b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        + b"".join(
            b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(5000)
        ),
        b"Subject: =?x-unknown?b?////?=\r\nContent-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xff\xfe\r\n",
        b"Content-Type: message/delivery-status; charset=utf-16\r\n\r\n\xff\xfeA\x00c\x00t\x00",
        bytes(range(256)) * 100,
    ],
    ids=["empty", "blank", "no-parts", "unterminated", "nested-5000-deep", "bad-charset", "utf16", "binary"],
)
def test_malformed_input_is_logged_not_raised(copies: list[Copy], raw: bytes) -> None:
    receipt = bounce_receive(raw)
    assert receipt.status in ("not-a-bounce", "unreadable", "unmatched", "nothing")
    assert TrackingEvent.objects.count() == 0
    assert Contact.objects.filter(status=ContactStatus.SUBSCRIBED).count() == 3


def test_a_report_in_a_wrong_charset_is_still_read(copies: list[Copy]) -> None:
    copy = copies[0]
    report = copy.report("postfix_failed.eml", **{"charset=utf-8": "charset=x-no-such-charset"})
    report = report.replace(b"I'm sorry", "J\u2019ai le regret".encode("latin-1", "replace"))
    assert bounce_receive(report).status == "recorded"
    assert _contact(copy).status == ContactStatus.BOUNCED
