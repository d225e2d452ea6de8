"""DKIM signing: our signatures checked by dkimpy, key by key, and compared with dkimpy's own."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from dkim.canonicalization import Relaxed

from tidings.core.models import Project
from tidings.sending import dkim
from tidings.sending.domains import domain_create, domain_records

DOMAIN = "mail.example.org"
RSA_SELECTOR = "tdg202501r"
ED_SELECTOR = "tdg202501e"


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def keys(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> list[dkim.DkimKey]:
    return [
        dkim.DkimKey.from_pem(domain=DOMAIN, selector=RSA_SELECTOR, pem=_pem(rsa_key)),
        dkim.DkimKey.from_pem(domain=DOMAIN, selector=ED_SELECTOR, pem=_pem(ed_key)),
    ]


def _dnsfunc(records: dict[str, str]) -> Callable[..., bytes | None]:
    """A dkimpy ``dnsfunc`` answering TXT lookups from ``records`` (name → value)."""

    def lookup(name: bytes | str, timeout: int = 5) -> bytes | None:
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        value = records.get(key)
        return value.encode() if value is not None else None

    return lookup


@pytest.fixture(scope="module")
def dns(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> Callable[..., bytes | None]:
    """The published DKIM records, as ``domain_records`` writes them."""
    rsa_public = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ed_public = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    rsa_p, ed_p = base64.b64encode(rsa_public).decode(), base64.b64encode(ed_public).decode()
    return _dnsfunc(
        {
            f"{RSA_SELECTOR}._domainkey.{DOMAIN}": f"v=DKIM1; k=rsa; p={rsa_p}",
            f"{ED_SELECTOR}._domainkey.{DOMAIN}": f"v=DKIM1; k=ed25519; p={ed_p}",
        }
    )


TEXT = (
    "Hello Ada,\n"
    "\n"
    "A line with trailing spaces   \n"
    "A line with trailing tabs\t\t\n"
    "Inner   runs\tof \t white  space.\n"
    "   Leading spaces stay (as one).\n"
    "\n"
    "-- \n"
    "Acme Mail\n"
    "\n"
    "\n"
    "   \n"
    "\n"
)


LONG_TO = (
    "Ada Lovelace <ada@example.net>, Grace Hopper <grace@example.net>, "
    "Katherine Johnson <katherine@example.net>, Margaret Hamilton <margaret@example.net>"
)


def _message(
    *, crlf: bool = False, to: str = LONG_TO, extra_to: tuple[str, ...] = (), text: str = TEXT
) -> bytes:
    """A text + html message; each of ``extra_to`` adds one more To field (after the first)."""
    msg = EmailMessage()
    msg["From"] = f"Acme Mail <news@{DOMAIN}>"
    msg["To"] = to
    msg["Subject"] = "Café ☕ — your weekly digest of déjà-vu, with a subject long enough to be folded twice"
    msg["Date"] = formatdate(1_700_000_000, localtime=False)
    msg["Message-ID"] = make_msgid(domain=DOMAIN)
    msg["Reply-To"] = "Support Team <support@mail.example.org>"
    msg["List-Unsubscribe"] = (
        "<https://tidings.example.org/u/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3In0>, "
        "<mailto:unsubscribe+eyJhbGciOiJIUzI1@mail.example.org?subject=unsubscribe>"
    )
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Not-Signed"] = "anything   goes"
    msg.set_content(text)
    msg.add_alternative(
        "<html><body><p>Hello Ada,</p>  \n<p>Caf\u00e9 \u2615 news \t </p>\n\n\n</body></html>\n",
        subtype="html",
    )
    raw = msg.as_bytes(policy=SMTP) if crlf else bytes(msg)
    eol = b"\r\n" if crlf else b"\n"
    for address in reversed(extra_to):  # EmailMessage allows one To; a message on the wire may have more
        raw = raw.replace(eol + b"Subject: ", eol + f"To: {address}".encode() + eol + b"Subject: ", 1)
    return raw


def _as_sent(message: bytes) -> bytes:
    """The message as it travels over SMTP: CRLF line endings."""
    return re.sub(rb"\r?\n", b"\r\n", message)


def _tags(signed: bytes, idx: int) -> dict[str, str]:
    """The tags of the idx-th DKIM-Signature, unfolded: FWS is one space, none in b= and bh=."""
    headers = [value for name, value in dkimpy.rfc822_parse(signed)[0] if name.lower() == b"dkim-signature"]
    tags = dkimpy.util.parse_tag_value(headers[idx])
    return {
        k.decode(): re.sub(r"\s+", "" if k in (b"b", b"bh") else " ", v.decode()) for k, v in tags.items()
    }


def _verify(message: bytes, idx: int, dns: Callable[..., bytes | None]) -> bool:
    try:
        return bool(dkimpy.DKIM(message).verify(idx=idx, dnsfunc=dns))
    except dkimpy.ValidationError as exc:  # dkimpy raises on a body hash mismatch
        if "body hash mismatch" not in str(exc):
            raise
        return False


# -- signatures that verify ---------------------------------------------------------------------


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_each_signature_verifies(crlf: bool, keys: list[dkim.DkimKey], dns: Any) -> None:
    message = _message(crlf=crlf)
    eol = b"\r\n" if crlf else b"\n"
    assert b"A line with trailing tabs\t\t" + eol in message  # 7bit: the whitespace is there to canonicalise
    assert b"To: Ada Lovelace <ada@example.net>, Grace Hopper <grace@example.net>," + eol + b" " in message
    assert message.count(b"=?utf-8?") >= 2  # the Subject, encoded and folded
    signed = dkim.sign(message, keys)

    assert signed.endswith(message)
    added = signed[: -len(message)]
    assert added.count(b"DKIM-Signature:") == 2
    for idx, algorithm in enumerate(("rsa-sha256", "ed25519-sha256")):
        assert _tags(signed, idx)["a"] == algorithm
        assert _verify(_as_sent(signed), idx, dns), algorithm
        assert _verify(signed, idx, dns), algorithm  # dkimpy reads LF too
    assert _tags(signed, 0)["bh"] == _tags(signed, 1)["bh"]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_the_added_headers_keep_the_line_ending_and_stay_within_78_columns(
    crlf: bool, keys: list[dkim.DkimKey]
) -> None:
    message = _message(crlf=crlf)
    added = dkim.sign(message, keys)[: -len(message)]

    lines = added.split(b"\r\n" if crlf else b"\n")
    assert lines[-1] == b""
    assert (b"\r" in added) is crlf
    assert all(len(line) <= 78 for line in lines)
    assert all(line.startswith((b"DKIM-Signature: ", b" ")) for line in lines[:-1])
    assert len(lines) > 5  # folded, b= included


def test_each_key_alone_verifies(keys: list[dkim.DkimKey], dns: Any) -> None:
    message = _message()
    for key in keys:
        signed = dkim.sign(message, [key])
        assert signed.count(b"DKIM-Signature:") == 1
        assert _verify(_as_sent(signed), 0, dns)


def test_headers_are_signed_bottom_up_as_often_as_present(keys: list[dkim.DkimKey], dns: Any) -> None:
    message = _message(to="ada@example.net", extra_to=("grace@example.net",))
    signed = dkim.sign(message, keys)

    h = [name.strip() for name in _tags(signed, 0)["h"].split(":")]
    assert h == [
        "from",
        "reply-to",
        "to",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]
    assert "x-not-signed" not in h
    assert _verify(_as_sent(signed), 0, dns)
    assert _verify(_as_sent(signed), 1, dns)
    # Swapping the two To fields breaks both signatures: each instance is signed in its place.
    swapped = signed.replace(b"To: ada@example.net", b"To: @@@").replace(b"To: grace@", b"To: ada@")
    swapped = swapped.replace(b"To: @@@", b"To: grace@example.net")
    assert swapped != signed
    assert not _verify(_as_sent(swapped), 0, dns)
    assert not _verify(_as_sent(swapped), 1, dns)


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(
    "message",
    [
        "From: news@{d}{eol}To: ada@example.net{eol}Subject: nothing{eol}{eol}",
        "From: news@{d}{eol}Subject: blank lines only{eol}{eol}{eol} \t{eol}{eol}",
        "From: news@{d}{eol}",  # no blank line at all
        "From: news@{d}",  # not even a line ending
    ],
    ids=["empty", "blank-lines", "no-separator", "one-line"],
)
def test_an_empty_body_verifies(message: str, eol: str, keys: list[dkim.DkimKey], dns: Any) -> None:
    raw = message.format(d=DOMAIN, eol=eol).encode()
    signed = dkim.sign(raw, keys)
    assert signed.endswith(raw)
    # The relaxed hash of an empty body is the hash of nothing (RFC 6376 §3.4.4), as dkimpy has it.
    assert _tags(signed, 0)["bh"] == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert _verify(_as_sent(signed if signed.endswith(b"\n") else signed + b"\r\n"), 0, dns)
    assert _verify(_as_sent(signed if signed.endswith(b"\n") else signed + b"\r\n"), 1, dns)


def test_the_timestamp_is_now_unless_given(keys: list[dkim.DkimKey]) -> None:
    message = _message()
    before = int(time.time())
    assert before <= int(_tags(dkim.sign(message, keys), 0)["t"]) <= int(time.time())
    assert _tags(dkim.sign(message, keys, now=1_234_567_890), 1)["t"] == "1234567890"


def test_no_keys_leaves_the_message_alone() -> None:
    message = _message()
    assert dkim.sign(message, []) is message


# -- tampering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_changing_one_byte_of_the_body_fails_both(crlf: bool, keys: list[dkim.DkimKey], dns: Any) -> None:
    signed = dkim.sign(_message(crlf=crlf), keys)
    tampered = signed.replace(b"Hello Ada,", b"Hello Adb,", 1)
    assert tampered != signed
    assert not _verify(_as_sent(tampered), 0, dns)
    assert not _verify(_as_sent(tampered), 1, dns)


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_changing_the_subject_fails_both(crlf: bool, keys: list[dkim.DkimKey], dns: Any) -> None:
    signed = dkim.sign(_message(crlf=crlf), keys)
    tampered = re.sub(rb"\nSubject: ", b"\nSubject: Re: ", signed, count=1)
    assert tampered != signed
    assert not _verify(_as_sent(tampered), 0, dns)
    assert not _verify(_as_sent(tampered), 1, dns)


def test_whitespace_changes_survive_relaxed(keys: list[dkim.DkimKey], dns: Any) -> None:
    """Relaxed canonicalisation: refolding a header or padding a line's end does not break it."""
    signed = dkim.sign(_message(), keys)
    reworked = signed.replace(b"\nSubject: ", b"\nSubject:  \t", 1)
    reworked = reworked.replace(b"Hello Ada,\n", b"Hello Ada,  \n", 1)
    reworked = reworked.replace(b"List-Unsubscribe-Post: ", b"List-Unsubscribe-Post:\n\t", 1)
    assert reworked != signed
    assert _verify(_as_sent(reworked), 0, dns)
    assert _verify(_as_sent(reworked), 1, dns)


