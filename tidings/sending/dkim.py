"""DKIM signing (RFC 6376, and RFC 8463 for Ed25519) with ``cryptography``.

A sending domain has two keys, RSA-2048 (which every receiver checks) and
Ed25519; ``sign`` adds one ``DKIM-Signature`` per key, relaxed/relaxed. The
work per message is one SHA-256 of the canonical body (shared by the keys),
one of the canonical header block, and one signature per key.

Messages may use LF (``bytes(EmailMessage)``) or CRLF (``policy.SMTP``) line
endings: the hashes are over the CRLF form the message has once sent, and the
added headers use the message's own line ending. Bare CRs are content, not
line breaks (RFC 5322 has no place for them).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

from tidings.core import secrets
from tidings.sending.models import SendingDomain

RSA_SHA256 = "rsa-sha256"
ED25519_SHA256 = "ed25519-sha256"

# Signed when present, in this order (h= lists a field once per occurrence).
SIGNED_HEADERS: tuple[str, ...] = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
)
_SIGNED = tuple(name.lower().encode("ascii") for name in SIGNED_HEADERS)
_SIGNED_SET = frozenset(_SIGNED)

MAX_LINE = 78  # RFC 5322 §2.1.1, not counting the line ending
_HEADER_NAME = b"DKIM-Signature:"
_BLANK_LINE = re.compile(rb"\n\r?\n")  # the end of the header block
_SPACES = re.compile(rb"  +")  # a literal prefix: re scans for it fast, unlike a [ \t] class


def _collapse_wsp(data: bytes) -> bytes:
    """Every run of WSP (SP, HTAB) made one SP; most data has no tab and no double space."""
    if b"\t" in data:
        data = data.replace(b"\t", b" ")
    return _SPACES.sub(b" ", data) if b"  " in data else data


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    algorithm: str  # RSA_SHA256 | ED25519_SHA256
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = field(repr=False)

    @classmethod
    def from_pem(cls, *, domain: str, selector: str, pem: str | bytes) -> DkimKey:
        """A key from its PEM private key; the algorithm follows from the key's type."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        # Our keys come out of authenticated encryption, so the (slow) RSA consistency check buys nothing.
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
        if isinstance(key, rsa.RSAPrivateKey):
            algorithm = RSA_SHA256
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            algorithm = ED25519_SHA256
        else:
            raise ValueError(f"DKIM keys are RSA or Ed25519, not {type(key).__name__}")
        return cls(domain=domain, selector=selector, algorithm=algorithm, private_key=key)


def keys_for_domain(domain: SendingDomain) -> list[DkimKey]:
    """The domain's signing keys, decrypted: RSA first, then Ed25519."""
    return [
        DkimKey.from_pem(
            domain=domain.domain,
            selector=domain.rsa_selector,
            pem=secrets.decrypt(domain.rsa_private_key_encrypted),
        ),
        DkimKey.from_pem(
            domain=domain.domain,
            selector=domain.ed25519_selector,
            pem=secrets.decrypt(domain.ed25519_private_key_encrypted),
        ),
    ]


def canonical_body(body: bytes) -> bytes:
    """Relaxed body canonicalisation (RFC 6376 §3.4.4) of a body with LF or CRLF line endings."""
    if body.count(b"\n") == body.count(b"\r\n"):
        # Every line ends in CRLF (what ``assemble`` writes): canonicalise as it is, without
        # turning the line endings into LF and back. (A CR alone is content either way.)
        body = canonical_lines(body)
        while body.endswith((b"\r\n", b" ")):
            body = body[:-2] if body.endswith(b"\r\n") else body[:-1]
        return body + b"\r\n" if body else b""
    body = body.replace(b"\r\n", b"\n")
    body = _collapse_wsp(body).replace(b" \n", b"\n").rstrip(b" \n")
    # An empty body stays empty under relaxed (§3.4.4 adds a CRLF only to a non-empty body).
    return body.replace(b"\n", b"\r\n") + b"\r\n" if body else b""


def canonical_lines(data: bytes) -> bytes:
    """Relaxed canonicalisation of lines in the middle of a body (CRLF line endings): WSP runs made
    one SP, none before a line ending; the rules for the body's end are ``canonical_body``'s.
    Of a body cut after line endings, the pieces' canonical lines joined are the body's."""
    return _collapse_wsp(data).replace(b" \r\n", b"\r\n")


