"""Create → Designs: every email design, the editor with its live preview, versions and test sends."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.html import escape

from tidings.audience import selectors as audience
from tidings.content import selectors, services
from tidings.content.models import EmailDesign
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Role
from tidings.sending.testsend import send_design_test
from tidings.web.access import Current, project_view
from tidings.web.create_forms import DesignForm, TestSendForm
from tidings.web.forms import add_service_errors
from tidings.web.views.previews import preview_response

FIELDS = ("name", "purpose", "format", "subject", "preheader", "body")


def _contact(current: Current, raw: str | None) -> Any:
    """The contact to render as; another project's id is NotFound, as everywhere."""
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound("no such contact")
    return audience.contact_get(project=current.project, contact_id=int(raw))


def _editor(
    request: HttpRequest, current: Current, form: DesignForm, design: EmailDesign | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "design": design,
        "versions": list(selectors.design_versions(design=design)) if design else [],
        "test_form": TestSendForm(),
        "contacts": list(audience.contact_list(project=current.project).order_by("-pk")[:20]),
        "starters": services.STARTERS,
    }
    return render(request, "web/design_form.html", context, status=status)


@project_view
def design_list(request: HttpRequest, current: Current) -> HttpResponse:
    designs = selectors.design_list(project=current.project, search=request.GET.get("q"))[:200]
    return render(request, "web/designs.html", {"designs": designs, "q": request.GET.get("q", "")})


@project_view
def design_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    starter = request.GET.get("starter") or request.POST.get("starter")
    if request.method == "POST" and starter:
        try:
            design = services.design_create_from_starter(
                project=current.project, starter=starter, user=request.user
            )
        except ValidationError as exc:
            messages.error(request, exc.detail)
            return redirect("web:designs")
        messages.success(request, f"“{design.name}” was created from a template.")
        return redirect("web:design_edit", design_id=design.pk)
    form = DesignForm(request.POST or None, initial={"purpose": "marketing", "format": "mjml"})
    if request.method == "POST" and form.is_valid():
        try:
            design = services.design_create(
                project=current.project, values=form.cleaned_data, user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{design.name}” was saved as version 1.")
            return redirect("web:design_edit", design_id=design.pk)
        return _editor(request, current, form, None, status=422)
    return _editor(request, current, form, None)


@project_view
def design_edit(request: HttpRequest, current: Current, design_id: int) -> HttpResponse:
    design = selectors.design_get(project=current.project, design_id=design_id)
    if request.method != "POST":
        form = DesignForm(initial={key: getattr(design, key) for key in FIELDS})
        return _editor(request, current, form, design)
    current.require(Role.EDITOR)
    form = DesignForm(request.POST)
    if form.is_valid():
        try:
            design, changed = services.design_update(
                design=design, values=form.cleaned_data, user=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, f"Saved as version {design.version}.")
            else:
                messages.success(request, "Nothing changed, so no new version was made.")
            return redirect("web:design_edit", design_id=design.pk)
    return _editor(request, current, form, design, status=422)


@project_view
def design_live_preview(request: HttpRequest, current: Current) -> HttpResponse:
    """The editor's live preview of unsaved source: the frame, warnings and errors (an htmx partial)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    values = {key: request.POST.get(key, "") for key in FIELDS}
    values["name"] = values["name"] or "preview"
    if not values["body"].strip():
        return render(request, "web/_design_preview.html", {"empty": True})
    contact = _contact(current, request.POST.get("contact"))
    try:
        checked = services.design_check(project=current.project, values=values, contact=contact)
    except ValidationError as exc:
        return render(request, "web/_design_preview.html", {"errors": exc.errors})
    context = {"html": checked.rendered.html, "text": checked.rendered.text, "warnings": checked.warnings}
    return render(request, "web/_design_preview.html", context)


@project_view
def design_preview(request: HttpRequest, current: Current, design_id: int) -> HttpResponse:
    design = selectors.design_get(project=current.project, design_id=design_id)
    obj: Any = design
    if request.GET.get("version", "").isdigit():
        obj = selectors.design_version_get(design=design, number=int(request.GET["version"]))
    try:
        rendered = selectors.design_preview(
            project=current.project,
            source=selectors.source_of(obj),
            contact=_contact(current, request.GET.get("contact")),
        )
    except ValidationError as exc:
        return preview_response(f"<pre>{escape(exc.detail)}</pre>")
    return preview_response(rendered.html)


@project_view
def design_restore(request: HttpRequest, current: Current, design_id: int, number: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    design = selectors.design_get(project=current.project, design_id=design_id)
    design = services.design_restore(design=design, number=number, user=request.user)
    messages.success(request, f"Version {number} restored as version {design.version}.")
    return redirect("web:design_edit", design_id=design.pk)


@project_view
def design_test(request: HttpRequest, current: Current, design_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    design = selectors.design_get(project=current.project, design_id=design_id)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the address to send the test to.")
        return redirect("web:design_edit", design_id=design.pk)
    try:
        rendered = selectors.design_preview(
            project=current.project,
            source=selectors.source_of(design),
            contact=_contact(current, request.POST.get("contact")),
        )
        sent = send_design_test(project=current.project, rendered=rendered, to=form.cleaned_data["to"])
    except ValidationError as exc:
        messages.error(request, exc.detail)
    else:
        if sent.delivered_to == "outbox":
            messages.success(
                request, f"A test went to the outbox for {sent.to} ({sent.reference}, in the data folder)."
            )
        else:
            messages.success(request, f"A test went to {sent.to} through {sent.connection}.")
    return redirect("web:design_edit", design_id=design.pk)


@project_view
def design_delete(request: HttpRequest, current: Current, design_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    design = selectors.design_get(project=current.project, design_id=design_id)
    if request.method != "POST":
        return render(request, "web/design_delete.html", {"design": design})
    services.design_delete(design=design)
    messages.success(request, f"“{design.name}” and its versions were deleted.")
    return redirect("web:designs")


@project_view
def design_diff(request: HttpRequest, current: Current, design_id: int, number: int) -> HttpResponse:
    """What changed from one version to another (the current one unless ``against`` says)."""
    design = selectors.design_get(project=current.project, design_id=design_id)
    raw = request.GET.get("against", "")
    against = int(raw) if raw.isdigit() else design.version
    diff = selectors.design_version_diff(design=design, number=against, against=number)
    lines = [
        ("add" if line.startswith("+") else "del" if line.startswith("-") else "", line)
        for line in diff.splitlines()
    ]
    context = {"design": design, "number": number, "against": against, "lines": lines}
    return render(request, "web/design_diff.html", context)
