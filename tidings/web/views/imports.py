"""Contacts → Import CSV and Export CSV: upload a file, follow its import, fetch the rejected rows."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from tidings.audience import exports, imports, selectors
from tidings.audience.models import ImportStatus
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import ContactFilterForm, ImportForm
from tidings.web.forms import add_service_errors

RECENT_IMPORTS = 10
# How often a page following a running import asks again, in seconds.
POLL_SECONDS = 1


@project_view
def import_upload(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_import = imports.contact_import_create(
                project=current.project, created_by=request.user, **form.service_values()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("web:import_detail", contact_import.pk)
    context = {
        "form": form,
        "recent": imports.contact_import_list(project=current.project)[:RECENT_IMPORTS],
        "tags": selectors.tag_list(project=current.project),
    }
    return render(request, "web/import_upload.html", context)


@project_view
def import_detail(request: HttpRequest, current: Current, import_id: int) -> HttpResponse:
    contact_import = imports.contact_import_get(project=current.project, import_id=import_id)
    context = {
        "contact_import": contact_import,
        "running": contact_import.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx and request.htmx.target == "import-progress":
        return render(request, "web/_import_progress.html", context)
    return render(request, "web/import_detail.html", context)


@project_view
def import_report(request: HttpRequest, current: Current, import_id: int) -> HttpResponseBase:
    contact_import = imports.contact_import_get(project=current.project, import_id=import_id)
    try:
        path = imports.contact_import_report(contact_import=contact_import)
    except Conflict as exc:
        messages.info(request, exc.detail[:1].upper() + exc.detail[1:] + ".")
        return redirect("web:import_detail", contact_import.pk)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{contact_import.pk}-rejected.csv",
        content_type="text/csv; charset=utf-8",
    )


@project_view
def contacts_export(request: HttpRequest, current: Current) -> StreamingHttpResponse:
    """The contacts the list's filters show (all of them without filters), as a CSV download."""
    current.require(Role.EDITOR)
    filters = ContactFilterForm(request.GET, tags=[])
    contacts = selectors.contact_list(project=current.project, **filters.values())
    return exports.contacts_export_response(project=current.project, queryset=contacts)
