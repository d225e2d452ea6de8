"""Campaigns: an email, its recipients, the sender settings and a schedule.

A send through ``POST /api/v1/sending`` makes a campaign too (``origin=api``):
its batch is the campaign, and every recipient is a ``sending.Message``.
"""

from __future__ import annotations

from django.db import models

from tidings.core.models import ProjectScopedModel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


# States a campaign leaves only by an action (or never).
FINISHED = frozenset({CampaignStatus.SENT, CampaignStatus.CANCELLED, CampaignStatus.FAILED})


class RecipientType(models.TextChoices):
    EMAIL = "email", "One address"
    AUDIENCE = "audience", "Audience (segment)"
    TAG = "tag", "Tag"


class CampaignOrigin(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign"
    API = "api", "Send API"


class Campaign(ProjectScopedModel):
    name = models.CharField(max_length=200)
    origin = models.CharField(max_length=10, choices=CampaignOrigin.choices, default=CampaignOrigin.CAMPAIGN)
    transactional = models.BooleanField(default=False)
    # The email: a saved design, or the send API's own template. ``content`` is the
    # snapshot taken when sending starts, so an edit never changes a running send.
    design = models.ForeignKey(
        "content.EmailDesign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    preheader = models.CharField(max_length=500, blank=True)
    content = models.JSONField(null=True, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    # Sender.
    from_email = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    connection = models.ForeignKey(
        "sending.ProviderConnection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Recipients.
    recipient_type = models.CharField(
        max_length=10, choices=RecipientType.choices, default=RecipientType.AUDIENCE
    )
    recipient_id = models.BigIntegerField(null=True, blank=True)
    recipient_email = models.CharField(max_length=254, blank=True)
    topic = models.ForeignKey(
        "audience.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    # Lifecycle.
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    excluded = models.JSONField(default=dict, blank=True)  # reason -> count, fixed when planned
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "origin", "status"], name="campaign_project_origin_status"),
            models.Index(fields=["status", "scheduled_at"], name="campaign_status_scheduled"),
        ]

    def __str__(self) -> str:
        return self.name


class IdempotentRequest(ProjectScopedModel):
    """The first answer to a request made with an ``Idempotency-Key``, kept 24 hours."""

    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the request body
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "endpoint", "key"], name="idempotent_request_unique_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_created")]