# -- refusals -----------------------------------------------------------------------------------


def test_a_message_without_from_is_refused(keys: list[dkim.DkimKey]) -> None:
    message = b"To: ada@example.net\nSubject: who?\n\nbody\n"
    with pytest.raises(ValueError, match="exactly one From"):
        dkim.sign(message, keys)


def test_a_message_with_two_froms_is_refused(keys: list[dkim.DkimKey]) -> None:
    message = b"From: a@mail.example.org\nFrom: b@mail.example.org\nSubject: who?\n\nbody\n"
    with pytest.raises(ValueError, match="exactly one From"):
        dkim.sign(message, keys)


def test_a_malformed_header_block_is_refused(keys: list[dkim.DkimKey]) -> None:
    with pytest.raises(ValueError, match="not a header field"):
        dkim.sign(b"From: a@mail.example.org\nnonsense\n\nbody\n", keys)
    with pytest.raises(ValueError, match="continuation"):
        dkim.sign(b" From: a@mail.example.org\n\nbody\n", keys)


def test_only_rsa_and_ed25519_keys() -> None:
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="RSA or Ed25519"):
        dkim.DkimKey.from_pem(domain=DOMAIN, selector="s", pem=pem)


def test_keys_know_their_algorithm(keys: list[dkim.DkimKey]) -> None:
    assert [k.algorithm for k in keys] == ["rsa-sha256", "ed25519-sha256"]
    assert "PRIVATE" not in repr(keys[0])


