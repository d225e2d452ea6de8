"""Settings → API keys: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from tidings.core import selectors, services
from tidings.core.errors import ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.forms import ApiKeyCreateForm, add_service_errors


@project_view
def api_keys(request: HttpRequest, current: Current) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    issued = None
    if request.method == "POST":
        current.require(Role.ADMIN)
        if form.is_valid():
            try:
                issued = services.api_key_create(
                    project=current.project, name=form.cleaned_data["name"], created_by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                form = ApiKeyCreateForm()
    context = {"form": form, "issued": issued, "keys": selectors.api_key_list(project=current.project)}
    # The secret is in this one response only: rendered, never redirected
    # through the session, and never kept in a cache or the history.
    template = (
        "web/_api_keys_panel.html" if request.htmx and request.method == "POST" else "web/api_keys.html"
    )
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


@project_view
def api_key_revoke(request: HttpRequest, current: Current, key_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    key = selectors.api_key_get(project=current.project, key_id=key_id)
    if request.method != "POST":
        return render(request, "web/api_key_revoke.html", {"key": key})
    key = services.api_key_revoke(api_key=key)
    if request.htmx:
        return render(request, "web/_api_key_row.html", {"key": key})
    messages.success(request, f"The key “{key.name}” is revoked; requests that use it are refused.")
    return redirect("web:api_keys")
