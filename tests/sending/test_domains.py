"""Sending domains: the records asked for, DKIM keys, and "Verify" against a DNS server on loopback."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import ApiClient
from tests.sending.dns_server import dns_server, txt
from tidings.core import secrets
from tidings.core.models import Project
from tidings.sending.models import SendingDomain

pytestmark = pytest.mark.django_db

__all__ = ["dns_server"]


@pytest.fixture
def resolver(dns_server: Any, settings: Any) -> Any:
    settings.DNS_RESOLVER = f"{dns_server.host}:{dns_server.port}"
    settings.SPF_INCLUDE = ""
    settings.RETURN_PATH_HOST = "bounces.tidings.example"
    return dns_server


def _add(api: ApiClient, name: str = "mail.example.org") -> dict[str, Any]:
    response = api.post("domains", {"domain": name})
    assert response.status_code == 201, response.content
    return response.json()


def _records(domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["purpose"]: r for r in domain["records"]}


def _publish(server: Any, domain: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    for purpose, record in _records(domain).items():
        if purpose in skip:
            continue
        value = txt(record["value"]) if record["type"] == "TXT" else record["value"]
        server.set(record["name"], record["type"], [value])


def test_adding_a_domain_lists_the_records_to_publish(api: ApiClient, resolver: Any) -> None:
    records = _records(_add(api))
    assert set(records) == {"ownership", "dkim-rsa", "dkim-ed25519", "spf", "dmarc", "return-path"}
    assert records["ownership"]["name"] == "_tidings.mail.example.org"
    assert records["dmarc"]["value"] == "v=DMARC1; p=none; rua=mailto:dmarc@mail.example.org"
    assert records["return-path"] == {
        "purpose": "return-path",
        "name": "bounces.mail.example.org",
        "type": "CNAME",
        "value": "bounces.tidings.example.",
        "state": None,
        "seen": None,
    }
    assert records["dkim-rsa"]["name"].endswith("._domainkey.mail.example.org")


def test_dkim_keys_are_rsa_2048_and_ed25519_with_private_keys_encrypted(
    api: ApiClient, resolver: Any
) -> None:
    created = _add(api)
    domain = SendingDomain.objects.get(pk=created["id"])
    rsa_public = serialization.load_der_public_key(base64.b64decode(domain.rsa_public_key))
    assert rsa_public.key_size == 2048
    assert len(base64.b64decode(domain.ed25519_public_key)) == 32
    assert "PRIVATE KEY" not in domain.rsa_private_key_encrypted
    private = serialization.load_pem_private_key(
        secrets.decrypt(domain.rsa_private_key_encrypted).encode(), password=None
    )
    assert private.public_key().public_numbers() == rsa_public.public_numbers()
    assert "PRIVATE" not in api.get(f"domains/{created['id']}").content.decode()


def test_every_record_published_verifies_the_domain(api: ApiClient, resolver: Any) -> None:
    created = _add(api)
    _publish(resolver, created)
    checked = api.post(f"domains/{created['id']}/verify").json()
    assert {r["purpose"]: r["state"] for r in checked["records"]} == dict.fromkeys(
        ["ownership", "dkim-rsa", "dkim-ed25519", "spf", "dmarc", "return-path"], "found"
    )
    assert checked["verified"] is True


def test_a_missing_dkim_record_is_reported_and_the_domain_is_not_verified(
    api: ApiClient, resolver: Any
) -> None:
    created = _add(api)
    _publish(resolver, created, skip=("dkim-rsa",))
    checked = api.post(f"domains/{created['id']}/verify").json()
    state = _records(checked)["dkim-rsa"]
    assert (state["state"], state["seen"]) == ("missing", "no such name")
    assert checked["verified"] is False


def test_a_wrong_value_says_what_dns_answered(api: ApiClient, resolver: Any) -> None:
    created = _add(api)
    _publish(resolver, created)
    ownership = _records(created)["ownership"]
    resolver.set(ownership["name"], "TXT", [txt("tidings-verification=somebody-else")])
    checked = api.post(f"domains/{created['id']}/verify").json()
    assert _records(checked)["ownership"]["state"] == "wrong"
    assert _records(checked)["ownership"]["seen"] == "tidings-verification=somebody-else"
    assert checked["verified"] is False


def test_two_spf_records_are_wrong(api: ApiClient, resolver: Any) -> None:
    created = _add(api)
    _publish(resolver, created)
    resolver.set("mail.example.org", "TXT", [txt("v=spf1 mx ~all"), txt("v=spf1 -all")])
    checked = api.post(f"domains/{created['id']}/verify").json()
    spf = _records(checked)["spf"]
    assert (spf["state"], spf["seen"]) == ("wrong", "more than one SPF record (receivers then ignore SPF)")


def test_a_stricter_dmarc_policy_is_fine(api: ApiClient, resolver: Any) -> None:
    created = _add(api)
    _publish(resolver, created)
    resolver.set("_dmarc.mail.example.org", "TXT", [txt("v=DMARC1; p=reject")])
    assert _records(api.post(f"domains/{created['id']}/verify").json())["dmarc"]["state"] == "found"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gmail.com", "gmail.com is a mailbox provider's domain; send from a domain of your own"),
        ("localhost", "is not a valid domain name, e.g. mail.example.com"),
        ("bad_domain.com", "is not a valid domain name, e.g. mail.example.com"),
        ("", "must not be empty"),
    ],
)
def test_free_mail_and_malformed_domains_are_refused(
    api: ApiClient, project: Project, name: str, message: str
) -> None:
    response = api.post("domains", {"domain": name})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": "domain", "message": message}]
    assert not SendingDomain.objects.filter(project=project).exists()


def test_the_same_domain_twice_is_a_conflict(api: ApiClient, resolver: Any) -> None:
    _add(api, "Mail.Example.org.")
    assert api.post("domains", {"domain": "mail.example.org"}).status_code == 409


def test_another_projects_domain_is_not_found(api: ApiClient, other_api: ApiClient, resolver: Any) -> None:
    created = _add(api)
    for call in (
        lambda: other_api.get(f"domains/{created['id']}"),
        lambda: other_api.post(f"domains/{created['id']}/verify"),
        lambda: other_api.delete(f"domains/{created['id']}"),
    ):
        assert call().status_code == 404
    domain = SendingDomain.objects.get(pk=created["id"])
    assert domain.last_checked_at is None
    assert resolver.queries == []
