"""Assembling one message: the headers and MIME body, written by hand.

Every header value is written by this module, never parsed: a subject, a name
or a variable that holds a line break, or an RFC 2047 encoded word that
*decodes* to one, cannot add a header. Text that is not plain printable ASCII,
or that looks like an encoded word, is sent as RFC 2047 encoded words, so a
mail program shows it literally. Bodies are quoted-printable UTF-8, lines end
in CRLF, and the result is what goes on the wire (and what DKIM signs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from email.utils import formatdate

from tidings.content.rendering import one_line
from tidings.sending.dkim import canonical_lines

CRLF = "\r\n"
# Printable ASCII without the characters that would need quoting in a display name.
_ATOM_TEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*\Z")
_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*\Z")
# Bytes of UTF-8 per encoded word: 52 characters of base64, 64 in all, so "Subject: " and a
# word stay under 76 characters a line.
_ENCODED_CHUNK = 39
_SINGLE_WORD = 45  # bytes: 60 characters of base64, 72 with the markers
_LONGEST_WORD = 60  # a longer word cannot be folded: the value is sent as encoded words
_ADDRESS_SPECIALS = re.compile(r"[\s<>,;:()\[\]\\\"]")
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>\Z")


class AssemblyError(ValueError):
    """A part of a message cannot be written as asked (an address with a line break…)."""


@dataclass(frozen=True)
class EncodedHtml:
    """An HTML part already written as quoted-printable, in pieces (``qp_piece``), each with its
    relaxed canonical form (DKIM) beside it: the body hash then needs no pass over the whole."""

    wire: list[bytes]
    canonical: list[bytes]
    length: int  # characters of HTML it holds


@dataclass
class Outgoing:
    """One recipient's message, before it is written out: what every transport needs."""

    from_email: str
    to: str
    subject: str
    html: str
    text: str
    from_name: str = ""
    reply_to: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    # The envelope sender (MAIL FROM), where bounces go: a VERP address for mail we deliver
    # ourselves; "" for the From address. Never a header: the receiving end writes it down.
    envelope_from: str = ""
    # The HTML part written out already (``html`` is then left empty).
    html_encoded: EncodedHtml | None = None

    @property
    def html_length(self) -> int:
        return self.html_encoded.length if self.html_encoded is not None else len(self.html)

    @property
    def return_path(self) -> str:
        return self.envelope_from or self.from_email


def _check_address(address: str, what: str) -> str:
    if (
        not address
        or not _PLAIN_TEXT.match(address)
        or _ADDRESS_SPECIALS.search(address)
        or "@" not in address
    ):
        raise AssemblyError(f"the {what} address {address!r} cannot be written in a header")
    return address


def encode_words(text: str, *, chunk: int = _ENCODED_CHUNK) -> str:
    """``text`` as RFC 2047 base64 encoded words, split on character boundaries."""
    raw = text.encode()
    words, start = [], 0
    while start < len(raw):
        end = min(start + chunk, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(raw[start:end]).decode()}?=")
        start = end
    return (CRLF + " ").join(words)


def header_text(text: str) -> str:
    """An unstructured header value (Subject): one line, encoded when it is not plain ASCII."""
    text = one_line(text)
    if _PLAIN_TEXT.match(text) and "=?" not in text and all(len(w) <= _LONGEST_WORD for w in text.split(" ")):
        return _fold(text, first=len("Subject: "))
    return encode_words(text)


def _fold(text: str, limit: int = 76, *, first: int = 0) -> str:
    """Fold a plain value at spaces so no line is longer than ``limit``; the first line also
    holds the header's name (``first`` characters)."""
    if first + len(text) <= limit:
        return text
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        room = limit - (first if not lines else 1)
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return (CRLF + " ").join(lines)


