"""Bounces coming back: a campaign over SMTP, its bounces over SMTP to the bounce server, and
the mailbox poller against real IMAP (pymap) and a POP3 stand-in (see ``mail_servers``).

The receiving side works in threads and other processes, so these tests commit
(``transaction=True``).
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tests.sending.smtp_server import SmtpServer
from tests.tracking.mail_servers import PASSWORD, USER, ImapServer, Pop3Server, free_port
from tidings.audience.models import Contact, ContactStatus, Suppression
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message
from tidings.sending.pipeline import run_campaign
from tidings.tracking.bounce_receiver import (
    BounceServer,
    Mailbox,
    MailboxError,
    _Pop3,
    mailbox_poll,
)
from tidings.tracking.bounces import bounce_receive, verp_address
from tidings.tracking.models import Alert, BounceType, EventKind, EventSource, TrackingEvent

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).parent / "dsn_samples"
REPO = Path(__file__).resolve().parents[2]


class Sent:
    """A campaign really sent through the ``smtp`` connection to a sink on loopback."""

    def __init__(self, project: Any, sink: SmtpServer, n: int = 3) -> None:
        domain = f.verified_domain(project)
        domain.last_results = [{"purpose": "return-path", "state": "found"}]  # the CNAME is published
        domain.save(update_fields=["last_results"])
        f.smtp_connection(project, sink)
        news = f.tag(project)
        f.contacts(project, n, tag=news)
        campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
        campaign_start(campaign=campaign)
        campaign.refresh_from_db()
        assert run_campaign(campaign).sent == n
        self.received = {r.rcpt_tos[0]: r for r in sink.messages}
        self.messages = list(Message.objects.filter(campaign=campaign).order_by("id"))

    def report(self, message: Message, sample: str, **changes: str) -> bytes:
        """A report in ``sample``'s layout about ``message``, with what the sink received."""
        received = self.received[message.email]
        text = (SAMPLES / sample).read_text()
        for old, new in changes.items():
            text = text.replace(old, new)
        text = (
            text.replace("${VERP}", received.mail_from)
            .replace("${RECIPIENT}", message.email)
            .replace("${MESSAGE_ID}", received.message["Message-ID"])
        )
        return text.replace("\n", "\r\n").encode()


@pytest.fixture
def sink() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def sent(project: Any, sink: SmtpServer) -> Sent:
    return Sent(project, sink)


@pytest.fixture
def bounce_server() -> Iterator[BounceServer]:
    server = BounceServer("127.0.0.1", 0, hostname="bounces.test")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _deliver(server: BounceServer, rcpt: str, report: bytes) -> None:
    with smtplib.SMTP(server.hostname, server.port, timeout=30) as client:
        client.sendmail("", [rcpt], report)  # a bounce's envelope sender is empty: MAIL FROM:<>


def _contact(message: Message) -> Contact:
    return Contact.objects.get(pk=message.contact_id)


# -- sending with a VERP return path ------------------------------------------------------------


def test_a_campaign_over_smtp_uses_the_verp_address_as_envelope_sender(sent: Sent) -> None:
    for message in sent.messages:
        received = sent.received[message.email]
        expected = verp_address(
            project_id=message.project_id, message_id=message.pk, domain="bounces.example.com"
        )
        assert received.mail_from == expected
        assert received.message["From"] == "Acme News <news@example.com>"
        assert "Return-Path" not in received.message  # the receiving end writes that, not us


def test_the_bounce_domain_setting_is_the_return_path_domain(
    project: Any, sink: SmtpServer, settings: Any
) -> None:
    settings.BOUNCE_DOMAIN = "returns.mailer.example"
    sent = Sent(project, sink, n=1)
    assert sent.received[sent.messages[0].email].mail_from.endswith("@returns.mailer.example")


def test_a_campaign_through_an_esp_keeps_the_providers_return_path(project: Any) -> None:
    from tests.sending.esp_servers import SendGridServer
    from tidings.sending.services import connection_create

    with SendGridServer() as server:
        connection_create(
            project=project,
            name="SendGrid",
            kind="sendgrid",
            options={"apiUrl": server.url},
            secrets_given={"apiKey": server.api_key},
            is_default=True,
        )
        f.verified_domain(project)
        news = f.tag(project)
        f.contacts(project, 2, tag=news)
        campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
        campaign_start(campaign=campaign)
        campaign.refresh_from_db()
        assert run_campaign(campaign).sent == 2
        bodies = [r.body for r in server.requests]
    assert len(bodies) == 2
    assert all(b"news@example.com" in body for body in bodies)
    assert not any(b"bounces+" in body or b"bounces." in body for body in bodies)


# -- the SMTP bounce server ----------------------------------------------------------------------


