"""Settings → Suppression list: the addresses never mailed again (hard bounces, complaints,
erasures, added by hand), and their removal by an admin, with a note, kept on record."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.audience import selectors, services
from tidings.audience.models import Suppression, SuppressionReason
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Role
from tidings.core.pagination import cursor_page
from tidings.core.scoping import scoped
from tidings.web.access import Current, project_view
from tidings.web.forms import add_service_errors

PAGE_SIZE = 50
HISTORY_SIZE = 20


class RemovalForm(forms.Form):
    note = forms.CharField(
        label="Why may this address be mailed again?",
        required=False,  # the service says what is missing, in one voice with the API
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000}),
        help_text="Kept on record with your name, e.g. “The person asked to be mailed again on 3 May”.",
    )


@project_view
def suppression_list(request: HttpRequest, current: Current) -> HttpResponse:
    reason = request.GET.get("reason", "")
    if reason not in SuppressionReason.values:
        reason = ""
    search = request.GET.get("q", "").strip()[:254]
    found = selectors.suppression_list(project=current.project, reason=reason or None, search=search)
    try:
        rows, next_cursor = cursor_page(found, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = cursor_page(found, cursor=None, limit=PAGE_SIZE)
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "reason": reason,
        "search": search,
        "reasons": SuppressionReason.choices,
        "filtered": bool(reason or search),
        "paged": bool(request.GET.get("cursor")),
        "removals": list(selectors.suppression_removals(project=current.project)[:HISTORY_SIZE]),
    }
    return render(request, "web/suppressions.html", context)


@project_view
def suppression_remove(request: HttpRequest, current: Current, suppression_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    suppression = scoped(Suppression, current.project).filter(pk=suppression_id).first()
    if suppression is None:
        raise NotFound(f"no suppression with id {suppression_id} in this project")
    form = RemovalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suppression_remove(
                project=current.project,
                suppression_id=suppression.pk,
                note=form.cleaned_data["note"],
                removed_by=request.user.get_username(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            shown = suppression.email or "The erased address"
            messages.success(request, f"{shown} was taken off the suppression list.")
            return redirect("web:suppressions")
    status = 422 if form.errors else 200
    return render(request, "web/suppression_remove.html", {"form": form, "row": suppression}, status=status)