# -- canonicalisation ---------------------------------------------------------------------------


def test_body_canonicalisation_follows_the_rfc_example() -> None:
    # RFC 6376 §3.4.6
    assert dkim.canonical_body(b" C \r\nD \t E\r\n\r\n\r\n") == b" C\r\nD E\r\n"
    assert dkim.canonical_body(b" C \nD \t E\n\n\n") == b" C\r\nD E\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n",
        b"\r\n\r\n  \r\n\t\r\n",
        b"no line ending",
        b"a\r\n\r\nb\r\n",
        b"  lead\t\ttab  \r\n \r\nx \r\n\r\n",
        b"bare\rcr \r\n",
        b"ends\r",
        b"trailing  \t \r\n \r\n\r\nx\t\r\n \t\r\n\r\n",
        TEXT.replace("\n", "\r\n").encode(),
    ],
)
def test_body_canonicalisation_agrees_with_dkimpy(body: bytes) -> None:
    assert dkim.canonical_body(body) == Relaxed.canonicalize_body(body)
    assert dkim.canonical_body(body.replace(b"\r\n", b"\n")) == Relaxed.canonicalize_body(body)


def test_a_last_line_without_line_ending_is_canonicalised_as_sent() -> None:
    """SMTP ends the data with CRLF, so the receiver strips that last line's trailing WSP: so do we.

    (dkimpy, signing the bytes as given, keeps it, and its signature breaks once sent.)
    """
    assert dkim.canonical_body(b"end \t") == b"end\r\n" == Relaxed.canonicalize_body(b"end \t\r\n")


