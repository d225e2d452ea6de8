"""CSV import of contacts: accept a file, run it (in a task or in-process), read its outcome.

The file is checked before anything is written (is it a CSV file, has it an
email column, does the column map fit it), stored privately under
``DATA_DIR/imports/<project id>/``, and run by ``contact_import_run`` in
batches (see ``imports_run``). The upload is deleted once the run ends;
the report of rejected rows stays beside it.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tidings.audience.imports_columns import ColumnPlan, plan_columns
from tidings.audience.imports_csv import CsvFormat, CsvRefused, RowsFailed, sniff
from tidings.audience.imports_rows import TAG_NAME_MAX
from tidings.audience.imports_run import DEFAULT_BATCH, ImportRun
from tidings.audience.models import ContactImport, ImportStatus, OnConflict
from tidings.core.dbstats import LARGE_WRITE, analyze
from tidings.core.errors import Conflict, FieldError, NotFound, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped
from tidings.hooks import events
from tidings.hooks import services as hooks

logger = logging.getLogger(__name__)

IMPORT_TAGS_MAX = 50


def imports_dir(project_id: int) -> Path:
    """Where a project's uploads and reports live; only the Tidings user can read it."""
    top = Path(settings.DATA_DIR) / "imports"
    top.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = top / str(project_id)
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _clean_options(
    column_map: Any, tag_names: Sequence[str], on_conflict: str
) -> tuple[dict[str, str | None], list[str]]:
    errors: list[FieldError] = []
    if on_conflict not in OnConflict.values:
        errors.append(FieldError("onConflict", f"must be one of {', '.join(OnConflict.values)}"))
    if column_map is None:
        column_map = {}
    if not isinstance(column_map, dict) or not all(isinstance(k, str) for k in column_map):
        errors.append(FieldError("columnMap", "must be an object of column header: field name"))
        column_map = {}
    tags: list[str] = []
    for index, raw in enumerate(tag_names):
        name = raw.strip() if isinstance(raw, str) else ""
        if not name or len(name) > TAG_NAME_MAX:
            errors.append(FieldError(f"tags.{index}", f"must be 1 to {TAG_NAME_MAX} characters"))
        elif name not in tags:
            tags.append(name)
    if len(tags) > IMPORT_TAGS_MAX:
        errors.append(FieldError("tags", f"at most {IMPORT_TAGS_MAX} tags per import"))
    if errors:
        raise ValidationError(errors)
    return column_map, tags


def contact_import_check(*, upload: BinaryIO, column_map: dict[str, Any] | None = None) -> ColumnPlan:
    """What an import of this file would do with each column; ``ValidationError`` if it cannot run.

    Reads only the first chunk of ``upload`` and rewinds it.
    """
    csv_format = _sniff(upload)
    upload.seek(0)
    return plan_columns(csv_format.header, column_map)


def _sniff(upload: BinaryIO) -> CsvFormat:
    upload.seek(0)
    try:
        csv_format = sniff(upload)
    except CsvRefused as exc:
        raise ValidationError.field("file", str(exc)) from exc
    if csv_format.header_only:
        raise ValidationError.field("file", "the file has a header line but no contact rows")
    return csv_format


def contact_import_create(
    *,
    project: Project,
    upload: BinaryIO,
    file_name: str,
    column_map: dict[str, Any] | None = None,
    tag_names: Sequence[str] = (),
    on_conflict: str = OnConflict.SKIP,
    created_by: AbstractBaseUser | None = None,
    enqueue: bool = True,
) -> ContactImport:
    """Check and store an uploaded CSV file and record its import, queued.

    Nothing is written when the file or the options are refused
    (``ValidationError``). With ``enqueue`` the import task is queued once the
    transaction commits; without it the caller runs ``contact_import_run``.
    """
    column_map, tags = _clean_options(column_map, tag_names, on_conflict)
    contact_import_check(upload=upload, column_map=column_map)  # the run plans again from the stored file
    directory = imports_dir(project.pk)
    stored = directory / f"{uuid.uuid4().hex}.csv"
    descriptor = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            upload.seek(0)
            shutil.copyfileobj(upload, out, 1024 * 1024)
        size = stored.stat().st_size
        with transaction.atomic():
            contact_import = ContactImport.objects.create(
                project=project,
                file_name=Path(file_name or "contacts.csv").name[:255],
                stored_path=str(stored),
                size_bytes=size,
                column_map=column_map,
                tag_names=tags,
                on_conflict=on_conflict,
                created_by=created_by,
            )
            if enqueue:
                ids = (project.pk, contact_import.pk)
                transaction.on_commit(lambda: _enqueue(*ids))
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return contact_import


def _enqueue(project_id: int, import_id: int) -> None:
    from tidings.audience.tasks import contact_import_task

    contact_import_task.enqueue(project_id, import_id)


def contact_import_run(
    *,
    contact_import: ContactImport,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ContactImport], None] | None = None,
) -> ContactImport:
    """Run a queued import to its end: ``finished``, or ``failed`` with the error and the rows done.

    An import that is not queued (already run, or running elsewhere) is left
    alone. ``progress`` is called with the import after every batch.
    """
    report = imports_dir(contact_import.project_id) / f"{contact_import.pk}-rejected.csv"
    claimed = ContactImport.objects.filter(pk=contact_import.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), report_path=str(report)
    )
    contact_import.refresh_from_db()
    if not claimed:
        return contact_import
    report.touch(mode=0o600)
    error = ""
    try:
        ImportRun(contact_import, batch_size=batch_size, progress=progress).run(report)
    except (RowsFailed, CsvRefused, ValidationError, OSError) as exc:
        error = str(exc)
    except Exception as exc:
        logger.exception("import %s of project %s failed", contact_import.pk, contact_import.project_id)
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        error = f"unexpected error: {type(exc).__name__}: {first_line}".rstrip(": ")
    except BaseException:
        _finish(contact_import, "interrupted (the worker stopped); importing the file again is safe")
        raise
    _finish(contact_import, error)
    if contact_import.created_count >= ANALYZE_AFTER:
        _analyze()
    return contact_import


# After an import this large a send planned right after it is planned on fresh statistics.
ANALYZE_AFTER = LARGE_WRITE


def _analyze() -> None:
    from tidings.audience.models import Contact, ContactTag

    analyze(Contact, ContactTag)


def _finish(contact_import: ContactImport, error: str) -> None:
    with transaction.atomic():
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ImportStatus.FAILED if error else ImportStatus.FINISHED,
            error=error,
            finished_at=timezone.now(),
        )
        contact_import.refresh_from_db()
        hooks.emit(contact_import.project_id, "import.finished", events.import_data(contact_import))
    # The upload holds people's data and is of no further use: a new run needs a new import.
    Path(contact_import.stored_path).unlink(missing_ok=True)


# -- reads ---------------------------------------------------------------------------


def contact_import_list(*, project: Project) -> QuerySet[ContactImport]:
    return scoped(ContactImport, project)


def contact_import_get(*, project: Project, import_id: int) -> ContactImport:
    return get_scoped(ContactImport, project, pk=import_id)


def contact_import_report(*, contact_import: ContactImport) -> Path:
    """The CSV of the import's rejected rows (line, reason, the row as it was)."""
    if contact_import.status == ImportStatus.QUEUED:
        raise Conflict("the import has not started yet; its report is written as it runs")
    path = Path(contact_import.report_path) if contact_import.report_path else None
    if path is None or not path.is_file():
        raise NotFound("the report of this import is gone")
    return path
