"""Hand-written headers and MIME (``tidings.sending.assemble``): what goes on the wire, parsed back."""

from __future__ import annotations

import base64
import email
import email.policy
import quopri
import re
from email.message import EmailMessage
from typing import Any

import pytest

from tidings.sending.assemble import (
    AssemblyError,
    Outgoing,
    encode_words,
    header_text,
    mailbox,
    qp_piece,
    to_bytes,
)

UNSUBSCRIBE = "<https://mail.example.org/u/AbCdEfGhIjKlMnOpQrStUvWxYz0123456_->"
BASE_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
ENCODED_WORD = re.compile(r"=\?utf-8\?b\?([A-Za-z0-9+/=]*)\?=")


def _outgoing(**values: Any) -> Outgoing:
    fields: dict[str, Any] = {
        "from_email": "news@example.com",
        "from_name": "Acme News",
        "to": "reader@example.net",
        "subject": "December news",
        "html": "<p>Hello</p>",
        "text": "Hello",
        "message_id": "<abc123@example.com>",
    }
    fields.update(values)
    return Outgoing(**fields)


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _header_block(data: bytes) -> list[str]:
    """The top-level header lines, as sent (folded lines kept apart)."""
    head, separator, _body = data.partition(b"\r\n\r\n")
    assert separator, "no blank line after the headers"
    return head.decode("ascii").split("\r\n")


def _header_names(data: bytes) -> set[str]:
    names = set()
    for line in _header_block(data):
        if line[:1] in (" ", "\t"):
            continue  # a folded continuation
        name, colon, _value = line.partition(":")
        assert colon, f"a header line without a name: {line!r}"
        names.add(name.lower())
    return names


def _field_lines(data: bytes, name: str) -> list[str]:
    """The physical lines of one header field: its first line and its continuations."""
    lines, inside = [], False
    for line in _header_block(data):
        if line[:1] in (" ", "\t"):
            if inside:
                lines.append(line)
            continue
        inside = line.lower().startswith(name.lower() + ":")
        if inside:
            lines.append(line)
    assert lines, f"no {name} header"
    return lines


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


# -- the whole message ----------------------------------------------------------------------


