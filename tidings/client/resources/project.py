"""The key's project, its API keys, alerts and outgoing webhooks."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from tidings.client._core import Call
from tidings.client._pagination import Page
from tidings.client.models import (
    Alert,
    ApiKey,
    Member,
    Project,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from tidings.client.resources._base import (
    NOT_GIVEN,
    Group,
    Opt,
    R,
    body,
    delete,
    get,
    listing,
    operation,
    paginated,
    send,
)


class ProjectGroup(Group[R]):
    """``/project``: the project the API key belongs to."""

    @operation
    def get(self) -> Call[Project]:
        return get("/project", Project.from_api)

    @operation
    def update(
        self,
        *,
        name: Opt[str] = NOT_GIVEN,
        slug: Opt[str] = NOT_GIVEN,
        postal_address: Opt[str] = NOT_GIVEN,
        brand_color: Opt[str] = NOT_GIVEN,
        logo_url: Opt[str] = NOT_GIVEN,
        default_from_name: Opt[str] = NOT_GIVEN,
        track_opens: Opt[bool] = NOT_GIVEN,
        track_clicks: Opt[bool] = NOT_GIVEN,
        store_ip: Opt[bool] = NOT_GIVEN,
        soft_bounce_limit: Opt[int] = NOT_GIVEN,
        soft_bounce_days: Opt[int] = NOT_GIVEN,
    ) -> Call[Project]:
        payload = body(
            name=name,
            slug=slug,
            postal_address=postal_address,
            brand_color=brand_color,
            logo_url=logo_url,
            default_from_name=default_from_name,
            track_opens=track_opens,
            track_clicks=track_clicks,
            store_ip=store_ip,
            soft_bounce_limit=soft_bounce_limit,
            soft_bounce_days=soft_bounce_days,
        )
        return send("PATCH", "/project", Project.from_api, payload)

    @paginated
    def members(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Member]]:
        """The people who can sign in to the project, with their roles."""
        return listing("/members", Member, cursor=cursor, limit=limit)

    @operation
    def resume_marketing(self) -> Call[Project]:
        """Lift a pause of marketing mail (set when complaints or bounces ran too high)."""
        return send("POST", "/project/marketing/resume", Project.from_api)


class ApiKeys(Group[R]):
    """``/api-keys``: the project's API keys."""

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[ApiKey]]:
        return listing("/api-keys", ApiKey, cursor=cursor, limit=limit)

    @operation
    def create(self, name: str, *, idempotency_key: str | None = None) -> Call[ApiKey]:
        """A new key; its secret is in ``key`` of this answer and never shown again."""
        return send("POST", "/api-keys", ApiKey.from_api, {"name": name}, idempotency_key=idempotency_key)

    @operation
    def get(self, key_id: int) -> Call[ApiKey]:
        return get(f"/api-keys/{key_id}", ApiKey.from_api)

    @operation
    def revoke(self, key_id: int) -> Call[ApiKey]:
        """Revoke a key at once; it is kept, with ``revoked_at`` set."""
        return send("DELETE", f"/api-keys/{key_id}", ApiKey.from_api)


class Alerts(Group[R]):
    """``/alerts``: problems that need a person (a provider refusing mail, a complaint spike)."""

    @paginated
    def list(
        self, *, open: bool | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[Alert]]:
        """``open=True``: only the unresolved ones."""
        return listing("/alerts", Alert, cursor=cursor, limit=limit, open=open)

    @operation
    def resolve(self, alert_id: int) -> Call[Alert]:
        return send("POST", f"/alerts/{alert_id}/resolve", Alert.from_api)


class Webhooks(Group[R]):
    """``/webhooks``: endpoints of yours that Tidings posts the project's events to, signed.

    Each post carries ``Tidings-Signature: t=<unix time>,v1=<hex>``, HMAC-SHA256
    with the endpoint's secret over ``<t>.<body>``.
    """

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[WebhookEndpoint]]:
        return listing("/webhooks", WebhookEndpoint, cursor=cursor, limit=limit)

    @operation
    def create(
        self,
        url: str,
        *,
        events: Opt[Iterable[str]] = NOT_GIVEN,
        description: Opt[str] = NOT_GIVEN,
        enabled: Opt[bool] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[WebhookEndpoint]:
        """Register an https endpoint (``events`` default: all); its ``secret`` is in this answer only."""
        payload = body(url=url, events=_names(events), description=description, enabled=enabled)
        return send("POST", "/webhooks", WebhookEndpoint.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def event_types(self) -> Call[builtins.list[WebhookEventType]]:
        """The event types an endpoint can subscribe to."""
        return get("/webhooks/events", WebhookEventType.list_from_api)

    @operation
    def get(self, webhook_id: int) -> Call[WebhookEndpoint]:
        return get(f"/webhooks/{webhook_id}", WebhookEndpoint.from_api)

    @operation
    def update(
        self,
        webhook_id: int,
        *,
        url: Opt[str] = NOT_GIVEN,
        events: Opt[Iterable[str]] = NOT_GIVEN,
        description: Opt[str] = NOT_GIVEN,
        enabled: Opt[bool] = NOT_GIVEN,
    ) -> Call[WebhookEndpoint]:
        """``enabled=False``: no events are recorded for the endpoint while it is off."""
        payload = body(url=url, events=_names(events), description=description, enabled=enabled)
        return send("PATCH", f"/webhooks/{webhook_id}", WebhookEndpoint.from_api, payload)

    @operation
    def delete(self, webhook_id: int) -> Call[None]:
        """Delete an endpoint and its delivery log."""
        return delete(f"/webhooks/{webhook_id}")

    @operation
    def rotate_secret(self, webhook_id: int, *, idempotency_key: str | None = None) -> Call[WebhookEndpoint]:
        """A new signing secret (in ``secret``); the old one also signs until ``secret_rotated_until``."""
        return send(
            "POST",
            f"/webhooks/{webhook_id}/rotate-secret",
            WebhookEndpoint.from_api,
            idempotency_key=idempotency_key,
        )

    @operation
    def test(self, webhook_id: int, *, idempotency_key: str | None = None) -> Call[WebhookDelivery]:
        """Post a ``webhook.test`` event now; the delivery says what the endpoint answered."""
        return send(
            "POST", f"/webhooks/{webhook_id}/test", WebhookDelivery.from_api, idempotency_key=idempotency_key
        )

    @paginated
    def deliveries(
        self,
        webhook_id: int,
        *,
        state: str | None = None,
        event_type: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[WebhookDelivery]]:
        """The endpoint's delivery log, newest first; ``state``: pending, succeeded or failed."""
        return listing(
            f"/webhooks/{webhook_id}/deliveries",
            WebhookDelivery,
            cursor=cursor,
            limit=limit,
            state=state,
            event_type=event_type,
        )

    @operation
    def delivery(self, delivery_id: int) -> Call[WebhookDelivery]:
        """One delivery with its body and every attempt."""
        return get(f"/webhooks/deliveries/{delivery_id}", WebhookDelivery.from_api)

    @operation
    def retry_delivery(
        self, delivery_id: int, *, idempotency_key: str | None = None
    ) -> Call[WebhookDelivery]:
        """Send a delivery again now."""
        return send(
            "POST",
            f"/webhooks/deliveries/{delivery_id}/retry",
            WebhookDelivery.from_api,
            idempotency_key=idempotency_key,
        )


def _names(events: Any) -> Any:
    return list(events) if events is not NOT_GIVEN and events is not None else events
