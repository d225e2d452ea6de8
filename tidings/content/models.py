"""Email designs and their versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tidings.core.models import ProjectScopedModel


class DesignFormat(models.TextChoices):
    MJML = "mjml", "MJML"
    HTML = "html", "HTML"


class DesignPurpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    TRANSACTIONAL = "transactional", "Transactional"


class VersionSource(models.TextChoices):
    EDITOR = "editor", "Edited"
    API = "api", "Saved through the API"
    DRAFT = "draft", "Drafted"
    RESTORE = "restore", "Restored"
    STARTER = "starter", "Started from a template"


class EmailDesign(ProjectScopedModel):
    """An email's current content; every save also keeps a numbered ``EmailDesignVersion``."""

    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=15, choices=DesignPurpose.choices, default=DesignPurpose.MARKETING)
    format = models.CharField(max_length=10, choices=DesignFormat.choices, default=DesignFormat.MJML)
    subject = models.CharField(max_length=500, blank=True)
    preheader = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    version = models.PositiveIntegerField(default=1)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["project", "updated_at"], name="design_project_updated")]

    def __str__(self) -> str:
        return self.name


class EmailDesignVersion(models.Model):
    """One saved state of a design, never changed after it is written."""

    design = models.ForeignKey(EmailDesign, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=DesignFormat.choices)
    subject = models.CharField(max_length=500, blank=True)
    preheader = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    source = models.CharField(max_length=10, choices=VersionSource.choices, default=VersionSource.EDITOR)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["design", "number"], name="design_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.design_id} v{self.number}"
