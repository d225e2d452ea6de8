"""Helpers shared by the import and export tests (this module holds no tests)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tidings.audience import imports
from tidings.audience.models import Contact, ContactImport
from tidings.core.models import Project


def upload(text: str | bytes, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text if isinstance(text, bytes) else text.encode(encoding))


def create_import(
    project: Project, text: str | bytes, *, encoding: str = "utf-8", **options: Any
) -> ContactImport:
    """A queued import of ``text``, not enqueued (the test runs it)."""
    options.setdefault("file_name", "contacts.csv")
    return imports.contact_import_create(
        project=project, upload=upload(text, encoding), enqueue=False, **options
    )


def run_import(
    project: Project, text: str | bytes, *, batch_size: int = 5000, encoding: str = "utf-8", **options: Any
) -> ContactImport:
    """Create and run an import in-process; the import as it ended."""
    contact_import = create_import(project, text, encoding=encoding, **options)
    return imports.contact_import_run(contact_import=contact_import, batch_size=batch_size)


def counts(contact_import: ContactImport) -> dict[str, int]:
    ci = contact_import
    return {
        "read": ci.rows_read,
        "created": ci.created_count,
        "updated": ci.updated_count,
        "skipped": ci.skipped_count,
        "rejected": ci.rejected_count,
    }


def report_rows(contact_import: ContactImport) -> list[list[str]]:
    """The rows of the rejected-rows report, header included."""
    with open(contact_import.report_path, newline="", encoding="utf-8") as report:
        return list(csv.reader(report))


def reasons(contact_import: ContactImport) -> dict[int, str]:
    """Line → reason, from the report."""
    return {int(row[0]): row[1] for row in report_rows(contact_import)[1:]}


def contact(project: Project, email: str) -> Contact:
    return Contact.objects.for_project(project).get(email_key=email.lower())


def tag_names(contact: Contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))
