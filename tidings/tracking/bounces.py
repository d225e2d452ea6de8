"""Bounce messages and complaint reports that come back for mail sent over SMTP.

Mail sent through an ``smtp`` connection (and written to the outbox) leaves with
the envelope sender ``bounces+<token>@<bounce domain>`` (VERP): the token is the
message's signed token, so whatever comes back to that address names the message
it is about, and a token that was not made here is refused. Local parts are
sometimes lowercased on the way, so the token is written in lowercase base32.

A report read here (``bounce_receive``) is one of:

- an RFC 3464 delivery status notification (``multipart/report;
  report-type=delivery-status``): per recipient, ``failed`` is a bounce,
  ``delayed`` a deferral, ``delivered`` a delivery; ``relayed`` and ``expanded``
  say nothing about the outcome and are passed over;
- an ARF complaint (``report-type=feedback-report``, ``Feedback-Type: abuse``);
- anything else a mail server sends back (old qmail, Exchange or Yahoo texts),
  read by flufl.bounce's detectors: permanent failures bounce, temporary ones
  are deferrals.

The message is found by the VERP token (the envelope recipient, then
``Delivered-To`` and the like, then the returned message's ``Return-Path``), else
by the returned message's ``Message-ID``. What was found goes through the one
door for delivery events (``tidings.tracking.delivery``), which classifies by
the status code and suppresses; each report gets an event id made from its own
Message-ID, so reading it twice records it once. Input comes from anyone: the
size, the parts and the recipients read are capped, and a report that cannot be
read is logged, never raised.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message as MimeMessage
from email.parser import HeaderParser
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone

from tidings.sending.models import Message
from tidings.tracking.delivery import DeliveryEvent, classify_bounce, delivery_event_record, enhanced_code
from tidings.tracking.models import EventKind, EventSource
from tidings.tracking.tokens import BadToken, Tracked, read_return_path_token, return_path_token

log = logging.getLogger("tidings.bounces")

RETURN_LOCAL = "bounces"
MAX_RECIPIENTS = 100  # per-recipient blocks read from one report; a report naming more is cut
MAX_PARTS = 200  # MIME parts looked at in one report
_TEXT_SCAN = 200_000  # characters of a plain-text bounce searched for codes, tokens and Message-IDs
_DETECTOR_BYTES = 64_000  # of a plain-text bounce given to flufl.bounce's detectors
_TOKEN_CHARS = 42  # 26 bytes in base32 without padding
_VERP = re.compile(rf"\b{RETURN_LOCAL}\+([a-z2-7]{{{_TOKEN_CHARS}}})@", re.IGNORECASE)
_OUR_MESSAGE_ID = re.compile(r"<[0-9a-f]{24}@[A-Za-z0-9.-]{1,253}>")
_MESSAGE_ID_LINE = re.compile(r"^message-id:[ \t]*(<[^>\s]{1,300}>)", re.IGNORECASE | re.MULTILINE)
# Headers a receiving system writes the envelope recipient into, and those a report copies it to.
_ENVELOPE_HEADERS = ("to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_REPORT_SENDER_FIELDS = ("x-postfix-sender", "original-mail-from", "x-original-mail-from")
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")
_COMPLAINT_TYPES = frozenset({"abuse", "fraud"})
_ACTIONS = {
    "failed": EventKind.BOUNCED,
    "error": EventKind.BOUNCED,  # not in RFC 3464, but some servers (OpenSMTPD) write it
    "delayed": EventKind.DEFERRED,
    "delivered": EventKind.DELIVERED,
}
# When one report says several things about one message, the strongest is recorded.
_WEIGHT = {EventKind.COMPLAINED: 4, EventKind.BOUNCED: 3, EventKind.DEFERRED: 2, EventKind.DELIVERED: 1}


# -- VERP ------------------------------------------------------------------------------------


def verp_token(*, project_id: int, message_id: int) -> str:
    """The message's signed token as a local part can carry it: lowercase base32, 42 characters."""
    sealed = base64.urlsafe_b64decode(return_path_token(project_id=project_id, message_id=message_id) + "=")
    return base64.b32encode(sealed).decode().rstrip("=").lower()


def verp_address(*, project_id: int, message_id: int, domain: str) -> str:
    return f"{RETURN_LOCAL}+{verp_token(project_id=project_id, message_id=message_id)}@{domain}"


