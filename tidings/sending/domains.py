"""Sending domains: the DNS records Tidings asks for, and checking them.

Adding a domain makes its DKIM keys (RSA-2048, which every receiver accepts,
and Ed25519) and an ownership token; the records to publish are an ownership
TXT, one DKIM TXT per key, SPF, DMARC (``p=none`` at least) and a return-path
CNAME. "Verify" looks each up through the resolver in TIDINGS_DNS_RESOLVER
(else the system's) and says per record: found, missing or wrong.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.core import secrets as stored_secrets
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Project
from tidings.sending.models import SendingDomain

# Mailbox providers' domains: nobody may send as them, whatever DNS says.
FREE_MAIL = frozenset(
    "gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr ymail.com hotmail.com hotmail.co.uk hotmail.fr "
    "outlook.com live.com msn.com aol.com icloud.com me.com mac.com gmx.com gmx.de gmx.net web.de mail.com "
    "proton.me protonmail.com yandex.ru yandex.com mail.ru zoho.com fastmail.com hey.com qq.com "
    "163.com".split()
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Record:
    purpose: str  # ownership | dkim-rsa | dkim-ed25519 | spf | dmarc | return-path
    name: str
    type: str  # TXT | CNAME
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"purpose": self.purpose, "name": self.name, "type": self.type, "value": self.value}


def clean_domain(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError.field("domain", "must not be empty")
    domain = raw.strip().lower().rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError.field("domain", "is not a valid domain name") from exc
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError.field("domain", "is not a valid domain name, e.g. mail.example.com")
    if domain in FREE_MAIL:
        raise ValidationError.field(
            "domain", f"{domain} is a mailbox provider's domain; send from a domain of your own"
        )
    return domain


def _return_path_target() -> str:
    return settings.RETURN_PATH_HOST or (urlsplit(settings.BASE_URL).hostname or "localhost")


def domain_records(domain: SendingDomain) -> list[Record]:
    name = domain.domain
    spf = f"v=spf1 {settings.SPF_INCLUDE} ~all" if settings.SPF_INCLUDE else "v=spf1 mx ~all"
    return [
        Record("ownership", f"_tidings.{name}", "TXT", f"tidings-verification={domain.verification_token}"),
        Record(
            "dkim-rsa",
            f"{domain.rsa_selector}._domainkey.{name}",
            "TXT",
            f"v=DKIM1; k=rsa; p={domain.rsa_public_key}",
        ),
        Record(
            "dkim-ed25519",
            f"{domain.ed25519_selector}._domainkey.{name}",
            "TXT",
            f"v=DKIM1; k=ed25519; p={domain.ed25519_public_key}",
        ),
        Record("spf", name, "TXT", spf),
        Record("dmarc", f"_dmarc.{name}", "TXT", f"v=DMARC1; p=none; rua=mailto:dmarc@{name}"),
        Record("return-path", f"bounces.{name}", "CNAME", f"{_return_path_target()}."),
    ]


def domain_create(*, project: Project, domain: str) -> SendingDomain:
    """Add a domain: its DKIM key pairs (private keys encrypted) and ownership token."""
    name = clean_domain(domain)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rsa_public = rsa_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ed_public = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = {
        "rsa": rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "ed": ed_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    stamp = timezone.now().strftime("%Y%m")
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's transaction usable
            return SendingDomain.objects.create(
                project=project,
                domain=name,
                verification_token=secrets.token_hex(16),
                rsa_selector=f"tdg{stamp}r",
                rsa_public_key=base64.b64encode(rsa_public).decode(),
                rsa_private_key_encrypted=stored_secrets.encrypt(pem["rsa"].decode()),
                ed25519_selector=f"tdg{stamp}e",
                ed25519_public_key=base64.b64encode(ed_public).decode(),
                ed25519_private_key_encrypted=stored_secrets.encrypt(pem["ed"].decode()),
            )
    except IntegrityError as exc:
        raise Conflict(f"{name} is already a sending domain of this project") from exc


def _resolver() -> dns.resolver.Resolver:
    """The system's resolver, or TIDINGS_DNS_RESOLVER: ``ip``, ``ip:port`` or ``[ipv6]:port``."""
    configured = settings.DNS_RESOLVER.strip()
    if not configured:
        return dns.resolver.Resolver()
    host, port = configured, ""
    if configured.startswith("["):
        host, _, port = configured[1:].partition("]:")
        host = host.rstrip("]")
    elif configured.count(":") == 1:
        host, port = configured.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    if port:
        resolver.port = int(port)
    return resolver


