"""Settings → AI drafting: the provider drafts are written with, brand notes, the catalog threshold."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.core.errors import ValidationError
from tidings.core.models import Role
from tidings.drafts import services
from tidings.web.access import Current, project_view
from tidings.web.create_forms import DraftSettingsForm
from tidings.web.forms import add_service_errors


@project_view
def drafting_settings(request: HttpRequest, current: Current) -> HttpResponse:
    settings = services.draft_settings_get(project=current.project)
    if request.method != "POST":
        form = DraftSettingsForm.for_settings(settings)
        return render(request, "web/settings_drafting.html", {"form": form, "settings": settings})
    current.require(Role.ADMIN)
    form = DraftSettingsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        api_key = "" if data["clear_api_key"] else (data["api_key"] or None)
        try:
            services.draft_settings_update(
                project=current.project,
                provider=data["provider"],
                base_url=data["base_url"],
                model=data["model"],
                api_key=api_key,
                timeout_seconds=data["timeout_seconds"],
                brand_notes=data["brand_notes"],
                catalog_threshold_bp=round(data["catalog_threshold"] * 100),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The drafting settings were saved.")
            return redirect("web:drafting_settings")
    return render(request, "web/settings_drafting.html", {"form": form, "settings": settings}, status=422)
