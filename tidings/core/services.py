"""Writes to projects, memberships, users and API keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.core.models import ApiKey, Membership, Project, Role
from tidings.core.selectors import API_KEY_PREFIX, hash_api_key

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")
PROJECT_FIELDS = (
    "name",
    "slug",
    "postal_address",
    "brand_color",
    "logo_url",
    "default_from_name",
    "track_opens",
    "track_clicks",
    "store_ip",
    "soft_bounce_limit",
    "soft_bounce_days",
)
CAMEL = {
    "postal_address": "postalAddress",
    "brand_color": "brandColor",
    "logo_url": "logoUrl",
    "track_opens": "trackOpens",
    "track_clicks": "trackClicks",
    "store_ip": "storeIp",
    "default_from_name": "defaultFromName",
    "soft_bounce_limit": "softBounceLimit",
    "soft_bounce_days": "softBounceDays",
}


def _project_errors(values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if "name" in values:
        name = values["name"] = (values["name"] or "").strip()
        if not name:
            errors.append(FieldError("name", "must not be empty"))
        elif len(name) > 200:
            errors.append(FieldError("name", "must be at most 200 characters"))
    for field, top in (("soft_bounce_limit", 100), ("soft_bounce_days", 365)):
        if field in values and (values[field] is None or not 1 <= values[field] <= top):
            errors.append(FieldError(CAMEL[field], f"must be a whole number from 1 to {top}"))
    if "slug" in values and not SLUG.fullmatch(values["slug"] or ""):
        errors.append(
            FieldError(
                "slug",
                "use 1–60 lowercase letters, digits and hyphens, not starting or ending with a hyphen",
            )
        )
    if "brand_color" in values and not HEX_COLOR.fullmatch(values["brand_color"] or ""):
        errors.append(FieldError("brandColor", "must be a hex colour such as #2f5d8a"))
    if len(values.get("logo_url") or "") > 500:
        errors.append(FieldError("logoUrl", "must be at most 500 characters"))
    elif values.get("logo_url"):
        try:
            URLValidator(schemes=["https", "http"])(values["logo_url"])
        except DjangoValidationError:
            errors.append(FieldError("logoUrl", "must be an http(s) URL"))
    for field in ("track_opens", "track_clicks", "store_ip"):
        if field in values and not isinstance(values[field], bool):
            errors.append(FieldError(CAMEL[field], "must be true or false"))
    for field, limit in (("postal_address", 1000), ("default_from_name", 200)):
        if len(values.get(field) or "") > limit:
            errors.append(FieldError(CAMEL[field], f"must be at most {limit} characters"))
    return errors


def _unique_slug(name: str) -> str:
    base = slugify(name).replace("_", "-")[:50].strip("-") or "project"
    slug, n = base, 1
    while Project.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def project_create(
    *,
    name: str,
    owner: AbstractBaseUser | None = None,
    slug: str | None = None,
    postal_address: str = "",
    brand_color: str = "#2f5d8a",
    logo_url: str = "",
    default_from_name: str = "",
) -> Project:
    """Create a project; ``owner`` (if given) becomes its first member, as owner."""
    values: dict[str, Any] = {
        "name": name,
        "postal_address": postal_address,
        "brand_color": brand_color,
        "logo_url": logo_url,
        "default_from_name": default_from_name,
    }
    if slug is not None:
        values["slug"] = slug
    errors = _project_errors(values)
    if errors:
        raise ValidationError(errors)
    values.setdefault("slug", _unique_slug(values["name"]))
    if Project.objects.filter(slug=values["slug"]).exists():
        raise Conflict(f"a project with slug {values['slug']!r} already exists")
    project = Project.objects.create(**values)
    if owner is not None:
        Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    return project


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    """Change the given fields of ``project`` (any of PROJECT_FIELDS)."""
    unknown = set(changes) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationError([FieldError(CAMEL.get(f, f), "unknown field") for f in sorted(unknown)])
    for field in ("postal_address", "logo_url", "default_from_name"):
        if field in changes and changes[field] is None:
            changes[field] = ""  # null clears an optional text
    errors = _project_errors(changes)
    if errors:
        raise ValidationError(errors)
    if "slug" in changes and Project.objects.filter(slug=changes["slug"]).exclude(pk=project.pk).exists():
        raise Conflict(f"a project with slug {changes['slug']!r} already exists")
    for field, value in changes.items():
        setattr(project, field, value)
    project.save(update_fields=[*changes, "updated_at"])
    return project


def user_create(
    *, username: str, password: str, email: str = "", superuser: bool = False
) -> AbstractBaseUser:
    """Create a login. The password must pass the configured password validators."""
    User = get_user_model()
    username = username.strip()
    field = User._meta.get_field(User.USERNAME_FIELD)
    if not username:
        raise ValidationError.field("username", "must not be empty")
    if len(username) > field.max_length:
        raise ValidationError.field("username", f"must be at most {field.max_length} characters")
    try:
        User.username_validator(username)
    except DjangoValidationError as exc:
        raise ValidationError.field("username", "use letters, digits and @ . + - _ only") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"a user named {username!r} already exists")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except DjangoValidationError as exc:
        raise ValidationError([FieldError("password", m) for m in exc.messages]) from exc
    if superuser:
        return User.objects.create_superuser(username=username, email=email, password=password)
    return User.objects.create_user(username=username, email=email, password=password)


def membership_set(*, project: Project, user: AbstractBaseUser, role: Role | str) -> Membership:
    """Make ``user`` a member of ``project`` with ``role`` (adding or changing)."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError.field("role", f"must be one of {', '.join(Role.values)}") from exc
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key: ``secret`` exists only here, once; the database keeps its digest."""

    api_key: ApiKey
    secret: str


def api_key_create(
    *,
    project: Project,
    name: str,
    created_by: AbstractBaseUser | None = None,
    created_by_key: ApiKey | None = None,
) -> IssuedApiKey:
    """Issue a key for ``project``. The secret is returned once and never stored.

    ``created_by_key`` is the key that asked for it through the API; revoking
    that key later revokes this one too.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError.field("name", "must not be empty")
    if len(name) > 100:
        raise ValidationError.field("name", "must be at most 100 characters")
    for _ in range(5):
        prefix = secrets.token_hex(4)
        secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    project=project,
                    name=name,
                    prefix=f"{API_KEY_PREFIX}{prefix}",
                    key_hash=hash_api_key(secret),
                    created_by=created_by if created_by and created_by.is_authenticated else None,
                    created_by_key=created_by_key,
                )
        except IntegrityError:  # a prefix collision: 1 in 4 billion, try another
            continue
        return IssuedApiKey(api_key=key, secret=secret)
    raise Conflict("could not allocate a unique key prefix; try again")


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once, with every key created through it (and through those).

    Revoking twice keeps the first revocation time.
    """
    now = timezone.now()
    family = [api_key.pk]
    frontier = [api_key.pk]
    while frontier:
        frontier = list(
            ApiKey.objects.for_project(api_key.project_id)
            .filter(created_by_key__in=frontier)
            .exclude(pk__in=family)
            .values_list("pk", flat=True)
        )
        family += frontier
    ApiKey.objects.for_project(api_key.project_id).filter(pk__in=family, revoked_at__isnull=True).update(
        revoked_at=now
    )
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use; at most one write per key per API_KEY_TOUCH_SECONDS, not one per request."""
    now = timezone.now()
    window = timedelta(seconds=settings.API_KEY_TOUCH_SECONDS)
    if api_key.last_used_at is None or now - api_key.last_used_at >= window:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
