"""Opens and clicks: the links of each campaign, and every event a recipient's mail program sends."""

from __future__ import annotations

from django.db import models

from tidings.core.models import ProjectScopedModel


class TrackedLink(ProjectScopedModel):
    """A link of a campaign, by number: a click redirects only to the URL stored here."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    url = models.TextField()
    url_hash = models.CharField(max_length=64)  # SHA-256 of the URL, for the unique key
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "index"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "index"], name="tracked_link_unique_index"),
            models.UniqueConstraint(fields=["campaign", "url_hash"], name="tracked_link_unique_url"),
        ]

    def __str__(self) -> str:
        return self.url


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class TrackingEvent(ProjectScopedModel):
    """One open or click. ``machine`` marks a privacy proxy or a link scanner rather than a person."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("sending.Message", on_delete=models.CASCADE, related_name="+")
    contact_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=15, choices=EventKind.choices)
    link = models.ForeignKey(TrackedLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField()
    user_agent = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    machine = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "kind", "occurred_at"], name="tracking_campaign_kind_time"),
            models.Index(fields=["message", "kind"], name="tracking_message_kind"),
        ]
