"""Template helpers of the audience pages."""

from __future__ import annotations

from django import template
from django.urls import reverse

from tidings.audience.models import ContactStatus

register = template.Library()

STATUS_BADGES = {
    ContactStatus.SUBSCRIBED: "badge-ok",
    ContactStatus.UNSUBSCRIBED: "badge-off",
    ContactStatus.NON_SUBSCRIBED: "badge-off",
    ContactStatus.BOUNCED: "badge-danger",
    ContactStatus.COMPLAINED: "badge-danger",
}


@register.filter
def status_badge(status: str) -> str:
    """The badge class of a contact status."""
    return STATUS_BADGES.get(status, "badge-off")


@register.simple_tag
def personalise_url(kind: str, pk: int) -> str:
    """Where "Personalise for…" leads for a contact, tag or segment: Create with that persona chosen."""
    return reverse("web:personalise", kwargs={"kind": kind, "pk": pk})
