"""Outgoing webhooks: the endpoints a project registered, and every event sent to them.

A delivery is one event for one endpoint. Its body is written once, when the
event happens, so every attempt sends the same bytes (only the signature's
timestamp changes); each attempt is logged.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tidings.core.models import ProjectScopedModel


class WebhookEndpoint(ProjectScopedModel):
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event types this endpoint receives; ["*"] is every type, also those added later.
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # The signing secret, encrypted (tidings.core.secrets). After a rotation the
    # previous one still signs beside it until ``previous_secret_until``.
    secret = models.TextField()
    previous_secret = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # When a sender is booked to wake for this endpoint's waiting deliveries.
    wake_at = models.DateTimeField(null=True, blank=True)
    # When a sender was last queued to send now; while it is queued or running, new events need
    # no other (it clears this when it ends, then looks once more).
    kicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first or next attempt
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # every attempt failed; a retry can still be asked for


class WebhookDelivery(ProjectScopedModel):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the delivery until then; one whose sender died is taken again after it.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["endpoint", "state", "next_attempt_at"], name="hook_delivery_due"),
            models.Index(fields=["project", "event_id"], name="hook_delivery_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.CharField(max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
