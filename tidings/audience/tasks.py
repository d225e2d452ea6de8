"""Background work of the audience area."""

from __future__ import annotations

from django.tasks import task

from tidings.audience import imports
from tidings.audience.models import ContactImport
from tidings.core.scoping import get_scoped


@task
def contact_import_task(project_id: int, import_id: int) -> dict[str, object]:
    """Run one queued CSV import. Safe to deliver twice: a second run finds it no longer queued."""
    contact_import = get_scoped(ContactImport, project_id, pk=import_id)
    done = imports.contact_import_run(contact_import=contact_import)
    return {"importId": done.pk, "status": done.status, "rowsRead": done.rows_read}