def _lookup(resolver: dns.resolver.Resolver, record: Record) -> tuple[list[str] | None, str]:
    """The values published for the record's name and type; None and why when there are none."""
    try:
        answer = resolver.resolve(record.name, record.type, lifetime=5)
    except dns.resolver.NXDOMAIN:
        return None, "no such name"
    except dns.resolver.NoAnswer:
        return None, f"no {record.type} record"
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        return None, f"the DNS lookup failed: {exc.__class__.__name__}"
    if record.type == "TXT":
        return [b"".join(r.strings).decode(errors="replace") for r in answer], ""
    return [r.to_text() for r in answer], ""


def _tags(value: str) -> dict[str, str]:
    return {
        k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in value.split(";")) if k.strip()
    }


def _judge(record: Record, values: list[str]) -> tuple[str, str]:
    """found | wrong, with what was seen when wrong."""
    if record.purpose in ("ownership",):
        return ("found", "") if record.value in values else ("wrong", "; ".join(values))
    if record.purpose.startswith("dkim"):
        expected = _tags(record.value)
        for value in values:
            seen = _tags(value)
            if seen.get("p", "").replace(" ", "") == expected["p"] and seen.get("k", "rsa") == expected["k"]:
                return "found", ""
        return "wrong", "; ".join(values)
    if record.purpose == "spf":
        spf = [v for v in values if v.lower().startswith("v=spf1")]
        if len(spf) != 1:
            return (
                "wrong",
                "no SPF record" if not spf else "more than one SPF record (receivers then ignore SPF)",
            )
        wanted = settings.SPF_INCLUDE
        return ("found", "") if not wanted or wanted in spf[0].split() else ("wrong", spf[0])
    if record.purpose == "dmarc":
        dmarc = [v for v in values if v.upper().startswith("V=DMARC1")]
        if dmarc and _tags(dmarc[0]).get("p", "").lower() in ("none", "quarantine", "reject"):
            return "found", ""
        return "wrong", "; ".join(values) or "no DMARC record"
    return (
        ("found", "") if record.value.lower() in [v.lower() for v in values] else ("wrong", "; ".join(values))
    )


def domain_verify(*, domain: SendingDomain) -> list[dict[str, str]]:
    """Look every record up; the domain is verified when ownership and both DKIM keys are found."""
    resolver = _resolver()
    results = []
    for record in domain_records(domain):
        values, why = _lookup(resolver, record)
        if values is None:
            state, seen = "missing", why
        else:
            state, seen = _judge(record, values)
        results.append({**record.as_dict(), "state": state, "seen": seen})
    required = {"ownership", "dkim-rsa", "dkim-ed25519"}
    verified = all(r["state"] == "found" for r in results if r["purpose"] in required)
    domain.last_checked_at = timezone.now()
    domain.last_results = json.loads(json.dumps(results))
    domain.verified_at = (domain.verified_at or timezone.now()) if verified else None
    domain.save(update_fields=["last_checked_at", "last_results", "verified_at"])
    return results


def sender_problem(*, project: Project, address: str, kind: str) -> str:
    """Why mail may not be sent from ``address`` over a connection of ``kind``; "" when it may.

    The address must be on a verified sending domain of the project, and never
    on a free-mail domain. The outbox delivers nowhere, so it takes any domain.
    """
    domain = address.rpartition("@")[2].lower()
    if domain in FREE_MAIL:
        return (
            f"{domain} is a free-mail domain: mail sent from it fails its DMARC checks; "
            "send from a domain of your own"
        )
    if kind == "outbox":
        return ""
    if (
        not SendingDomain.objects.for_project(project)
        .filter(domain=domain, verified_at__isnull=False)
        .exists()
    ):
        return (
            f"the sending domain {domain} is not verified: "
            "add it under Settings → Domains and verify its DNS records"
        )
    return ""
