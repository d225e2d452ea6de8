"""Signing in and out, and choosing the current project."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tidings.core.errors import NotFound
from tidings.web import access

login = auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True)
logout = auth_views.LogoutView.as_view()


@login_required
@require_POST
def switch_project(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("project", "")
    if not raw.isdigit():
        raise Http404("project not found")
    try:
        access.switch_project(request, int(raw))
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return HttpResponseRedirect(target)
    return redirect("web:home")