def test_the_message_parses_back_into_what_was_given() -> None:
    data = to_bytes(
        _outgoing(
            reply_to="help@example.com",
            headers={"List-Unsubscribe": UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
    )
    message = _parse(data)
    assert message["From"] == "Acme News <news@example.com>"
    assert message["From"].addresses[0].display_name == "Acme News"
    assert message["From"].addresses[0].addr_spec == "news@example.com"
    assert message["To"].addresses[0].addr_spec == "reader@example.net"
    assert len(message["To"].addresses) == 1
    assert message["Subject"] == "December news"
    assert message["Reply-To"].addresses[0].addr_spec == "help@example.com"
    assert message["Message-ID"] == "<abc123@example.com>"
    assert message["List-Unsubscribe"] == UNSUBSCRIBE
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    assert _header_names(data) == BASE_HEADERS | {"reply-to", "list-unsubscribe", "list-unsubscribe-post"}
    assert not message.defects


def test_no_reply_to_header_without_a_reply_to() -> None:
    data = to_bytes(_outgoing())
    assert _header_names(data) == BASE_HEADERS


def test_a_message_id_is_required() -> None:
    with pytest.raises(AssemblyError):
        to_bytes(_outgoing(message_id=""))


def test_a_text_and_an_html_part_in_utf8_with_the_content_as_given() -> None:
    text = (
        "Grüße, Zoë — 你好 🎉\n"
        ".\n"
        ".leading dot\n"
        "..two dots\n"
        "From the editor\n"
        "From \n"
        "trailing spaces   \n"
        "trailing tab\t\n"
        "= equals =3D sign\n" + ("long line " * 40).strip() + "\n" + "x" * 300 + "\n"
        "last line, spaces at the end  "
    )
    html = "<p>Grüße 🎉</p>\n.\n.dot\nFrom here\n<p>" + "wide " * 100 + "</p>  \n<p>end</p>"
    message = _parse(to_bytes(_outgoing(text=text, html=html)))
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert _lf(message.get_body(("plain",)).get_content()) == text
    assert _lf(message.get_body(("html",)).get_content()) == html


def test_line_breaks_of_any_kind_in_a_body_become_crlf() -> None:
    message = _parse(to_bytes(_outgoing(text="a\rb\nc\r\nd")))
    assert _lf(message.get_body(("plain",)).get_content()) == "a\nb\nc\nd"


def test_every_line_ends_in_crlf() -> None:
    data = to_bytes(
        _outgoing(
            subject="word " * 60,
            text="one\ntwo\r\nthree\rfour\n" + "é" * 500,
            html="<p>\n" + "x" * 2000 + "\n</p>\r",
            headers={"List-Unsubscribe": UNSUBSCRIBE},
        )
    )
    assert re.search(rb"(?<!\r)\n", data) is None, "a bare LF"
    assert re.search(rb"\r(?!\n)", data) is None, "a bare CR"
    assert data.endswith(b"\r\n")


def test_no_line_is_longer_than_998_bytes_and_bodies_stay_under_78() -> None:
    data = to_bytes(
        _outgoing(
            subject="Schöne " * 200,
            from_name="Ünïcödé " * 20,
            text="y" * 5000 + "\n" + "ü" * 3000,
            html="<p>" + "z" * 5000 + "</p>",
        )
    )
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    _head, _sep, body = data.partition(b"\r\n\r\n")
    assert max(len(line) for line in body.split(b"\r\n")) <= 78  # quoted-printable soft breaks


def test_a_subject_that_is_one_very_long_word_stays_under_998_bytes_a_line() -> None:
    """RFC 5322 §2.1.1: a line MUST be no more than 998 characters; a long word must be broken up."""
    subject = "https://example.com/" + "a" * 1200
    data = to_bytes(_outgoing(subject=subject))
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert _parse(data)["Subject"] == subject


def test_a_long_ascii_subject_is_folded_under_78_characters_a_line() -> None:
    subject = " ".join(f"word{i}" for i in range(60))
    data = to_bytes(_outgoing(subject=subject))
    lines = _field_lines(data, "Subject")
    assert len(lines) > 1
    assert max(len(line) for line in lines) <= 78, [len(line) for line in lines]
    assert _parse(data)["Subject"] == subject


def test_a_long_non_ascii_subject_is_folded_under_78_characters_a_line() -> None:
    """Encoded words: RFC 2047 §2 even limits such lines to 76 characters."""
    subject = "Grüße aus Köln, schöne Feiertage! " * 5
    data = to_bytes(_outgoing(subject=subject))
    lines = _field_lines(data, "Subject")
    assert len(lines) > 1
    assert max(len(line) for line in lines) <= 78, [len(line) for line in lines]
    assert _parse(data)["Subject"] == subject.strip()


# -- non-ASCII and quoting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Grüße aus Köln", "你好，世界", "🎉 Party time 🎉", "Ελληνικά και English", "ñ"],
)
def test_a_non_ascii_subject_round_trips_as_encoded_words(subject: str) -> None:
    data = to_bytes(_outgoing(subject=subject))
    assert "=?utf-8?b?" in _field_lines(data, "Subject")[0]
    data.decode("ascii")  # the header block and the QP bodies are all 7-bit
    assert _parse(data)["Subject"] == subject


@pytest.mark.parametrize("name", ["Zoë's Café", "Müller & Söhne", "株式会社 テスト", "🎉 Partyshop"])
def test_a_non_ascii_from_name_round_trips(name: str) -> None:
    data = to_bytes(_outgoing(from_name=name))
    data.decode("ascii")
    sender = _parse(data)["From"].addresses
    assert len(sender) == 1
    assert sender[0].display_name == name
    assert sender[0].addr_spec == "news@example.com"


@pytest.mark.parametrize(
    "name",
    [
        'Say "hello"',
        "Back\\slash",
        'Both \\ and " here',
        "Trailing backslash \\",
        '"',
        "Acme, Inc",
        "Acme (the shop)",
        "Team: news",
        "Who <me>",
        "semi;colon",
        "at@sign",
    ],
)
def test_a_display_name_with_specials_round_trips(name: str) -> None:
    data = to_bytes(_outgoing(from_name=name))
    sender = _parse(data)["From"]
    assert len(sender.addresses) == 1
    assert sender.addresses[0].display_name == name
    assert sender.addresses[0].addr_spec == "news@example.com"
    assert _header_names(data) == BASE_HEADERS


@pytest.mark.parametrize("name", ["Acme Inc.", "J. R. Smith", "Mail.Example"])
def test_a_display_name_with_a_period_is_written_without_obsolete_syntax(name: str) -> None:
    """RFC 5322 §3.2.5/§4: "." is not allowed in an unquoted phrase (obs-phrase MUST NOT be generated)."""
    sender = _parse(to_bytes(_outgoing(from_name=name)))["From"]
    assert sender.addresses[0].display_name == name
    assert not sender.defects, sender.defects


def test_mailbox_writes_a_bare_address_without_a_name() -> None:
    assert mailbox("news@example.com") == "news@example.com"
    assert mailbox("news@example.com", "   ") == "news@example.com"


# -- header injection ----------------------------------------------------------------------------

INJECTIONS = [
    ("a\r\nBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\nBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\rBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\x0bBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\x0cBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\u2028Bcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\u2029Bcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\x85Bcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\r\n\r\nBcc: x@evil.example", "a Bcc: x@evil.example"),
    ("a\r\n Bcc: x@evil.example", "a Bcc: x@evil.example"),
    ("Grüße\r\nBcc: x@evil.example", "Grüße Bcc: x@evil.example"),
    # Encoded words that would decode to a line break: shown literally, never decoded twice.
    ("=?utf-8?q?a=0D=0ABcc:_x@evil.example?=", "=?utf-8?q?a=0D=0ABcc:_x@evil.example?="),
    (
        "=?utf-8?b?" + base64.b64encode(b"a\r\nBcc: x@evil.example").decode() + "?=",
        "=?utf-8?b?" + base64.b64encode(b"a\r\nBcc: x@evil.example").decode() + "?=",
    ),
    ("=?UTF-8?Q?a=0ABcc=3A_x@evil.example?=", "=?UTF-8?Q?a=0ABcc=3A_x@evil.example?="),
    ("Hi =?utf-8?q?there?= you", "Hi =?utf-8?q?there?= you"),
]


def _assert_no_injection(data: bytes) -> None:
    assert _header_names(data) == BASE_HEADERS
    message = _parse(data)
    assert set(k.lower() for k in message.keys()) == BASE_HEADERS  # noqa: SIM118
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["reader@example.net"]
    for line in _header_block(data):
        assert not line.lower().startswith("bcc")


@pytest.mark.parametrize(("given", "shown"), INJECTIONS)
def test_a_subject_cannot_add_a_header(given: str, shown: str) -> None:
    data = to_bytes(_outgoing(subject=given))
    _assert_no_injection(data)
    assert _parse(data)["Subject"] == shown


@pytest.mark.parametrize(("given", "shown"), INJECTIONS)
def test_a_from_name_cannot_add_a_header(given: str, shown: str) -> None:
    data = to_bytes(_outgoing(from_name=given))
    _assert_no_injection(data)
    sender = _parse(data)["From"].addresses
    assert len(sender) == 1
    assert sender[0].display_name == shown
    assert sender[0].addr_spec == "news@example.com"


@pytest.mark.parametrize(("given", "shown"), INJECTIONS)
def test_header_text_is_always_one_header_value(given: str, shown: str) -> None:
    value = header_text(given)
    for physical in value.split("\r\n")[1:]:
        assert physical.startswith(" ")  # every further line is a continuation
    assert "\n" not in value.replace("\r\n", "")
    assert "\r" not in value.replace("\r\n", "")
    assert all(ord(c) < 128 for c in value)
    # Encoded words decode to exactly what is shown.
    decoded = "".join(base64.b64decode(w).decode() for w in ENCODED_WORD.findall(value))
    if ENCODED_WORD.search(value):
        assert decoded == shown


@pytest.mark.parametrize(
    "address",
    [
        "news@example.com\r\nBcc: x@evil.example",
        "news@example.com\nBcc: x@evil.example",
        "news@example.com\r",
        "news@exa mple.com",
        " news@example.com",
        "news@example.com ",
        "<news@example.com>",
        "Evil <news@example.com>",
        "news@example.com>",
        "news@example.com\x0b",
        "news@exämple.com",
        "news@example.com\u2028",
        "",
    ],
)
@pytest.mark.parametrize("field", ["from_email", "to", "reply_to"])
def test_an_address_that_cannot_be_written_is_refused(field: str, address: str) -> None:
    if field == "reply_to" and address == "":  # an empty Reply-To means none
        assert "reply-to" not in _header_names(to_bytes(_outgoing(reply_to=address)))
        return
    with pytest.raises(AssemblyError):
        to_bytes(_outgoing(**{field: address}))


@pytest.mark.parametrize("address", ["a@example.net,b@evil.example", "a@example.net;b@evil.example"])
def test_an_address_cannot_name_a_second_mailbox(address: str) -> None:
    """One recipient per message: a list separator in the address must not make the To a list."""
    try:
        data = to_bytes(_outgoing(to=address))
    except AssemblyError:
        return
    assert [a.addr_spec for a in _parse(data)["To"].addresses] == [address]


@pytest.mark.parametrize(
    "value",
    [
        "<https://x.example/u/1>\r\nBcc: x@evil.example",
        "<https://x.example/u/1>\nBcc: x@evil.example",
        "<https://x.example/u/1>\rBcc: x@evil.example",
        "<https://x.example/u/1>\x0bBcc",
        "<https://x.example/u/1>\u2028Bcc",
        "ünïcode",
    ],
)
def test_a_custom_header_value_that_cannot_be_written_is_refused(value: str) -> None:
    with pytest.raises(AssemblyError):
        to_bytes(_outgoing(headers={"List-Unsubscribe": value}))


@pytest.mark.parametrize("name", ["Bcc: x@evil.example\r\nX", "X Header", "X:Y", "", "X\r\nBcc", "Ünï"])
def test_a_custom_header_name_that_cannot_be_written_is_refused(name: str) -> None:
    with pytest.raises(AssemblyError):
        to_bytes(_outgoing(headers={name: "value"}))


@pytest.mark.parametrize(
    "message_id", ["<a@example.com>\r\nBcc: x@evil.example", "<a@example.com>\nBcc: x@evil.example"]
)
def test_a_message_id_with_a_line_break_is_refused(message_id: str) -> None:
    with pytest.raises(AssemblyError):
        to_bytes(_outgoing(message_id=message_id))


# -- encoded words ---------------------------------------------------------------------------------

SAMPLES = [
    "a" * 44 + "é" * 30,
    "ab" + "€" * 40,
    "x" + "🎉" * 40,
    "xy" + "🎉" * 40,
    "xyz" + "🎉" * 40,
    "你好世界" * 30,
    "".join(chr(c) for c in range(0x20, 0x7F)) + "ñ€😀" * 20,
    "é",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_encode_words_never_splits_a_character(text: str) -> None:
    for offset in range(4):  # shift the character boundaries against the 45-byte chunks
        shifted = "a" * offset + text
        encoded = encode_words(shifted)
        words = ENCODED_WORD.findall(encoded)
        assert "".join(ENCODED_WORD.split(encoded)[::2]).replace("\r\n ", "") == ""
        pieces = [base64.b64decode(word, validate=True).decode("utf-8") for word in words]  # strict
        assert "".join(pieces) == shifted
        for full in re.findall(r"=\?utf-8\?b\?[^?]*\?=", encoded):
            assert len(full) <= 75  # RFC 2047 §2


def test_encode_words_splits_long_text_into_several_folded_words() -> None:
    encoded = encode_words("ü" * 100)
    lines = encoded.split("\r\n")
    assert len(lines) >= 4
    assert all(line.startswith(" ") for line in lines[1:])


@pytest.mark.parametrize("unit", ["a", "=", "é", "x y", "\t", "line\n"])
def test_a_piece_ends_in_a_soft_line_break_within_76_characters_and_decodes_back(unit: str) -> None:
    for n in range(1, 330):
        text = (unit * n)[:n]
        for last in (False, True):
            piece = qp_piece(text, last=last)
            assert piece.endswith(b"\r\n" if last else b"=\r\n")
            assert max(len(line) for line in piece.split(b"\r\n")) <= 76, (n, last)
            decoded = quopri.decodestring(piece).decode()
            assert decoded.replace("\r\n", "\n") == text + ("\n" if last else "")
