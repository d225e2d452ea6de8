"""How a project's mail leaves: provider connections."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from tidings.core.models import ProjectScopedModel


class ConnectionKind(models.TextChoices):
    OUTBOX = "outbox", "Outbox (.eml files, delivers nowhere)"
    SMTP = "smtp", "SMTP relay"
    SES = "ses", "Amazon SES"
    SENDGRID = "sendgrid", "SendGrid"
    MAILGUN = "mailgun", "Mailgun"
    RESEND = "resend", "Resend"
    POSTMARK = "postmark", "Postmark"


def new_webhook_key() -> str:
    """The connection's part of its webhook URL: random, so the URL of one cannot be guessed from another."""
    return secrets.token_urlsafe(24)


class ProviderConnection(ProjectScopedModel):
    """One way out for a project's mail; its secrets are stored encrypted (``core.secrets``)."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ConnectionKind.choices)
    # The provider's events arrive at /webhooks/<webhook_key>/: the URL names the connection (and
    # so the project); the payload never does.
    webhook_key = models.CharField(max_length=43, unique=True, default=new_webhook_key, editable=False)
    is_default = models.BooleanField(default=False)
    # Settings a person may read back (host, port, region…), and the secrets, encrypted as one JSON object.
    options = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True)
    rate_limit = models.PositiveIntegerField(null=True, blank=True, help_text="messages per second")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="connection_unique_name_per_project"),
            models.UniqueConstraint(
                fields=["project"], condition=Q(is_default=True), name="connection_one_default_per_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class SendingDomain(ProjectScopedModel):
    """A domain the project sends from, with its DKIM keys (private halves encrypted)."""

    domain = models.CharField(max_length=253)
    verification_token = models.CharField(max_length=64)
    rsa_selector = models.CharField(max_length=63)
    rsa_public_key = models.TextField()  # base64 DER SubjectPublicKeyInfo, as DKIM's p=
    rsa_private_key_encrypted = models.TextField()
    ed25519_selector = models.CharField(max_length=63)
    ed25519_public_key = models.CharField(max_length=100)  # base64 of the raw 32 bytes
    ed25519_private_key_encrypted = models.TextField()
    verified_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_results = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "domain"], name="sending_domain_unique_per_project")
        ]

    def __str__(self) -> str:
        return self.domain


class MessageState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class SkipReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    NON_SUBSCRIBED = "non_subscribed", "Never subscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    TOPIC_OPT_OUT = "topic_opt_out", "Opted out of the topic"
    SUPPRESSED = "suppressed", "On the suppression list"
    NOT_A_CONTACT = "not_a_contact", "Not a contact"


class Message(ProjectScopedModel):
    """One email to one recipient: the durable row the pipeline moves along.

    ``queued`` rows are the outbox. A worker holds a message while it sends it
    (``lease_owner`` until ``lease_until``); a lease that runs out is the mark of
    a worker that died, and the message is claimed again.
    """

    # No index of their own on the three keys: the indexes below begin with each of them. Every
    # index costs each message's "sent" write a little (the state change is never a HOT update).
    # No database constraint either: a campaign's rows are planned by the million in one
    # statement, and the deferred checks of three keys a row took longer at COMMIT (13 s a
    # million) than the rest of the planning. The rows come only from the planner, which
    # selects existing contacts; deleting goes through the ORM, which cascades or nulls.
    project = models.ForeignKey(
        "core.Project", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "audience.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254)
    state = models.CharField(max_length=10, choices=MessageState.choices, default=MessageState.QUEUED)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Planning twice (a double click, two schedulers) inserts nothing twice.
            models.UniqueConstraint(fields=["campaign", "email_key"], name="message_unique_recipient")
        ]
        indexes = [
            models.Index(fields=["campaign", "state", "id"], name="message_campaign_state"),
            models.Index(fields=["contact", "state"], name="message_contact_state"),
            # Provider webhooks name the message by the provider's id.
            models.Index(fields=["project", "provider_message_id"], name="message_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.state})"


class ConnectionThrottle(models.Model):
    """The next free sending slot of a rate-limited connection, shared by every worker."""

    connection = models.OneToOneField(ProviderConnection, on_delete=models.CASCADE, primary_key=True)
    next_slot = models.FloatField(default=0.0)  # Unix time
