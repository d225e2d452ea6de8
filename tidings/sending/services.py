"""Writes for provider connections: create, change, make default, delete, check.

Secrets (SMTP passwords, API keys) are encrypted at rest, never returned, and
forgotten when a connection is pointed elsewhere (another kind, host or API
URL) without new ones: a secret is never sent to a server it was not meant for.

Every connection also has a webhook password of its own (``webhookSecret``, kept
with the other secrets): it is Tidings', not the provider's, so it survives a
change of provider account and changes only when rotated.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets as random
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.core import secrets
from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import scoped
from tidings.sending.checks import CheckResult, check_connection
from tidings.sending.kinds import KINDS, Field, Kind
from tidings.sending.models import ConnectionKind, ProviderConnection

MAX_RATE = 10_000
WEBHOOK_SECRET = "webhookSecret"  # noqa: S105 - the name it is stored under
WEBHOOK_USER = "tidings"


def _check_signing(spec: Field, value: str, path: str) -> FieldError | None:
    """A signing key the webhook could not use is refused now, not at the provider's first post."""
    if spec.name == "webhookVerificationKey":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = f"-----BEGIN PUBLIC KEY-----\n{value}\n-----END PUBLIC KEY-----".encode()
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return FieldError(path, "must be the verification key SendGrid shows (base64, starting MFkw…)")
    if spec.name == "webhookSigningSecret":
        raw = value.removeprefix("whsec_")
        try:
            decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if not decoded:
            return FieldError(path, "must be the signing secret Resend shows (whsec_ and base64)")
    return None


def _clean_value(spec: Field, value: Any, path: str) -> tuple[Any, FieldError | None]:
    if value in (None, ""):
        return None, (FieldError(path, "is required") if spec.required else None)
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return None, FieldError(path, "must be a whole number")
        if spec.name == "port" and not 1 <= value <= 65535:
            return None, FieldError(path, "must be between 1 and 65535")
        if spec.name == "timeout" and not 1 <= value <= 300:
            return None, FieldError(path, "must be between 1 and 300")
        return value, None
    if not isinstance(value, str):
        return None, FieldError(path, "must be text")
    value = value.strip()
    if len(value) > 500 or "\n" in value or "\r" in value:
        return None, FieldError(path, "must be one line of at most 500 characters")
    if spec.type == "choice" and value not in spec.choices:
        return None, FieldError(path, f"must be one of: {', '.join(spec.choices)}")
    if spec.type == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None, FieldError(path, "must be an http(s) address")
    if spec.name == "snsTopicArn" and not SNS_ARN.fullmatch(value):
        return None, FieldError(path, "must be an SNS topic ARN, arn:aws:sns:<region>:<account>:<topic>")
    if (error := _check_signing(spec, value, path)) is not None:
        return None, error
    return value, None


# The SNS topic ARN form, also what the SES webhook accepts before it confirms a subscription.
SNS_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
)


