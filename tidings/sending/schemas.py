"""API shapes for provider connections. Secrets go in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field

from tidings.core.schemas import CamelIn, CamelSchema

KIND_HELP = "outbox, smtp, ses, sendgrid, mailgun, resend or postmark"


class ConnectionIn(CamelIn):
    name: str = Field(max_length=100, examples=["Company relay"])
    kind: str = Field(description=KIND_HELP, examples=["smtp"])
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings that may be read back, e.g. smtp: host, port, security, username, timeout.",
        examples=[{"host": "smtp.example.com", "port": 587, "security": "starttls", "username": "mailer"}],
    )
    secrets: dict[str, Any] = Field(
        default_factory=dict,
        description="Passwords and API keys (smtp: password; ses: accessKeyId, secretAccessKey; …), "
        "and the provider's webhook signing key (mailgun: webhookSigningKey; resend: "
        "webhookSigningSecret; sendgrid: webhookVerificationKey). Stored encrypted; never shown again.",
        examples=[{"password": "…"}],
    )
    is_default: bool = False
    rate_limit: int | None = Field(None, description="Messages a second at most; null for no limit.")


class ConnectionPatch(CamelIn):
    name: str | None = Field(None, max_length=100)
    kind: str | None = Field(None, description=KIND_HELP)
    options: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = Field(
        None,
        description='The secrets to set ("" removes one); those left out are kept, unless the '
        "connection now points elsewhere (kind, host, region or API URL).",
    )
    is_default: bool | None = None
    rate_limit: int | None = None


class ConnectionOut(CamelSchema):
    id: int
    name: str
    kind: str
    is_default: bool
    options: dict[str, Any]
    secrets_set: list[str] = Field(description="Which secrets are stored (never their values).")
    rate_limit: int | None
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_message: str
    created_at: datetime
    webhook_url: str | None = Field(
        description="Where the provider posts its events (delivered, bounced, complained…), with the "
        "webhook password in it; null for smtp and outbox connections."
    )


class CheckOut(CamelSchema):
    ok: bool | None = Field(description="null: nothing could be tried from here (see message).")
    code: str = Field(
        description="ok, auth_failed, unreachable, timeout, tls_unavailable, tls_error, "
        "smtp_error or unchecked"
    )
    message: str


class DomainIn(CamelIn):
    domain: str = Field(examples=["mail.example.com"])


class RecordOut(CamelSchema):
    purpose: str = Field(description="ownership, dkim-rsa, dkim-ed25519, spf, dmarc or return-path")
    name: str
    type: str
    value: str = Field(description="What to publish.")
    state: str | None = Field(None, description="After a check: found, missing or wrong.")
    seen: str | None = Field(None, description="What DNS answered, when missing or wrong.")


class DomainOut(CamelSchema):
    id: int
    domain: str
    verified: bool
    verified_at: datetime | None
    last_checked_at: datetime | None
    records: list[RecordOut]
    created_at: datetime
