"""/api/v1 endpoints for CSV imports."""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Path, Router, Status, UploadedFile
from ninja.pagination import paginate

from tidings.audience import imports
from tidings.audience.import_schemas import ImportForm, ImportOut
from tidings.audience.models import ContactImport
from tidings.core.errors import ValidationError
from tidings.core.openapi import problems
from tidings.core.pagination import CursorPagination

router = Router(tags=["Imports"], by_alias=True)

ImportId = Annotated[int, Path(alias="importId", description="The import's id.")]
CSV = {"text/csv": {"schema": {"type": "string"}}}


def _column_map(raw: str | None) -> dict[str, Any] | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError.field("columnMap", "is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ValidationError.field("columnMap", "must be a JSON object of column header: field name")
    return value


@router.post(
    "",
    response={202: ImportOut},
    summary="Import contacts from a CSV file",
    description=(
        "A multipart form: `file` (the CSV), and optionally `columnMap`, `tags` (repeat the field for "
        "several) and `onConflict`. The file is checked at once (a file that is not CSV, or has no "
        "email column, is refused with 422); the rows are imported in the background: poll the import "
        "for its progress and counts, and fetch its report for the rejected rows."
    ),
)
def import_create(
    request: HttpRequest, file: File[UploadedFile], options: Form[ImportForm]
) -> Status[ContactImport]:
    contact_import = imports.contact_import_create(
        project=request.auth.project,
        upload=file,
        file_name=file.name or "contacts.csv",
        column_map=_column_map(options.column_map),
        tag_names=options.tags,
        on_conflict=options.on_conflict,
    )
    return Status(202, contact_import)


@router.get("", response=list[ImportOut], summary="List imports, newest first")
@paginate(CursorPagination)
def import_list(request: HttpRequest) -> Any:
    return imports.contact_import_list(project=request.auth.project)


@router.get("/{importId}", response=ImportOut, summary="Get an import: its status, progress and counts")
def import_get(request: HttpRequest, import_id: ImportId) -> ContactImport:
    return imports.contact_import_get(project=request.auth.project, import_id=import_id)


@router.get(
    "/{importId}/report",
    summary="Download the rejected rows of an import as CSV",
    openapi_extra={
        "responses": {
            200: {"description": "line, reason, then the row as it was.", "content": CSV},
            **problems(409)["responses"],
        }
    },
)
def import_report(request: HttpRequest, import_id: ImportId) -> FileResponse:
    contact_import = imports.contact_import_get(project=request.auth.project, import_id=import_id)
    path = imports.contact_import_report(contact_import=contact_import)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{contact_import.pk}-rejected.csv",
        content_type="text/csv; charset=utf-8",
    )