def _canonical_value(value: bytes) -> bytes:
    """Relaxed header value (§3.4.2): already unfolded; WSP runs to one space, none at the ends."""
    return _collapse_wsp(value).strip(b" ")


def _split(message: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields (lowercased name, unfolded raw value) and the body, its line endings untouched."""
    if message.startswith((b"\n", b"\r\n")):
        head, body = b"", message[message.index(b"\n") + 1 :]
    elif blank := _BLANK_LINE.search(message):
        head, body = message[: blank.start()], message[blank.end() :]
    else:
        head, body = message, b""
    head = head.replace(b"\r\n", b"\n").rstrip(b"\r\n")
    fields: list[tuple[bytes, list[bytes]]] = []
    for line in head.split(b"\n") if head else ():
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise ValueError("the message starts with a continuation line, not a header field")
            fields[-1][1].append(line)
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError(f"not a header field: {line[:60]!r}")
        fields.append((name.rstrip(b" \t").lower(), [value]))
    return [(name, b"".join(parts)) for name, parts in fields], body


def _fold(value: str, *, b64: str, linesep: str) -> str:
    """``DKIM-Signature: value`` folded at its spaces, then the b= base64 folded anywhere (FWS)."""
    lines: list[str] = []
    line = _HEADER_NAME.decode()
    for word in value.split(" "):
        if len(line) + 1 + len(word) > MAX_LINE and line.strip():
            lines.append(line)
            line = ""
        line += " " + word
    while b64:
        room = MAX_LINE - len(line)
        if room <= 0:
            lines.append(line)
            line, room = " ", MAX_LINE - 1
        line += b64[:room]
        b64 = b64[room:]
    lines.append(line)
    return linesep.join(lines) + linesep


def sign(
    message: bytes, keys: Sequence[DkimKey], *, now: int | None = None, body_hash: bytes | None = None
) -> bytes:
    """Return the message with one DKIM-Signature header per key prepended, in the keys' order.

    relaxed/relaxed; signs those of ``SIGNED_HEADERS`` present (a field present
    several times is signed as often, bottom-up). The message must have exactly
    one From field. With no keys the message comes back as it is. ``body_hash``: the
    SHA-256 of the canonical body, where the writer of the message worked it out.
    """
    if not keys:
        return message
    first_lf = message.find(b"\n")
    linesep = "\n" if first_lf == 0 or (first_lf > 0 and message[first_lf - 1] != 0x0D) else "\r\n"
    fields, body = _split(message)

    found: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        if name in _SIGNED_SET:
            found.setdefault(name, []).append(value)
    if len(found.get(b"from", ())) != 1:
        count = len(found.get(b"from", ()))
        raise ValueError(f"a message to sign must have exactly one From header field, this one has {count}")

    names: list[bytes] = []
    header_hash = hashlib.sha256()
    for name in _SIGNED:
        for value in reversed(found.get(name, ())):
            names.append(name)
            header_hash.update(name + b":" + _canonical_value(value) + b"\r\n")

    if body_hash is None:
        body_hash = hashlib.sha256(canonical_body(body)).digest()
    bh = base64.b64encode(body_hash).decode("ascii")
    h = " : ".join(name.decode("ascii") for name in names)
    t = int(time.time()) if now is None else int(now)

    headers: list[str] = []
    for key in keys:
        # The tags dkimpy writes, in its order: our signatures are byte-for-byte comparable with its own.
        value = (
            f"v=1; a={key.algorithm}; c=relaxed/relaxed; d={key.domain}; i=@{key.domain}; q=dns/txt;"
            f" s={key.selector}; t={t}; h={h}; bh={bh}; b="
        )
        hasher = header_hash.copy()
        hasher.update(b"dkim-signature:" + value.encode("ascii"))
        signature = _sign_digest(key, hasher.digest())
        headers.append(_fold(value, b64=base64.b64encode(signature).decode("ascii"), linesep=linesep))
    return "".join(headers).encode("ascii") + message


def _sign_digest(key: DkimKey, digest: bytes) -> bytes:
    private_key = key.private_key
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    # RFC 8463 §3: PureEdDSA over the SHA-256 hash of the header data.
    return private_key.sign(digest)
