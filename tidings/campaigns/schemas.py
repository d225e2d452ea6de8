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


class BounceCounts(CamelSchema):
    total: int = Field(description="Messages that bounced, hard or soft (each message once).")
    hard: int = Field(description="Messages with a hard bounce: no such address, or unreachable.")
    soft: int = Field(description="Messages with soft bounces only: a full mailbox, a server busy.")


class Rates(CamelSchema):
    delivery: float | None = Field(description="delivered ÷ sent; null when nothing was sent.")
    open: float | None = Field(description="unique opens by a person ÷ delivered.")
    click: float | None = Field(description="unique clicks by a person ÷ delivered.")
    click_to_open: float | None = Field(description="unique clicks ÷ unique opens.")
    bounce: float | None = Field(description="bounces (hard and soft) ÷ sent.")
    complaint: float | None = Field(description="complaints ÷ sent.")
    unsubscribe: float | None = Field(description="unsubscribes ÷ delivered.")


class LinkResult(CamelSchema):
    index: int = Field(description="The link's number in the campaign, in order of first appearance.")
    url: str = Field(description="Where the link leads.")
    unique: int = Field(description="Messages whose recipient clicked it.")
    total: int = Field(description="Every click on it by a person.")
    machine: int = Field(0, description="Clicks of link scanners, kept apart.")


class TimelinePoint(CamelSchema):
    hour: datetime = Field(description="The start of the hour (UTC).")
    kind: str = Field(description="opened or clicked")
    count: int = Field(description="Events by people in that hour.")


class _Figures(CamelSchema):
    sent: int = Field(description="Messages handed to the provider.")
    delivered: int = Field(
        description="With an ESP that reports deliveries: messages it reported delivered. "
        "Otherwise (SMTP, the outbox): sent minus the messages that bounced or were refused."
    )
    opens: EventCounts = Field(description="Opens: by people (unique, total) and by machines.")
    clicks: EventCounts = Field(description="Clicks: by people (unique, total) and by machines.")
    bounces: BounceCounts = Field(description="Messages that bounced, hard and soft.")
    refused: int = Field(
        description="Messages refused for their sender (5.7.x: authentication, reputation, policy); "
        "not counted as bounces, and the address is left as it is."
    )
    complaints: int = Field(description="Messages reported as spam by their recipient.")
    unsubscribes: int = Field(description="Messages whose recipient unsubscribed through them.")
    failed: int = Field(description="Messages that could not be sent (including refusals at sending).")
    rates: Rates = Field(description="Each rate with its denominator; null when that is 0.")


class ResultsOut(_Figures):
    recipients: int = Field(description="Messages planned: one per recipient.")
    deliveries_reported: bool = Field(
        description="True when delivered counts the provider's delivery reports; false when it is "
        "sent minus bounces."
    )
    queued: int = Field(description="Messages still waiting to be sent.")
    skipped: int = Field(description="Messages not sent because the recipient was no longer eligible.")
    cancelled: int = Field(description="Messages left unsent by a cancel.")
    links: list[LinkResult] = Field(description="Each tracked link with its clicks.")
    timeline: list[TimelinePoint] = Field(description="Opens and clicks by people, by the hour.")


class RecipientLogOut(CamelSchema):
    id: int = Field(description="The message's id.")
    email: str = Field(description="The address it was sent to.")
    contact_id: int | None = Field(description="The recipient's contact; null once deleted.")
    state: str = Field(description="queued, sent, failed, skipped or cancelled")
    skip_reason: str = Field(description="Why it was not sent, for a skipped message.")
    error: str = Field(description="Why sending failed, for a failed message.")
    sent_at: datetime | None = Field(description="When it was handed to the provider.")
    delivered: bool = Field(description="Delivered, by the campaign's rule (see `delivered` of the results).")
    opened: bool = Field(description="Opened by a person at least once.")
    opens: int = Field(description="Opens by a person.")
    machine_opens: int = Field(description="Opens by privacy proxies and scanners.")
    clicked: bool = Field(description="A link clicked by a person at least once.")
    clicks: int = Field(description="Clicks by a person.")
    bounce_type: str = Field(description="hard, soft or policy (refused for the sender), or empty.")
    status_code: str = Field(description="The enhanced status code of the last bounce, e.g. 5.1.1.")
    bounce_detail: str = Field(description="The receiving server's words for the last bounce.")
    complained: bool = Field(description="Reported as spam.")
    unsubscribed: bool = Field(description="The recipient unsubscribed through this message.")
    last_event: str = Field(description="The kind of the latest event (opened, clicked, …), or empty.")
    last_event_at: datetime | None = Field(description="When the latest event happened.")
    last_user_agent: str = Field(description="The user agent of the latest event, as received.")


class RecipientLogPage(CamelSchema):
    items: list[RecipientLogOut] = Field(description="Messages, newest first.")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")


class ActivityOut(CamelSchema):
    type: str = Field(description="message (one email to the contact) or event (what happened to one).")
    kind: str = Field(
        description="For a message its state (queued, sent, failed, skipped, cancelled); for an event "
        "its kind (opened, clicked, unsubscribed, delivered, deferred, bounced, complained, rejected)."
    )
    at: datetime = Field(description="When: a message's sending (or planning), an event's occurrence.")
    message_id: int | None = Field(description="The message it is or concerns.")
    campaign_id: int | None = Field(description="The campaign (or send API batch) of the message.")
    campaign_name: str = Field(description="That campaign's name.")
    link_url: str = Field(description="The link clicked, for a click.")
    machine: bool = Field(description="An open or click by a privacy proxy or link scanner.")
    bounce_type: str = Field(description="hard, soft or policy, for a bounce.")
    status_code: str = Field(description="The enhanced status code, for a bounce.")
    detail: str = Field(description="A bounce's text, or why a message failed or was skipped.")
    user_agent: str = Field(description="The user agent of an open or click, as received.")


class ActivityPage(CamelSchema):
    items: list[ActivityOut] = Field(description="Messages and events, newest first.")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")