def read_verp_token(token: str) -> Tracked:
    """The project and message a VERP token names; ``BadToken`` if it was not made here."""
    token = token.strip().lower()
    if len(token) != _TOKEN_CHARS:
        raise BadToken("wrong length")
    try:
        sealed = base64.b32decode(token.upper() + "======")
    except (binascii.Error, ValueError) as exc:
        raise BadToken("not base32") from exc
    if base64.b32encode(sealed).decode().rstrip("=").lower() != token:
        raise BadToken("not in canonical form")
    return read_return_path_token(base64.urlsafe_b64encode(sealed).rstrip(b"=").decode())


def verp_tokens(text: str) -> list[str]:
    """The VERP tokens in an address or a header, in order."""
    return [m.group(1).lower() for m in _VERP.finditer(text or "")]


def verp_read(address: str) -> Tracked | None:
    """The message an address ``bounces+<token>@…`` names, or None (no token, or a forged one)."""
    found = _VERP.search(address or "")
    if found is None or not address.lower().startswith(f"{RETURN_LOCAL}+"):
        return None
    try:
        return read_verp_token(found.group(1))
    except BadToken:
        return None


def bounce_domain(*, project_id: int, from_domain: str, published: bool = False) -> str:
    """Where bounces go: ``TIDINGS_BOUNCE_DOMAIN``, else ``bounces.<from domain>`` once the sending
    domain's last check found that CNAME (pointing at this installation), or when ``published``
    says not to ask (the outbox delivers nowhere); else "" — no VERP: the from address stays the
    envelope sender, rather than a return path nobody receives."""
    if settings.BOUNCE_DOMAIN:
        return settings.BOUNCE_DOMAIN
    if published:
        return f"bounces.{from_domain.lower()}"
    from tidings.sending.models import SendingDomain

    domain = from_domain.lower()
    results = (
        SendingDomain.objects.filter(project_id=project_id, domain=domain)
        .values_list("last_results", flat=True)
        .first()
    )
    found = any(r.get("purpose") == "return-path" and r.get("state") == "found" for r in results or ())
    return f"bounces.{domain}" if found else ""


# -- reading a report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What a report says about one recipient."""

    kind: str  # bounced, deferred, delivered or complained
    recipient: str = ""  # the address as the report names it
    status: str = ""  # the enhanced status code, when there is one
    bounce_type: str = ""  # "" to go by the status code
    detail: str = ""
    occurred_at: datetime | None = None


@dataclass
class Report:
    """A bounce or complaint report as read, before anything is looked up."""

    form: str = "none"  # dsn, arf, text (read by flufl.bounce) or none
    report_id: str = ""  # the report's own Message-ID, else a digest of its bytes
    findings: list[Finding] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # VERP tokens found in the report, best first
    message_ids: list[str] = field(default_factory=list)  # our Message-IDs it names, best first
    cut: int = 0  # recipients past MAX_RECIPIENTS, not read


def _text(value: object, limit: int = 2000) -> str:
    """A header or field value as one clean line (a value in a broken charset included)."""
    text = str(value or "")[: limit * 2]
    text = " ".join(text.split())
    return "".join(c for c in text if c.isprintable())[:limit]


def _address(value: str) -> str:
    """``rfc822; a@b`` or ``<a@b>`` → ``a@b``."""
    value = _text(value, 600)
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()[:254]


def _date(value: object) -> datetime | None:
    """A report's date, if it can be read and is not in the future; else None (now is used)."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(_text(value, 200))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    now = timezone.now()
    if when > now or when < now - timedelta(days=365):
        return None
    return when


def _part_text(part: MimeMessage) -> str:
    """A part's body as text (a body the parser split into blocks comes back as "")."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return ""
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return str(payload or "")
    return raw.decode("utf-8", errors="replace")


def _parse_blocks(text: str) -> list[MimeMessage]:
    parser = HeaderParser(policy=email.policy.compat32)
    groups = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [parser.parsestr(group.strip() + "\n") for group in groups if group.strip()]


def _blocks(part: MimeMessage) -> list[MimeMessage]:
    """RFC 3464 / RFC 5965 fields: groups of ``Name: value`` lines, apart by blank lines.

    The parser splits ``message/delivery-status`` into blocks itself; other types (the
    ``global`` ones, ``feedback-report``) come as one header block with the rest as its body,
    or as encoded text.
    """
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _parse_blocks(_part_text(part))
    blocks: list[MimeMessage] = []
    for block in payload:
        blocks.append(block)
        rest = block.get_payload()
        if isinstance(rest, str) and rest.strip() and len(blocks) <= MAX_RECIPIENTS + 1:
            blocks += _parse_blocks(rest[:_TEXT_SCAN])
    return blocks


