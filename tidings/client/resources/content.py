"""Email designs, personas and AI drafts."""

from __future__ import annotations

import builtins
from typing import Any

from tidings.client._core import Call
from tidings.client._pagination import Page
from tidings.client.models import (
    Catalog,
    Design,
    DesignVersion,
    Draft,
    DraftSettings,
    PersonaMenu,
    Rendered,
    Starter,
    TestSend,
    VersionDiff,
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
    send,
)


class Designs(Group[R]):
    """``/designs``: emails (subject, preheader, MJML or HTML body with Liquid), versioned."""

    @paginated
    def list(
        self, *, q: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[Design]]:
        """Designs without their bodies; ``q`` searches names."""
        return listing("/designs", Design, cursor=cursor, limit=limit, q=q)

    @operation
    def create(
        self,
        name: str,
        *,
        purpose: Opt[str] = NOT_GIVEN,
        format: Opt[str] = NOT_GIVEN,
        subject: Opt[str] = NOT_GIVEN,
        preheader: Opt[str] = NOT_GIVEN,
        body: Opt[str | None] = NOT_GIVEN,
        starter: Opt[str | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Design]:
        """``format``: mjml or html; ``starter``: a starter's id (see :meth:`starters`) instead of a body."""
        payload = _body(
            name=name,
            purpose=purpose,
            format=format,
            subject=subject,
            preheader=preheader,
            body=body,
            starter=starter,
        )
        return send("POST", "/designs", Design.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, design_id: int) -> Call[Design]:
        return get(f"/designs/{design_id}", Design.from_api)

    @operation
    def update(
        self,
        design_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        purpose: Opt[str] = NOT_GIVEN,
        format: Opt[str] = NOT_GIVEN,
        subject: Opt[str] = NOT_GIVEN,
        preheader: Opt[str] = NOT_GIVEN,
        body: Opt[str] = NOT_GIVEN,
    ) -> Call[Design]:
        """A change saves a new version."""
        payload = _body(
            name=name, purpose=purpose, format=format, subject=subject, preheader=preheader, body=body
        )
        return send("PATCH", f"/designs/{design_id}", Design.from_api, payload)

    @operation
    def delete(self, design_id: int) -> Call[None]:
        return delete(f"/designs/{design_id}")

    @operation
    def duplicate(self, design_id: int, *, idempotency_key: str | None = None) -> Call[Design]:
        return send(
            "POST", f"/designs/{design_id}/duplicate", Design.from_api, idempotency_key=idempotency_key
        )

    @operation
    def versions(self, design_id: int) -> Call[builtins.list[DesignVersion]]:
        """Every saved version, without bodies."""
        return get(f"/designs/{design_id}/versions", DesignVersion.list_from_api)

    @operation
    def version(self, design_id: int, number: int) -> Call[DesignVersion]:
        return get(f"/designs/{design_id}/versions/{number}", DesignVersion.from_api)

    @operation
    def version_diff(self, design_id: int, number: int, *, against: int | None = None) -> Call[VersionDiff]:
        """A unified diff of version ``number`` against ``against`` (default: the one before it)."""
        return get(f"/designs/{design_id}/versions/{number}/diff", VersionDiff.from_api, against=against)

    @operation
    def restore(self, design_id: int, number: int, *, idempotency_key: str | None = None) -> Call[Design]:
        """Make an old version current (saved as a new version)."""
        return send(
            "POST",
            f"/designs/{design_id}/versions/{number}/restore",
            Design.from_api,
            idempotency_key=idempotency_key,
        )

    @operation
    def render(
        self,
        body: str,
        *,
        format: Opt[str] = NOT_GIVEN,
        purpose: Opt[str] = NOT_GIVEN,
        subject: Opt[str] = NOT_GIVEN,
        preheader: Opt[str] = NOT_GIVEN,
        contact_id: Opt[int | None] = NOT_GIVEN,
    ) -> Call[Rendered]:
        """Render a body not saved as a design, for one contact's data or sample data."""
        payload = _body(
            body=body,
            format=format,
            purpose=purpose,
            subject=subject,
            preheader=preheader,
            contact_id=contact_id,
        )
        return send("POST", "/designs/render", Rendered.from_api, payload)

    @operation
    def preview(
        self, design_id: int, *, contact_id: int | None = None, version: int | None = None
    ) -> Call[Rendered]:
        """The design as a contact (or sample data) would get it."""
        return get(f"/designs/{design_id}/preview", Rendered.from_api, contact_id=contact_id, version=version)

    @operation
    def test(
        self,
        design_id: int,
        to: str,
        *,
        contact_id: Opt[int | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[TestSend]:
        """Send a test copy to ``to``."""
        return send(
            "POST",
            f"/designs/{design_id}/test",
            TestSend.from_api,
            _body(to=to, contact_id=contact_id),
            idempotency_key=idempotency_key,
        )

    @operation
    def starters(self) -> Call[builtins.list[Starter]]:
        """The starting points a new design can be made from."""
        return get("/designs/starters", Starter.list_from_api)


_body = body  # the name "body" is also an argument of several methods above


class Personas(Group[R]):
    """``/personas``: whom the AI writes for, and the variables it may use for them."""

    @operation
    def menu(self, *, q: str | None = None) -> Call[PersonaMenu]:
        """Audiences (segments), tags and recent contacts to choose from."""
        return get("/personas", PersonaMenu.from_api, q=q)

    @operation
    def catalog(self, *, type: str | None = None, id: int | None = None) -> Call[Catalog]:
        """The variable catalog for a persona (``type``: segment, tag or contact; none for the fallback)."""
        return get("/personas/catalog", Catalog.from_api, type=type, id=id)


class Drafts(Group[R]):
    """``/drafts``: AI drafting conversations; every revision is kept and can be restored."""

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Draft]]:
        return listing("/drafts", Draft, cursor=cursor, limit=limit)

    @operation
    def create(
        self,
        prompt: str,
        *,
        persona_type: str | None = None,
        persona_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> Call[Draft]:
        """Start a draft from a prompt, optionally for a persona (``persona_type``: segment, tag, contact)."""
        payload: dict[str, Any] = {"prompt": prompt}
        if persona_type is not None:
            payload["persona"] = {"type": persona_type, "id": persona_id}
        return send("POST", "/drafts", Draft.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, draft_id: int) -> Call[Draft]:
        return get(f"/drafts/{draft_id}", Draft.from_api)

    @operation
    def delete(self, draft_id: int) -> Call[None]:
        return delete(f"/drafts/{draft_id}")

    @operation
    def reply(self, draft_id: int, prompt: str, *, idempotency_key: str | None = None) -> Call[Draft]:
        """A follow-up ("shorter", "more formal") that revises the draft."""
        return send(
            "POST",
            f"/drafts/{draft_id}/messages",
            Draft.from_api,
            {"prompt": prompt},
            idempotency_key=idempotency_key,
        )

    @operation
    def set_persona(self, draft_id: int, *, type: str, id: int | None = None) -> Call[Draft]:
        """Shape the draft for another persona (``type``: none, segment, tag or contact)."""
        return send("PUT", f"/drafts/{draft_id}/persona", Draft.from_api, {"type": type, "id": id})

    @operation
    def restore(self, draft_id: int, version: int, *, idempotency_key: str | None = None) -> Call[Draft]:
        """Make an earlier revision current again."""
        return send(
            "POST",
            f"/drafts/{draft_id}/restore",
            Draft.from_api,
            {"version": version},
            idempotency_key=idempotency_key,
        )

    @operation
    def settings(self) -> Call[DraftSettings]:
        """The project's AI provider settings (the API key itself is never returned)."""
        return get("/drafts/settings", DraftSettings.from_api)

    @operation
    def update_settings(
        self,
        *,
        provider: Opt[str] = NOT_GIVEN,
        base_url: Opt[str] = NOT_GIVEN,
        model: Opt[str] = NOT_GIVEN,
        api_key: Opt[str] = NOT_GIVEN,
        timeout_seconds: Opt[int] = NOT_GIVEN,
        brand_notes: Opt[str] = NOT_GIVEN,
        catalog_threshold: Opt[float] = NOT_GIVEN,
    ) -> Call[DraftSettings]:
        payload = _body(
            provider=provider,
            base_url=base_url,
            model=model,
            api_key=api_key,
            timeout_seconds=timeout_seconds,
            brand_notes=brand_notes,
            catalog_threshold=catalog_threshold,
        )
        return send("PATCH", "/drafts/settings", DraftSettings.from_api, payload)
