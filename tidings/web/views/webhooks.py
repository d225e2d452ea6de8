"""Settings → Webhooks: endpoints that receive the project's events, their delivery log, a test event."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from tidings.core.errors import ValidationError
from tidings.core.models import Role
from tidings.core.scoping import get_scoped, scoped
from tidings.hooks import sender, services
from tidings.hooks.events import ALL, EVENT_TYPES
from tidings.hooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tidings.web.access import Current, project_view
from tidings.web.forms import add_service_errors, text_input

LOG_ROWS = 50
EVENT_CHOICES = [(ALL, "Every event, also types added later"), *((n, n) for n in EVENT_TYPES)]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        required=False,
        widget=text_input(maxlength=2000, placeholder="https://example.com/hooks/tidings", required=True),
        help_text="An https:// address on the internet; private and loopback addresses are refused.",
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, initial=[ALL], required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        required=False, widget=text_input(maxlength=200), help_text="What receives the events."
    )
    enabled = forms.BooleanField(
        required=False, initial=True, help_text="Off: no events are recorded for it."
    )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "url": data["url"],
            "events": data["events"] or [],
            "description": data["description"],
            "enabled": data["enabled"],
        }


def _endpoint(current: Current, webhook_id: int) -> WebhookEndpoint:
    return get_scoped(WebhookEndpoint, current.project, pk=webhook_id)


def _with_secret(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A page holding a new secret: in this one response only, never cached."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


@project_view
def webhook_list(request: HttpRequest, current: Current) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        current.require(Role.ADMIN)
        if form.is_valid():
            try:
                issued = services.endpoint_create(project=current.project, values=form.values())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                context = {"endpoint": issued.endpoint, "secret": issued.secret, "new": True}
                return _with_secret(request, "web/webhook_secret.html", context)
    endpoints = scoped(WebhookEndpoint, current.project).order_by("-pk")
    return render(request, "web/webhooks.html", {"form": form, "endpoints": endpoints})


@project_view
def webhook_detail(request: HttpRequest, current: Current, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(current, webhook_id)
    initial = {
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST":
        current.require(Role.ADMIN)
        if form.is_valid():
            try:
                services.endpoint_update(endpoint=endpoint, values=form.values())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The webhook is saved.")
                return redirect("web:webhook_detail", endpoint.pk)
    state = request.GET.get("state", "")
    log = WebhookDelivery.objects.for_project(current.project).filter(endpoint=endpoint)
    if state in DeliveryState.values:
        log = log.filter(state=state)
    context = {
        "endpoint": endpoint,
        "form": form,
        "deliveries": log.order_by("-pk")[:LOG_ROWS],
        "state": state,
        "states": DeliveryState.choices,
    }
    return render(request, "web/webhook_detail.html", context)


@project_view
def webhook_test(request: HttpRequest, current: Current, webhook_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    endpoint = _endpoint(current, webhook_id)
    if request.method != "POST":
        return redirect("web:webhook_detail", endpoint.pk)
    delivery = sender.send_now(services.test_delivery(endpoint=endpoint))
    if delivery.state == DeliveryState.SUCCEEDED:
        messages.success(
            request, f"The test event was delivered: the endpoint answered {delivery.last_status}."
        )
    else:
        messages.error(request, f"The test event was not delivered: {delivery.last_error}.")
    return redirect("web:webhook_delivery", delivery.pk)


@project_view
def webhook_rotate(request: HttpRequest, current: Current, webhook_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    endpoint = _endpoint(current, webhook_id)
    if request.method != "POST":
        return redirect("web:webhook_detail", endpoint.pk)
    issued = services.endpoint_rotate_secret(endpoint=endpoint)
    context = {"endpoint": issued.endpoint, "secret": issued.secret, "new": False}
    return _with_secret(request, "web/webhook_secret.html", context)


@project_view
def webhook_delete(request: HttpRequest, current: Current, webhook_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    endpoint = _endpoint(current, webhook_id)
    if request.method != "POST":
        return render(request, "web/webhook_delete.html", {"endpoint": endpoint})
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, f"The webhook to {endpoint.url} is deleted, with its delivery log.")
    return redirect("web:webhooks")


@project_view
def webhook_delivery(request: HttpRequest, current: Current, delivery_id: int) -> HttpResponse:
    delivery = get_scoped(
        WebhookDelivery.objects.select_related("endpoint").prefetch_related("attempt_log"),
        current.project,
        pk=delivery_id,
    )
    if request.method == "POST":
        current.require(Role.ADMIN)
        services.delivery_retry(delivery=delivery)
        messages.success(request, "The delivery is queued to be sent again now.")
        return redirect("web:webhook_delivery", delivery.pk)
    return render(request, "web/webhook_delivery.html", {"delivery": delivery})
