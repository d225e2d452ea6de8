"""Pages a recipient reaches from a message, without an account: unsubscribe and preferences.

``/u/<token>`` is the List-Unsubscribe address (RFC 8058): a POST with
``List-Unsubscribe=One-Click`` (form or multipart) unsubscribes at once and
answers 200, again 200 on repeat; a GET only shows a page asking to confirm.
``/p/<token>`` is the preference center. No cookie and no login: the signed
token is the only key, and a bad one is a 404.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tidings.core.errors import NotFound
from tidings.tracking import services
from tidings.tracking.tokens import preferences_url

ONE_CLICK = "One-Click"


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "tracking/invalid.html", status=404)


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        project, contact, recipient = services.recipient_from_token(token)
    except NotFound:
        return _not_found(request)
    context = {"project": project, "contact": contact, "preferences": preferences_url(token)}
    if request.method != "POST":
        return _page(request, "tracking/unsubscribe_confirm.html", context)
    if request.POST.get("List-Unsubscribe") != ONE_CLICK:
        return _page(
            request,
            "tracking/unsubscribe_confirm.html",
            {**context, "error": "To unsubscribe, send List-Unsubscribe=One-Click."},
            status=400,
        )
    if services.unsubscribe(contact=contact):
        services.unsubscribe_event(
            recipient=recipient, contact=contact, user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    return _page(request, "tracking/unsubscribed.html", context)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        project, contact, recipient = services.recipient_from_token(token)
    except NotFound:
        return _not_found(request)
    saved = ""
    if request.method == "POST":
        action = request.POST.get("action", "topics")
        if action == "unsubscribe":
            if services.unsubscribe(contact=contact):
                services.unsubscribe_event(
                    recipient=recipient, contact=contact, user_agent=request.META.get("HTTP_USER_AGENT", "")
                )
            saved = "You are unsubscribed from all our email."
        elif action == "resubscribe":
            services.resubscribe(contact=contact)
            saved = "You are subscribed again."
        else:
            chosen = set()
            for value in request.POST.getlist("topic"):
                if value.isdigit():
                    chosen.add(int(value))
            services.topics_choose(contact=contact, chosen=chosen)
            saved = "Your choices are saved."
    context = {
        "project": project,
        "contact": contact,
        "topics": services.public_topics(contact=contact),
        "saved": saved,
        "subscribed": contact.status == "subscribed",
        "can_resubscribe": contact.status == "unsubscribed",
    }
    return _page(request, "tracking/preferences.html", context)


# The smallest transparent GIF: 1×1, one colour.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _client_ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR") or ""))
    except ValueError:
        return None  # what a proxy put there is not an address: store none


def _hit(request: HttpRequest, hit: Any, kind: str, link_id: int | None = None) -> None:
    services.hit_record(
        token=hit,
        kind=kind,
        link_id=link_id,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        ip=_client_ip(request),
        method=request.method or "GET",
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        hit = services.tracked(token)
    except NotFound:
        return HttpResponse(status=404)
    if hit.link != 0:
        return HttpResponse(status=404)  # a link's token is no pixel
    _hit(request, hit, "opened")
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        hit, link_id, url = services.click_target(token)
    except NotFound:
        return _not_found(request)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _not_found(request)  # only ever stored so; checked again all the same
    _hit(request, hit, "clicked", link_id)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
