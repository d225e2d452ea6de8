"""Audience → Tags: the list with contact counts, creating, renaming and recolouring, deleting."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.audience import selectors, services
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import TagForm, add_conflict
from tidings.web.forms import add_service_errors


def _warn(request: HttpRequest, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning[:1].upper() + warning[1:] + ".")


@project_view
def tag_list(request: HttpRequest, current: Current) -> HttpResponse:
    form = TagForm(request.POST or None)
    if request.method == "POST":
        current.require(Role.EDITOR)
        if form.is_valid():
            try:
                tag, warnings = services.tag_create(project=current.project, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                add_conflict(form, "name", exc)
            else:
                messages.success(request, f"The tag “{tag.name}” was created.")
                _warn(request, warnings)
                return redirect("web:tags")
    tags = selectors.tag_list(project=current.project)
    return render(request, "web/tags.html", {"form": form, "tags": tags})


@project_view
def tag_edit(request: HttpRequest, current: Current, tag_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    tag = selectors.tag_get(project=current.project, tag_id=tag_id)
    if request.method != "POST":
        return render(request, "web/tag_form.html", {"form": TagForm.for_tag(tag), "tag": tag})
    form = TagForm(request.POST)
    if form.is_valid():
        try:
            tag, warnings = services.tag_update(tag=tag, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            add_conflict(form, "name", exc)
        else:
            messages.success(request, f"The tag “{tag.name}” was saved.")
            _warn(request, warnings)
            return redirect("web:tags")
        tag.refresh_from_db()
    return render(request, "web/tag_form.html", {"form": form, "tag": tag})


@project_view
def tag_delete(request: HttpRequest, current: Current, tag_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    tag = selectors.tag_get(project=current.project, tag_id=tag_id)
    if request.method != "POST":
        return render(request, "web/tag_delete.html", {"tag": tag})
    services.tag_delete(tag=tag)
    messages.success(request, f"The tag “{tag.name}” was deleted; its contacts keep everything else.")
    return redirect("web:tags")