def test_a_bounce_delivered_by_smtp_bounces_and_suppresses_the_contact(
    sent: Sent, bounce_server: BounceServer
) -> None:
    message = sent.messages[0]
    _deliver(
        bounce_server, sent.received[message.email].mail_from, sent.report(message, "postfix_failed.eml")
    )
    assert _contact(message).status == ContactStatus.BOUNCED
    assert Suppression.objects.filter(project=message.project, email=message.email).exists()
    (event,) = TrackingEvent.objects.filter(source=EventSource.DSN)
    assert (event.message_id, event.bounce_type, event.status_code) == (message.pk, BounceType.HARD, "5.1.1")
    assert _contact(sent.messages[1]).status == ContactStatus.SUBSCRIBED


def test_a_4xx_failure_is_a_soft_bounce(sent: Sent, bounce_server: BounceServer) -> None:
    message = sent.messages[1]
    report = sent.report(
        message,
        "postfix_failed.eml",
        **{"Status: 5.1.1": "Status: 4.4.7", "550 5.1.1": "421 4.4.7 Message expired"},
    )
    _deliver(bounce_server, sent.received[message.email].mail_from, report)
    (event,) = TrackingEvent.objects.filter(source=EventSource.DSN)
    assert (event.kind, event.bounce_type, event.status_code) == (EventKind.BOUNCED, BounceType.SOFT, "4.4.7")
    assert _contact(message).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_an_unauthenticated_refusal_alerts_and_leaves_the_contact(
    sent: Sent, bounce_server: BounceServer
) -> None:
    message = sent.messages[2]
    report = sent.report(message, "postfix_unauthenticated.eml")
    _deliver(bounce_server, sent.received[message.email].mail_from, report)
    assert Alert.objects.get(project=message.project).kind == "sender_problem"
    assert _contact(message).status == ContactStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


