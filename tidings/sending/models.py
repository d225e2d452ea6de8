"""How a project's mail leaves: provider connections."""

from __future__ import annotations

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


class ProviderConnection(ProjectScopedModel):
    """One way out for a project's mail; its secrets are stored encrypted (``core.secrets``)."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ConnectionKind.choices)
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
