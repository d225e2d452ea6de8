"""API shapes for email designs (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field

from tidings.core.schemas import CamelIn, CamelSchema

BODY_HELP = (
    "MJML (`<mjml>…</mjml>`) or HTML, with Liquid personalisation such as "
    '`{{ firstName | default: "there" }}`. At most 512 KB.'
)


class WarningOut(CamelSchema):
    code: str = Field(examples=["image_without_alt"])
    message: str


class DesignIn(CamelIn):
    name: str = Field(max_length=200, examples=["March newsletter"])
    purpose: str = Field("marketing", description="marketing (default) or transactional")
    format: str = Field("mjml", description="mjml (default) or html")
    subject: str = Field("", examples=['{{ firstName | default: "Hello" }}, our spring sale is on'])
    preheader: str = ""
    body: str | None = Field(None, description=BODY_HELP)
    starter: str | None = Field(
        None, description="Start from a template instead of `body`: `newsletter` or `blank`."
    )


class DesignPatch(CamelIn):
    name: str | None = Field(None, max_length=200)
    purpose: str | None = None
    format: str | None = None
    subject: str | None = None
    preheader: str | None = None
    body: str | None = Field(None, description=BODY_HELP)


class DesignSummaryOut(CamelSchema):
    id: int
    name: str
    purpose: str
    format: str
    subject: str
    version: int
    updated_at: datetime


class DesignOut(DesignSummaryOut):
    preheader: str
    body: str
    warnings: list[WarningOut]
    created_at: datetime


class VersionSummaryOut(CamelSchema):
    number: int
    name: str
    subject: str
    source: str = Field(description="editor, api, draft, restore or starter")
    note: str
    created_at: datetime


class VersionOut(VersionSummaryOut):
    format: str
    preheader: str
    body: str


class DiffOut(CamelSchema):
    number: int
    against: int
    diff: str = Field(description="A unified diff of the two versions' subject, preheader and body.")


class RenderIn(CamelIn):
    format: str = "mjml"
    purpose: str = "marketing"
    subject: str = ""
    preheader: str = ""
    body: str = Field(description=BODY_HELP)
    contact_id: int | None = Field(
        None, description="Render with this contact's values; none = every default."
    )


class RenderedOut(CamelSchema):
    subject: str
    preheader: str
    html: str
    text: str
    warnings: list[WarningOut] = []


class TestSendIn(CamelIn):
    to: str = Field(examples=["me@example.com"])
    contact_id: int | None = Field(None, description="Fill the variables with this contact's values.")


class TestSendOut(CamelSchema):
    to: str
    delivered_to: str = Field(
        description="Where the test went: the default connection's kind, or `outbox` (a .eml file in "
        "the data dir) when the project has no other."
    )
    file: str = Field(description="The outbox file's name, or the provider's message id.")


class StarterOut(CamelSchema):
    id: str
    name: str
