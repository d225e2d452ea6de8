"""Settings → Domains: add, the records to publish, Verify against loopback DNS, delete; roles, tenancy."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.sending.dns_server import dns_server, txt
from tidings.core.models import Project, Role
from tidings.sending import domains
from tidings.sending.models import SendingDomain

pytestmark = pytest.mark.django_db

__all__ = ["dns_server"]

LIST = "/settings/domains/"
ROW_STATE = re.compile(r'<tr id="record-([a-z0-9-]+)" data-state="([a-z]+)"')


@pytest.fixture
def resolver(dns_server: Any, settings: Any) -> Any:
    settings.DNS_RESOLVER = dns_server.address
    settings.SPF_INCLUDE = ""
    settings.RETURN_PATH_HOST = "bounces.tidings.example"
    return dns_server


@pytest.fixture
def domain(project: Project, resolver: Any) -> SendingDomain:
    return domains.domain_create(project=project, domain="mail.example.org")


def _body(response: Any) -> str:
    return html.unescape(response.content.decode())


def _publish(server: Any, domain: SendingDomain, *, skip: tuple[str, ...] = ()) -> None:
    for record in domains.domain_records(domain):
        if record.purpose not in skip:
            value = txt(record.value) if record.type == "TXT" else record.value
            server.set(record.name, record.type, [value])


def _states(body: str) -> dict[str, str]:
    return dict(ROW_STATE.findall(body))


def _verify(client: Client, domain: SendingDomain) -> str:
    response = client.post(f"{LIST}{domain.pk}/verify/", follow=True)
    assert response.redirect_chain == [(f"{LIST}{domain.pk}/", 302)]
    return _body(response)


# -- the list and adding -------------------------------------------------------------


def test_an_admin_adds_a_domain_and_is_shown_its_records(
    project: Project, owner_client: Client, resolver: Any
) -> None:
    response = owner_client.post(LIST, {"domain": " Mail.Example.ORG. "}, follow=True)
    domain = SendingDomain.objects.get(project=project)
    assert domain.domain == "mail.example.org"
    assert response.redirect_chain == [(f"{LIST}{domain.pk}/", 302)]
    body = _body(response)
    assert "mail.example.org was added. Publish these records, then verify the domain." in body
    assert "Not checked yet" in body

    listed = _body(owner_client.get(LIST))
    row = listed[listed.index(f'<tr id="domain-{domain.pk}">') :]
    row = row[: row.index("</tr>")]
    assert f'href="{LIST}{domain.pk}/"' in row
    assert "Not verified" in row
    assert "Never" in row


def test_a_verified_domain_is_listed_with_when(project: Project, owner_client: Client, domain: Any) -> None:
    domains.domain_verify(domain=domain)  # nothing published: checked, not verified
    SendingDomain.objects.filter(pk=domain.pk).update(verified_at=domain.last_checked_at)
    body = _body(owner_client.get(LIST))
    stamp = domain.last_checked_at.strftime("%Y-%m-%d %H:%M")
    assert 'Verified</span> <span class="muted">at <time datetime=' in body
    assert body.count(stamp) == 2  # verified at, last checked


def test_a_free_mail_domain_is_refused_on_the_field(project: Project, owner_client: Client) -> None:
    response = owner_client.post(LIST, {"domain": "gmail.com"})
    assert response.status_code == 422
    body = _body(response)
    assert "gmail.com is a mailbox provider's domain; send from a domain of your own." in body
    assert 'class="field field-invalid"' in body
    assert not SendingDomain.objects.exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("not a domain", "“not a domain” is not a valid domain name"),
        ("localhost", "“localhost” is not a valid domain name, e.g. mail.example.com."),
        ("-bad-.example.org", "“-bad-.example.org” is not a valid domain name"),
        ("", "Must not be empty."),
    ],
)
def test_an_invalid_domain_is_refused_on_the_field(
    project: Project, owner_client: Client, given: str, message: str
) -> None:
    response = owner_client.post(LIST, {"domain": given})
    assert response.status_code == 422
    assert message in _body(response)
    assert not SendingDomain.objects.exists()


def test_a_domain_added_twice_is_refused(project: Project, owner_client: Client, domain: Any) -> None:
    response = owner_client.post(LIST, {"domain": "MAIL.example.org"})
    assert response.status_code == 422
    assert "mail.example.org is already a sending domain of this project." in _body(response)
    assert SendingDomain.objects.filter(project=project).count() == 1


def test_the_same_domain_may_be_added_by_another_project(
    other_project: Project, owner_client: Client, domain: Any, resolver: Any
) -> None:
    domains.domain_create(project=other_project, domain="mail.example.org")
    assert owner_client.post(LIST, {"domain": "news.example.org"}).status_code == 302
    listed = _body(owner_client.get(LIST))
    assert listed.count('<tr id="domain-') == 2


# -- the records and Verify ------------------------------------------------------------


def test_the_detail_page_lists_every_record_to_publish(owner_client: Client, domain: Any) -> None:
    body = _body(owner_client.get(f"{LIST}{domain.pk}/"))
    assert _states(body) == dict.fromkeys(
        ["ownership", "dkim-rsa", "dkim-ed25519", "spf", "dmarc", "return-path"], "unchecked"
    )
    for record in domains.domain_records(domain):
        assert f'<code class="break">{record.name}</code>' in body
        assert f'<code class="break" id="value-{record.purpose}">{record.value}</code>' in body
        assert f'data-copy="value-{record.purpose}"' in body
    assert "_tidings.mail.example.org</code>" in body
    assert f"tidings-verification={domain.verification_token}" in body
    assert f"{domain.rsa_selector}._domainkey.mail.example.org" in body
    assert f"v=DKIM1; k=rsa; p={domain.rsa_public_key}" in body
    assert f"{domain.ed25519_selector}._domainkey.mail.example.org" in body
    assert f"v=DKIM1; k=ed25519; p={domain.ed25519_public_key}" in body
    assert "v=spf1 mx ~all" in body
    assert "v=DMARC1; p=none; rua=mailto:dmarc@mail.example.org" in body
    assert "<code>CNAME</code>" in body
    assert "bounces.mail.example.org</code>" in body
    assert "bounces.tidings.example.</code>" in body
    assert "PRIVATE" not in body
    assert "Not verified" in body
    assert f'action="{LIST}{domain.pk}/verify/"' in body


def test_every_record_published_verifies_the_domain(owner_client: Client, domain: Any, resolver: Any) -> None:
    _publish(resolver, domain)
    body = _verify(owner_client, domain)
    assert _states(body) == dict.fromkeys(
        ["ownership", "dkim-rsa", "dkim-ed25519", "spf", "dmarc", "return-path"], "found"
    )
    assert "mail.example.org is verified; every record was found." in body
    domain.refresh_from_db()
    assert domain.verified_at is not None
    status = body[body.index('id="domain-status"') :]
    status = status[: status.index("</p>")]
    assert '<span class="badge badge-ok">Verified</span>' in status
    assert "Last checked" in status
    assert "Verified" in _body(owner_client.get(LIST))


def test_a_wrong_dkim_value_shows_what_was_expected_and_what_was_found(
    owner_client: Client, domain: Any, resolver: Any
) -> None:
    _publish(resolver, domain)
    ed25519 = next(r for r in domains.domain_records(domain) if r.purpose == "dkim-ed25519")
    published = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    resolver.set(ed25519.name, "TXT", [txt(published)])
    body = _verify(owner_client, domain)
    states = _states(body)
    assert states.pop("dkim-ed25519") == "wrong"
    assert set(states.values()) == {"found"}
    wrong = body[body.index('id="record-dkim-ed25519-wrong"') :]
    wrong = wrong[: wrong.index("</tr>")]
    assert f'<dt>Expected</dt><dd><code class="break">{ed25519.value}</code></dd>' in wrong
    assert f'<dt>Found</dt><dd><code class="break">{published}</code></dd>' in wrong
    assert "Wrong value" in body
    assert "mail.example.org is not verified yet" in body
    domain.refresh_from_db()
    assert domain.verified_at is None


def test_a_missing_record_says_so(owner_client: Client, domain: Any, resolver: Any) -> None:
    _publish(resolver, domain, skip=("dkim-rsa", "dmarc"))
    body = _verify(owner_client, domain)
    states = _states(body)
    assert (states["dkim-rsa"], states["dmarc"], states["ownership"]) == ("missing", "missing", "found")
    row = body[body.index('id="record-dkim-rsa"') :]
    row = row[: row.index("</tr>")]
    assert 'Missing</span><br><span class="muted">no such name</span>' in row
    assert "mail.example.org is not verified yet" in body
    assert "record-dkim-rsa-wrong" not in body


def test_a_domain_verified_without_dmarc_says_what_is_left(
    owner_client: Client, domain: Any, resolver: Any
) -> None:
    _publish(resolver, domain, skip=("dmarc",))
    resolver.set("mail.example.org", "TXT", [txt("v=spf1 mx ~all"), txt("v=spf1 -all")])
    body = _verify(owner_client, domain)
    assert "mail.example.org is verified. Still to fix: SPF, DMARC." in body
    spf = body[body.index('id="record-spf-wrong"') :]
    spf = spf[: spf.index("</tr>")]
    assert "<dt>Found</dt><dd>more than one SPF record (receivers then ignore SPF)</dd>" in spf


def test_verify_is_a_post(owner_client: Client, domain: Any) -> None:
    assert owner_client.get(f"{LIST}{domain.pk}/verify/").status_code == 405
    domain.refresh_from_db()
    assert domain.last_checked_at is None


# -- deleting --------------------------------------------------------------------------


def test_deleting_asks_first_then_deletes(owner_client: Client, domain: Any) -> None:
    confirm = owner_client.get(f"{LIST}{domain.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete “mail.example.org”?" in _body(confirm)
    assert SendingDomain.objects.filter(pk=domain.pk).exists()
    response = owner_client.post(f"{LIST}{domain.pk}/delete/", follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    body = _body(response)
    assert "mail.example.org was deleted, with its DKIM keys." in body
    assert "There are no sending domains in Acme Mail yet." in body
    assert not SendingDomain.objects.filter(pk=domain.pk).exists()


# -- roles, tenancy, CSRF ----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_viewers_and_editors_may_look_but_not_change(
    project: Project, member_client: Callable[..., Client], domain: Any, resolver: Any, role: Role
) -> None:
    _publish(resolver, domain)
    client = member_client(project, role)
    listed = _body(client.get(LIST))
    assert "mail.example.org" in listed
    assert "admins and owners can add, verify and delete them" in listed
    assert 'name="domain"' not in listed
    detail = client.get(f"{LIST}{domain.pk}/")
    assert detail.status_code == 200
    assert "/verify/" not in detail.content.decode()
    assert "/delete/" not in detail.content.decode()

    assert client.post(LIST, {"domain": "news.example.org"}).status_code == 403
    assert client.post(f"{LIST}{domain.pk}/verify/").status_code == 403
    assert client.get(f"{LIST}{domain.pk}/delete/").status_code == 403
    assert client.post(f"{LIST}{domain.pk}/delete/").status_code == 403
    domain.refresh_from_db()
    assert domain.last_checked_at is None
    assert list(SendingDomain.objects.values_list("domain", flat=True)) == ["mail.example.org"]


def test_an_admin_may_change(project: Project, member_client: Callable[..., Client], resolver: Any) -> None:
    admin = member_client(project, Role.ADMIN)
    assert admin.post(LIST, {"domain": "news.example.org"}).status_code == 302
    domain = SendingDomain.objects.get(project=project)
    assert admin.post(f"{LIST}{domain.pk}/verify/").status_code == 302
    assert admin.post(f"{LIST}{domain.pk}/delete/").status_code == 302
    assert not SendingDomain.objects.exists()


def test_another_projects_domain_is_not_found(
    owner_client: Client, other_project: Project, resolver: Any
) -> None:
    theirs = domains.domain_create(project=other_project, domain="rival.example.org")
    for url in (f"{LIST}{theirs.pk}/", f"{LIST}{theirs.pk}/delete/"):
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(f"{LIST}{theirs.pk}/verify/").status_code == 404
    assert owner_client.post(f"{LIST}{theirs.pk}/delete/").status_code == 404
    assert "rival.example.org" not in owner_client.get(LIST).content.decode()
    theirs.refresh_from_db()
    assert theirs.last_checked_at is None
    assert resolver.queries == []


def test_adding_without_a_csrf_token_is_refused(project: Project, owner: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(LIST, {"domain": "mail.example.org"}).status_code == 403
    assert not SendingDomain.objects.exists()