def _clean(kind: Kind, options: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[dict, dict]:
    """Checked public options (with defaults) and secrets; ValidationError names every problem."""
    errors: list[FieldError] = []
    known = {f.name for f in kind.fields}
    for group, values in (("options", options), ("secrets", given)):
        for name in values:
            if name not in known:
                errors.append(FieldError(f"{group}.{name}", f"is not a setting of a {kind.kind} connection"))
            elif any(f.name == name and f.secret != (group == "secrets") for f in kind.fields):
                errors.append(
                    FieldError(
                        f"{group}.{name}", f"belongs in {'secrets' if group == 'options' else 'options'}"
                    )
                )
    public: dict[str, Any] = {}
    for spec in kind.public():
        value, error = _clean_value(spec, options.get(spec.name, spec.default), f"options.{spec.name}")
        errors += [error] if error else []
        if value is not None:
            public[spec.name] = value
    secret: dict[str, Any] = {}
    for spec in kind.secret():
        value, error = _clean_value(spec, given.get(spec.name), f"secrets.{spec.name}")
        errors += [error] if error else []
        if value is not None:
            secret[spec.name] = value
    if errors:
        raise ValidationError(errors)
    return public, secret


def _clean_name_rate(name: Any, rate_limit: Any) -> list[FieldError]:
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        errors.append(FieldError("name", "must be 1 to 100 characters"))
    if rate_limit is not None and (
        isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or not 1 <= rate_limit <= MAX_RATE
    ):
        errors.append(FieldError("rateLimit", f"must be between 1 and {MAX_RATE} messages a second, or null"))
    return errors


def _stored(connection: ProviderConnection) -> dict[str, Any]:
    raw = secrets.decrypt(connection.secrets_encrypted)
    return json.loads(raw) if raw else {}


def connection_secrets(connection: ProviderConnection) -> dict[str, Any]:
    """The decrypted provider secrets, for the code that connects; never for a response."""
    return {k: v for k, v in _stored(connection).items() if k != WEBHOOK_SECRET}


def connection_webhook_secret(connection: ProviderConnection) -> str | None:
    """The password the provider gives in the webhook URL (basic auth); None if there is none."""
    return _stored(connection).get(WEBHOOK_SECRET) or None


def _new_webhook_secret() -> str:
    return random.token_urlsafe(24)


def _store(secret: Mapping[str, Any]) -> str:
    return secrets.encrypt(json.dumps(dict(secret))) if secret else ""


def connection_webhook_url(connection: ProviderConnection, *, with_password: bool = True) -> str | None:
    """Where the connection's provider posts its events, with the basic-auth password in it;
    None for a kind that has no webhook (SMTP, the outbox)."""
    from django.conf import settings
    from django.urls import reverse

    if not KINDS[connection.kind].webhook_events:
        return None
    base = urlsplit(settings.BASE_URL)
    path = reverse("tracking:webhook", kwargs={"key": connection.webhook_key})
    password = connection_webhook_secret(connection) if with_password else None
    auth = f"{WEBHOOK_USER}:{password}@" if password else ""
    return f"{base.scheme}://{auth}{base.netloc}{base.path.rstrip('/')}{path}"


@transaction.atomic
def connection_webhook_rotate(*, connection: ProviderConnection) -> ProviderConnection:
    """Give the connection a new webhook password; the old one stops working at once."""
    connection = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
    stored = _stored(connection)
    stored[WEBHOOK_SECRET] = _new_webhook_secret()
    connection.secrets_encrypted = _store(stored)
    connection.save(update_fields=["secrets_encrypted", "updated_at"])
    return connection


def _kind(value: Any) -> Kind:
    if value not in KINDS:
        raise ValidationError.field("kind", f"must be one of: {', '.join(KINDS)}")
    return KINDS[value]


@transaction.atomic
def connection_create(
    *,
    project: Project,
    name: str,
    kind: str,
    options: Mapping[str, Any] | None = None,
    secrets_given: Mapping[str, Any] | None = None,
    is_default: bool = False,
    rate_limit: int | None = None,
) -> ProviderConnection:
    """Add a connection; the project's first one is its default."""
    spec = _kind(kind)
    errors = _clean_name_rate(name, rate_limit)
    try:
        public, secret = _clean(spec, options or {}, secrets_given or {})
    except ValidationError as exc:
        errors += exc.errors
    if errors:
        raise ValidationError(errors)
    first = not scoped(ProviderConnection, project).exists()
    if is_default and not first:
        scoped(ProviderConnection, project).update(is_default=False)
    try:
        with transaction.atomic():
            return ProviderConnection.objects.create(
                project=project,
                name=name.strip(),
                kind=kind,
                options=public,
                secrets_encrypted=_store({**secret, WEBHOOK_SECRET: _new_webhook_secret()}),
                is_default=is_default or first,
                rate_limit=rate_limit,
            )
    except IntegrityError as exc:
        raise Conflict(f"a connection named “{name.strip()}” exists already") from exc


@transaction.atomic
def connection_update(*, connection: ProviderConnection, **changes: Any) -> ProviderConnection:
    """Change a connection. ``options`` replaces the public settings; ``secrets_given`` sets the
    secrets it names ("" removes one) and keeps the others, unless the connection now points
    elsewhere (kind, host, region or API URL), which forgets every secret not given again."""
    connection = ProviderConnection.objects.select_for_update().get(pk=connection.pk)
    kind = changes.get("kind", connection.kind)
    spec = _kind(kind)
    name = changes.get("name", connection.name)
    rate_limit = changes.get("rate_limit", connection.rate_limit)
    errors = _clean_name_rate(name, rate_limit)
    options = changes.get("options")
    if options is None:  # left out or null: the settings stay, unless the kind changes
        options = connection.options if kind == connection.kind else {}
    given = dict(changes.get("secrets_given") or {})
    moved = kind != connection.kind or any(
        options.get(f.name) != connection.options.get(f.name) for f in spec.fields if f.address
    )
    stored = _stored(connection)
    webhook_secret = stored.pop(WEBHOOK_SECRET, None) or _new_webhook_secret()
    kept = {} if moved else stored
    merged = {k: v for k, v in {**kept, **given}.items() if v not in ("", None)}
    try:
        public, secret = _clean(spec, options, merged)
    except ValidationError as exc:
        errors += exc.errors
    if errors:
        raise ValidationError(errors)
    connection.name, connection.kind, connection.options = name.strip(), kind, public
    connection.secrets_encrypted = _store({**secret, WEBHOOK_SECRET: webhook_secret})
    connection.rate_limit = rate_limit
    if moved:
        connection.last_checked_at, connection.last_check_ok, connection.last_check_message = None, None, ""
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError as exc:
        raise Conflict(f"a connection named “{name.strip()}” exists already") from exc
    if changes.get("is_default"):
        connection_make_default(connection=connection)
    return connection


@transaction.atomic
def connection_make_default(*, connection: ProviderConnection) -> ProviderConnection:
    scoped(ProviderConnection, connection.project_id).exclude(pk=connection.pk).update(is_default=False)
    connection.is_default = True
    connection.save(update_fields=["is_default", "updated_at"])
    return connection


@transaction.atomic
def connection_delete(*, connection: ProviderConnection) -> None:
    """Delete a connection; if it was the default, the oldest remaining one becomes it."""
    project_id, was_default = connection.project_id, connection.is_default
    connection.delete()
    if was_default:
        following = scoped(ProviderConnection, project_id).order_by("created_at", "pk").first()
        if following is not None:
            connection_make_default(connection=following)


def connection_check(*, connection: ProviderConnection) -> CheckResult:
    """Try the connection without sending anything, and remember the answer."""
    result = check_connection(connection.kind, connection.options, connection_secrets(connection))
    connection.last_checked_at = timezone.now()
    connection.last_check_ok = result.ok
    connection.last_check_message = result.message[:500]
    connection.save(update_fields=["last_checked_at", "last_check_ok", "last_check_message", "updated_at"])
    return result


def outbox_connection_ensure(*, project: Project) -> ProviderConnection:
    """The demo's way out: an outbox connection, made if the project has none."""
    existing = scoped(ProviderConnection, project).filter(kind=ConnectionKind.OUTBOX).first()
    return existing or connection_create(project=project, name="Outbox", kind=ConnectionKind.OUTBOX)
