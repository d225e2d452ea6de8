"""API shapes for campaigns and the send API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field
from pydantic import StrictBool

from tidings.core.schemas import CamelIn, CamelSchema


class _CampaignFields(CamelIn):
    name: str | None = Field(None, max_length=200, examples=["December newsletter"])
    design_id: int | None = Field(None, description="The email (design) to send.")
    email_id: int | None = Field(None, description="Another name for designId.")
    subject: str | None = Field(None, description="Overrides the email's subject (Liquid allowed).")
    preheader: str | None = None
    from_: str | None = Field(None, alias="from", examples=["news@example.com"])
    from_name: str | None = Field(None, examples=["Example News"])
    reply_to: str | None = None
    recipient_type: str | None = Field(None, description="audience (a segment) or tag")
    recipient_id: int | None = None
    connection_id: int | None = Field(None, description="null: the project's default connection")
    topic_id: int | None = None
    track_opens: StrictBool | None = None
    track_clicks: StrictBool | None = None


class CampaignIn(_CampaignFields):
    name: str = Field(max_length=200, examples=["December newsletter"])


class CampaignPatch(_CampaignFields):
    pass


class ScheduleIn(CamelIn):
    scheduled_at: str = Field(description="ISO 8601; without an offset it is read in `timezone`.")
    timezone: str | None = Field(None, examples=["Europe/Berlin"])


class ProblemOut(CamelSchema):
    code: str
    path: str
    message: str


class PreflightOut(CamelSchema):
    ok: bool
    problems: list[ProblemOut]
    eligible: int | None
    excluded: dict[str, int]
    notices: list[str] = Field(default_factory=list, description="Not problems, but worth knowing.")


class CampaignOut(CamelSchema):
    id: int
    name: str
    status: str
    transactional: bool
    design_id: int | None
    subject: str
    preheader: str
    from_: str = Field(alias="from")
    from_name: str
    reply_to: str
    recipient_type: str
    recipient_id: int | None
    connection_id: int | None
    topic_id: int | None
    track_opens: bool
    track_clicks: bool
    scheduled_at: datetime | None
    timezone: str
    started_at: datetime | None
    finished_at: datetime | None
    archived_at: datetime | None
    error: str
    excluded: dict[str, int]
    progress: dict[str, Any]
    created_at: datetime


class CancelOut(CamelSchema):
    campaign: CampaignOut
    unsent: int = Field(description="Messages left unsent by the cancel.")


class SendIn(CamelIn):
    recipient_type: str = Field(description="email, audience or tag", examples=["email"])
    recipient_email: str | None = Field(None, examples=["ann@example.com"])
    recipient_id: int | None = Field(None, description="The audience's (segment's) or tag's id.")
    from_: str | None = Field(None, alias="from", examples=["hello@example.com"])
    from_name: str | None = None
    reply_to: str | None = None
    subject: str | None = Field(None, description="Required with template; Liquid allowed.")
    preheader: str | None = None
    template: str | None = Field(None, description="HTML with Liquid; or give emailId.")
    email_id: int | None = None
    project_id: int | None = Field(None, description="Must be the key's project when given.")
    provider_type: str | None = Field(None, description="A connection kind; default: the default connection.")
    transactional: StrictBool | None = Field(
        None, description="Default: true for recipientType email, false for audience and tag."
    )
    topic_id: int | None = None
    variables: dict[str, Any] | None = Field(None, description="Extra values for the template.")


class SendOut(CamelSchema):
    batch_id: int
    status: str
    transactional: bool
    send_id: int | None = None
    state: str | None = None
    reason: str | None = None
    queued: int | None = None
    excluded: dict[str, int] | None = None


class RecipientOut(CamelSchema):
    id: int
    email: str
    contact_id: int | None
    state: str
    skip_reason: str = Field(description="Why it was not sent, for a skipped message.")
    error: str
    provider_message_id: str
    attempts: int
    sent_at: datetime | None


class BatchOut(CamelSchema):
    batch_id: int
    status: str
    transactional: bool
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]
    excluded: dict[str, int]


class CampaignPage(CamelSchema):
    items: list[CampaignOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")


class RecipientPage(CamelSchema):
    items: list[RecipientOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")


class EventCounts(CamelSchema):
    unique: int = Field(description="Messages with at least one, by a person.")
    total: int = Field(description="Every one by a person.")
    machine: int = Field(description="Those of privacy proxies and link scanners, kept apart.")


class LinkResult(CamelSchema):
    index: int
    url: str
    unique: int
    total: int


class TimelinePoint(CamelSchema):
    hour: datetime
    kind: str
    count: int


class ResultsOut(CamelSchema):
    recipients: int
    sent: int
    failed: int
    skipped: int
    opens: EventCounts
    clicks: EventCounts
    unsubscribes: int
    rates: dict[str, float | None] = Field(
        description="open, click and unsubscribe over the messages sent; clickToOpen over unique opens."
    )
    links: list[LinkResult]
    timeline: list[TimelinePoint]
