"""Reads of projects, memberships and API keys."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from tidings.core.errors import NotFound
from tidings.core.models import ApiKey, Membership, Project
from tidings.core.scoping import get_scoped, scoped

API_KEY_PREFIX = "tdk_"


def hash_api_key(raw: str) -> str:
    # Keys carry 256 random bits, so a fast digest is enough: there is nothing
    # to brute-force, and a lookup by digest needs no per-key salt.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_get_active(*, raw: str) -> ApiKey | None:
    """The active key whose secret is ``raw``, with its project; None if unknown or revoked."""
    if not raw.startswith(API_KEY_PREFIX) or len(raw) > 200:
        return None
    # Every API request comes through here: .get() on the unique digest, no
    # ORDER BY, and the project in the same query.
    try:
        return ApiKey.objects.select_related("project").get(
            key_hash=hash_api_key(raw), revoked_at__isnull=True
        )
    except ApiKey.DoesNotExist:
        return None


def api_key_list(*, project: Project) -> QuerySet[ApiKey]:
    return scoped(ApiKey, project).select_related("created_by")


def api_key_get(*, project: Project, key_id: int) -> ApiKey:
    return get_scoped(ApiKey, project, pk=key_id)


def project_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Project]:
    # Memberships are read by user here, across projects: this is the list of
    # projects the user may switch between.
    return Project.objects.filter(pk__in=Membership.objects.filter(user=user).values("project_id"))


def membership_get(*, project: Project, user: AbstractBaseUser) -> Membership:
    try:
        return scoped(Membership, project).get(user=user)
    except Membership.DoesNotExist as exc:
        raise NotFound("project not found") from exc


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return scoped(Membership, project).select_related("user").order_by("user__username")


def project_get_for_user(*, user: AbstractBaseUser, project_id: int) -> Project:
    """One of the projects ``user`` is a member of; any other id is ``NotFound``."""
    try:
        return project_list_for_user(user=user).get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("project not found") from exc


@dataclass(frozen=True)
class ProjectOverview:
    """What a project's home page sums up."""

    member_count: int
    active_api_key_count: int


def project_overview(*, project: Project) -> ProjectOverview:
    return ProjectOverview(
        member_count=scoped(Membership, project).count(),
        active_api_key_count=scoped(ApiKey, project).filter(revoked_at__isnull=True).count(),
    )
