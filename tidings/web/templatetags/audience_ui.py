"""Template helpers of the audience pages."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from tidings.audience.models import ContactStatus

register = template.Library()

STATUS_BADGES = {
    ContactStatus.SUBSCRIBED: "badge-ok",
    ContactStatus.UNSUBSCRIBED: "badge-off",
    ContactStatus.NON_SUBSCRIBED: "badge-off",
    ContactStatus.BOUNCED: "badge-danger",
    ContactStatus.COMPLAINED: "badge-danger",
}

# The Create area opens a draft shaped for a persona at this URL (kind, id). Until
# it exists the "Personalise for…" action is left out rather than shown dead.
PERSONALISE_URL = "web:personalise"


@register.filter
def status_badge(status: str) -> str:
    """The badge class of a contact status."""
    return STATUS_BADGES.get(status, "badge-off")


@register.simple_tag
def personalise_url(kind: str, pk: int) -> str:
    """Where "Personalise for…" leads for a contact, tag or segment, or "" while Create has no such page."""
    try:
        return reverse(PERSONALISE_URL, kwargs={"kind": kind, "pk": pk})
    except NoReverseMatch:
        return ""
