"""Provider connections, sending domains, campaigns and the send API."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tidings.client._core import Call
from tidings.client._pagination import Page
from tidings.client.models import (
    Batch,
    Campaign,
    CampaignResults,
    CancelResult,
    Connection,
    ConnectionCheck,
    Domain,
    Preflight,
    Recipient,
    RecipientLogEntry,
    SendResult,
)
from tidings.client.resources._base import (
    NOT_GIVEN,
    Group,
    Opt,
    R,
    body,
    delete,
    get,
    listing,
    operation,
    paginated,
    text,
)
from tidings.client.resources._base import send as request


class Connections(Group[R]):
    """``/connections``: how the project's mail leaves (smtp, ses, sendgrid, …, or outbox)."""

    @operation
    def list(self) -> Call[builtins.list[Connection]]:
        return get("/connections", Connection.list_from_api)

    @operation
    def create(
        self,
        name: str,
        kind: str,
        *,
        options: Opt[Mapping[str, Any]] = NOT_GIVEN,
        secrets: Opt[Mapping[str, Any]] = NOT_GIVEN,
        is_default: Opt[bool] = NOT_GIVEN,
        rate_limit: Opt[int | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Connection]:
        """``secrets`` are stored encrypted and never returned; ``secrets_set`` names those stored."""
        payload = body(
            name=name,
            kind=kind,
            options=options,
            secrets=secrets,
            is_default=is_default,
            rate_limit=rate_limit,
        )
        return request("POST", "/connections", Connection.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, connection_id: int) -> Call[Connection]:
        return get(f"/connections/{connection_id}", Connection.from_api)

    @operation
    def update(
        self,
        connection_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        kind: Opt[str] = NOT_GIVEN,
        options: Opt[Mapping[str, Any]] = NOT_GIVEN,
        secrets: Opt[Mapping[str, Any]] = NOT_GIVEN,
        is_default: Opt[bool] = NOT_GIVEN,
        rate_limit: Opt[int | None] = NOT_GIVEN,
    ) -> Call[Connection]:
        payload = body(
            name=name,
            kind=kind,
            options=options,
            secrets=secrets,
            is_default=is_default,
            rate_limit=rate_limit,
        )
        return request("PATCH", f"/connections/{connection_id}", Connection.from_api, payload)

    @operation
    def delete(self, connection_id: int) -> Call[None]:
        return delete(f"/connections/{connection_id}")

    @operation
    def rotate_webhook_secret(self, connection_id: int) -> Call[Connection]:
        """A new password for the connection's provider webhook URL; the old one stops working at once."""
        return request("POST", f"/connections/{connection_id}/webhook-secret", Connection.from_api)

    @operation
    def check(self, connection_id: int) -> Call[ConnectionCheck]:
        """Try the connection (log in to the relay, call the provider) and say what happened."""
        return request("POST", f"/connections/{connection_id}/check", ConnectionCheck.from_api)


class Domains(Group[R]):
    """``/domains``: domains the project may send from, verified by DNS."""

    @operation
    def list(self) -> Call[builtins.list[Domain]]:
        return get("/domains", Domain.list_from_api)

    @operation
    def create(self, domain: str, *, idempotency_key: str | None = None) -> Call[Domain]:
        """Add a domain; ``records`` lists the DNS records to publish."""
        return request(
            "POST", "/domains", Domain.from_api, {"domain": domain}, idempotency_key=idempotency_key
        )

    @operation
    def get(self, domain_id: int) -> Call[Domain]:
        return get(f"/domains/{domain_id}", Domain.from_api)

    @operation
    def delete(self, domain_id: int) -> Call[None]:
        return delete(f"/domains/{domain_id}")

    @operation
    def verify(self, domain_id: int) -> Call[Domain]:
        """Look the DNS records up now; each record's ``state`` says what was found."""
        return request("POST", f"/domains/{domain_id}/verify", Domain.from_api)


class Campaigns(Group[R]):
    """``/campaigns``: an email to a segment or tag, checked, scheduled, sent and reported on."""

    @paginated
    def list(
        self,
        *,
        status: str | None = None,
        archived: bool | None = None,
        q: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[Campaign]]:
        return listing(
            "/campaigns", Campaign, cursor=cursor, limit=limit, status=status, archived=archived, q=q
        )

    @operation
    def create(
        self,
        name: str,
        *,
        design_id: Opt[int | None] = NOT_GIVEN,
        subject: Opt[str | None] = NOT_GIVEN,
        preheader: Opt[str | None] = NOT_GIVEN,
        from_: Opt[str | None] = NOT_GIVEN,
        from_name: Opt[str | None] = NOT_GIVEN,
        reply_to: Opt[str | None] = NOT_GIVEN,
        recipient_type: Opt[str | None] = NOT_GIVEN,
        recipient_id: Opt[int | None] = NOT_GIVEN,
        connection_id: Opt[int | None] = NOT_GIVEN,
        topic_id: Opt[int | None] = NOT_GIVEN,
        track_opens: Opt[bool | None] = NOT_GIVEN,
        track_clicks: Opt[bool | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Campaign]:
        """A draft campaign; ``recipient_type`` is audience (a segment) or tag, ``recipient_id`` its id."""
        payload = body(
            name=name,
            design_id=design_id,
            subject=subject,
            preheader=preheader,
            from_=from_,
            from_name=from_name,
            reply_to=reply_to,
            recipient_type=recipient_type,
            recipient_id=recipient_id,
            connection_id=connection_id,
            topic_id=topic_id,
            track_opens=track_opens,
            track_clicks=track_clicks,
        )
        return request("POST", "/campaigns", Campaign.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, campaign_id: int) -> Call[Campaign]:
        return get(f"/campaigns/{campaign_id}", Campaign.from_api)

    @operation
    def update(
        self,
        campaign_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        design_id: Opt[int | None] = NOT_GIVEN,
        subject: Opt[str | None] = NOT_GIVEN,
        preheader: Opt[str | None] = NOT_GIVEN,
        from_: Opt[str | None] = NOT_GIVEN,
        from_name: Opt[str | None] = NOT_GIVEN,
        reply_to: Opt[str | None] = NOT_GIVEN,
        recipient_type: Opt[str | None] = NOT_GIVEN,
        recipient_id: Opt[int | None] = NOT_GIVEN,
        connection_id: Opt[int | None] = NOT_GIVEN,
        topic_id: Opt[int | None] = NOT_GIVEN,
        track_opens: Opt[bool | None] = NOT_GIVEN,
        track_clicks: Opt[bool | None] = NOT_GIVEN,
    ) -> Call[Campaign]:
        """Change a draft or scheduled campaign; None clears a field, NOT_GIVEN leaves it."""
        payload = body(
            name=name,
            design_id=design_id,
            subject=subject,
            preheader=preheader,
            from_=from_,
            from_name=from_name,
            reply_to=reply_to,
            recipient_type=recipient_type,
            recipient_id=recipient_id,
            connection_id=connection_id,
            topic_id=topic_id,
            track_opens=track_opens,
            track_clicks=track_clicks,
        )
        return request("PATCH", f"/campaigns/{campaign_id}", Campaign.from_api, payload)

    @operation
    def delete(self, campaign_id: int) -> Call[None]:
        return delete(f"/campaigns/{campaign_id}")

    @operation
    def preflight(self, campaign_id: int) -> Call[Preflight]:
        """The checks a campaign must pass before it starts, and how many would receive it."""
        return get(f"/campaigns/{campaign_id}/preflight", Preflight.from_api)

    @operation
    def send(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        """Start sending now."""
        return _action(campaign_id, "send", idempotency_key)

    @operation
    def schedule(
        self,
        campaign_id: int,
        scheduled_at: datetime | str,
        *,
        timezone: str | None = None,
        idempotency_key: str | None = None,
    ) -> Call[Campaign]:
        """Send at a time (an aware datetime, or ISO 8601 text read in ``timezone``)."""
        when = scheduled_at.isoformat() if isinstance(scheduled_at, datetime) else scheduled_at
        payload: dict[str, Any] = {"scheduledAt": when}
        if timezone is not None:
            payload["timezone"] = timezone
        return request(
            "POST",
            f"/campaigns/{campaign_id}/schedule",
            Campaign.from_api,
            payload,
            idempotency_key=idempotency_key,
        )

    @operation
    def unschedule(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        return _action(campaign_id, "unschedule", idempotency_key)

    @operation
    def pause(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        return _action(campaign_id, "pause", idempotency_key)

    @operation
    def resume(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        return _action(campaign_id, "resume", idempotency_key)

    @operation
    def cancel(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[CancelResult]:
        """Stop for good; ``unsent`` says how many messages were never sent."""
        return request(
            "POST", f"/campaigns/{campaign_id}/cancel", CancelResult.from_api, idempotency_key=idempotency_key
        )

    @operation
    def duplicate(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        """Copy as a new draft."""
        return _action(campaign_id, "duplicate", idempotency_key)

    @operation
    def archive(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        return _action(campaign_id, "archive", idempotency_key)

    @operation
    def unarchive(self, campaign_id: int, *, idempotency_key: str | None = None) -> Call[Campaign]:
        return _action(campaign_id, "unarchive", idempotency_key)

    @operation
    def results(self, campaign_id: int) -> Call[CampaignResults]:
        """Deliveries, opens, clicks, bounces, complaints, unsubscribes and their rates."""
        return get(f"/campaigns/{campaign_id}/results", CampaignResults.from_api)

    @paginated
    def recipient_log(
        self,
        campaign_id: int,
        *,
        status: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[RecipientLogEntry]]:
        """Each message and what became of it, newest first; ``status`` e.g. opened, bounced."""
        return listing(
            f"/campaigns/{campaign_id}/results/recipients",
            RecipientLogEntry,
            cursor=cursor,
            limit=limit,
            status=status,
        )

    @operation
    def results_csv(self, campaign_id: int, *, status: str | None = None) -> Call[str]:
        """The per-recipient log as CSV text."""
        call = get(f"/campaigns/{campaign_id}/results.csv", text, status=status)
        return Call(call.method, call.path, text, params=call.params, accept="text")

    @paginated
    def recipients(
        self,
        campaign_id: int,
        *,
        state: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[Recipient]]:
        """The campaign's messages; ``state`` e.g. queued, sent, failed, skipped."""
        return listing(
            f"/campaigns/{campaign_id}/recipients", Recipient, cursor=cursor, limit=limit, state=state
        )


def _action(campaign_id: int, action: str, idempotency_key: str | None) -> Call[Campaign]:
    return request(
        "POST", f"/campaigns/{campaign_id}/{action}", Campaign.from_api, idempotency_key=idempotency_key
    )


class Sending(Group[R]):
    """``/sending``: send one email to an address, a segment (audience) or a tag, now."""

    @operation
    def send(
        self,
        *,
        recipient_type: str,
        recipient_email: Opt[str] = NOT_GIVEN,
        recipient_id: Opt[int] = NOT_GIVEN,
        from_: Opt[str] = NOT_GIVEN,
        from_name: Opt[str] = NOT_GIVEN,
        reply_to: Opt[str] = NOT_GIVEN,
        subject: Opt[str] = NOT_GIVEN,
        preheader: Opt[str] = NOT_GIVEN,
        template: Opt[str] = NOT_GIVEN,
        email_id: Opt[int] = NOT_GIVEN,
        project_id: Opt[int] = NOT_GIVEN,
        provider_type: Opt[str] = NOT_GIVEN,
        transactional: Opt[bool] = NOT_GIVEN,
        topic_id: Opt[int] = NOT_GIVEN,
        variables: Opt[Mapping[str, Any]] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[SendResult]:
        """Send now to ``recipient_type`` email (``recipient_email``), audience or tag (``recipient_id``).

        The content is ``template`` (HTML with Liquid, with ``subject``) or
        ``email_id`` (a saved design). A send to one address is transactional
        unless ``transactional=False``; audience and tag sends are marketing
        unless ``transactional=True``. ``project_id`` is optional: a key acts for
        its own project, and any other id is refused with PermissionDeniedError.
        ``provider_type`` picks a connection by kind (default: the default one).
        The same ``idempotency_key`` (one is made per call if not given) within
        24 hours returns the first answer instead of sending again.
        """
        payload = body(
            recipient_type=recipient_type,
            recipient_email=recipient_email,
            recipient_id=recipient_id,
            from_=from_,
            from_name=from_name,
            reply_to=reply_to,
            subject=subject,
            preheader=preheader,
            template=template,
            email_id=email_id,
            project_id=project_id,
            provider_type=provider_type,
            transactional=transactional,
            topic_id=topic_id,
            variables=dict(variables) if isinstance(variables, Mapping) else variables,
        )
        return request("POST", "/sending", SendResult.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, send_id: int) -> Call[Recipient]:
        """One message of a send, by the ``send_id`` of its answer."""
        return get(f"/sending/{send_id}", Recipient.from_api)

    @operation
    def batch(self, batch_id: int) -> Call[Batch]:
        """A whole send, by its ``batch_id``: status and counts by state."""
        return get(f"/sending/batches/{batch_id}", Batch.from_api)

    @paginated
    def batch_recipients(
        self, batch_id: int, *, state: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[Recipient]]:
        return listing(
            f"/sending/batches/{batch_id}/recipients", Recipient, cursor=cursor, limit=limit, state=state
        )
