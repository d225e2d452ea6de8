"""API shapes for contacts, tags and topics (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from tidings.audience.models import Contact
from tidings.core.schemas import CamelIn, CamelSchema


class ConsentIn(CamelIn):
    at: str | None = Field(None, description="When consent was given (ISO 8601).")
    method: str | None = Field(None, examples=["signup form"])
    ip: str | None = Field(None, examples=["203.0.113.7"])
    text: str | None = Field(None, description="The wording the person agreed to.")


class ContactFields(CamelIn):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    country: str | None = Field(None, description="ISO 3166 alpha-2", examples=["DE"])
    language: str | None = Field(None, description="BCP 47", examples=["pt-BR"])
    custom_fields: dict[str, Any] | None = Field(
        None, description="Strings, numbers, booleans and ISO dates; null removes a key on update."
    )
    status: str | None = Field(
        None, description="subscribed (default), unsubscribed, non-subscribed, bounced or complained"
    )
    source: str | None = None
    created_at: str | None = Field(None, description="Signup date (ISO 8601); defaults to now.")
    consent: ConsentIn | None = None
    tags: list[str] | None = Field(None, description="Tag names to add (created if missing).")


class ContactIn(ContactFields):
    email: str = Field(examples=["ada@example.com"])


class ContactPatch(ContactFields):
    email: str | None = None


class TagRef(CamelSchema):
    id: int
    name: str


class ConsentOut(CamelSchema):
    at: datetime | None
    method: str
    ip: str | None
    text: str


class ContactOut(CamelSchema):
    id: int
    email: str
    first_name: str
    last_name: str
    company: str
    phone: str
    country: str
    language: str
    custom_fields: dict[str, Any]
    status: str
    source: str
    created_at: datetime
    updated_at: datetime
    last_sent_at: datetime | None = Field(description="When the project last sent them mail.")
    last_opened_at: datetime | None = Field(description="When they last opened the project's mail.")
    last_clicked_at: datetime | None = Field(description="When they last clicked a link in it.")
    consent: ConsentOut
    tags: list[TagRef]

    @staticmethod
    def resolve_consent(obj: Contact) -> dict[str, Any]:
        return {
            "at": obj.consent_at,
            "method": obj.consent_method,
            "ip": obj.consent_ip,
            "text": obj.consent_text,
        }

    @staticmethod
    def resolve_tags(obj: Contact) -> list[Any]:
        return sorted(obj.tags.all(), key=lambda t: t.name)


class BulkUpsertIn(CamelIn):
    contacts: list[dict[str, Any]] = Field(
        description="Up to 1,000 contact objects, matched by email.", json_schema_extra={"maxItems": 1000}
    )


class FieldErrorOut(CamelSchema):
    path: str
    message: str


class BulkItemOut(CamelSchema):
    index: int
    email: str
    result: str = Field(description="created, updated, suppressed (left as it is) or rejected")
    id: int | None = None
    errors: list[FieldErrorOut] = []
    reason: str = Field("", description="For a suppressed row: why it was left as it is.")


class BulkUpsertOut(CamelSchema):
    created: int
    updated: int
    suppressed: int
    rejected: int
    results: list[BulkItemOut]


class BulkDeleteIn(CamelIn):
    emails: list[str] = Field(json_schema_extra={"maxItems": 1000})


class BulkDeleteOut(CamelSchema):
    deleted: int
    not_found: list[str]


class TopicStateOut(CamelSchema):
    topic_id: int
    name: str
    subscribed: bool
    explicit: bool = Field(description="true if the contact chose; false if the topic's default applies")


class TopicChoiceIn(CamelIn):
    subscribed: bool


# The rules the service applies, stated in the document (the service's own messages stay).
TAG_NAME = {"minLength": 1, "maxLength": 100, "pattern": r"\S"}
TAG_COLOR = {"pattern": r"^(#[0-9a-fA-F]{6})?$"}


class TagIn(CamelIn):
    name: str = Field(examples=["vip"], json_schema_extra=TAG_NAME)
    color: str | None = Field(None, examples=["#d9480f"], json_schema_extra=TAG_COLOR)
    description: str | None = Field(None, json_schema_extra={"maxLength": 500})


class TagPatch(CamelIn):
    name: str | None = Field(None, json_schema_extra=TAG_NAME)
    color: str | None = Field(None, json_schema_extra=TAG_COLOR)
    description: str | None = Field(None, json_schema_extra={"maxLength": 500})


class TagOut(CamelSchema):
    id: int
    name: str
    color: str
    description: str
    contact_count: int = 0
    created_at: datetime


class TagSaved(TagOut):
    warnings: list[str] = []


class TagContactsIn(CamelIn):
    contact_ids: list[int] | None = None
    emails: list[str] | None = None
    segment_id: int | None = None


class TagContactsOut(CamelSchema):
    changed: int = Field(description="How many contacts gained (or lost) the tag.")


class TopicIn(CamelIn):
    name: str
    description: str | None = None
    default_subscription: str = Field("opt_out", description="opt_in or opt_out")
    visibility: str = Field("public", description="public or private")
    position: int = 0
    is_active: bool = True


class TopicPatch(CamelIn):
    name: str | None = None
    description: str | None = None
    default_subscription: str | None = None
    visibility: str | None = None
    position: int | None = None
    is_active: bool | None = None


class TopicOut(CamelSchema):
    id: int
    name: str
    description: str
    default_subscription: str
    visibility: str
    position: int
    is_active: bool
    created_at: datetime


class TopicMemberIn(CamelIn):
    contact_id: int | None = None
    email: str | None = None
