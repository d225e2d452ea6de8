"""Settings → API keys: list, create (the secret is shown once), revoke."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from tidings.core import selectors, services
from tidings.core.errors import ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.forms import ApiKeyCreateForm, add_service_errors

# Each rendered create form carries a one-time nonce; a nonce seen before means
# the browser sent the same form again (a reload after creating a key), which
# must not make a second key.
NONCES_KEPT = 20


def _seen_before(request: HttpRequest, nonce: str) -> bool:
    used: list[str] = request.session.get("api_key_form_nonces", [])
    if nonce in used:
        return True
    request.session["api_key_form_nonces"] = [*used, nonce][-NONCES_KEPT:]
    return False


@project_view
def api_keys(request: HttpRequest, current: Current) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    issued = None
    if request.method == "POST":
        current.require(Role.ADMIN)
        nonce = request.POST.get("nonce", "")
        if nonce and _seen_before(request, nonce):
            messages.info(
                request, "That key was created already; its secret was shown once, when it was made."
            )
            return redirect("web:api_keys")
        if form.is_valid():
            try:
                issued = services.api_key_create(
                    project=current.project, name=form.cleaned_data["name"], created_by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                form = ApiKeyCreateForm()
    context = {
        "form": form,
        "issued": issued,
        "keys": selectors.api_key_list(project=current.project),
        "nonce": secrets.token_urlsafe(16),
    }
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
