"""Tenancy: projects, who belongs to them, and the keys that act for them."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models


class Project(models.Model):
    """A tenant: one brand or workspace. Nothing ever crosses projects."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    postal_address = models.TextField(blank=True)
    brand_color = models.CharField(max_length=7, default="#2f5d8a")
    logo_url = models.URLField(max_length=500, blank=True)
    default_from_name = models.CharField(max_length=200, blank=True)
    # Tracking, for every campaign of the project (a campaign may turn each off for itself).
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    store_ip = models.BooleanField(default=False, help_text="keep the IP address of opens and clicks")
    # Soft bounces: this many within this many days and the address counts as bounced.
    soft_bounce_limit = models.PositiveSmallIntegerField(default=3)
    soft_bounce_days = models.PositiveSmallIntegerField(default=30)
    # Set when a campaign's complaint rate passed the limit: no marketing mail until lifted.
    marketing_paused_at = models.DateTimeField(null=True, blank=True)
    marketing_paused_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ProjectScopedQuerySet[M: models.Model](models.QuerySet[M]):
    def for_project(self, project: Project | int) -> Self:
        project_id = project if isinstance(project, int) else project.pk
        return self.filter(project_id=project_id)


class ProjectScopedModel(models.Model):
    """Base of every tenant-owned row.

    Read tenant data only through ``Model.objects.for_project(project)`` or
    ``tidings.core.scoping``; a query without the project is a bug.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# What each role may do, from least to most. A role includes those below it.
ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(ProjectScopedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project_id} as {self.role}"

    def allows(self, role: Role | str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class ApiKey(ProjectScopedModel):
    """A secret that acts for one project. Only its SHA-256 digest is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A key made through the API by another key: revoking the parent revokes it
    # too, so a leaked key cannot leave working keys behind.
    created_by_key = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="created_keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