def _first(block: MimeMessage, *names: str) -> str:
    for name in names:
        value = block.get(name)
        if value:
            return _text(value)
    return ""


def _status_of(field: str, diagnostic: str) -> tuple[str, str]:
    """The status code and bounce type of one recipient's block (see ``classify_bounce``: Exim
    writes ``Status: 5.0.0`` and leaves the real code to the diagnostic)."""
    return classify_bounce(field, diagnostic)


def _status_findings(report: Report, part: MimeMessage) -> None:
    blocks = _blocks(part)
    per_message = blocks[0] if blocks and not blocks[0].get("final-recipient") else None
    arrived = _date(per_message.get("arrival-date")) if per_message is not None else None
    if per_message is not None:
        for name in _REPORT_SENDER_FIELDS:
            report.tokens += verp_tokens(_text(per_message.get(name)))
    recipients = [b for b in blocks if b.get("final-recipient") or b.get("action")]
    report.cut += max(0, len(recipients) - MAX_RECIPIENTS)
    for block in recipients[:MAX_RECIPIENTS]:
        action = _first(block, "action").lower().split(" ")[0].rstrip(";")
        kind = _ACTIONS.get(action)
        if kind is None:
            continue  # relayed, expanded, or nothing we know
        diagnostic = _first(block, "diagnostic-code")
        if ";" in diagnostic:
            diagnostic = diagnostic.split(";", 1)[1].strip()
        status, bounce_type = _status_of(_first(block, "status"), diagnostic)
        recipient = _address(_first(block, "original-recipient", "final-recipient"))
        final = _address(_first(block, "final-recipient"))
        remote = _address(_first(block, "remote-mta"))
        detail = " ".join(
            p
            for p in (
                f"{action} for {final or recipient or 'the recipient'}",
                f"at {remote}" if remote else "",
                f"({diagnostic})" if diagnostic else "",
            )
            if p
        )
        report.findings.append(
            Finding(
                kind,
                recipient=recipient,
                status=status,
                bounce_type=bounce_type if kind == EventKind.BOUNCED else "",
                detail=detail,
                occurred_at=_date(block.get("last-attempt-date")) or arrived,
            )
        )


def _feedback_findings(report: Report, part: MimeMessage) -> None:
    blocks = _blocks(part)
    if not blocks:
        return
    fields = blocks[0]
    feedback_type = _first(fields, "feedback-type").lower()
    for name in _REPORT_SENDER_FIELDS:
        report.tokens += verp_tokens(_text(fields.get(name)))
    if feedback_type not in _COMPLAINT_TYPES:
        log.info("feedback report of type %r: nothing to record", feedback_type[:40])
        return
    recipient = _address(_first(fields, "original-rcpt-to", "removal-recipient"))
    agent = _first(fields, "user-agent")
    report.findings.append(
        Finding(
            EventKind.COMPLAINED,
            recipient=recipient,
            detail=f"{feedback_type} report" + (f" from {agent}" if agent else ""),
            occurred_at=_date(fields.get("arrival-date") or fields.get("received-date")),
        )
    )


