"""One contact: its page, editing, its tags and topics, and GDPR export and erasure."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render

from tidings.audience import selectors, services
from tidings.audience.models import Contact
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.sending.models import MessageState
from tidings.tracking.models import BounceType, EventKind
from tidings.tracking.selectors import contact_activity
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import ContactForm, ContactTagForm, add_conflict
from tidings.web.forms import add_service_errors

ACTIVITY_PAGE = 50
ACTIVITY_LABELS = {**dict(MessageState.choices), **dict(EventKind.choices)}
BOUNCE_LABELS = dict(BounceType.choices)


def _sections(
    contact: Contact, tag_form: ContactTagForm | None = None, activity_cursor: str | None = None
) -> dict[str, Any]:
    return {
        **_activity(contact, activity_cursor),
        "contact": contact,
        # A list of pairs: a custom field named "items" must not shadow dict.items in templates.
        "custom_fields": sorted(contact.custom_fields.items()),
        "contact_tags": selectors.contact_tags(contact=contact),
        "topics": selectors.contact_topics(contact=contact),
        "tag_form": tag_form or ContactTagForm(),
        "tags": selectors.tag_list(project=contact.project),
    }


def _activity(contact: Contact, cursor: str | None) -> dict[str, Any]:
    """The contact's messages and events, newest first, a page at a time."""
    try:
        items, next_cursor = contact_activity(
            project=contact.project, contact_id=contact.pk, cursor=cursor, limit=ACTIVITY_PAGE
        )
    except ValidationError:  # a stale or hand-edited cursor: start from the newest
        items, next_cursor = contact_activity(
            project=contact.project, contact_id=contact.pk, limit=ACTIVITY_PAGE
        )
    for item in items:
        item["label"] = ACTIVITY_LABELS.get(item["kind"], item["kind"])
        item["bounce_label"] = BOUNCE_LABELS.get(item["bounce_type"], "")
    return {"activity": items, "activity_next": next_cursor, "activity_paged": bool(cursor)}


def _post_only(request: HttpRequest, current: Current) -> HttpResponse | None:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    return None


@project_view
def contact_detail(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    sections = _sections(contact, activity_cursor=request.GET.get("activity") or None)
    return render(request, "web/contact_detail.html", sections)


@project_view
def contact_edit(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    if request.method != "POST":
        form = ContactForm.for_contact(contact)
        return render(request, "web/contact_form.html", {"form": form, "contact": contact})
    form = ContactForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            services.contact_update(contact=contact, values=form.service_values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            add_conflict(form, "email", exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect("web:contact_detail", contact.pk)
        contact.refresh_from_db()  # the page header shows what is stored, not what was refused
    return render(request, "web/contact_form.html", {"form": form, "contact": contact})


def _tags_response(
    request: HttpRequest, contact: Contact, form: ContactTagForm | None = None
) -> HttpResponse:
    if request.htmx:
        return render(request, "web/_contact_tags.html", _sections(contact, form))
    if form is not None and form.errors:
        return render(request, "web/contact_detail.html", _sections(contact, form))
    return redirect("web:contact_detail", contact.pk)


@project_view
def contact_tag_add(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    if refused := _post_only(request, current):
        return refused
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    form = ContactTagForm(request.POST)
    if form.is_valid():
        try:
            services.contact_update(contact=contact, values={"tags": [form.cleaned_data["name"]]})
        except ValidationError as exc:
            form.add_error("name", "; ".join(e.message[:1].upper() + e.message[1:] for e in exc.errors))
        else:
            form = ContactTagForm()
    return _tags_response(request, contact, form)


@project_view
def contact_tag_remove(request: HttpRequest, current: Current, contact_id: int, tag_id: int) -> HttpResponse:
    if refused := _post_only(request, current):
        return refused
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    tag = selectors.tag_get(project=current.project, tag_id=tag_id)
    services.tag_remove(tag=tag, contact_ids=[contact.pk])
    return _tags_response(request, contact)


@project_view
def contact_topic_set(request: HttpRequest, current: Current, contact_id: int, topic_id: int) -> HttpResponse:
    if refused := _post_only(request, current):
        return refused
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    topic = selectors.topic_get(project=current.project, topic_id=topic_id)
    subscribed = request.POST.get("subscribed") == "1"
    services.topic_set_subscription(topic=topic, contact=contact, subscribed=subscribed)
    if request.htmx:
        return render(request, "web/_contact_topics.html", _sections(contact))
    state = "subscribed to" if subscribed else "unsubscribed from"
    messages.success(request, f"{contact.email} is now {state} “{topic.name}”.")
    return redirect("web:contact_detail", contact.pk)


@project_view
def contact_export(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    data = selectors.contact_gdpr_export(contact=contact)
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@project_view
def contact_erase(request: HttpRequest, current: Current, contact_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    contact = selectors.contact_get(project=current.project, contact_id=contact_id)
    if request.method != "POST":
        return render(request, "web/contact_erase.html", {"contact": contact})
    services.contact_erase(contact=contact)
    messages.success(
        request, "The contact was erased. Their address is on the suppression list and cannot be added again."
    )
    return redirect("web:contacts")
