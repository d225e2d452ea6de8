"""Per-recipient tokens for the links in a message (unsubscribe, preference center).

A token names a project, a contact and a campaign without showing any of them:
the 16 bytes are enciphered with AES under a key derived from the site's secret
key, and followed by a 10-byte HMAC, so a changed character is refused and no
id or address can be read off a URL. Tokens do not expire: a link from an old
message keeps working (it stops if ``TIDINGS_SECRET_KEY`` changes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import threading
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from django.conf import settings

_LAYOUT = struct.Struct(">IQI")  # project (4 bytes), contact (8), campaign (4; 0 for none)
# project (4 bytes), message (6, high 2 + low 4), campaign (4; 0: not given), link number (2; 0: the pixel)
_MESSAGE_LAYOUT = struct.Struct(">IHIIH")
_LEGACY_LAYOUT = struct.Struct(">IQI")  # project, message, link: pixel and link tokens of older mail
MAX_LINK = 0xFFFF
MAX_MESSAGE_ID = 2**48 - 1
_MAC_BYTES = 10


class BadToken(Exception):
    """The token was not made here, or was changed."""


@dataclass(frozen=True)
class Recipient:
    project_id: int
    contact_id: int
    campaign_id: int | None


@dataclass(frozen=True)
class Tracked:
    project_id: int
    message_id: int
    link: int  # 0 for the open pixel, else the campaign's link number
    campaign_id: int = 0  # carried by pixel and link tokens, so a click needs no lookup of the message


@cache
def _keys(secret: str, purpose: bytes = b"recipient") -> tuple[Cipher, bytes]:
    # A key per purpose: a recipient's token is never read as a message's, nor the other way.
    label = (
        b"tidings.tracking.tokens/v1:"
        if purpose == b"recipient"
        else b"tidings.tracking." + purpose + b"/v1:"
    )
    root = hashlib.sha256(label + secret.encode()).digest()
    cipher_key = hmac.new(root, b"cipher", hashlib.sha256).digest()[:16]
    mac_key = hmac.new(root, b"mac", hashlib.sha256).digest()
    # One block, enciphered alone: a permutation of the 16 bytes (the MAC, not the mode, keeps it whole).
    return Cipher(algorithms.AES(cipher_key), modes.ECB()), mac_key  # noqa: S305


_local = threading.local()  # cipher contexts are not to be shared between threads


def _encryptor(secret: str, purpose: bytes) -> tuple[CipherContext, bytes]:
    """An ECB encryptor for the purpose's key, kept per thread: ECB carries nothing from one block
    to the next, so one context enciphers every token (making one costs more than using it)."""
    kept: dict[tuple[str, bytes], tuple[CipherContext, bytes]] | None = getattr(_local, "encryptors", None)
    if kept is None:
        kept = _local.encryptors = {}
    found = kept.get((secret, purpose))
    if found is None:
        cipher, mac_key = _keys(secret, purpose)
        found = kept[(secret, purpose)] = (cipher.encryptor(), mac_key)
    return found


def _seal(block: bytes, purpose: bytes) -> str:
    if len(block) != 16:  # a partial block would stay in the shared context and spoil the next token
        raise ValueError("a token is one 16-byte block")
    encryptor, mac_key = _encryptor(settings.SECRET_KEY, purpose)
    sealed = encryptor.update(block)
    mac = hmac.new(mac_key, sealed, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(sealed + mac).rstrip(b"=").decode()


def _open(token: str, purpose: bytes) -> bytes:
    cipher, mac_key = _keys(settings.SECRET_KEY, purpose)
    if len(token) != 35:
        raise BadToken("wrong length")
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError) as exc:
        raise BadToken("not base64") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
        raise BadToken("not in canonical form")  # the last character's unused bits were changed
    sealed, mac = raw[:16], raw[16:]
    if not hmac.compare_digest(mac, hmac.new(mac_key, sealed, hashlib.sha256).digest()[:_MAC_BYTES]):
        raise BadToken("signature does not match")
    decryptor = cipher.decryptor()
    return decryptor.update(sealed) + decryptor.finalize()


def recipient_token(*, project_id: int, contact_id: int, campaign_id: int | None = None) -> str:
    return _seal(_LAYOUT.pack(project_id, contact_id, campaign_id or 0), b"recipient")


def read_token(token: str) -> Recipient:
    project_id, contact_id, campaign_id = _LAYOUT.unpack(_open(token, b"recipient"))
    return Recipient(project_id, contact_id, campaign_id or None)


def _pack(project_id: int, message_id: int, campaign_id: int, link: int) -> bytes:
    if not 0 < message_id <= MAX_MESSAGE_ID or not 0 <= link <= MAX_LINK:
        raise ValueError("message id or link number out of range for a token")
    return _MESSAGE_LAYOUT.pack(project_id, message_id >> 32, message_id & 0xFFFFFFFF, campaign_id, link)


def _unpack(block: bytes) -> Tracked:
    project_id, high, low, campaign_id, link = _MESSAGE_LAYOUT.unpack(block)
    return Tracked(project_id, (high << 32) | low, link, campaign_id)


def message_token(*, project_id: int, message_id: int, link: int = 0, campaign_id: int = 0) -> str:
    """The token of a message's open pixel (``link=0``) or of one of its links."""
    return _seal(_pack(project_id, message_id, campaign_id, link), b"tracked")


def read_message_token(token: str) -> Tracked:
    """What a pixel or link token names. Tokens of mail sent before tokens carried the campaign
    (another key and layout) still read, with ``campaign_id`` 0."""
    try:
        return _unpack(_open(token, b"tracked"))
    except BadToken:
        project_id, message_id, link = _LEGACY_LAYOUT.unpack(_open(token, b"message"))
        return Tracked(project_id, message_id, link)


def return_path_token(*, project_id: int, message_id: int) -> str:
    """The token of a message's return path (VERP), under a key of its own: a pixel's token,
    which anyone who sees the message can copy, never reads as one."""
    return _seal(_pack(project_id, message_id, 0, 0), b"return-path")


def read_return_path_token(token: str) -> Tracked:
    return _unpack(_open(token, b"return-path"))


def unsubscribe_url(token: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/u/{token}"


def preferences_url(token: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/p/{token}"


def open_url(token: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/o/{token}.gif"


def click_url(token: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/c/{token}"