def _returned_headers(report: Report, part: MimeMessage) -> None:
    """The headers of the message that came back: its Message-ID and envelope sender."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        headers: MimeMessage = payload[0]
    else:
        headers = HeaderParser(policy=email.policy.compat32).parsestr(_part_text(part)[:_TEXT_SCAN])
    report.tokens += verp_tokens(_text(headers.get("return-path")))
    message_id = _text(headers.get("message-id"), 300)
    if _OUR_MESSAGE_ID.fullmatch(message_id):
        report.message_ids.append(message_id)


def _walk(message: MimeMessage) -> Iterable[MimeMessage]:
    """The parts of a report, not descending into the message that came back with it."""
    stack, seen = [message], 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list):
            stack.extend(reversed(part.get_payload()))
    if stack:
        log.warning("bounce report with more than %d MIME parts: the rest is not read", MAX_PARTS)


def _plain_text(message: MimeMessage) -> str:
    """The text of a report without a machine-readable part: what flufl.bounce reads too."""
    chunks, size = [], 0
    for part in _walk(message):
        if part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            # A returned message: its headers (Return-Path, Message-ID) are what matters.
            text = "\n".join(f"{k}: {_text(v)}" for m in payload[:1] for k, v in m.items())
        else:
            text = _part_text(part)
        chunks.append(text[: _TEXT_SCAN - size])
        size += len(chunks[-1])
        if size >= _TEXT_SCAN:
            break
    return "\n".join(chunks)


def _detected(message: MimeMessage, report_id: str) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """flufl.bounce's temporary and permanent failures, its detectors run one by one.

    ``all_failures`` stops at the first detector that raises (one trips over a report with
    no From), losing what the others would have found; each is run here on its own instead,
    in flufl.bounce's order, until one finds something.
    """
    from flufl.bounce import all_failures

    try:
        from flufl.bounce._scan import _DETECTORS
    except ImportError:  # the list moved: the public call, which may stop early
        try:
            return all_failures(message)
        except Exception:
            log.warning("flufl.bounce could not read report %s", report_id, exc_info=True)
            return frozenset(), frozenset()
    for detector in _DETECTORS:
        try:
            temporary, permanent = detector().process(message)
        except Exception as exc:
            log.debug("flufl.bounce %s failed on %s: %r", detector.__name__, report_id, exc)
            continue
        if temporary or permanent:
            return frozenset(temporary), frozenset(permanent)
    return frozenset(), frozenset()


def _text_findings(report: Report, message: MimeMessage, raw: bytes) -> None:
    """A bounce in no standard form, by flufl.bounce's detectors (temporary and permanent sets).

    The detectors read every line with several patterns (seconds for a few megabytes): they
    get the start of the message, where a bounce says what failed; the rest is the copy of
    the message that came back.
    """
    if len(raw) > _DETECTOR_BYTES:
        message = email.message_from_bytes(raw[:_DETECTOR_BYTES], policy=email.policy.compat32)
    temporary, permanent = _detected(message, report.report_id)
    if not (temporary or permanent):
        return
    text = _plain_text(message)
    status = enhanced_code(text)
    # The line that holds the code is the server's own words, as near to a reason as such text has.
    reason = next((_text(line, 300) for line in text.splitlines() if status and status in line), "")
    report.tokens += verp_tokens(text)
    for found in _MESSAGE_ID_LINE.findall(text):
        if _OUR_MESSAGE_ID.fullmatch(found):
            report.message_ids.append(found)
    for addresses, kind in ((permanent, EventKind.BOUNCED), (temporary, EventKind.DEFERRED)):
        for raw in sorted(addresses)[:MAX_RECIPIENTS]:
            recipient = raw.decode("ascii", errors="replace")[:254]
            word = "failed" if kind == EventKind.BOUNCED else "delayed"
            said = f" ({reason})" if reason else ""
            report.findings.append(
                Finding(kind, recipient=recipient, status=status, detail=f"{word} for {recipient}{said}")
            )
        report.cut += max(0, len(addresses) - MAX_RECIPIENTS)
    if report.findings:
        report.form = "text"


def report_read(raw: bytes) -> Report:
    """Read a report from its bytes. The MIME parser may still give up on hostile input (a
    nesting thousands deep): ``bounce_receive`` catches that, and caps the size first."""
    report = Report()
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    own_id = _text(message.get("message-id"), 300)
    digest = hashlib.sha256(raw).hexdigest()
    report.report_id = own_id if own_id.startswith("<") and own_id.endswith(">") else f"sha256:{digest}"
    for name in _ENVELOPE_HEADERS:
        for value in message.get_all(name) or []:
            report.tokens += verp_tokens(_text(value))
    feedback = (
        message.get_content_type() == "multipart/report"
        and (message.get_param("report-type") or "").lower() == "feedback-report"
    )
    for part in _walk(message):
        ctype = part.get_content_type()
        if ctype in _STATUS_TYPES and not feedback:
            report.form = "dsn"
            _status_findings(report, part)
        elif ctype == "message/feedback-report":
            report.form = "arf"
            _feedback_findings(report, part)
        elif ctype in _RETURNED_TYPES:
            _returned_headers(report, part)
    for name in ("in-reply-to", "references"):
        for found in _OUR_MESSAGE_ID.findall(_text(message.get(name), 4000)):
            report.message_ids.append(found)
    if report.form == "none":
        _text_findings(report, message, raw)
    if report.cut:
        log.warning("bounce report %s names more than %d recipients: %d not read", report.report_id,
                    MAX_RECIPIENTS, report.cut)  # fmt: skip
    return report


# -- recording -------------------------------------------------------------------------------


@dataclass
class Receipt:
    """What became of one report.

    ``status``: recorded, duplicate (read before), nothing (a report with nothing to record),
    unmatched (about no message of ours), forged (its token was not made here), not-a-bounce,
    too-large or unreadable.
    """

    status: str
    kind: str = ""
    effect: str = ""
    message_id: int | None = None
    project_id: int | None = None

    @property
    def settled(self) -> bool:
        """Whether the report is dealt with and may be deleted from a mailbox; the others are
        left for a person to look at."""
        return self.status in ("recorded", "duplicate", "nothing", "unmatched")


def _message_by_token(tokens: Sequence[str]) -> tuple[Message | None, bool]:
    """The message the first valid token names (None if it names none of ours), and whether a
    valid token was found at all."""
    for token in dict.fromkeys(tokens):
        try:
            tracked = read_verp_token(token)
        except BadToken:
            continue
        message = (
            Message.objects.select_related("project", "campaign")
            .filter(project_id=tracked.project_id, pk=tracked.message_id)
            .first()
        )
        return message, True
    return None, False


def _message_by_id(message_ids: Sequence[str]) -> Message | None:
    from tidings.core.models import Project

    wanted = list(dict.fromkeys(message_ids))[:10]
    if not wanted:
        return None
    projects = list(Project.objects.values_list("pk", flat=True))  # leads the (project, id) index
    return (
        Message.objects.select_related("project", "campaign")
        .filter(project_id__in=projects, provider_message_id__in=wanted)
        .order_by("-id")
        .first()
    )


def _pick(findings: Sequence[Finding], address: str) -> Finding:
    """The finding about the message's recipient (else about anyone: a forward), strongest first."""
    address = address.lower()
    mine = [f for f in findings if f.recipient.lower() == address] or list(findings)
    return max(mine, key=lambda f: _WEIGHT.get(f.kind, 0))


