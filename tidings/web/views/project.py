"""Settings → Project and Settings → Members."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.core import selectors, services
from tidings.core.errors import ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.forms import ProjectSettingsForm, add_service_errors


@project_view
def project_settings(request: HttpRequest, current: Current) -> HttpResponse:
    if request.method != "POST":
        form = ProjectSettingsForm.for_project(current.project)
        return render(request, "web/settings_project.html", {"form": form})
    current.require(Role.ADMIN)
    form = ProjectSettingsForm(request.POST)
    if form.is_valid():
        try:
            changes = {
                name: value
                for name, value in form.cleaned_data.items()
                if not (value is None and name in ProjectSettingsForm.KEEP_WHEN_EMPTY)
            }
            services.project_update(project=current.project, **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Project settings saved.")
            return redirect("web:project_settings")
    return render(request, "web/settings_project.html", {"form": form})


@project_view
def members(request: HttpRequest, current: Current) -> HttpResponse:
    memberships = selectors.membership_list(project=current.project)
    return render(request, "web/members.html", {"memberships": memberships})
