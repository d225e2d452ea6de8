"""Per-recipient tokens: they round-trip, and nothing else is accepted or readable."""

from __future__ import annotations

import base64
import string

import pytest

from tidings.tracking.tokens import BadToken, Recipient, read_token, recipient_token

B64URL = string.ascii_letters + string.digits + "-_"


def _token(contact_id: int = 1, campaign_id: int | None = 7, project_id: int = 3) -> str:
    return recipient_token(project_id=project_id, contact_id=contact_id, campaign_id=campaign_id)


def test_round_trip() -> None:
    token = _token(contact_id=123456789012, campaign_id=42, project_id=9)
    assert read_token(token) == Recipient(project_id=9, contact_id=123456789012, campaign_id=42)


def test_no_campaign_round_trips_as_none() -> None:
    token = _token(contact_id=5, campaign_id=None)
    assert read_token(token) == Recipient(project_id=3, contact_id=5, campaign_id=None)


def test_a_token_is_url_safe_and_of_fixed_length() -> None:
    token = _token()
    assert len(token) == 35
    assert set(token) <= set(B64URL)


def test_the_same_recipient_gets_the_same_token_and_others_differ() -> None:
    assert _token(contact_id=1) == _token(contact_id=1)
    assert _token(contact_id=1) != _token(contact_id=2)
    assert _token(campaign_id=1) != _token(campaign_id=2)
    assert _token(project_id=1) != _token(project_id=2)


def test_a_token_made_under_another_secret_key_is_refused(settings) -> None:
    settings.SECRET_KEY = "one secret key, long enough to be a real one 0123456789"
    foreign = _token()
    assert read_token(foreign).contact_id == 1
    settings.SECRET_KEY = "another secret key, just as long as the first 9876543210"
    with pytest.raises(BadToken):
        read_token(foreign)
    assert _token() != foreign


def test_every_single_character_change_is_refused() -> None:
    token = _token(contact_id=77, campaign_id=5)
    tried = 0
    for position, original in enumerate(token):
        for replacement in B64URL:
            if replacement == original:
                continue
            changed = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(BadToken):
                read_token(changed)
            tried += 1
    assert tried == len(token) * (len(B64URL) - 1)


def test_the_unused_bits_of_the_last_character_matter() -> None:
    token = _token(contact_id=8)
    # 26 bytes in 35 characters: the last character carries 4 bits and 2 unused ones.
    raw = base64.urlsafe_b64decode(token + "=")
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    last = alphabet.index(token[-1])
    same_bytes = [alphabet[(last & ~0b11) | low] for low in range(4) if (last & ~0b11) | low != last]
    assert len(same_bytes) == 3
    for char in same_bytes:
        variant = token[:-1] + char
        assert base64.urlsafe_b64decode(variant + "=") == raw  # a lax decoder sees the same bytes
        with pytest.raises(BadToken):
            read_token(variant)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A",
        "=",
        "not a token",
        "A" * 34,
        "A" * 36,
        "A" * 48,
    ],
)
def test_wrong_lengths_and_junk_are_refused(bad: str) -> None:
    with pytest.raises(BadToken):
        read_token(bad)


def test_a_valid_token_with_anything_added_or_removed_is_refused() -> None:
    token = _token()
    for bad in (token[:-1], token[1:], token + "A", "A" + token, token + "=", token + "\n", " " + token[1:]):
        with pytest.raises(BadToken):
            read_token(bad)


@pytest.mark.parametrize("char", ["+", "/", "=", "!", ".", " ", "\x00", "é", "\n", "%"])
def test_characters_outside_base64url_are_refused(char: str) -> None:
    token = _token()
    for position in (0, 17, 34):
        with pytest.raises(BadToken):
            read_token(token[:position] + char + token[position + 1 :])


def test_standard_base64_spelling_of_a_valid_token_is_refused() -> None:
    # Find a token with '-' or '_' in it; '+' and '/' decode to the same bytes in lax decoders.
    for contact_id in range(1, 200):
        token = _token(contact_id=contact_id)
        if "-" in token or "_" in token:
            break
    else:  # pragma: no cover - 200 tokens without either character is vanishingly unlikely
        pytest.fail("no token with - or _")
    standard = token.replace("-", "+").replace("_", "/")
    with pytest.raises(BadToken):
        read_token(standard)


def _common_substrings(a: str, b: str, n: int) -> set[str]:
    return {a[i : i + n] for i in range(len(a) - n + 1)} & {b[i : i + n] for i in range(len(b) - n + 1)}


def test_tokens_show_neither_the_ids_nor_any_shared_structure() -> None:
    one = _token(contact_id=1, campaign_id=None, project_id=1)
    two = _token(contact_id=2, campaign_id=None, project_id=1)
    # The plain layout of these two differs in one byte: enciphered, nothing is shared.
    assert _common_substrings(one, two, 8) == set()
    raw_one = base64.urlsafe_b64decode(one + "=")
    raw_two = base64.urlsafe_b64decode(two + "=")
    assert raw_one[:16] != raw_two[:16]
    assert sum(a == b for a, b in zip(raw_one, raw_two, strict=True)) < 8


def test_a_large_contact_id_is_not_readable_in_the_token() -> None:
    contact_id = 987654321
    token = _token(contact_id=contact_id, campaign_id=None, project_id=1)
    raw = base64.urlsafe_b64decode(token + "=")
    assert str(contact_id) not in token
    assert contact_id.to_bytes(8, "big") not in raw
    assert contact_id.to_bytes(4, "big") not in raw
    # Neither does the plain block show: it would start with the project's 4 bytes.
    assert not raw.startswith((1).to_bytes(4, "big"))