def bounce_receive(raw: bytes, *, envelope_to: Sequence[str] = ()) -> Receipt:
    """Read one report and record what it says about the message it names.

    ``envelope_to`` are the addresses it was delivered to (``RCPT TO``), when known: the best
    place for the VERP token. A valid token names the project and the message; a report that
    carries a token not made here changes nothing. Without a token, our Message-ID in the
    returned headers finds the message. The event id comes from the report's own Message-ID,
    so the same report read twice (two pollers, a re-run) is recorded once.
    """
    if len(raw) > settings.BOUNCE_MAX_BYTES:
        log.warning("bounce report of %d bytes is over the %d-byte limit: not read", len(raw),
                    settings.BOUNCE_MAX_BYTES)  # fmt: skip
        return Receipt("too-large")
    try:
        report = report_read(raw)
    except MemoryError:
        raise
    except Exception:  # RecursionError included: MIME nested thousands deep
        log.warning("bounce report could not be parsed (%d bytes)", len(raw), exc_info=True)
        return Receipt("unreadable")
    if not report.findings and report.form != "none":
        log.info("%s report %s says nothing to record (relayed, expanded…)", report.form, report.report_id)
        return Receipt("nothing")
    if not report.findings:
        log.info("message %s is no bounce or complaint report: left alone", report.report_id)
        return Receipt("not-a-bounce")
    envelope_tokens = [t for address in envelope_to for t in verp_tokens(address)]
    tokens = envelope_tokens + report.tokens
    message, had_token = _message_by_token(tokens)
    if message is None and tokens and not had_token:
        log.warning("bounce report %s carries a return-path token that was not made here: ignored",
                    report.report_id)  # fmt: skip
        return Receipt("forged")
    if message is None and not had_token:
        message = _message_by_id(report.message_ids)
    if message is None:
        log.info("bounce report %s is about no message of ours (%s)", report.report_id, report.form)
        return Receipt("unmatched")
    finding = _pick(report.findings, message.email)
    digest = hashlib.sha256(f"{report.report_id}|{message.pk}|{finding.kind}".encode()).hexdigest()
    outcome = delivery_event_record(
        project=message.project,
        event=DeliveryEvent(
            kind=finding.kind,
            message_id=message.pk,
            occurred_at=finding.occurred_at,
            status_code=finding.status,
            bounce_type=finding.bounce_type,
            detail=finding.detail,
            event_id=f"dsn:{digest[:40]}",
        ),
        source=EventSource.DSN,
        connection_id=message.campaign.connection_id,
    )
    receipt = Receipt(
        "duplicate" if outcome.duplicate else "recorded",
        kind=finding.kind,
        effect=outcome.effect,
        message_id=message.pk,
        project_id=message.project_id,
    )
    log.info(
        "bounce report %s (%s): %s %s for message %s of project %s%s",
        report.report_id,
        report.form,
        receipt.status,
        finding.kind,
        receipt.message_id,
        receipt.project_id,
        f": {outcome.effect}" if outcome.effect else "",
    )
    return receipt
