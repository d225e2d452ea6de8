"""Audience → Segments: the list with live counts, the rule builder with its live preview,
tagging everyone in a segment, deleting."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from tidings.audience import segments, selectors, services
from tidings.audience.models import Segment
from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.core.models import Project, Role
from tidings.core.pagination import cursor_page
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import (
    PAGE_SIZE,
    SegmentForm,
    SegmentTagForm,
    add_conflict,
    parse_rules,
    rule_errors,
)
from tidings.web.segment_builder import builder_options

SAMPLE_SIZE = 10


def _preview(project: Project, filters: Any) -> dict[str, Any]:
    """The live count and sample of rules, or the problems that stop them being counted."""
    try:
        count, sample = segments.segment_preview(project=project, filters=filters, limit=SAMPLE_SIZE)
    except ValidationError as exc:
        return {"preview_errors": exc.errors}
    return {"count": count, "sample": sample}


def _editor(
    request: HttpRequest,
    current: Current,
    form: SegmentForm,
    preview: dict[str, Any],
    segment: Segment | None,
) -> HttpResponse:
    project = current.project
    options = builder_options(
        tags=list(selectors.tag_list(project=project)), topics=list(selectors.topic_list(project=project))
    )
    context = {"form": form, "segment": segment, "builder_options": options, **preview}
    return render(request, "web/segment_form.html", context)


@project_view
def segment_list(request: HttpRequest, current: Current) -> HttpResponse:
    queryset = segments.segment_list(project=current.project)
    try:
        rows, next_cursor = cursor_page(queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = cursor_page(queryset, cursor=None, limit=PAGE_SIZE)
    counts = segments.segment_counts(project=current.project, segments=rows)
    items = [(segment, counts[segment.pk]) for segment in rows]
    return render(request, "web/segments.html", {"items": items, "next_cursor": next_cursor})


def _save(request: HttpRequest, current: Current, segment: Segment | None) -> HttpResponse:
    form = SegmentForm(request.POST)
    if not form.is_valid():
        problems = [FieldError("filters", str(e)) for e in form.errors.get("filters", [])]
        preview = (
            {"preview_errors": problems}
            if problems
            else _preview(current.project, form.cleaned_data["filters"])
        )
        return _editor(request, current, form, preview, segment)
    values = form.cleaned_data
    if "preview" in request.POST:  # the no-script way to see the count before saving
        return _editor(request, current, form, _preview(current.project, values["filters"]), segment)
    try:
        if segment is None:
            segment = segments.segment_create(project=current.project, **values)
            messages.success(request, f"The segment “{segment.name}” was created.")
        else:
            segment = segments.segment_update(segment=segment, **values)
            messages.success(request, f"The segment “{segment.name}” was saved.")
    except ValidationError as exc:
        # Problems in the rules are shown beside the builder, each with its path.
        preview: dict[str, Any] = {"preview_errors": rule_errors(form, exc)}
        if not preview["preview_errors"]:
            preview = _preview(current.project, values["filters"])
    except Conflict as exc:
        add_conflict(form, "name", exc)
        preview = _preview(current.project, values["filters"])
    else:
        return redirect("web:segments")
    if segment is not None:
        segment.refresh_from_db()
    return _editor(request, current, form, preview, segment)


@project_view
def segment_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    if request.method != "POST":
        return _editor(request, current, SegmentForm(), _preview(current.project, {}), None)
    return _save(request, current, None)


@project_view
def segment_edit(request: HttpRequest, current: Current, segment_id: int) -> HttpResponse:
    segment = segments.segment_get(project=current.project, segment_id=segment_id)
    if request.method != "POST":
        # Viewers see the rules too, read-only.
        preview = _preview(current.project, segment.filters)
        return _editor(request, current, SegmentForm.for_segment(segment), preview, segment)
    current.require(Role.EDITOR)
    return _save(request, current, segment)


@project_view
def segment_preview(request: HttpRequest, current: Current) -> HttpResponse:
    """The count and sample the builder shows as the rules change; reads only, so any member may ask."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        filters = parse_rules(request.POST.get("filters", ""))
    except ValueError as exc:
        context: dict[str, Any] = {"preview_errors": [FieldError("filters", str(exc))]}
    else:
        context = _preview(current.project, filters)
    return render(request, "web/_segment_preview.html", context)


@project_view
def segment_delete(request: HttpRequest, current: Current, segment_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    segment = segments.segment_get(project=current.project, segment_id=segment_id)
    if request.method != "POST":
        return render(request, "web/segment_delete.html", {"segment": segment})
    segments.segment_delete(segment=segment)
    messages.success(request, f"The segment “{segment.name}” was deleted; its contacts are untouched.")
    return redirect("web:segments")


@project_view
def segment_tag(request: HttpRequest, current: Current, segment_id: int) -> HttpResponse:
    """Tag everyone in the segment now (a one-off: people who join later are not tagged)."""
    current.require(Role.EDITOR)
    segment = segments.segment_get(project=current.project, segment_id=segment_id)
    form = SegmentTagForm(request.POST or None, tags=list(selectors.tag_list(project=current.project)))
    if request.method == "POST" and form.is_valid():
        tag = selectors.tag_get(project=current.project, tag_id=form.cleaned_data["tag"])
        try:
            changed = services.tag_add(tag=tag, segment_filters=segment.filters)
        except ValidationError as exc:
            form.add_error(None, f"The segment's rules cannot be used: {exc.detail}")
        else:
            plural = "s" if changed != 1 else ""
            messages.success(request, f"Tagged {changed} contact{plural} of “{segment.name}” “{tag.name}”.")
            return redirect("web:segments")
    context = {"segment": segment, "form": form, **_preview(current.project, segment.filters)}
    return render(request, "web/segment_tag.html", context)