# -- the same bytes as dkimpy ---------------------------------------------------------------------


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_rsa_signature_is_the_one_dkimpy_makes(
    crlf: bool, keys: list[dkim.DkimKey], rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _message(crlf=crlf, extra_to=("grace@example.net",))
    ours = _tags(dkim.sign(message, keys, now=1_700_000_123), 0)

    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.5)  # dkimpy stamps t= with time.time()
    theirs_header = dkimpy.sign(
        _as_sent(message),
        RSA_SELECTOR.encode(),
        DOMAIN.encode(),
        _pem(rsa_key).encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=[name.strip().encode() for name in ours["h"].split(":")],
    )
    theirs = _tags(theirs_header + _as_sent(message), 0)

    assert theirs["t"] == ours["t"] == "1700000123"
    assert theirs["bh"] == ours["bh"]
    assert theirs["b"] == ours["b"]
    assert theirs == ours


# -- keys from a sending domain -----------------------------------------------------------------


def test_keys_for_domain_round_trip(project: Project) -> None:
    domain = domain_create(project=project, domain="News.Example.com")
    keys = dkim.keys_for_domain(domain)

    assert [(k.domain, k.selector, k.algorithm) for k in keys] == [
        ("news.example.com", domain.rsa_selector, "rsa-sha256"),
        ("news.example.com", domain.ed25519_selector, "ed25519-sha256"),
    ]
    dns = _dnsfunc({r.name: r.value for r in domain_records(domain) if r.purpose.startswith("dkim")})
    message = _message().replace(f"@{DOMAIN}".encode(), b"@news.example.com")
    signed = _as_sent(dkim.sign(message, keys))
    assert _tags(signed, 0)["d"] == "news.example.com"
    assert _verify(signed, 0, dns)
    assert _verify(signed, 1, dns)
