"""``client.webhooks`` against the live server, delivering to a receiver on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.client.conftest import StubApi
from tidings.client import NotFoundError, Tidings, ValidationError


@pytest.fixture
def receiver(settings: Any, stub: StubApi) -> StubApi:
    """The stand-in server as the endpoint; 127.0.0.1 is allowed, as on a developer's machine."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return stub


def test_webhook_endpoint_round_trip(client: Tidings, receiver: StubApi) -> None:
    types = {t.type for t in client.webhooks.event_types()}
    assert "contact.created" in types
    endpoint = client.webhooks.create(f"{receiver.url}/hooks", description="Orders", events=["*"])
    assert endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.enabled is True
    assert [e.id for e in client.webhooks.list()] == [endpoint.id]
    assert client.webhooks.get(endpoint.id).secret is None

    delivery = client.webhooks.test(endpoint.id)
    assert delivery.event_type == "webhook.test"
    assert delivery.state == "succeeded"
    assert delivery.attempt_log
    assert delivery.attempt_log[0].status == 200
    posted = receiver.seen[-1]
    assert posted.path == "/hooks"
    assert posted.headers["tidings-signature"].startswith("t=")
    assert json.loads(posted.body)

    assert [d.id for d in client.webhooks.deliveries(endpoint.id)] == [delivery.id]
    assert client.webhooks.delivery(delivery.id).body
    again = client.webhooks.retry_delivery(delivery.id)
    assert again.id == delivery.id

    rotated = client.webhooks.rotate_secret(endpoint.id)
    assert rotated.secret
    assert rotated.secret != endpoint.secret
    assert rotated.secret_rotated_until is not None
    assert client.webhooks.update(endpoint.id, enabled=False).enabled is False
    with pytest.raises(ValidationError) as caught:
        client.webhooks.update(endpoint.id, url="ftp://example.com/")
    assert [e.path for e in caught.value.errors] == ["url"]
    client.webhooks.delete(endpoint.id)
    with pytest.raises(NotFoundError):
        client.webhooks.get(endpoint.id)
