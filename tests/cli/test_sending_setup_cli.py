"""`tidings connections` and `tidings domains`: test a connection, add and verify a sending domain."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_campaigns_cli import Done, Run
from tests.sending import factories as f
from tests.sending.dns_server import txt
from tidings.sending.domains import domain_records
from tidings.sending.models import SendingDomain
from tidings.sending.services import connection_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def tidings(capsys: pytest.CaptureFixture[str]) -> Run:
    """``tidings ARGS`` in this process: exit code, stdout and stderr."""
    from tidings import cli

    def run(*args: Any) -> Done:
        capsys.readouterr()
        try:
            cli.main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Done(code, captured.out, captured.err)

    return run


def test_connections_are_listed_and_checked(project: Any, smtp_server: Any, tidings: Any) -> None:
    relay = f.smtp_connection(project, smtp_server)
    listed = tidings("connections", "list", "--project", project.slug)
    assert listed.code == 0
    assert "Relay (default)" in listed.out
    assert "never" in listed.out
    checked = tidings("connections", "check", relay.pk, "--project", project.slug)
    assert checked.code == 0
    assert checked.out.startswith("Relay: ok:")
    assert "ok" in tidings("connections", "list", "--project", project.slug).out


def test_a_refused_login_is_one_clear_line_and_exit_1(
    project: Any, smtp_auth_server: Any, tidings: Any
) -> None:
    relay = connection_create(
        project=project,
        name="Relay",
        kind="smtp",
        options={
            "host": smtp_auth_server.host,
            "port": smtp_auth_server.port,
            "security": "none",
            "username": "x",
        },
        secrets_given={"password": "wrong"},
    )
    checked = tidings("connections", "check", relay.pk, "--project", project.slug)
    assert checked.code == 1
    # (the SMTP server in this process logs to the same stderr: read the CLI's own line)
    [line] = [line for line in checked.err_lines if line.startswith("tidings:")]
    assert line.startswith("tidings: Relay: auth_failed:")


def test_another_projects_connection_is_not_found(project: Any, other_project: Any, tidings: Any) -> None:
    theirs = f.outbox_connection(other_project)
    checked = tidings("connections", "check", theirs.pk, "--project", project.slug)
    assert checked.code == 1
    assert "not found" in checked.err


def test_a_domain_is_added_shown_and_verified(
    project: Any, dns_server: Any, settings: Any, tidings: Any
) -> None:
    settings.DNS_RESOLVER = f"{dns_server.host}:{dns_server.port}"
    settings.SPF_INCLUDE = ""
    added = tidings("domains", "add", "mail.example.org", "--project", project.slug)
    assert added.code == 0
    assert "tidings domains verify mail.example.org" in added.out
    assert "_tidings.mail.example.org" in added.out
    domain = SendingDomain.objects.get(project=project)
    unverified = tidings("domains", "verify", "mail.example.org", "--project", project.slug)
    assert unverified.code == 1
    assert "missing" in unverified.out
    assert unverified.err_lines == ["tidings: mail.example.org is not verified yet"]
    for record in domain_records(domain):
        value = txt(record.value) if record.type == "TXT" else record.value
        dns_server.set(record.name, record.type, [value])
    verified = tidings("domains", "verify", "mail.example.org", "--project", project.slug)
    assert verified.code == 0
    assert verified.out.strip().endswith("mail.example.org is verified")
    assert "verified" in tidings("domains", "list", "--project", project.slug).out
    records = tidings("domains", "records", "mail.example.org", "--project", project.slug)
    assert domain.rsa_public_key in records.out


def test_free_mail_and_unknown_domains_are_refused(project: Any, tidings: Any) -> None:
    refused = tidings("domains", "add", "gmail.com", "--project", project.slug)
    assert refused.code == 1
    assert "gmail.com" in refused.err
    missing = tidings("domains", "verify", "nowhere.example", "--project", project.slug)
    assert missing.code == 1
    assert "no sending domain nowhere.example" in missing.err
    assert not SendingDomain.objects.exists()
