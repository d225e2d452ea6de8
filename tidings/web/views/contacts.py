"""Audience → Contacts: the list with search and filters, adding one, bulk actions, deleting."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from tidings.audience import selectors, services
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.core.pagination import cursor_page
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import (
    PAGE_SIZE,
    BulkForm,
    ContactFilterForm,
    ContactForm,
    add_conflict,
)
from tidings.web.forms import add_service_errors

LIST_TEMPLATES = {
    # What an htmx request swaps in, by its target: the filtered results, or the next rows.
    "contact-results": "web/_contact_results.html",
    "load-more": "web/_contact_rows.html",
}


@project_view
def contact_list(request: HttpRequest, current: Current) -> HttpResponse:
    tags = list(selectors.tag_list(project=current.project))
    filters = ContactFilterForm(request.GET, tags=tags)
    values = filters.values()
    contacts = selectors.contact_list(project=current.project, **values).prefetch_related("tags")
    try:
        rows, next_cursor = cursor_page(contacts, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:  # a cursor mangled by hand: start from the top
        rows, next_cursor = cursor_page(contacts, cursor=None, limit=PAGE_SIZE)
    filtered = any(v is not None for v in values.values())
    context = {
        "filters": filters,
        "contacts": rows,
        "next_cursor": next_cursor,
        "filtered": filtered,
        "any_contacts": bool(rows) or (filtered and selectors.contact_list(project=current.project).exists()),
        "tags": tags,
        "list_url": request.get_full_path(),
    }
    template = LIST_TEMPLATES.get(request.htmx.target or "", "web/contacts.html") if request.htmx else None
    response = render(request, template or "web/contacts.html", context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@project_view
def contact_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    tags = selectors.tag_list(project=current.project)
    if request.method != "POST":
        return render(request, "web/contact_form.html", {"form": ContactForm(), "tags": tags})
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            contact = services.contact_create(
                project=current.project, values=form.service_values(), source="web"
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            add_conflict(form, "email", exc)
        else:
            messages.success(request, f"{contact.email} was added.")
            return redirect("web:contact_detail", contact.pk)
    return render(request, "web/contact_form.html", {"form": form, "tags": tags})


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """To the list the bulk action came from, filters and all; never to another site."""
    target = request.POST.get("next", "")
    list_url = reverse("web:contacts")
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        return redirect(target)
    return redirect(list_url)


@project_view
def contact_bulk(request: HttpRequest, current: Current) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    form = BulkForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            messages.error(request, error)
        return _back_to_list(request)
    ids, action = form.cleaned_data["ids"], form.cleaned_data["action"]
    if action == "delete":
        return _bulk_delete(request, current, ids, confirmed=form.cleaned_data["confirm"])
    tag = selectors.tag_get(project=current.project, tag_id=form.cleaned_data["tag"])
    if action == "add_tag":
        changed = services.tag_add(tag=tag, contact_ids=ids)
        messages.success(request, f"Tagged {changed} contact{'s' if changed != 1 else ''} “{tag.name}”.")
    else:
        changed = services.tag_remove(tag=tag, contact_ids=ids)
        messages.success(
            request, f"Removed “{tag.name}” from {changed} contact{'s' if changed != 1 else ''}."
        )
    return _back_to_list(request)


def _bulk_delete(request: HttpRequest, current: Current, ids: list[int], *, confirmed: bool) -> HttpResponse:
    contacts = selectors.contact_list(project=current.project).filter(pk__in=ids).order_by("email_key")
    if not confirmed:
        context = {"contacts": contacts, "count": contacts.count(), "next": request.POST.get("next", "")}
        return render(request, "web/contact_bulk_delete.html", context)
    emails = list(contacts.values_list("email", flat=True))
    deleted, _ = services.contacts_delete_by_email(project=current.project, emails=emails)
    messages.success(request, f"Deleted {deleted} contact{'s' if deleted != 1 else ''}.")
    return _back_to_list(request)


@project_view
def contact_delete(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    if request.method != "POST":
        return render(request, "web/contact_delete.html", {"contact": contact})
    services.contact_delete(contact=contact)
    messages.success(request, f"{contact.email} was deleted.")
    return redirect("web:contacts")
