"""API shapes for CSV imports (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field

from tidings.audience.models import ContactImport
from tidings.core.schemas import CamelIn, CamelSchema


class ImportForm(CamelIn):
    """The options sent beside the file in the multipart form."""

    column_map: str | None = Field(
        None,
        description=(
            "A JSON object of column header → field: email, firstName, lastName, name (split into first "
            "and last), company, phone, country, language, status, createdAt, consentAt, consentIp, tags, "
            "attributes (a JSON object of custom fields), unsubscribed (yes/no), customFields.<key>, or "
            "null to leave the column out. Columns not named are recognised by their header."
        ),
        examples=['{"E-mail": "email", "Plan": "customFields.plan", "Notes": null}'],
    )
    tags: list[str] = Field(
        [], description="Tag names to apply to every imported contact (created if missing)."
    )
    on_conflict: str = Field(
        "skip",
        description="What to do with an address the project already has: skip it, or upsert (non-empty "
        "cells overwrite, custom fields merge).",
    )


class ImportProgress(CamelSchema):
    bytes_read: int
    size_bytes: int
    rows_read: int


class ImportCounts(CamelSchema):
    created: int
    updated: int
    skipped: int = Field(
        description="Existing contacts left as they were (onConflict skip, or nothing to change)."
    )
    rejected: int = Field(description="Rows not imported; the report lists each with its line and reason.")


class ImportOut(CamelSchema):
    id: int
    file_name: str
    status: str = Field(description="queued, running, finished or failed")
    on_conflict: str
    column_map: dict[str, str | None]
    tags: list[str]
    progress: ImportProgress
    counts: ImportCounts
    error: str = Field(description="Why the import failed; empty otherwise.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_tags(obj: ContactImport) -> list[str]:
        return list(obj.tag_names)

    @staticmethod
    def resolve_progress(obj: ContactImport) -> dict[str, int]:
        return {"bytes_read": obj.bytes_read, "size_bytes": obj.size_bytes, "rows_read": obj.rows_read}

    @staticmethod
    def resolve_counts(obj: ContactImport) -> dict[str, int]:
        return {
            "created": obj.created_count,
            "updated": obj.updated_count,
            "skipped": obj.skipped_count,
            "rejected": obj.rejected_count,
        }
