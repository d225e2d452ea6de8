"""API shapes of outgoing webhooks. JSON field names are camelCase."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field
from pydantic import StrictBool

from tidings.core.schemas import CamelIn, CamelSchema
from tidings.hooks.events import ALL, EVENT_TYPES
from tidings.hooks.models import DeliveryState

# The names an endpoint may subscribe to, so the document lists them (and "*").
EventName = Literal[*EVENT_TYPES, ALL]  # type: ignore[valid-type]
EVENTS_DESCRIPTION = 'Event types to receive (see `GET /webhooks/events`), or `["*"]` for all.'


class WebhookOut(CamelSchema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    secret_rotated_until: datetime | None = Field(
        validation_alias="previous_secret_until",
        description="After a rotation, until when the previous secret still signs beside the new one.",
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`). Shown in this response only; store it now."
    )


class WebhookIn(CamelIn):
    url: str = Field(
        max_length=2000,
        description="An https:// URL. Loopback, private and link-local addresses are refused.",
        examples=["https://example.com/hooks/tidings"],
    )
    events: list[EventName] = Field(
        default_factory=lambda: ["*"], min_length=1, description=EVENTS_DESCRIPTION
    )
    description: str = Field("", max_length=200, examples=["Order system"])
    enabled: StrictBool = True


class WebhookPatch(CamelIn):
    url: str | None = Field(None, max_length=2000)
    events: list[EventName] | None = Field(None, min_length=1, description=EVENTS_DESCRIPTION)
    description: str | None = Field(None, max_length=200)
    enabled: StrictBool | None = Field(None, description="false: events are not recorded for it while off.")


class EventTypeOut(CamelSchema):
    type: str
    description: str


class AttemptOut(CamelSchema):
    number: int
    at: datetime
    status: int | None = Field(description="The HTTP status answered; null when none came.")
    error: str
    response_body: str = Field(description="The start of the answer's body (1,000 characters at most).")
    duration_ms: int


class DeliveryOut(CamelSchema):
    id: int
    webhook_id: int = Field(validation_alias="endpoint_id")
    event_id: str = Field(
        description="The event's id (`evt_…`), the same in every attempt: deduplicate on it."
    )
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    body: str = Field(description="The JSON body sent, byte for byte, as signed.")
    attempt_log: list[AttemptOut]


class DeliveryPage(CamelSchema):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")
