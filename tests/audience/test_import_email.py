"""The import's fast address check says exactly what email-validator says, wherever it answers."""

from __future__ import annotations

import random
import string

from tidings.audience.imports_rows import email_clean, email_normalize_fast
from tidings.audience.validation import normalize_email

LOCALS = ["ada", "Ada.Lovelace", "grace_hopper", "a+tag", "x%y", "o-brien", "j.r.r", "UPPER", "a1", "1"]
DOMAINS = [
    "example.com",
    "Example.COM",
    "mail.example.co.uk",
    "sub-domain.example.org",
    "xn--bcher-kva.example",
    "ab--cd.example",
    "münchen.de",
    "example.test",
    "localhost",
    "printer.local",
    "onion.onion",
    "10.in-addr.arpa",
    "example.invalid",
    "a.b",
    "a.b1",
    "a.1b",
    "1.com",
    "-start.com",
    "end-.com",
    "under_score.com",
    "example",
    "example.com.",
    ".example.com",
    "exa..mple.com",
    "x" * 63 + ".com",
    "x" * 64 + ".com",
    ".".join(["y" * 60] * 4) + ".com",
]
EDGE = [
    "",
    "@",
    "a@",
    "@example.com",
    "a@@example.com",
    "a@b@example.com",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    '"quoted"@example.com',
    '"a b"@example.com',
    "a b@example.com",
    "Ada <ada@example.com>",
    "ada@[192.0.2.1]",
    "ñandu@example.com",
    "ada@exämple.com",
    "ｆｕｌｌ@example.com",
    "Postmaster@Example.com",
    "INFO@example.com",
    "Abuse@example.com",
    "a'b@example.com",
    "a/b@example.com",
    "a!#$&*=?^`{|}~@example.com",
    "l" * 64 + "@example.com",
    "l" * 65 + "@example.com",
    "l" * 64 + "@" + ".".join(["d" * 63] * 3) + ".com",
    "a@" + ".".join(["d" * 63] * 4),
    "tab\t@example.com",
    "a@example.com\n",
    "a@ex\u200bample.com",
    "a@EXAMPLE.COM",
    "a@example.c",
    "a@example.co1",
]


def realistic(rng: random.Random, n: int) -> list[str]:
    first = ["ada", "grace", "alan", "Linus", "margaret", "KEN", "barbara", "dennis", "frances", "o'neil"]
    last = ["lovelace", "Hopper", "turing", "torvalds", "hamilton", "thompson", "liskov", "ritchie"]
    hosts = [
        "gmail.com",
        "outlook.com",
        "yahoo.co.jp",
        "web.de",
        "example.org",
        "Uni-Heidelberg.DE",
        "t-online.de",
    ]
    shapes = ["{f}.{l}", "{f}{l}", "{f}_{l}{n}", "{f}+news@", "{l}.{f}{n}", "{f}-{l}"]
    out = []
    for _ in range(n):
        shape = rng.choice(shapes).replace("@", "")
        local = shape.format(f=rng.choice(first), l=rng.choice(last), n=rng.randrange(100))
        out.append(f"{local}@{rng.choice(hosts)}")
    return out


def fuzz(rng: random.Random, n: int) -> list[str]:
    alphabet = string.ascii_letters[:8] + "0129._%+-@@@..'\"!#/ ()<>[]\\-éü\u00a0"
    out = []
    for _ in range(n):
        local = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        domain = "".join(rng.choice(alphabet + "....---") for _ in range(rng.randrange(0, 16)))
        out.append(f"{local}@{domain}" if rng.random() < 0.8 else local + domain)
    return out


def mutations(rng: random.Random, addresses: list[str]) -> list[str]:
    """Near misses: everyday addresses with one or two characters inserted, replaced or dropped."""
    alphabet = "._-+@'\" !%#/()[]\\é\u00a0A0"
    out = []
    for address in addresses:
        text = list(address)
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(text) + 1)
            action = rng.randrange(3)
            if action == 0:
                text.insert(at, rng.choice(alphabet))
            elif text and at < len(text):
                text[at : at + 1] = [rng.choice(alphabet)] if action == 1 else []
        out.append("".join(text))
    return out


def corpus() -> list[str]:
    rng = random.Random(20261123)
    built = [f"{local}@{domain}" for local in LOCALS for domain in DOMAINS]
    everyday = realistic(rng, 3000)
    return [*built, *EDGE, *everyday, *mutations(rng, everyday * 5), *fuzz(rng, 20000)]


def full(text: str) -> tuple[str, str] | None:
    try:
        return normalize_email(text)
    except ValueError:
        return None


def test_fast_path_agrees_with_email_validator_on_every_address_of_the_corpus() -> None:
    disagreements = []
    answered = 0
    for text in corpus():
        fast = email_normalize_fast(text.strip())
        if fast is None:
            continue
        answered += 1
        if fast != full(text):
            disagreements.append((text, fast, full(text)))

    assert disagreements == []
    assert answered > 5000  # it does answer, near misses included, not only pass everything on


def test_fast_path_answers_for_nearly_all_everyday_addresses() -> None:
    addresses = realistic(random.Random(7), 2000)
    answered = [a for a in addresses if email_normalize_fast(a) is not None]

    assert len(answered) / len(addresses) > 0.85


def test_email_clean_gives_the_full_validators_answer_and_errors() -> None:
    assert email_clean("  Ada.Lovelace@Example.COM ") == (
        "Ada.Lovelace@example.com",
        "ada.lovelace@example.com",
    )
    assert email_clean("Postmaster@Example.com") == ("postmaster@example.com", "postmaster@example.com")
    assert email_clean("ñandu@Exämple.com") == ("ñandu@exämple.com", "ñandu@exämple.com")
    for bad in ("ada@localhost", "ada@example", "a..b@example.com", "ada@example.test"):
        assert full(bad) is None
        try:
            email_clean(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
