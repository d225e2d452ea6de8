"""Contacts out as CSV: streamed page by page, in constant memory, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any, TextIO

from django.db import connection
from django.db.models import CharField, F, Func, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from tidings.audience.fields import CUSTOM_PREFIX
from tidings.audience.imports_columns import KNOWN_HEADERS, header_key
from tidings.audience.models import Contact, ContactTag
from tidings.core.models import Project
from tidings.core.scoping import scoped

PAGE = 2000
# (header, model column): the header names are the API's, and an import reads them back.
COLUMNS = (
    ("email", "email"),
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("company", "company"),
    ("phone", "phone"),
    ("country", "country"),
    ("language", "language"),
    ("status", "status"),
    ("source", "source"),
    ("createdAt", "created_at"),
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The cell as text, with a leading ' where a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _custom_header(key: str) -> str:
    # A key that an import would take for a contact field is written the long way.
    return CUSTOM_PREFIX + key if header_key(key) in KNOWN_HEADERS else key


def _tag_cell(names: list[str]) -> str:
    quoted = (f'"{n.replace(chr(34), chr(34) * 2)}"' if ("," in n or '"' in n) else n for n in names)
    return ", ".join(quoted)


def custom_field_keys(queryset: QuerySet[Contact]) -> list[str]:
    """Every custom field key the contacts of ``queryset`` use, sorted."""
    if connection.vendor == "postgresql":
        keys = Func(
            F("custom_fields"),
            template=(
                "jsonb_object_keys(CASE WHEN jsonb_typeof(%(expressions)s) = 'object' "
                "THEN %(expressions)s ELSE '{}'::jsonb END)"
            ),
            output_field=CharField(),
        )
        return sorted(queryset.order_by().annotate(key=keys).values_list("key", flat=True).distinct())
    found: set[str] = set()
    for page in _pages(queryset.values("pk", "custom_fields")):
        for row in page:
            if isinstance(row["custom_fields"], dict):
                found.update(row["custom_fields"])
    return sorted(found)


def _pages(queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    """The rows of ``queryset`` in pages by primary key: no server-side cursor, no OFFSET."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk")[:PAGE])
        if not page:
            return
        yield page
        last = page[-1]["pk"]


def contacts_export_chunks(*, project: Project, queryset: QuerySet[Contact]) -> Iterator[str]:
    """The CSV text of the contacts of ``queryset`` (limited to ``project``), a page at a time.

    Columns: the contact fields, ``tags`` (names, comma-joined), then one
    column per custom field key any of them has.
    """
    contacts = scoped(queryset, project)
    keys = custom_field_keys(contacts)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*(h for h, _ in COLUMNS), "tags", *(safe_cell(_custom_header(k)) for k in keys)])
    columns = [c for _, c in COLUMNS]
    for page in _pages(contacts.values("pk", *columns, "custom_fields")):
        tags: dict[int, list[str]] = {}
        links = (
            ContactTag.objects.filter(contact_id__in=[row["pk"] for row in page])
            .order_by("tag__name")
            .values_list("contact_id", "tag__name")
        )
        for contact_id, name in links:
            tags.setdefault(contact_id, []).append(name)
        for row in page:
            custom = row["custom_fields"] if isinstance(row["custom_fields"], dict) else {}
            created = row["created_at"]
            row["created_at"] = created.astimezone(UTC).isoformat() if created else ""
            writer.writerow(
                [
                    *(safe_cell(row[c]) for c in columns),
                    safe_cell(_tag_cell(tags.get(row["pk"], []))),
                    *(safe_cell(custom.get(k)) for k in keys),
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def contacts_export(*, project: Project, queryset: QuerySet[Contact], out: TextIO) -> None:
    """Write the contacts of ``queryset`` (limited to ``project``) to ``out`` as CSV."""
    for chunk in contacts_export_chunks(project=project, queryset=queryset):
        out.write(chunk)


def contacts_export_response(
    *, project: Project, queryset: QuerySet[Contact], filename: str | None = None
) -> StreamingHttpResponse:
    """An HTTP download of the CSV, streamed as it is written."""
    name = filename or f"contacts-{project.slug}-{timezone.now():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        contacts_export_chunks(project=project, queryset=queryset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
