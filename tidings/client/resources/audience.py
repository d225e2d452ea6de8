"""Contacts, tags, topics, segments, imports and the suppression list."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterable, Mapping
from typing import IO, Any

from tidings.client._core import Call, Upload
from tidings.client._pagination import Page
from tidings.client.models import (
    Activity,
    BulkDeleteResult,
    BulkUpsertResult,
    Contact,
    Import,
    Segment,
    SegmentContact,
    SegmentPreview,
    Suppression,
    SuppressionRemoval,
    Tag,
    Topic,
    TopicState,
)
from tidings.client.resources._base import (
    NOT_GIVEN,
    Group,
    Opt,
    R,
    as_dict,
    body,
    delete,
    get,
    listing,
    operation,
    paginated,
    send,
    text,
)
from tidings.client.resources._base import nothing as _nothing


class Contacts(Group[R]):
    """``/contacts``: the project's audience."""

    @paginated
    def list(
        self,
        *,
        q: str | None = None,
        status: str | None = None,
        tag_id: int | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[Contact]]:
        """Contacts, newest first; ``q`` searches email and names."""
        return listing("/contacts", Contact, cursor=cursor, limit=limit, q=q, status=status, tag_id=tag_id)

    @operation
    def create(
        self,
        email: str,
        *,
        first_name: Opt[str | None] = NOT_GIVEN,
        last_name: Opt[str | None] = NOT_GIVEN,
        company: Opt[str | None] = NOT_GIVEN,
        phone: Opt[str | None] = NOT_GIVEN,
        country: Opt[str | None] = NOT_GIVEN,
        language: Opt[str | None] = NOT_GIVEN,
        custom_fields: Opt[Mapping[str, Any] | None] = NOT_GIVEN,
        status: Opt[str | None] = NOT_GIVEN,
        source: Opt[str | None] = NOT_GIVEN,
        created_at: Opt[str | None] = NOT_GIVEN,
        consent: Opt[Mapping[str, Any] | None] = NOT_GIVEN,
        tags: Opt[Iterable[str] | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Contact]:
        """Add one contact; ``tags`` are names (made if missing); ``consent`` is ``{at, method, ip, text}``.

        ``custom_fields`` keys are sent as given (not camelCased).
        """
        payload = body(
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            phone=phone,
            country=country,
            language=language,
            custom_fields=custom_fields,
            status=status,
            source=source,
            created_at=created_at,
            consent=consent,
            tags=list(tags) if isinstance(tags, Iterable) and not isinstance(tags, str) else tags,
        )
        return send("POST", "/contacts", Contact.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, contact_id: int) -> Call[Contact]:
        return get(f"/contacts/{contact_id}", Contact.from_api)

    @operation
    def update(
        self,
        contact_id: int,
        *,
        email: Opt[str] = NOT_GIVEN,
        first_name: Opt[str | None] = NOT_GIVEN,
        last_name: Opt[str | None] = NOT_GIVEN,
        company: Opt[str | None] = NOT_GIVEN,
        phone: Opt[str | None] = NOT_GIVEN,
        country: Opt[str | None] = NOT_GIVEN,
        language: Opt[str | None] = NOT_GIVEN,
        custom_fields: Opt[Mapping[str, Any] | None] = NOT_GIVEN,
        status: Opt[str | None] = NOT_GIVEN,
        source: Opt[str | None] = NOT_GIVEN,
        created_at: Opt[str | None] = NOT_GIVEN,
        consent: Opt[Mapping[str, Any] | None] = NOT_GIVEN,
        tags: Opt[Iterable[str] | None] = NOT_GIVEN,
    ) -> Call[Contact]:
        """Change the given fields only; ``tags`` replaces the contact's tags."""
        payload = body(
            email=email,
            first_name=first_name,
            last_name=last_name,
            company=company,
            phone=phone,
            country=country,
            language=language,
            custom_fields=custom_fields,
            status=status,
            source=source,
            created_at=created_at,
            consent=consent,
            tags=list(tags) if isinstance(tags, Iterable) and not isinstance(tags, str) else tags,
        )
        return send("PATCH", f"/contacts/{contact_id}", Contact.from_api, payload)

    @operation
    def delete(self, contact_id: int) -> Call[None]:
        return delete(f"/contacts/{contact_id}")

    @operation
    def bulk_upsert(
        self, contacts: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> Call[BulkUpsertResult]:
        """Create or update many contacts at once; each is a dict in the API's camelCase terms."""
        return send(
            "POST",
            "/contacts/bulk",
            BulkUpsertResult.from_api,
            {"contacts": [dict(c) for c in contacts]},
            idempotency_key=idempotency_key,
        )

    @operation
    def bulk_delete(
        self, emails: Iterable[str], *, idempotency_key: str | None = None
    ) -> Call[BulkDeleteResult]:
        return send(
            "POST",
            "/contacts/bulk-delete",
            BulkDeleteResult.from_api,
            {"emails": list(emails)},
            idempotency_key=idempotency_key,
        )

    @paginated
    def activity(
        self, contact_id: int, *, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[Activity]]:
        """What happened to a contact (sends, opens, clicks, bounces…), newest first."""
        return listing(f"/contacts/{contact_id}/activity", Activity, cursor=cursor, limit=limit)

    @operation
    def topics(self, contact_id: int) -> Call[builtins.list[TopicState]]:
        """The contact's choice for every topic."""
        return get(f"/contacts/{contact_id}/topics", TopicState.list_from_api)

    @operation
    def set_topic(self, contact_id: int, topic_id: int, *, subscribed: bool) -> Call[TopicState]:
        return send(
            "PUT",
            f"/contacts/{contact_id}/topics/{topic_id}",
            TopicState.from_api,
            {"subscribed": subscribed},
        )

    @operation
    def export(self, contact_id: int) -> Call[dict[str, Any]]:
        """Everything stored about one contact (a GDPR access request), as a dict."""
        return get(f"/contacts/{contact_id}/export", as_dict)

    @operation
    def export_csv(self, *, tag_id: int | None = None, segment_id: int | None = None) -> Call[str]:
        """All contacts (or a tag's or a segment's) as CSV text."""
        call = get("/contacts/export.csv", text, tag_id=tag_id, segment_id=segment_id)
        return Call(call.method, call.path, text, params=call.params, accept="text")

    @operation
    def erase(self, contact_id: int, *, idempotency_key: str | None = None) -> Call[None]:
        """Erase a contact for good; only a hashed suppression entry stays, so no re-import re-mails them."""
        return Call(
            "POST", f"/contacts/{contact_id}/erase", _nothing, accept="none", idempotency_key=idempotency_key
        )


class Tags(Group[R]):
    """``/tags``: manual labels on contacts."""

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Tag]]:
        return listing("/tags", Tag, cursor=cursor, limit=limit)

    @operation
    def create(
        self,
        name: str,
        *,
        color: Opt[str | None] = NOT_GIVEN,
        description: Opt[str | None] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Tag]:
        payload = body(name=name, color=color, description=description)
        return send("POST", "/tags", Tag.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, tag_id: int) -> Call[Tag]:
        return get(f"/tags/{tag_id}", Tag.from_api)

    @operation
    def update(
        self,
        tag_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        color: Opt[str | None] = NOT_GIVEN,
        description: Opt[str | None] = NOT_GIVEN,
    ) -> Call[Tag]:
        return send(
            "PATCH", f"/tags/{tag_id}", Tag.from_api, body(name=name, color=color, description=description)
        )

    @operation
    def delete(self, tag_id: int) -> Call[None]:
        return delete(f"/tags/{tag_id}")

    @operation
    def add_contacts(
        self,
        tag_id: int,
        *,
        contact_ids: Opt[Iterable[int]] = NOT_GIVEN,
        emails: Opt[Iterable[str]] = NOT_GIVEN,
        segment_id: Opt[int] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[int]:
        """Tag contacts (by id, by address or a whole segment); returns how many were newly tagged."""
        payload = _members(contact_ids, emails, segment_id)
        return send("POST", f"/tags/{tag_id}/contacts", _changed, payload, idempotency_key=idempotency_key)

    @operation
    def remove_contacts(
        self,
        tag_id: int,
        *,
        contact_ids: Opt[Iterable[int]] = NOT_GIVEN,
        emails: Opt[Iterable[str]] = NOT_GIVEN,
        segment_id: Opt[int] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[int]:
        """Untag contacts; returns how many lost the tag."""
        payload = _members(contact_ids, emails, segment_id)
        return send(
            "POST", f"/tags/{tag_id}/contacts/remove", _changed, payload, idempotency_key=idempotency_key
        )


def _members(contact_ids: Any, emails: Any, segment_id: Any) -> dict[str, Any]:
    return body(
        contact_ids=list(contact_ids) if contact_ids is not NOT_GIVEN else NOT_GIVEN,
        emails=list(emails) if emails is not NOT_GIVEN else NOT_GIVEN,
        segment_id=segment_id,
    )


def _changed(data: Any) -> int:
    return int(data["changed"])


class Topics(Group[R]):
    """``/topics``: subjects contacts opt in to or out of in the preference center."""

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Topic]]:
        return listing("/topics", Topic, cursor=cursor, limit=limit)

    @operation
    def create(
        self,
        name: str,
        *,
        description: Opt[str | None] = NOT_GIVEN,
        default_subscription: Opt[str] = NOT_GIVEN,
        visibility: Opt[str] = NOT_GIVEN,
        position: Opt[int] = NOT_GIVEN,
        is_active: Opt[bool] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Topic]:
        """``default_subscription``: opt_in or opt_out; ``visibility``: public or private."""
        payload = body(
            name=name,
            description=description,
            default_subscription=default_subscription,
            visibility=visibility,
            position=position,
            is_active=is_active,
        )
        return send("POST", "/topics", Topic.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, topic_id: int) -> Call[Topic]:
        return get(f"/topics/{topic_id}", Topic.from_api)

    @operation
    def update(
        self,
        topic_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        description: Opt[str | None] = NOT_GIVEN,
        default_subscription: Opt[str] = NOT_GIVEN,
        visibility: Opt[str] = NOT_GIVEN,
        position: Opt[int] = NOT_GIVEN,
        is_active: Opt[bool] = NOT_GIVEN,
    ) -> Call[Topic]:
        payload = body(
            name=name,
            description=description,
            default_subscription=default_subscription,
            visibility=visibility,
            position=position,
            is_active=is_active,
        )
        return send("PATCH", f"/topics/{topic_id}", Topic.from_api, payload)

    @operation
    def delete(self, topic_id: int) -> Call[None]:
        return delete(f"/topics/{topic_id}")

    @operation
    def subscribe(
        self, topic_id: int, *, contact_id: Opt[int] = NOT_GIVEN, email: Opt[str] = NOT_GIVEN
    ) -> Call[TopicState]:
        payload = body(contact_id=contact_id, email=email)
        return send("POST", f"/topics/{topic_id}/subscribe", TopicState.from_api, payload)

    @operation
    def unsubscribe(
        self, topic_id: int, *, contact_id: Opt[int] = NOT_GIVEN, email: Opt[str] = NOT_GIVEN
    ) -> Call[TopicState]:
        payload = body(contact_id=contact_id, email=email)
        return send("POST", f"/topics/{topic_id}/unsubscribe", TopicState.from_api, payload)


