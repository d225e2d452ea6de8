"""Rendered emails shown inside the UI: in a sandboxed frame that runs no script and loads no page."""

from __future__ import annotations

from django.http import HttpResponse

# The email is someone's HTML: it may show images and its own styles, nothing more.
PREVIEW_POLICY = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src data:"


def preview_response(html: str) -> HttpResponse:
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_POLICY
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "no-store"
    return response
