"""Provider connections through the API: settings, secrets kept secret, one default, and
"test connection" against a real SMTP server on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.sending.smtp_server import closed_port
from tidings.core.models import Project
from tidings.sending.models import ProviderConnection

pytestmark = pytest.mark.django_db


def _smtp(api: ApiClient, server: Any, **options: Any) -> dict[str, Any]:
    secrets = options.pop("secrets", {})
    body = {
        "name": options.pop("name", "Relay"),
        "kind": "smtp",
        "options": {"host": server.host, "port": server.port, "security": "none", **options},
        "secrets": secrets,
    }
    response = api.post("connections", body)
    assert response.status_code == 201, response.content
    return response.json()


def _check(api: ApiClient, connection: dict[str, Any]) -> dict[str, Any]:
    return api.post(f"connections/{connection['id']}/check").json()


def test_the_first_connection_is_the_default(api: ApiClient) -> None:
    first = api.post("connections", {"name": "Outbox", "kind": "outbox"}).json()
    second = api.post("connections", {"name": "Other outbox", "kind": "outbox"}).json()
    assert (first["isDefault"], second["isDefault"]) == (True, False)


def test_making_one_the_default_unmakes_the_other(api: ApiClient, project: Project) -> None:
    first = api.post("connections", {"name": "A", "kind": "outbox"}).json()
    second = api.post("connections", {"name": "B", "kind": "outbox", "isDefault": True}).json()
    defaults = list(
        ProviderConnection.objects.filter(project=project, is_default=True).values_list("pk", flat=True)
    )
    assert defaults == [second["id"]]
    assert api.get(f"connections/{first['id']}").json()["isDefault"] is False


def test_deleting_the_default_makes_the_oldest_remaining_one_default(api: ApiClient) -> None:
    first = api.post("connections", {"name": "A", "kind": "outbox"}).json()
    second = api.post("connections", {"name": "B", "kind": "outbox"}).json()
    assert api.delete(f"connections/{first['id']}").status_code == 204
    assert api.get(f"connections/{second['id']}").json()["isDefault"] is True


def test_secrets_are_stored_encrypted_and_never_returned(api: ApiClient, smtp_server: Any) -> None:
    created = _smtp(api, smtp_server, username="mailer", secrets={"password": "pa55-word"})
    assert created["secretsSet"] == ["password"]
    assert "pa55-word" not in api.get(f"connections/{created['id']}").content.decode()
    stored = ProviderConnection.objects.get(pk=created["id"]).secrets_encrypted
    assert stored
    assert "pa55-word" not in stored


def test_pointing_a_connection_at_another_host_forgets_its_password(api: ApiClient, smtp_server: Any) -> None:
    created = _smtp(api, smtp_server, username="mailer", secrets={"password": "pa55-word"})
    moved = api.patch(
        f"connections/{created['id']}", {"options": {"host": "relay.example.net", "username": "mailer"}}
    ).json()
    assert moved["secretsSet"] == []


def test_changing_the_port_keeps_the_password(api: ApiClient, smtp_server: Any) -> None:
    created = _smtp(api, smtp_server, username="mailer", secrets={"password": "pa55-word"})
    options = {**created["options"], "port": 2525}
    assert api.patch(f"connections/{created['id']}", {"options": options}).json()["secretsSet"] == [
        "password"
    ]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": "x", "kind": "fax"},
            [
                {
                    "path": "kind",
                    "message": "must be one of: outbox, smtp, ses, sendgrid, mailgun, resend, postmark",
                }
            ],
        ),
        ({"name": "x", "kind": "smtp"}, [{"path": "options.host", "message": "is required"}]),
        (
            {"name": "x", "kind": "smtp", "options": {"host": "h", "port": 70000}},
            [{"path": "options.port", "message": "must be between 1 and 65535"}],
        ),
        (
            {"name": "x", "kind": "smtp", "options": {"host": "h", "password": "p"}},
            [{"path": "options.password", "message": "belongs in secrets"}],
        ),
        (
            {"name": "x", "kind": "sendgrid", "options": {"apiUrl": "ftp://x"}},
            [
                {"path": "options.apiUrl", "message": "must be an http(s) address"},
                {"path": "secrets.apiKey", "message": "is required"},
            ],
        ),
        (
            {"name": "x", "kind": "smtp", "options": {"host": "h\r\nBcc: evil@example.com"}},
            [{"path": "options.host", "message": "must be one line of at most 500 characters"}],
        ),
    ],
)
def test_bad_settings_are_refused_field_by_field(
    api: ApiClient, project: Project, body: dict[str, Any], errors: list[dict[str, str]]
) -> None:
    response = api.post("connections", body)
    assert response.status_code == 422
    assert response.json()["errors"] == errors
    assert not ProviderConnection.objects.filter(project=project).exists()


def test_a_second_connection_with_the_same_name_is_a_conflict(api: ApiClient) -> None:
    api.post("connections", {"name": "Outbox", "kind": "outbox"})
    assert api.post("connections", {"name": "Outbox", "kind": "outbox"}).status_code == 409


def test_check_of_a_working_relay_succeeds(api: ApiClient, smtp_server: Any) -> None:
    result = _check(api, _smtp(api, smtp_server))
    assert result == {"ok": True, "code": "ok", "message": f"{smtp_server.host}:{smtp_server.port} answered."}
    assert smtp_server.messages == []  # nothing was sent


def test_check_with_the_right_login_succeeds(api: ApiClient, smtp_auth_server: Any) -> None:
    created = _smtp(api, smtp_auth_server, username="mailer", secrets={"password": "s3cret"})
    result = _check(api, created)
    assert (result["ok"], result["code"]) == (True, "ok")
    assert "accepted the login of mailer" in result["message"]


def test_check_with_a_wrong_password_says_auth_failed(api: ApiClient, smtp_auth_server: Any) -> None:
    created = _smtp(api, smtp_auth_server, username="mailer", secrets={"password": "wrong"})
    result = _check(api, created)
    assert (result["ok"], result["code"]) == (False, "auth_failed")
    assert "refused the username or password (535" in result["message"]
    stored = api.get(f"connections/{created['id']}").json()
    assert (stored["lastCheckOk"], stored["lastCheckMessage"]) == (False, result["message"])


def test_check_of_a_closed_port_says_unreachable(api: ApiClient, smtp_server: Any) -> None:
    created = _smtp(api, smtp_server)
    api.patch(f"connections/{created['id']}", {"options": {**created["options"], "port": closed_port()}})
    result = _check(api, created)
    assert (result["ok"], result["code"]) == (False, "unreachable")
    assert "could not be reached" in result["message"]


def test_check_asking_starttls_of_a_server_without_it_says_so(api: ApiClient, smtp_server: Any) -> None:
    result = _check(api, _smtp(api, smtp_server, security="starttls"))
    assert (result["ok"], result["code"]) == (False, "tls_unavailable")


def test_check_of_an_unverifiable_certificate_is_a_tls_error(
    api: ApiClient, smtp_starttls_server: Any
) -> None:
    result = _check(api, _smtp(api, smtp_starttls_server, security="starttls"))
    assert (result["ok"], result["code"]) == (False, "tls_error")
    assert "does not verify" in result["message"]


def test_check_with_starttls_and_a_trusted_ca_succeeds(
    api: ApiClient, smtp_starttls_server: Any, settings: Any
) -> None:
    settings.SMTP_CA_FILE = str(smtp_starttls_server.ca_file)
    result = _check(api, _smtp(api, smtp_starttls_server, security="starttls"))
    assert (result["ok"], result["code"]) == (True, "ok")


def test_check_with_implicit_tls_and_a_trusted_ca_succeeds(
    api: ApiClient, smtp_tls_server: Any, settings: Any
) -> None:
    settings.SMTP_CA_FILE = str(smtp_tls_server.ca_file)
    result = _check(api, _smtp(api, smtp_tls_server, security="tls"))
    assert (result["ok"], result["code"]) == (True, "ok")


def test_check_of_the_outbox_names_its_folder(api: ApiClient) -> None:
    created = api.post("connections", {"name": "Outbox", "kind": "outbox"}).json()
    result = _check(api, created)
    assert (result["ok"], result["code"]) == (True, "ok")
    assert "/outbox and delivered nowhere" in result["message"]


def test_an_esp_connection_is_not_checked_from_here_and_says_so(api: ApiClient) -> None:
    created = api.post(
        "connections", {"name": "SG", "kind": "sendgrid", "secrets": {"apiKey": "SG.x"}}
    ).json()
    assert _check(api, created)["code"] == "unchecked"


def test_another_projects_connection_is_not_found_and_unchanged(
    api: ApiClient, other_api: ApiClient, smtp_server: Any
) -> None:
    created = _smtp(api, smtp_server, username="mailer", secrets={"password": "pa55-word"})
    for call in (
        lambda: other_api.get(f"connections/{created['id']}"),
        lambda: other_api.patch(f"connections/{created['id']}", {"name": "Mine"}),
        lambda: other_api.post(f"connections/{created['id']}/check"),
        lambda: other_api.delete(f"connections/{created['id']}"),
    ):
        assert call().status_code == 404
    connection = ProviderConnection.objects.get(pk=created["id"])
    assert (connection.name, connection.last_checked_at) == ("Relay", None)
