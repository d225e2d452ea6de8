"""Settings → Webhooks: add (the secret shown once), change, test, rotate, delete, the delivery log;
roles and other projects. The test event goes to a real HTTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.hooks.conftest import receiver  # noqa: F401
from tests.web.test_browser import _log_in
from tidings.core.models import Project, Role
from tidings.hooks.models import WebhookDelivery, WebhookEndpoint
from tidings.hooks.services import endpoint_create

WEBHOOKS = "/settings/webhooks/"
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")


def _body(response: Any) -> str:
    return response.content.decode()


def test_an_added_endpoint_shows_its_secret_once(project: Project, owner_client: Client, receiver) -> None:  # noqa: F811
    response = owner_client.post(
        WEBHOOKS, {"url": receiver.url(), "events": ["contact.created", "message.bounced"], "enabled": "on"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = SECRET.search(_body(response)).group()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.project_id == project.pk
    assert endpoint.events == ["contact.created", "message.bounced"]
    assert endpoint.enabled
    listed = _body(owner_client.get(WEBHOOKS))
    assert receiver.url() in listed
    assert secret not in listed
    assert secret not in _body(owner_client.get(f"{WEBHOOKS}{endpoint.pk}/"))


def test_a_private_address_is_refused_on_the_form(owner_client: Client) -> None:
    response = owner_client.post(WEBHOOKS, {"url": "https://169.254.169.254/latest", "events": ["*"]})
    assert response.status_code == 200
    assert "private or reserved address" in _body(response)
    assert WebhookEndpoint.objects.count() == 0


def test_change_test_and_read_the_log(project: Project, owner_client: Client, receiver) -> None:  # noqa: F811
    endpoint = endpoint_create(project=project, values={"url": receiver.url()}).endpoint
    page = f"{WEBHOOKS}{endpoint.pk}/"
    saved = owner_client.post(page, {"url": receiver.url("/v2"), "events": ["contact.updated"]})
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        receiver.url("/v2"),
        ["contact.updated"],
        False,
    )
    receiver.answer(503, b"down for maintenance")
    tested = owner_client.post(f"{page}test/", follow=True)
    body = _body(tested)
    assert "The test event was not delivered: answered 503 Service Unavailable." in body
    assert "down for maintenance" in body
    assert "webhook.test" in body
    assert receiver.received[0].path == "/v2"
    delivery = WebhookDelivery.objects.get()
    assert f"/settings/webhooks/deliveries/{delivery.pk}/" in _body(owner_client.get(page))
    assert "webhook.test" not in _body(owner_client.get(f"{page}?state=succeeded"))
    # Send again: the endpoint is back.
    assert owner_client.post(f"/settings/webhooks/deliveries/{delivery.pk}/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_rotate_and_delete(project: Project, owner_client: Client, receiver) -> None:  # noqa: F811
    endpoint = endpoint_create(project=project, values={"url": receiver.url()}).endpoint
    rotated = owner_client.post(f"{WEBHOOKS}{endpoint.pk}/rotate/")
    assert "no-store" in rotated["Cache-Control"]
    assert SECRET.search(_body(rotated))
    assert "For 24 hours events are signed with the old secret too" in _body(rotated)
    assert "Delete the webhook" in _body(owner_client.get(f"{WEBHOOKS}{endpoint.pk}/delete/"))
    assert owner_client.post(f"{WEBHOOKS}{endpoint.pk}/delete/").status_code == 302
    assert WebhookEndpoint.objects.count() == 0


def test_a_viewer_sees_but_cannot_change(
    project: Project,
    member_client: Callable[..., Client],
    receiver,  # noqa: F811
) -> None:
    endpoint = endpoint_create(project=project, values={"url": receiver.url()}).endpoint
    viewer = member_client(project, Role.VIEWER)
    assert receiver.url() in _body(viewer.get(WEBHOOKS))
    assert viewer.post(WEBHOOKS, {"url": receiver.url(), "events": ["*"]}).status_code == 403
    for action in ("", "test/", "rotate/", "delete/"):
        assert viewer.post(f"{WEBHOOKS}{endpoint.pk}/{action}").status_code == 403
    assert receiver.received == []
    assert WebhookEndpoint.objects.count() == 1


def test_another_projects_endpoint_is_not_found(
    project: Project,
    other_project: Project,
    owner_client: Client,
    receiver,  # noqa: F811
) -> None:
    theirs = endpoint_create(project=other_project, values={"url": receiver.url()}).endpoint
    for action in ("", "test/", "rotate/", "delete/"):
        assert owner_client.post(f"{WEBHOOKS}{theirs.pk}/{action}").status_code == 404
    assert owner_client.get(f"{WEBHOOKS}{theirs.pk}/").status_code == 404
    assert receiver.received == []


@pytest.mark.browser
def test_add_an_endpoint_and_send_a_test_event_in_the_browser(
    transactional_db: None,
    live_server: Any,
    page: Page,
    project: Project,
    owner: Any,
    receiver,  # noqa: F811
) -> None:
    _log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}{WEBHOOKS}")
    page.get_by_label("URL").fill(receiver.url())
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert SECRET.fullmatch(secret)
    page.get_by_role("link", name="Go to the endpoint").click()
    page.get_by_role("button", name="Send test event").click()
    expect(page.locator("body")).to_contain_text("The test event was delivered: the endpoint answered 200.")
    assert receiver.received[0].headers["Tidings-Event"] == "webhook.test"
