"""API shapes for the core area. JSON field names are camelCase."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic.alias_generators import to_camel


class CamelSchema(Schema):
    """Base of every API schema: snake_case in Python, camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CamelIn(CamelSchema):
    """Base of request bodies: an unknown field is an error, so a typo never passes silently."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ProjectOut(CamelSchema):
    id: int
    name: str
    slug: str
    postal_address: str
    brand_color: str
    logo_url: str
    default_from_name: str
    track_opens: bool
    track_clicks: bool
    store_ip: bool
    soft_bounce_limit: int
    soft_bounce_days: int
    marketing_paused_at: datetime | None = Field(
        description="Set when a campaign's complaint rate paused marketing sends; null when they may go."
    )
    marketing_paused_reason: str
    created_at: datetime


class ProjectPatch(CamelIn):
    name: str | None = Field(None, max_length=200)
    slug: str | None = None
    postal_address: str | None = None
    brand_color: str | None = Field(None, examples=["#2f5d8a"])
    logo_url: str | None = None
    default_from_name: str | None = None
    track_opens: bool | None = Field(None, description="Add an open pixel to campaigns (each may opt out).")
    track_clicks: bool | None = Field(None, description="Send links through the click redirect.")
    store_ip: bool | None = Field(None, description="Keep the IP address of opens and clicks.")
    soft_bounce_limit: int | None = Field(
        None, description="This many soft bounces within `softBounceDays` and the address counts as bounced."
    )
    soft_bounce_days: int | None = Field(None, description="The window of `softBounceLimit`, in days.")


class ApiKeyOut(CamelSchema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret. Shown in this response only; store it now.")


class ApiKeyIn(CamelIn):
    name: str = Field(
        min_length=1, max_length=100, examples=["Production app"], json_schema_extra={"pattern": r"\S"}
    )


class MemberOut(CamelSchema):
    id: int
    username: str = Field(validation_alias="user.username")
    email: str = Field(validation_alias="user.email")
    role: str
    created_at: datetime
