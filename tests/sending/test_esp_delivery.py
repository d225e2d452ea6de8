"""Campaigns through each email service provider's API, via django-anymail, to local stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sending import factories as f
from tidings.campaigns.models import CampaignStatus
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.sending.services import connection_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # Django 6.1 deprecates get_connection()
]


def _connection(project: Any, server: Any, api_key: str | None = None) -> Any:
    """A connection of the server's kind, configured the way a user would in Settings."""
    key = api_key or server.api_key
    if server.kind == "ses":
        options = {"region": server.region, "endpointUrl": server.url}
        secrets = {"accessKeyId": key, "secretAccessKey": server.secret_access_key}
    elif server.kind == "postmark":
        options, secrets = {"apiUrl": server.url}, {"serverToken": key}
    else:
        options, secrets = {"apiUrl": server.url}, {"apiKey": key}
    return connection_create(
        project=project,
        name=server.kind,
        kind=server.kind,
        options=options,
        secrets_given=secrets,
        is_default=True,
    )


def _campaign(project: Any, n: int = 3) -> tuple[Any, list[Any]]:
    f.verified_domain(project)
    news = f.tag(project)
    people = f.contacts(project, n, tag=news)
    return f.campaign(project, design_obj=f.design(project), tag_obj=news), people


def _run(campaign: Any) -> Any:
    campaign.refresh_from_db()
    return run_campaign(campaign)


def test_a_campaign_goes_out_through_the_provider_api(project, esp_server) -> None:
    _connection(project, esp_server)
    campaign, people = _campaign(project)
    campaign_start(campaign=campaign)
    result = _run(campaign)
    assert result.sent == 3
    accepted = {m["to"][0]: m for m in esp_server.accepted()}
    assert set(accepted) == {p.email for p in people}
    first = accepted[people[0].email]
    assert first["subject"] == "News for First0"
    assert "Hello First0" in first["html"]
    headers = {k.lower(): v for k, v in first["headers"].items()}
    assert headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    assert "/u/" in headers["list-unsubscribe"]
    for message in Message.objects.filter(campaign=campaign):
        assert message.state == MessageState.SENT
        assert message.provider_message_id
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_too_many_requests_is_retried_after_the_time_the_provider_asks(project, esp_server, settings) -> None:
    settings.SEND_RETRY_SECONDS = 1
    _connection(project, esp_server)
    campaign, _people = _campaign(project, n=1)
    esp_server.respond(429, headers={"Retry-After": "120"})
    campaign_start(campaign=campaign)
    result = _run(campaign)
    assert result.retried == 1
    assert result.stopped == "waiting"
    assert 110 < result.next_attempt_in <= 120
    message = Message.objects.get(campaign=campaign)
    assert message.state == MessageState.QUEUED
    assert "429" in message.error


def test_a_server_error_is_retried(project, esp_server, settings) -> None:
    settings.SEND_RETRY_SECONDS = 30
    _connection(project, esp_server)
    campaign, _people = _campaign(project, n=1)
    esp_server.respond(500)
    campaign_start(campaign=campaign)
    assert _run(campaign).retried == 1
    assert Message.objects.get(campaign=campaign).attempts == 1


def test_refused_credentials_stop_the_campaign_and_keep_every_message(project, esp_server) -> None:
    _connection(project, esp_server, api_key="wrong-key")
    campaign, _people = _campaign(project, n=2)
    campaign_start(campaign=campaign)
    assert _run(campaign).stopped == "failed"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "refused the credentials" in campaign.error
    assert Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).count() == 2
    assert esp_server.accepted() == []


@pytest.mark.parametrize("kind", ["mailgun", "resend", "postmark"])
def test_an_unreadable_answer_fails_the_message_without_sending_it_again(project, kind, request) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    _connection(project, server)
    campaign, _people = _campaign(project, n=1)
    server.respond(200, body=b"<html>proxy error</html>")
    campaign_start(campaign=campaign)
    result = _run(campaign)
    assert result.failed == 1
    message = Message.objects.get(campaign=campaign)
    assert message.state == MessageState.FAILED
    assert "may have been accepted" in message.error
