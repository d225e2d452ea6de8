"""Webhook endpoints (register, change, rotate the secret) and emitting events to them.

``emit`` is called by every area when something happens. It writes one
delivery row per subscribed endpoint in the caller's transaction, so an event
exists exactly when what it reports was committed; the sending starts after
the commit (``tidings.hooks.sender``).
"""

from __future__ import annotations

import json
import secrets as random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from tidings.core import netguard, secrets
from tidings.core.errors import FieldError, ValidationError
from tidings.core.models import Project
from tidings.hooks.events import ALL, EVENT_TYPES, TEST_EVENT, subscribed
from tidings.hooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of generated secrets, not one)
MAX_ENDPOINTS = 20
# After a rotation the old secret signs beside the new one this long, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)
ALLOWED_SETTING = "TIDINGS_WEBHOOK_ALLOWED_HOSTS"


@dataclass(frozen=True)
class IssuedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _new_secret() -> str:
    return SECRET_PREFIX + random.token_urlsafe(32)


def check_url(url: Any, *, path: str = "url") -> str:
    """A receiver's URL: https (http only for an operator-listed host), and never a private address."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError.field(path, "is required")
    url = url.strip()
    if len(url) > 2000:
        raise ValidationError.field(path, "must be at most 2000 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)  # what the sender will parse: a URL it cannot send to is refused now
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValidationError.field(path, f"is not a valid URL: {exc}") from exc
    if parts.username is not None or parts.password is not None:
        raise ValidationError.field(path, "must not hold a user name or password (it would be shown)")
    host = (parts.hostname or "").lower()
    listed = host in netguard.allowed_set(settings.WEBHOOK_ALLOWED_HOSTS)
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError.field(path, "must be an https:// URL with a host")
    if parts.scheme == "http" and not listed:
        raise ValidationError.field(
            path, "must use https (plain http only for hosts listed in " + ALLOWED_SETTING + ")"
        )
    if parts.fragment:
        raise ValidationError.field(path, "must not have a #fragment")
    if port == 0:
        raise ValidationError.field(path, "has no valid port")
    try:
        netguard.public_addresses(host, allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS, setting=ALLOWED_SETTING)
    except netguard.BlockedAddress as exc:
        raise ValidationError.field(path, exc.detail) from exc
    return url


def check_events(events: Any, *, path: str = "events") -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationError.field(path, f"must list one or more event types, or {ALL!r} for all")
    errors = [
        FieldError(f"{path}.{i}", f"is not an event type; known: {', '.join(EVENT_TYPES)}")
        for i, name in enumerate(events)
        if name != ALL and name not in EVENT_TYPES
    ]
    if errors:
        raise ValidationError(errors)
    return [ALL] if ALL in events else list(dict.fromkeys(events))


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "url" in values:
        clean["url"] = check_url(values["url"])
    if "events" in values:
        clean["events"] = check_events(values["events"])
    if "description" in values:
        description = values["description"] or ""
        if not isinstance(description, str) or len(description) > 200:
            raise ValidationError.field("description", "must be text of at most 200 characters")
        clean["description"] = description.strip()
    if "enabled" in values:
        if not isinstance(values["enabled"], bool):
            raise ValidationError.field("enabled", "must be true or false")
        clean["enabled"] = values["enabled"]
    return clean


def endpoint_create(*, project: Project, values: Mapping[str, Any]) -> IssuedEndpoint:
    if "url" not in values:
        raise ValidationError.field("url", "is required")
    clean = _clean({"events": [ALL], **values})
    if WebhookEndpoint.objects.for_project(project).count() >= MAX_ENDPOINTS:
        raise ValidationError.field("url", f"a project has at most {MAX_ENDPOINTS} webhook endpoints")
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(project=project, secret=secrets.encrypt(secret), **clean)
    return IssuedEndpoint(endpoint, secret)


def endpoint_update(*, endpoint: WebhookEndpoint, values: Mapping[str, Any]) -> WebhookEndpoint:
    clean = _clean(values)
    switched_on = clean.get("enabled") is True and not endpoint.enabled
    for field, value in clean.items():
        setattr(endpoint, field, value)
    endpoint.save()
    if switched_on:  # what waited while it was off goes now
        _start_sender(endpoint.project_id, endpoint.pk)
    return endpoint


def _start_sender(project_id: int, endpoint_id: int) -> None:
    def start() -> None:
        from tidings.hooks.tasks import enqueue_send

        enqueue_send(project_id, endpoint_id)

    transaction.on_commit(start)


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> IssuedEndpoint:
    """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP."""
    secret = _new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secrets.encrypt(secret)
    endpoint.save()
    return IssuedEndpoint(endpoint, secret)


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


# -- emitting ---------------------------------------------------------------------------


def _body(event_id: str, event_type: str, project_id: int, data: Mapping[str, Any], at: Any) -> str:
    envelope = {
        "id": event_id,
        "type": event_type,
        "createdAt": at.isoformat(),
        "projectId": project_id,
        "data": data,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def listeners(project_id: int, event_type: str) -> list[int]:
    rows = WebhookEndpoint.objects.filter(project_id=project_id, enabled=True).values_list("id", "events")
    return [pk for pk, events in rows if subscribed(events, event_type)]


def emit_many(
    project: Project | int,
    event_type: str,
    items: Iterable[Mapping[str, Any]],
    *,
    endpoints: list[int] | None = None,
) -> int:
    """One event per item for every endpoint that listens (``endpoints``, when the caller asked
    ``listeners`` already); the number of deliveries written."""
    project_id = project if isinstance(project, int) else project.pk
    if endpoints is None:
        endpoints = listeners(project_id, event_type)
    if not endpoints:
        return 0
    now = timezone.now()
    rows = []
    for data in items:
        event_id = "evt_" + random.token_hex(12)
        body = _body(event_id, event_type, project_id, data, now)
        rows += [
            WebhookDelivery(
                project_id=project_id,
                endpoint_id=endpoint_id,
                event_id=event_id,
                event_type=event_type,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint_id in endpoints
        ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    for endpoint_id in endpoints:
        _start_sender(project_id, endpoint_id)
    return len(rows)


def emit(project: Project | int, event_type: str, data: Mapping[str, Any]) -> int:
    return emit_many(project, event_type, [data])


def test_delivery(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` event for this endpoint alone (not retried); the caller sends it."""
    now = timezone.now()
    event_id = "evt_" + random.token_hex(12)
    data = {"endpointId": endpoint.pk, "message": "A test event from Tidings. It needs no action."}
    return WebhookDelivery.objects.create(
        project_id=endpoint.project_id,
        endpoint=endpoint,
        event_id=event_id,
        event_type=TEST_EVENT,
        body=_body(event_id, TEST_EVENT, endpoint.project_id, data, now),
        next_attempt_at=None,
        created_at=now,
    )


def delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again now: a failed delivery gets one more attempt, a waiting one skips its wait, and a
    succeeded one goes again (a receiver may have lost it after its 2xx)."""
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = timezone.now()
    # A lease still running is left alone: that attempt is under way, and its sender records it.
    delivery.save(update_fields=["state", "next_attempt_at"])
    _start_sender(delivery.project_id, delivery.endpoint_id)
    return delivery