def test_a_recipient_that_is_no_return_path_of_ours_is_refused(
    sent: Sent, bounce_server: BounceServer
) -> None:
    real = sent.received[sent.messages[0].email].mail_from
    token = real.split("+")[1].split("@")[0]
    forged = real.replace(token, ("a" if token[0] != "a" else "b") + token[1:])
    for rcpt in (forged, "postmaster@bounces.example.com", "bounces@bounces.example.com"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _deliver(bounce_server, rcpt, sent.report(sent.messages[0], "postfix_failed.eml"))
        code, reply = refused.value.recipients[rcpt]
        assert code == 550
        assert reply.startswith(b"5.1.1")
    assert TrackingEvent.objects.count() == 0


def test_a_message_over_the_size_limit_is_refused_with_552(sent: Sent, settings: Any) -> None:
    settings.BOUNCE_MAX_BYTES = 20_000
    server = BounceServer("127.0.0.1", 0)
    server.start()
    try:
        message = sent.messages[0]
        report = sent.report(message, "postfix_failed.eml") + b"x" * 30_000 + b"\r\n"
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            _deliver(server, sent.received[message.email].mail_from, report)
        assert refused.value.smtp_code == 552
    finally:
        server.stop()
    assert TrackingEvent.objects.count() == 0


# -- `tidings bounces serve` as a process ---------------------------------------------------------


def test_bounces_serve_listens_until_sigterm(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DJANGO_"))}
    environ["TIDINGS_DATA_DIR"] = str(tmp_path)
    migrate = subprocess.run(
        [sys.executable, "-m", "tidings", "migrate"], cwd=REPO, env=environ, capture_output=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "bounces", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"Receiving bounces by SMTP on 127.0.0.1:{port}")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            code, _ = client.ehlo()
            assert code == 250
            client.mail("")
            code, reply = client.rcpt("someone@bounces.example.com")
            assert (code, reply[:5]) == (550, b"5.1.1")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stdout.read().strip() == "stopped"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bounces_poll_without_a_mailbox_says_what_to_set(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DJANGO_"))}
    environ["TIDINGS_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "tidings", "bounces", "poll", "--once"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("tidings: TIDINGS_BOUNCE_MAILBOX is not set")
    bad = subprocess.run(
        [sys.executable, "-m", "tidings", "bounces", "poll", "--once"],
        cwd=REPO,
        env={**environ, "TIDINGS_BOUNCE_MAILBOX": "imaps://mail.example.com/INBOX"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "TIDINGS_BOUNCE_MAILBOX: the URL needs a user and a password" in bad.stderr


# -- the mailbox poller: IMAP ------------------------------------------------------------------------


@pytest.fixture
def imap(tmp_path: Path, settings: Any) -> Iterator[ImapServer]:
    with ImapServer(tmp_path) as server:
        settings.BOUNCE_MAILBOX_CA_FILE = str(server.ca_file)
        yield server


def _imap_box(port: int, scheme: str = "imap") -> Mailbox:
    return Mailbox.from_url(f"{scheme}://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}/INBOX")


NOT_A_BOUNCE = (
    b"From: someone@example.net\r\nTo: bounces@bounces.example.com\r\nSubject: hi\r\n\r\nHello.\r\n"
)


@pytest.mark.parametrize("scheme", ["imap", "imaps"])
def test_the_imap_poller_records_reports_and_removes_only_those(
    sent: Sent, imap: ImapServer, scheme: str
) -> None:
    first, second = sent.messages[0], sent.messages[1]
    imap.append(
        sent.report(first, "postfix_failed.eml"),
        NOT_A_BOUNCE,
        sent.report(second, "arf_abuse.eml"),
    )
    port = imap.port if scheme == "imap" else imap.implicit_tls().port  # STARTTLS, or TLS from the start
    result = mailbox_poll(_imap_box(port, scheme))
    assert (result.read, result.recorded, result.removed, result.left) == (3, 2, 2, 1)
    assert _contact(first).status == ContactStatus.BOUNCED
    assert _contact(second).status == ContactStatus.COMPLAINED
    (left,) = imap.inbox()  # the two reports are expunged; the person's message stays, flagged
    flags, content = left
    assert b"\\Flagged" in flags
    assert content.replace(b"\r\n", b"\n") == NOT_A_BOUNCE.replace(b"\r\n", b"\n")
    again = mailbox_poll(_imap_box(port, scheme))
    assert (again.read, again.left) == (0, 0)  # the flagged message is not read again


def test_an_imap_certificate_that_does_not_verify_is_refused(
    sent: Sent, imap: ImapServer, settings: Any
) -> None:
    settings.BOUNCE_MAILBOX_CA_FILE = ""
    with pytest.raises(MailboxError) as refused:
        mailbox_poll(_imap_box(imap.port))
    assert "certificate does not verify" in str(refused.value)
    assert not refused.value.unavailable


def test_wrong_imap_credentials_are_a_clear_error(imap: ImapServer) -> None:
    box = Mailbox.from_url(f"imap://{USER}:wrong@127.0.0.1:{imap.port}/INBOX")
    with pytest.raises(MailboxError) as refused:
        mailbox_poll(box)
    assert str(refused.value).startswith(f"imap://{USER}@127.0.0.1:{imap.port}/INBOX: refused:")
    assert "wrong" not in str(refused.value)


def test_a_report_read_by_two_pollers_or_twice_is_recorded_once(sent: Sent, imap: ImapServer) -> None:
    message = sent.messages[0]
    report = sent.report(message, "postfix_failed.eml")
    # A poller recorded it and died before removing it; the same report also arrived twice.
    assert bounce_receive(report).status == "recorded"
    imap.append(report, report)
    result = mailbox_poll(_imap_box(imap.port))
    assert (result.read, result.recorded, result.duplicate, result.removed) == (2, 0, 2, 2)
    assert TrackingEvent.objects.filter(source=EventSource.DSN).count() == 1
    assert imap.inbox() == []


# -- the mailbox poller: POP3 (a stand-in server, see mail_servers) ---------------------------------


@pytest.fixture
def pop3(tmp_path: Path, settings: Any) -> Iterator[Pop3Server]:
    with Pop3Server(tmp_path, tls="stls") as server:
        settings.BOUNCE_MAILBOX_CA_FILE = str(server.ca_file)
        yield server


def _pop3_box(port: int, scheme: str = "pop3") -> Mailbox:
    return Mailbox.from_url(f"{scheme}://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}")


@pytest.mark.parametrize("tls", ["stls", "implicit"])
def test_the_pop3_poller_records_and_deletes_reports(
    sent: Sent, tmp_path: Path, settings: Any, tls: str
) -> None:
    message = sent.messages[2]
    with Pop3Server(tmp_path, tls=tls) as server:
        settings.BOUNCE_MAILBOX_CA_FILE = str(server.ca_file)
        server.add(sent.report(message, "exim_failed.eml"), NOT_A_BOUNCE)
        result = mailbox_poll(_pop3_box(server.port, "pop3" if tls == "stls" else "pop3s"))
        assert (result.read, result.recorded, result.removed, result.left) == (2, 1, 1, 1)
        assert server.stored() == [NOT_A_BOUNCE]
        assert _contact(message).status == ContactStatus.BOUNCED
        again = mailbox_poll(_pop3_box(server.port, "pop3" if tls == "stls" else "pop3s"))
        assert again.read == 0  # what was left for a person is not read again by this process


def test_a_pop3_session_that_dies_before_quit_loses_nothing(sent: Sent, pop3: Pop3Server) -> None:
    message = sent.messages[0]
    pop3.add(sent.report(message, "postfix_delayed.eml"))
    crashed = _Pop3(_pop3_box(pop3.port))
    ((key, _size),) = crashed.pending()
    assert bounce_receive(crashed.fetch(key)).status == "recorded"
    crashed.settle(key)
    crashed.conn.sock.close()  # gone before QUIT: the server deletes nothing
    assert len(pop3.stored()) == 1
    result = mailbox_poll(_pop3_box(pop3.port))
    assert (result.read, result.duplicate, result.removed) == (1, 1, 1)
    assert pop3.stored() == []
    assert TrackingEvent.objects.filter(source=EventSource.DSN, kind=EventKind.DEFERRED).count() == 1


def test_an_unreachable_mailbox_is_unavailable_not_refused() -> None:
    with pytest.raises(MailboxError) as failed:
        mailbox_poll(_pop3_box(free_port(), "pop3s"))
    assert failed.value.unavailable
    assert "cannot be reached" in str(failed.value)
