"""Settings → Email providers: add, test, make default, delete; secrets stay secret; roles and tenancy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.sending.conftest import smtp_auth_server
from tidings.core.models import Project, Role
from tidings.sending import services
from tidings.sending.models import ProviderConnection

pytestmark = pytest.mark.django_db

__all__ = ["smtp_auth_server"]


def _smtp_form(server: Any, **values: Any) -> dict[str, Any]:
    return {
        "kind": "smtp",
        "name": "Relay",
        "opt_host": server.host,
        "opt_port": server.port,
        "opt_security": "none",
        "opt_username": "mailer",
        "opt_password": "s3cret",
        "opt_timeout": 5,
        **values,
    }


def test_an_admin_adds_an_smtp_relay_and_tests_it(
    project: Project, owner_client: Client, smtp_auth_server: Any
) -> None:
    response = owner_client.post(
        "/settings/providers/new/?kind=smtp", _smtp_form(smtp_auth_server), follow=True
    )
    body = response.content.decode()
    connection = ProviderConnection.objects.get(project=project)
    assert "“Relay” was added. Test it before sending." in body
    assert connection.is_default is True
    assert "s3cret" not in body
    assert "s3cret" not in connection.secrets_encrypted
    tested = owner_client.post(f"/settings/providers/{connection.pk}/check/", follow=True).content.decode()
    assert (
        f"Relay: {smtp_auth_server.host}:{smtp_auth_server.port} answered and accepted the login of mailer."
        in tested
    )
    assert "Worked" in tested


def test_a_wrong_password_is_reported_plainly(
    project: Project, owner_client: Client, smtp_auth_server: Any
) -> None:
    owner_client.post("/settings/providers/new/?kind=smtp", _smtp_form(smtp_auth_server, opt_password="nope"))
    connection = ProviderConnection.objects.get(project=project)
    tested = owner_client.post(f"/settings/providers/{connection.pk}/check/", follow=True).content.decode()
    assert "refused the username or password (535" in tested


def test_a_bad_port_is_shown_on_its_field(
    project: Project, owner_client: Client, smtp_auth_server: Any
) -> None:
    response = owner_client.post(
        "/settings/providers/new/?kind=smtp", _smtp_form(smtp_auth_server, opt_port=70000)
    )
    assert response.status_code == 422
    assert "Must be between 1 and 65535" in response.content.decode()
    assert not ProviderConnection.objects.exists()


def test_editing_without_a_password_keeps_the_stored_one(
    project: Project, owner_client: Client, smtp_auth_server: Any
) -> None:
    owner_client.post("/settings/providers/new/?kind=smtp", _smtp_form(smtp_auth_server))
    connection = ProviderConnection.objects.get(project=project)
    owner_client.post(
        f"/settings/providers/{connection.pk}/",
        _smtp_form(smtp_auth_server, name="Main relay", opt_password=""),
    )
    connection.refresh_from_db()
    assert connection.name == "Main relay"
    assert services.connection_secrets(connection) == {"password": "s3cret"}


def test_make_default_and_delete(project: Project, owner_client: Client) -> None:
    first = services.connection_create(project=project, name="A", kind="outbox")
    second = services.connection_create(project=project, name="B", kind="outbox")
    owner_client.post(f"/settings/providers/{second.pk}/default/")
    first.refresh_from_db()
    assert first.is_default is False
    owner_client.post(f"/settings/providers/{second.pk}/delete/")
    first.refresh_from_db()
    assert first.is_default is True
    assert not ProviderConnection.objects.filter(pk=second.pk).exists()


def test_an_editor_cannot_add_or_test_and_nothing_changes(
    project: Project, member_client: Callable[..., Client]
) -> None:
    outbox = services.connection_create(project=project, name="Outbox", kind="outbox")
    editor = member_client(project, Role.EDITOR)
    assert (
        editor.post("/settings/providers/new/?kind=outbox", {"kind": "outbox", "name": "X"}).status_code
        == 403
    )
    assert editor.post(f"/settings/providers/{outbox.pk}/check/").status_code == 403
    outbox.refresh_from_db()
    assert outbox.last_checked_at is None
    assert ProviderConnection.objects.filter(project=project).count() == 1


def test_another_projects_connection_is_not_found(owner_client: Client, other_project: Project) -> None:
    theirs = services.connection_create(project=other_project, name="Theirs", kind="outbox")
    for url in (f"/settings/providers/{theirs.pk}/", f"/settings/providers/{theirs.pk}/delete/"):
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(f"/settings/providers/{theirs.pk}/check/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.last_checked_at is None


def test_an_unknown_kind_is_not_found(owner_client: Client) -> None:
    assert owner_client.get("/settings/providers/new/?kind=fax").status_code == 404


def _postmark(project: Project) -> ProviderConnection:
    return services.connection_create(
        project=project, name="Postmark", kind="postmark", secrets_given={"serverToken": "pm-token"}
    )


def test_the_edit_page_shows_the_webhook_url_and_the_events_to_turn_on(
    project: Project, owner_client: Client
) -> None:
    connection = _postmark(project)
    body = owner_client.get(f"/settings/providers/{connection.pk}/").content.decode()
    password = services.connection_webhook_secret(connection)
    assert f"tidings:{password}@" in body
    assert f"/webhooks/{connection.webhook_key}/" in body
    for event in ("Delivery", "Bounce", "Spam Complaint", "Subscription Change", "Open", "Link Click"):
        assert f"<code>{event}</code>" in body
    assert "pm-token" not in body


def test_an_smtp_connection_has_no_webhook_section(
    project: Project, owner_client: Client, smtp_auth_server: Any
) -> None:
    owner_client.post("/settings/providers/new/?kind=smtp", _smtp_form(smtp_auth_server))
    connection = ProviderConnection.objects.get(project=project)
    body = owner_client.get(f"/settings/providers/{connection.pk}/").content.decode()
    assert "/webhooks/" not in body.replace("/settings/webhooks/", "")  # the menu links to those
    assert "Provider events" not in body


def test_an_admin_rotates_the_webhook_password(project: Project, owner_client: Client) -> None:
    connection = _postmark(project)
    old = services.connection_webhook_secret(connection)
    response = owner_client.post(f"/settings/providers/{connection.pk}/webhook-secret/", follow=True)
    connection.refresh_from_db()
    new = services.connection_webhook_secret(connection)
    assert new not in (None, old)
    body = response.content.decode()
    assert "has a new webhook password" in body
    assert f"tidings:{new}@" in body
    assert owner_client.get(f"/settings/providers/{connection.pk}/webhook-secret/").status_code == 405


def test_the_signing_secret_is_set_on_the_form_and_never_shown(
    project: Project, owner_client: Client
) -> None:
    connection = services.connection_create(
        project=project, name="Mailgun", kind="mailgun", secrets_given={"apiKey": "key-1"}
    )
    form = {"kind": "mailgun", "name": "Mailgun", "opt_webhookSigningKey": "key-signing-0123456789"}
    response = owner_client.post(f"/settings/providers/{connection.pk}/", form, follow=True)
    assert "“Mailgun” was saved." in response.content.decode()
    connection.refresh_from_db()
    assert services.connection_secrets(connection) == {
        "apiKey": "key-1",
        "webhookSigningKey": "key-signing-0123456789",
    }
    assert (
        "key-signing-0123456789"
        not in owner_client.get(f"/settings/providers/{connection.pk}/").content.decode()
    )


def test_an_editor_cannot_rotate_the_webhook_password(
    project: Project, member_client: Callable[..., Client]
) -> None:
    connection = _postmark(project)
    before = services.connection_webhook_secret(connection)
    editor = member_client(project, Role.EDITOR)
    assert editor.post(f"/settings/providers/{connection.pk}/webhook-secret/").status_code == 403
    connection.refresh_from_db()
    assert services.connection_webhook_secret(connection) == before


def test_another_projects_webhook_password_cannot_be_rotated(
    owner_client: Client, other_project: Project
) -> None:
    theirs = _postmark(other_project)
    before = services.connection_webhook_secret(theirs)
    assert owner_client.post(f"/settings/providers/{theirs.pk}/webhook-secret/").status_code == 404
    theirs.refresh_from_db()
    assert services.connection_webhook_secret(theirs) == before