def mailbox(address: str, name: str = "", *, what: str = "from") -> str:
    """``Name <address>``, the name quoted or encoded as needed."""
    _check_address(address, what)
    name = one_line(name)
    if not name:
        return address
    if "=?" not in name and _ATOM_TEXT.match(name):
        return f"{name} <{address}>"
    if _PLAIN_TEXT.match(name) and "=?" not in name:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    # A name that fits one encoded word (75 characters at most) is kept whole: some readers
    # put a space between the words of a phrase that RFC 2047 says to join.
    raw = len(name.encode())
    return f"{encode_words(name, chunk=_SINGLE_WORD if raw <= _SINGLE_WORD else _ENCODED_CHUNK)} <{address}>"


def return_path_line(address: str) -> bytes:
    """``Return-Path: <address>``, the line a delivering server writes above a message it files
    (RFC 5321 §4.4): how a stored message keeps its envelope sender."""
    return f"Return-Path: <{_check_address(address, 'return-path')}>{CRLF}".encode()


def message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def _qp(text: str) -> str:
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in body:
        # b2a_qp takes its line ending from the text's first one; with none it writes LF.
        return (
            binascii.b2a_qp(body.encode(), quotetabs=False, istext=True, header=False)
            .decode()
            .replace("\n", CRLF)
        )
    body = body.replace("\n", CRLF)
    return binascii.b2a_qp(body.encode(), quotetabs=False, istext=True, header=False).decode()


def qp_piece(text: str, *, last: bool) -> bytes:
    """A piece of a quoted-printable body that ends its own line: with a soft line break
    (``=`` CRLF), which a reader removes, so pieces encoded apart join into the text; the
    ``last`` piece of a part ends in CRLF."""
    encoded = _qp(text)
    if last:
        return (encoded + CRLF).encode("ascii")
    # b2a_qp lets a last line reach 76 characters; with the "=" it would be 77: the last
    # character (or =XX) goes on a line of its own.
    if len(encoded) - encoded.rfind("\n") - 1 >= 76:
        cut = len(encoded) - (3 if encoded[-3] == "=" else 1)
        encoded = f"{encoded[:cut]}={CRLF}{encoded[cut:]}"
    return (encoded + "=" + CRLF).encode("ascii")


@dataclass(frozen=True)
class Written:
    data: bytes
    body_hash: bytes | None = None  # SHA-256 of the relaxed canonical body, where worked out on the way


def to_bytes(message: Outgoing) -> bytes:
    """The message as sent: headers, then a multipart/alternative of text and HTML."""
    return write(message).data


def write(message: Outgoing) -> Written:
    """``to_bytes``, with the DKIM body hash when the HTML came encoded (it is cheap then)."""
    if not _MESSAGE_ID.match(message.message_id):
        raise AssemblyError(f"the Message-ID {message.message_id!r} cannot be written in a header")
    boundary = f"=_tdg_{secrets.token_hex(12)}"
    lines = [
        f"From: {mailbox(message.from_email, message.from_name)}",
        f"To: {mailbox(message.to, what='recipient')}",
        f"Subject: {header_text(message.subject)}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {message.message_id}",
    ]
    if message.reply_to:
        lines.append(f"Reply-To: {mailbox(message.reply_to, what='reply-to')}")
    for name, value in message.headers.items():
        if not _PLAIN_TEXT.match(value) or not re.fullmatch(r"[A-Za-z0-9-]+", name):
            raise AssemblyError(f"the header {name!r} cannot be written as given")
        lines.append(f"{name}: {value}")
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', "", ""]
    body = [
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        _qp(message.text),
        f"--{boundary}",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "",
    ]
    end = f"--{boundary}--{CRLF}"
    if message.html_encoded is None:
        return Written((CRLF.join(lines) + CRLF.join(body) + _qp(message.html) + CRLF + end).encode())
    start = CRLF.join(body).encode()
    html = message.html_encoded
    body_hash = hashlib.sha256(canonical_lines(start))
    for piece in html.canonical:
        body_hash.update(piece)
    body_hash.update(end.encode())  # the last line is not empty: no end rule to apply
    data = b"".join([CRLF.join(lines).encode(), start, *html.wire, end.encode()])
    return Written(data, body_hash.digest())
