"""AI drafting: a project's drafting settings, and drafts as stored conversations."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tidings.content.models import EmailDesign
from tidings.core.models import ProjectScopedModel


class PersonaType(models.TextChoices):
    NONE = "none", "No persona"
    CONTACT = "contact", "A contact"
    SEGMENT = "segment", "An audience (segment)"
    TAG = "tag", "A tag"


class ProviderKind(models.TextChoices):
    OFFLINE = "offline", "Offline composer (built in, no network)"
    OPENAI = "openai", "OpenAI-compatible endpoint"
    ANTHROPIC = "anthropic", "Anthropic"


DEFAULT_THRESHOLD_BP = 500  # 5.00 %, in basis points


class DraftSettings(ProjectScopedModel):
    """How a project drafts: which provider, its credentials (encrypted), brand notes, catalog threshold."""

    provider = models.CharField(max_length=10, choices=ProviderKind.choices, default=ProviderKind.OFFLINE)
    base_url = models.CharField(max_length=500, blank=True)
    model = models.CharField(max_length=200, blank=True)
    api_key_encrypted = models.TextField(blank=True)
    timeout_seconds = models.PositiveIntegerField(default=60)
    brand_notes = models.TextField(blank=True)
    # A field populated for fewer of a cohort than this is left out of its catalog.
    catalog_threshold_bp = models.PositiveIntegerField(default=DEFAULT_THRESHOLD_BP)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project"], name="draft_settings_one_per_project")]

    def __str__(self) -> str:
        return f"drafting for {self.project_id}: {self.provider}"


class Draft(ProjectScopedModel):
    """A conversation that writes an email design; each answer is one of the design's versions."""

    title = models.CharField(max_length=200)
    design = models.OneToOneField(
        EmailDesign, null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )
    persona_type = models.CharField(max_length=10, choices=PersonaType.choices, default=PersonaType.NONE)
    persona_id = models.BigIntegerField(null=True, blank=True)
    persona_label = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class MessageRole(models.TextChoices):
    USER = "user", "You"
    ASSISTANT = "assistant", "Composer"
    ERROR = "error", "Problem"
    NOTE = "note", "Note"


class DraftMessage(models.Model):
    """One turn: the user's prompt, the answer (with the version it made), or a provider failure."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    text = models.TextField()
    version = models.PositiveIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=10, blank=True)
    # The persona and catalog the turn was drafted for, the variables used and
    # removed, the composer's plan: what is needed to understand a version later.
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class CustomFieldKey(ProjectScopedModel):
    """A custom-field key seen in a project's contacts: the variable catalog's own cache, written by it only.

    Knowing the keys lets the catalog count each one in the same scan as the
    built-in fields; the scan also checks that no contact holds a key missing here.
    """

    key = models.CharField(max_length=64)  # audience.fields.CUSTOM_KEY_MAX
    updated_at = models.DateTimeField(auto_now=True)  # last found by a discovery pass

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="custom_field_key_per_project")
        ]

    def __str__(self) -> str:
        return self.key
