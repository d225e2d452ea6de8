"""The event types a webhook endpoint can subscribe to, and what each one's ``data`` holds.

Payloads are built from model instances by attribute, so that every area can
emit events without this module importing theirs.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES: dict[str, str] = {
    "contact.created": "A contact was added (API, form or UI; imports report once, as import.finished).",
    "contact.updated": "A contact's fields, tags or status were changed through the API or the UI.",
    "contact.unsubscribed": "A contact unsubscribed from all marketing mail.",
    "message.sent": "A message was accepted by the mail server or email service.",
    "message.delivered": "The recipient's server accepted a message (reported by the provider).",
    "message.bounced": "A message bounced, hard or soft.",
    "message.complained": "The recipient marked a message as spam.",
    "message.opened": "A message was opened (machine opens are flagged, not left out).",
    "message.clicked": "A tracked link in a message was followed.",
    "campaign.started": "A campaign (or a send API batch) started sending.",
    "campaign.finished": "A campaign finished: every message was sent, skipped or failed.",
    "import.finished": "A contact import ended, done or failed.",
    "draft.completed": "The AI finished writing a draft's answer.",
}
TEST_EVENT = "webhook.test"
# A tracking event's kind → the event type it is sent as (unsubscribes go as contact.unsubscribed).
MESSAGE_EVENTS = {
    "delivered": "message.delivered",
    "bounced": "message.bounced",
    "rejected": "message.bounced",
    "complained": "message.complained",
    "opened": "message.opened",
    "clicked": "message.clicked",
}
ALL = "*"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def contact_data(contact: Any, tags: list[str]) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "email": contact.email,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "company": contact.company,
        "phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "customFields": contact.custom_fields,
        "status": contact.status,
        "source": contact.source,
        "tags": tags,
        "createdAt": _iso(contact.created_at),
        "updatedAt": _iso(contact.updated_at),
    }


def tracking_data(event: Any, *, url: str = "") -> dict[str, Any]:
    """A delivery or engagement event (TrackingEvent) as sent for message.* types."""
    data: dict[str, Any] = {
        "messageId": event.message_id,
        "campaignId": event.campaign_id,
        "contactId": event.contact_id,
        "email": event.email,
        "occurredAt": _iso(event.occurred_at),
        "source": event.source,
    }
    if event.bounce_type or event.status_code or event.detail:
        data.update(bounceType=event.bounce_type, statusCode=event.status_code, detail=event.detail)
    if event.kind in ("opened", "clicked"):
        data["machine"] = event.machine
    if url:
        data["url"] = url
    return data


def campaign_data(campaign: Any) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "origin": campaign.origin,
        "transactional": campaign.transactional,
        "status": campaign.status,
        "startedAt": _iso(campaign.started_at),
        "finishedAt": _iso(campaign.finished_at),
        "error": campaign.error,
    }


def import_data(job: Any) -> dict[str, Any]:
    return {
        "id": job.pk,
        "fileName": job.file_name,
        "status": job.status,
        "rowsRead": job.rows_read,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "error": job.error,
        "finishedAt": _iso(job.finished_at),
    }


def subscribed(events: list[str], event_type: str) -> bool:
    return event_type == TEST_EVENT or ALL in events or event_type in events
