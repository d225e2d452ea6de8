"""What happened to the mail: the links of each campaign, every open and click, every delivery,
bounce and complaint a provider or a bounce message reports, and the alerts they raise."""

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
    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    REJECTED = "rejected", "Rejected"


class BounceType(models.TextChoices):
    HARD = "hard", "Hard bounce"
    SOFT = "soft", "Soft bounce"
    # Refused for who sent it (5.7.x: authentication, reputation, policy): the sender's problem,
    # raised as an alert, never held against the address.
    POLICY = "policy", "Refused by policy"


class EventSource(models.TextChoices):
    TRACKING = "tracking", "Pixel, link or unsubscribe page"
    WEBHOOK = "webhook", "Provider webhook"
    DSN = "dsn", "Bounce message"
    SMTP = "smtp", "SMTP reply at sending"


class TrackingEvent(ProjectScopedModel):
    """One thing that happened to a message. ``machine`` marks a privacy proxy or a link scanner
    rather than a person. ``event_id`` is the provider's id of the event: one is stored once."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(
        "sending.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact_id = models.BigIntegerField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    kind = models.CharField(max_length=15, choices=EventKind.choices)
    link = models.ForeignKey(TrackedLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    occurred_at = models.DateTimeField()
    user_agent = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    machine = models.BooleanField(default=False)
    source = models.CharField(max_length=10, choices=EventSource.choices, default=EventSource.TRACKING)
    bounce_type = models.CharField(max_length=10, choices=BounceType.choices, blank=True)
    status_code = models.CharField(max_length=12, blank=True)  # enhanced status code, e.g. 5.1.1
    detail = models.CharField(max_length=1000, blank=True)
    connection_id = models.BigIntegerField(null=True, blank=True)
    event_id = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "kind", "occurred_at"], name="tracking_campaign_kind_time"),
            models.Index(fields=["message", "kind"], name="tracking_message_kind"),
            models.Index(fields=["project", "contact_id", "occurred_at"], name="tracking_contact_time"),
            models.Index(fields=["project", "email", "kind"], name="tracking_email_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source", "event_id"],
                condition=~models.Q(event_id=""),
                name="tracking_event_once",
            )
        ]


class AlertKind(models.TextChoices):
    SENDER_PROBLEM = "sender_problem", "Mail refused for the sender"
    COMPLAINT_RATE = "complaint_rate", "Complaint rate too high"


class Alert(ProjectScopedModel):
    """Something the project's team must act on; the same open alert counts repeats."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["project", "resolved_at"], name="alert_project_open")]

    def __str__(self) -> str:
        return self.title