class Segments(Group[R]):
    """``/segments``: saved rules whose members are computed when asked (see docs/segments.md)."""

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Segment]]:
        return listing("/segments", Segment, cursor=cursor, limit=limit)

    @operation
    def create(
        self,
        name: str,
        *,
        description: Opt[str] = NOT_GIVEN,
        filters: Opt[Mapping[str, Any]] = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> Call[Segment]:
        payload = body(name=name, description=description, filters=filters)
        return send("POST", "/segments", Segment.from_api, payload, idempotency_key=idempotency_key)

    @operation
    def get(self, segment_id: int) -> Call[Segment]:
        return get(f"/segments/{segment_id}", Segment.from_api)

    @operation
    def update(
        self,
        segment_id: int,
        *,
        name: Opt[str] = NOT_GIVEN,
        description: Opt[str] = NOT_GIVEN,
        filters: Opt[Mapping[str, Any]] = NOT_GIVEN,
    ) -> Call[Segment]:
        payload = body(name=name, description=description, filters=filters)
        return send("PATCH", f"/segments/{segment_id}", Segment.from_api, payload)

    @operation
    def delete(self, segment_id: int) -> Call[None]:
        return delete(f"/segments/{segment_id}")

    @operation
    def count(self, segment_id: int) -> Call[int]:
        """How many contacts match now."""
        return get(f"/segments/{segment_id}/count", lambda data: int(data["count"]))

    @operation
    def sample(self, segment_id: int, *, limit: int | None = None) -> Call[builtins.list[SegmentContact]]:
        """A few matching contacts."""
        return get(f"/segments/{segment_id}/sample", _sample, limit=limit)

    @operation
    def preview(self, filters: Mapping[str, Any], *, limit: int | None = None) -> Call[SegmentPreview]:
        """Count and sample for rules not saved yet (a live preview while editing)."""
        return send(
            "POST", "/segments/preview", SegmentPreview.from_api, {"filters": dict(filters)}, limit=limit
        )


def _sample(data: Any) -> list[SegmentContact]:
    return SegmentContact.list_from_api(data.get("items") if isinstance(data, dict) else data)


class Imports(Group[R]):
    """``/imports``: CSV files of contacts, imported in the background."""

    @operation
    def create(
        self,
        file: str | os.PathLike[str] | IO[bytes],
        *,
        column_map: Mapping[str, str | None] | None = None,
        tags: Iterable[str] = (),
        on_conflict: str | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
    ) -> Call[Import]:
        """Upload a CSV (a path or a binary file object); poll :meth:`get` for progress.

        ``column_map`` maps a column header to a field (``{"E-mail": "email"}``, None
        leaves the column out); ``on_conflict`` is skip (default) or upsert.
        """
        form: dict[str, Any] = {
            "columnMap": json.dumps(dict(column_map)) if column_map is not None else None,
            "tags": list(tags) or None,
            "onConflict": on_conflict,
        }
        return Call(
            "POST",
            "/imports",
            Import.from_api,
            form=form,
            upload=Upload("file", file, filename),
            idempotency_key=idempotency_key,
        )

    @paginated
    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Call[Page[Import]]:
        return listing("/imports", Import, cursor=cursor, limit=limit)

    @operation
    def get(self, import_id: int) -> Call[Import]:
        return get(f"/imports/{import_id}", Import.from_api)

    @operation
    def report(self, import_id: int) -> Call[str]:
        """The rejected rows as CSV text: line, reason, then the row as it was."""
        return Call("GET", f"/imports/{import_id}/report", text, accept="text")


class Suppressions(Group[R]):
    """``/suppressions``: addresses that receive nothing (bounced, complained, erased)."""

    @paginated
    def list(
        self,
        *,
        reason: str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Call[Page[Suppression]]:
        return listing("/suppressions", Suppression, cursor=cursor, limit=limit, reason=reason, search=search)

    @paginated
    def removals(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[SuppressionRemoval]]:
        """The suppressions that were lifted, by whom and why."""
        return listing("/suppressions/removals", SuppressionRemoval, cursor=cursor, limit=limit)

    @operation
    def remove(
        self, suppression_id: int, *, note: str, idempotency_key: str | None = None
    ) -> Call[SuppressionRemoval]:
        """Lift a suppression; ``note`` says why (it is kept)."""
        return send(
            "POST",
            f"/suppressions/{suppression_id}/remove",
            SuppressionRemoval.from_api,
            {"note": note},
            idempotency_key=idempotency_key,
        )
