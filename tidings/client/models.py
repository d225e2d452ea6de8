"""The objects the API answers with, as frozen dataclasses with snake_case attributes.

Each mirrors one schema of the OpenAPI document (``ContactOut`` → :class:`Contact`).
Timestamps are aware ``datetime`` objects; free-form objects (``customFields``,
``filters``, ``options``, ``excluded``) are plain dicts as sent. Every object
keeps the server's JSON in ``raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tidings.client._model import Model, as_dict, as_list, many, one, time
from tidings.client.errors import FieldError

model = dataclass(frozen=True, kw_only=True, slots=True)


def _field_errors(value: Any) -> list[FieldError]:
    return [
        FieldError(str(e.get("path", "")), str(e.get("message", ""))) for e in value if isinstance(e, dict)
    ]


# -- project and keys -----------------------------------------------------------------------------


@model
class Project(Model):
    id: int = 0
    name: str = ""
    slug: str = ""
    postal_address: str = ""
    brand_color: str = ""
    logo_url: str = ""
    default_from_name: str = ""
    track_opens: bool = True
    track_clicks: bool = True
    store_ip: bool = False
    soft_bounce_limit: int = 0
    soft_bounce_days: int = 0
    marketing_paused_at: datetime | None = None
    marketing_paused_reason: str = ""
    created_at: datetime | None = None


@model
class Member(Model):
    id: int = 0
    username: str = ""
    email: str = ""
    role: str = ""
    created_at: datetime | None = None


@model
class ApiKey(Model):
    """An API key. ``key`` (the secret) is only set in the answer that created it."""

    id: int = 0
    name: str = ""
    prefix: str = ""
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    key: str | None = None


# -- audience -------------------------------------------------------------------------------------


@model
class Consent(Model):
    at: datetime | None = time()
    method: str = ""
    ip: str | None = None
    text: str = ""


@model
class TagRef(Model):
    id: int = 0
    name: str = ""


@model
class Contact(Model):
    id: int = 0
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    country: str = ""
    language: str = ""
    custom_fields: dict[str, Any] = as_dict()
    status: str = ""
    source: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_opened_at: datetime | None = None
    last_clicked_at: datetime | None = None
    consent: Consent | None = one(Consent)
    tags: list[TagRef] = many(TagRef)


@model
class BulkItem(Model):
    """What became of one contact of a bulk upsert: ``result`` is created, updated, suppressed or rejected."""

    index: int = 0
    email: str = ""
    result: str = ""
    id: int | None = None
    errors: list[FieldError] = field(default_factory=list, metadata={"convert": _field_errors})
    reason: str = ""


@model
class BulkUpsertResult(Model):
    created: int = 0
    updated: int = 0
    suppressed: int = 0
    rejected: int = 0
    results: list[BulkItem] = many(BulkItem)


@model
class BulkDeleteResult(Model):
    deleted: int = 0
    not_found: list[str] = as_list()


@model
class Activity(Model):
    type: str = ""
    kind: str = ""
    at: datetime | None = time()
    message_id: int | None = None
    campaign_id: int | None = None
    campaign_name: str = ""
    link_url: str = ""
    machine: bool = False
    bounce_type: str = ""
    status_code: str = ""
    detail: str = ""
    user_agent: str = ""


@model
class TopicState(Model):
    topic_id: int = 0
    name: str = ""
    subscribed: bool = False
    explicit: bool = False


@model
class Tag(Model):
    """A tag. ``warnings`` is only set in answers to a create or rename (a near-duplicate name)."""

    id: int = 0
    name: str = ""
    color: str = ""
    description: str = ""
    contact_count: int | None = None
    created_at: datetime | None = None
    warnings: list[str] = as_list()


@model
class Topic(Model):
    id: int = 0
    name: str = ""
    description: str = ""
    default_subscription: str = ""
    visibility: str = ""
    position: int = 0
    is_active: bool = True
    created_at: datetime | None = None


@model
class Segment(Model):
    id: int = 0
    name: str = ""
    description: str = ""
    filters: dict[str, Any] = as_dict()
    count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@model
class SegmentContact(Model):
    id: int = 0
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    status: str = ""


@model
class SegmentPreview(Model):
    count: int = 0
    sample: list[SegmentContact] = many(SegmentContact)


@model
class ImportProgress(Model):
    bytes_read: int = 0
    size_bytes: int = 0
    rows_read: int = 0


@model
class ImportCounts(Model):
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0


@model
class Import(Model):
    id: int = 0
    file_name: str = ""
    status: str = ""
    on_conflict: str = ""
    column_map: dict[str, Any] = as_dict()
    tags: list[str] = as_list()
    progress: ImportProgress | None = one(ImportProgress)
    counts: ImportCounts | None = one(ImportCounts)
    error: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@model
class Suppression(Model):
    id: int = 0
    email: str = ""
    reason: str = ""
    detail: str = ""
    created_at: datetime | None = None


@model
class SuppressionRemoval(Model):
    id: int = 0
    email: str = ""
    reason: str = ""
    note: str = ""
    removed_by: str = ""
    removed_at: datetime | None = None


# -- content --------------------------------------------------------------------------------------


@model
class ContentWarning(Model):
    code: str = ""
    message: str = ""


@model
class Design(Model):
    """An email design. In lists ``preheader``, ``body`` and ``warnings`` are not sent (None / empty)."""

    id: int = 0
    name: str = ""
    purpose: str = ""
    format: str = ""
    subject: str = ""
    version: int = 0
    preheader: str | None = None
    body: str | None = None
    warnings: list[ContentWarning] = many(ContentWarning)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@model
class DesignVersion(Model):
    """A saved version. In the version list ``format``, ``preheader`` and ``body`` are None."""

    number: int = 0
    name: str = ""
    subject: str = ""
    source: str = ""
    note: str = ""
    created_at: datetime | None = None
    format: str | None = None
    preheader: str | None = None
    body: str | None = None


@model
class VersionDiff(Model):
    number: int = 0
    against: int = 0
    diff: str = ""


@model
class Rendered(Model):
    subject: str = ""
    preheader: str = ""
    html: str = ""
    text: str = ""
    warnings: list[ContentWarning] = many(ContentWarning)


@model
class TestSend(Model):
    to: str = ""
    delivered_to: str = ""
    file: str = ""


@model
class Starter(Model):
    id: str = ""
    name: str = ""


@model
class PersonaOption(Model):
    type: str = ""
    id: int = 0
    name: str = ""
    detail: str = ""


@model
class PersonaMenu(Model):
    audiences: list[PersonaOption] = many(PersonaOption)
    tags: list[PersonaOption] = many(PersonaOption)
    contacts: list[PersonaOption] = many(PersonaOption)


@model
class Persona(Model):
    type: str = ""
    id: int | None = None
    name: str = ""
    label: str = ""


@model
class Variable(Model):
    name: str = ""
    label: str = ""
    kind: str = ""
    type: str = ""
    filled: int | None = None
    fill_rate: float | None = None
    value: Any = None
    default: str = ""


@model
class Catalog(Model):
    persona: Persona | None = one(Persona)
    cohort_size: int = 0
    threshold: float = 0.0
    variables: list[Variable] = many(Variable)
    hidden: list[Variable] = many(Variable)
    cues: dict[str, Any] = as_dict()


@model
class DraftSettings(Model):
    provider: str = ""
    base_url: str = ""
    model: str = ""
    has_api_key: bool = False
    timeout_seconds: int = 0
    brand_notes: str = ""
    catalog_threshold: float = 0.0


@model
class DraftMessage(Model):
    id: int = 0
    role: str = ""
    text: str = ""
    version: int | None = None
    provider: str = ""
    created_at: datetime | None = None


@model
class Draft(Model):
    """A drafting conversation. In lists only id, title, design_id, persona_label and updated_at are set."""

    id: int = 0
    title: str = ""
    design_id: int | None = None
    version: int | None = None
    persona: Persona | None = one(Persona)
    persona_label: str = ""
    provider: str = ""
    messages: list[DraftMessage] = many(DraftMessage)
    created_at: datetime | None = None
    updated_at: datetime | None = None


# -- sending setup --------------------------------------------------------------------------------


@model
class Connection(Model):
    id: int = 0
    name: str = ""
    kind: str = ""
    is_default: bool = False
    options: dict[str, Any] = as_dict()
    secrets_set: list[str] = as_list()
    rate_limit: int | None = None
    last_checked_at: datetime | None = None
    last_check_ok: bool | None = None
    last_check_message: str = ""
    created_at: datetime | None = None
    webhook_url: str | None = None


@model
class ConnectionCheck(Model):
    ok: bool | None = None
    code: str = ""
    message: str = ""


@model
class DnsRecord(Model):
    purpose: str = ""
    name: str = ""
    type: str = ""
    value: str = ""
    state: str | None = None
    seen: str | None = None


@model
class Domain(Model):
    id: int = 0
    domain: str = ""
    verified: bool = False
    verified_at: datetime | None = None
    last_checked_at: datetime | None = None
    records: list[DnsRecord] = many(DnsRecord)
    created_at: datetime | None = None


# -- campaigns and sending ------------------------------------------------------------------------


@model
class Campaign(Model):
    id: int = 0
    name: str = ""
    status: str = ""
    transactional: bool = False
    design_id: int | None = None
    subject: str = ""
    preheader: str = ""
    from_: str = ""
    from_name: str = ""
    reply_to: str = ""
    recipient_type: str = ""
    recipient_id: int | None = None
    connection_id: int | None = None
    topic_id: int | None = None
    track_opens: bool = True
    track_clicks: bool = True
    scheduled_at: datetime | None = None
    timezone: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    archived_at: datetime | None = None
    error: str = ""
    excluded: dict[str, Any] = as_dict()
    progress: dict[str, Any] = as_dict()
    created_at: datetime | None = None


@model
class PreflightProblem(Model):
    code: str = ""
    path: str = ""
    message: str = ""


@model
class Preflight(Model):
    ok: bool = False
    problems: list[PreflightProblem] = many(PreflightProblem)
    eligible: int | None = None
    excluded: dict[str, Any] = as_dict()
    notices: list[str] = as_list()


@model
class CancelResult(Model):
    campaign: Campaign | None = one(Campaign)
    unsent: int = 0


@model
class EventCounts(Model):
    unique: int = 0
    total: int = 0
    machine: int = 0


@model
class BounceCounts(Model):
    total: int = 0
    hard: int = 0
    soft: int = 0


@model
class Rates(Model):
    """Each rate is None when its denominator is 0."""

    delivery: float | None = None
    open: float | None = None
    click: float | None = None
    click_to_open: float | None = None
    bounce: float | None = None
    complaint: float | None = None
    unsubscribe: float | None = None


@model
class LinkResult(Model):
    index: int = 0
    url: str = ""
    unique: int = 0
    total: int = 0
    machine: int = 0


@model
class TimelinePoint(Model):
    hour: datetime | None = time()
    kind: str = ""
    count: int = 0


@model
class CampaignResults(Model):
    sent: int = 0
    delivered: int = 0
    opens: EventCounts | None = one(EventCounts)
    clicks: EventCounts | None = one(EventCounts)
    bounces: BounceCounts | None = one(BounceCounts)
    refused: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    failed: int = 0
    rates: Rates | None = one(Rates)
    recipients: int = 0
    deliveries_reported: bool = False
    queued: int = 0
    skipped: int = 0
    cancelled: int = 0
    links: list[LinkResult] = many(LinkResult)
    timeline: list[TimelinePoint] = many(TimelinePoint)


@model
class RecipientLogEntry(Model):
    id: int = 0
    email: str = ""
    contact_id: int | None = None
    state: str = ""
    skip_reason: str = ""
    error: str = ""
    sent_at: datetime | None = None
    delivered: bool = False
    opened: bool = False
    opens: int = 0
    machine_opens: int = 0
    clicked: bool = False
    clicks: int = 0
    bounce_type: str = ""
    status_code: str = ""
    bounce_detail: str = ""
    complained: bool = False
    unsubscribed: bool = False
    last_event: str = ""
    last_event_at: datetime | None = None
    last_user_agent: str = ""


@model
class Recipient(Model):
    """One message to one recipient (a send's ``sendId`` names one)."""

    id: int = 0
    email: str = ""
    contact_id: int | None = None
    state: str = ""
    skip_reason: str = ""
    error: str = ""
    provider_message_id: str = ""
    attempts: int = 0
    sent_at: datetime | None = None


@model
class SendResult(Model):
    """The answer to a send: ``send_id`` and ``state`` for one address, ``queued`` for a segment or tag."""

    batch_id: int = 0
    status: str = ""
    transactional: bool = False
    send_id: int | None = None
    state: str | None = None
    reason: str | None = None
    queued: int | None = None
    excluded: dict[str, Any] | None = None


@model
class Batch(Model):
    batch_id: int = 0
    status: str = ""
    transactional: bool = False
    error: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: dict[str, Any] = as_dict()
    excluded: dict[str, Any] = as_dict()


# -- operations -----------------------------------------------------------------------------------


@model
class Alert(Model):
    id: int = 0
    kind: str = ""
    campaign_id: int | None = None
    title: str = ""
    detail: str = ""
    count: int = 0
    created_at: datetime | None = None
    last_seen_at: datetime | None = None
    resolved_at: datetime | None = None


@model
class WebhookEndpoint(Model):
    """An endpoint of yours that receives the project's events.

    ``secret`` (``whsec_…``) is only set in the answers that create or rotate it.
    """

    id: int = 0
    url: str = ""
    description: str = ""
    events: list[str] = as_list()
    enabled: bool = True
    secret_rotated_until: datetime | None = time()
    secret: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@model
class WebhookEventType(Model):
    type: str = ""
    description: str = ""


@model
class WebhookAttempt(Model):
    number: int = 0
    at: datetime | None = time()
    status: int | None = None
    error: str = ""
    response_body: str = ""
    duration_ms: int = 0


@model
class WebhookDelivery(Model):
    """One event for one endpoint. ``body`` and ``attempt_log`` are only set when it is fetched alone."""

    id: int = 0
    webhook_id: int = 0
    event_id: str = ""
    event_type: str = ""
    state: str = ""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str = ""
    created_at: datetime | None = None
    delivered_at: datetime | None = None
    body: str | None = None
    attempt_log: list[WebhookAttempt] = many(WebhookAttempt)
