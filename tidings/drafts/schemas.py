"""API shapes for personas, the variable catalog, drafts and drafting settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from tidings.core.schemas import CamelIn, CamelSchema


class PersonaIn(CamelIn):
    type: str = Field(
        "none",
        description="none, contact, audience (a segment; `segment` also works) or tag",
        json_schema_extra={"enum": ["none", "contact", "audience", "segment", "tag", ""]},
    )
    # strict: JSON false is not the id 0.
    id: int | None = Field(
        None, strict=True, description="The contact's, segment's or tag's id; none for `none`."
    )


class PersonaOut(CamelSchema):
    type: str
    id: int | None
    name: str
    label: str


class VariableOut(CamelSchema):
    name: str = Field(examples=["firstName"])
    label: str
    kind: str = Field(description="built-in or custom")
    type: str = Field(description="text, number, boolean, date, or mixed (custom fields of several types)")
    filled: int | None = Field(None, description="Cohort members with a value (segment and tag personas).")
    fill_rate: float | None = Field(None, description="filled ÷ cohort size, 0–1.")
    value: Any = Field(None, description="The contact's own value (contact personas).")
    default: str = Field(description="What the variable shows for someone without a value.")


class CueOut(CamelSchema):
    value: str
    share: float


class CatalogOut(CamelSchema):
    persona: PersonaOut
    cohort_size: int
    threshold: float = Field(description="Fields filled for fewer than this share of the cohort are hidden.")
    variables: list[VariableOut] = Field(description="What a draft for this persona may use.")
    hidden: list[VariableOut] = Field(description="Fields below the threshold: never used.")
    cues: dict[str, CueOut] = Field(description="The most common country and language, for tone.")


class PersonaOptionOut(CamelSchema):
    type: str
    id: int
    name: str
    detail: str = ""


class PersonaMenuOut(CamelSchema):
    audiences: list[PersonaOptionOut]
    tags: list[PersonaOptionOut]
    contacts: list[PersonaOptionOut]


class DraftIn(CamelIn):
    prompt: str = Field(
        examples=["Announce our spring sale: 20% off until March 31. https://shop.example.com/sale"]
    )
    persona: PersonaIn | None = None


class PromptIn(CamelIn):
    prompt: str = Field(
        examples=["shorter, and more formal"],
        json_schema_extra={"minLength": 1, "maxLength": 4000, "pattern": r"\S"},
    )


class RestoreIn(CamelIn):
    version: int = Field(ge=1)


class MessageOut(CamelSchema):
    id: int
    role: str = Field(description="user, assistant, error (the provider failed; the prompt is kept) or note")
    text: str
    version: int | None = Field(None, description="The design version this answer made.")
    provider: str
    created_at: datetime


class DraftOut(CamelSchema):
    id: int
    title: str
    design_id: int | None
    version: int | None = Field(None, description="The design's current version.")
    persona: PersonaOut
    provider: str = Field(description="The project's drafting provider now.")
    messages: list[MessageOut]
    created_at: datetime
    updated_at: datetime


class DraftSummaryOut(CamelSchema):
    id: int
    title: str
    design_id: int | None
    persona_label: str
    updated_at: datetime


class DraftSettingsOut(CamelSchema):
    provider: str = Field(
        description="offline (built in), openai (any OpenAI-compatible endpoint) or anthropic"
    )
    base_url: str
    model: str
    has_api_key: bool
    timeout_seconds: int
    brand_notes: str
    catalog_threshold: float = Field(description="Percent, e.g. 5.0.")


class DraftSettingsPatch(CamelIn):
    provider: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = Field(None, description='Stored encrypted and never shown again; "" removes it.')
    timeout_seconds: int | None = None
    brand_notes: str | None = None
    catalog_threshold: float | None = Field(None, ge=0, le=100, description="Percent, e.g. 5 or 2.5.")
