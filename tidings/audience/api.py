"""/api/v1 endpoints for contacts, tags and topics."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from tidings.audience import exports, schemas, segments, selectors, services
from tidings.audience.fields import CONTACT_FIELDS
from tidings.audience.models import Contact, Tag, Topic
from tidings.campaigns.schemas import ActivityPage
from tidings.core.errors import ValidationError
from tidings.core.openapi import problems
from tidings.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, CursorPagination

contacts = Router(tags=["Contacts"], by_alias=True)
tags = Router(tags=["Tags"], by_alias=True)
topics = Router(tags=["Topics"], by_alias=True)

ContactId = Annotated[int, Path(alias="contactId", description="The contact's id.")]
TagId = Annotated[int, Path(alias="tagId", description="The tag's id.")]
TopicId = Annotated[int, Path(alias="topicId", description="The topic's id.")]

CSV = {"text/csv": {"schema": {"type": "string"}}}

# camelCase keys of a raw contact object (bulk items) → service keys.
RAW_KEYS = {f.name: f.column for f in CONTACT_FIELDS.values()} | {
    "customFields": "custom_fields",
    "consent": "consent",
    "tags": "tags",
}


def _values(payload: schemas.ContactFields) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


# -- contacts ------------------------------------------------------------------------


@contacts.get("", response=list[schemas.ContactOut], summary="List contacts")
@paginate(CursorPagination)
def contact_list(
    request: HttpRequest,
    q: str | None = Query(None, description="Email, first or last name starting with this."),
    status: str | None = Query(None, description="Only contacts with this status."),
    tag_id: int | None = Query(None, alias="tagId", description="Only contacts with this tag."),
) -> Any:
    selectors.check_status(status)
    return selectors.contact_list(
        project=request.auth.project, search=q, status=status, tag_id=tag_id
    ).prefetch_related("tags")


@contacts.post("", response={201: schemas.ContactOut}, summary="Add a contact", openapi_extra=problems(409))
def contact_create(request: HttpRequest, payload: schemas.ContactIn) -> Status[Contact]:
    contact = services.contact_create(project=request.auth.project, values=_values(payload))
    return Status(201, contact)


@contacts.post(
    "/bulk", response=schemas.BulkUpsertOut, summary="Create or update up to 1,000 contacts by email"
)
def contact_bulk_upsert(request: HttpRequest, payload: schemas.BulkUpsertIn) -> dict[str, Any]:
    items = []
    for item in payload.contacts:
        items.append({RAW_KEYS.get(k, k): v for k, v in item.items()} if isinstance(item, dict) else {})
    results = services.contacts_upsert(project=request.auth.project, items=items)
    counts = Counter(r.result for r in results)
    return {
        "created": counts["created"],
        "updated": counts["updated"],
        "suppressed": counts["suppressed"],
        "rejected": counts["rejected"],
        "results": results,
    }


@contacts.post("/bulk-delete", response=schemas.BulkDeleteOut, summary="Delete contacts by email")
def contact_bulk_delete(request: HttpRequest, payload: schemas.BulkDeleteIn) -> dict[str, Any]:
    deleted, not_found = services.contacts_delete_by_email(
        project=request.auth.project, emails=payload.emails
    )
    return {"deleted": deleted, "not_found": not_found}


@contacts.get(
    "/export.csv",
    summary="Export contacts as CSV",
    openapi_extra={"responses": {200: {"description": "The contacts, as CSV.", "content": CSV}}},
    description=(
        "Every contact of the project, those with the tag `tagId`, or those the segment `segmentId` "
        "matches now. Columns: email, firstName, lastName, company, phone, country, language, status, "
        "source, createdAt, tags, then one per custom field. A cell a spreadsheet would run as a formula "
        "starts with a `'`."
    ),
)
def contacts_export(
    request: HttpRequest,
    tag_id: int | None = Query(None, alias="tagId", description="Only contacts with this tag."),
    segment_id: int | None = Query(
        None, alias="segmentId", description="Only contacts this segment matches."
    ),
) -> StreamingHttpResponse:
    project = request.auth.project
    if tag_id is not None and segment_id is not None:
        raise ValidationError.field("segmentId", "give at most one of tagId or segmentId")
    if segment_id is not None:
        segment = segments.segment_get(project=project, segment_id=segment_id)
        queryset = segments.segment_contacts(project=project, filters=segment.filters)
    else:
        queryset = selectors.contact_list(project=project, tag_id=tag_id)
    return exports.contacts_export_response(project=project, queryset=queryset)


@contacts.get("/{contactId}", response=schemas.ContactOut, summary="Get a contact")
def contact_get(request: HttpRequest, contact_id: ContactId) -> Contact:
    return selectors.contact_get(project=request.auth.project, contact_id=contact_id)


@contacts.patch(
    "/{contactId}", response=schemas.ContactOut, summary="Change a contact", openapi_extra=problems(409)
)
def contact_update(request: HttpRequest, contact_id: ContactId, payload: schemas.ContactPatch) -> Contact:
    contact = selectors.contact_get(project=request.auth.project, contact_id=contact_id)
    return services.contact_update(contact=contact, values=_values(payload))


@contacts.delete("/{contactId}", response={204: None}, summary="Delete a contact")
def contact_delete(request: HttpRequest, contact_id: ContactId) -> Status[None]:
    services.contact_delete(
        contact=selectors.contact_get(project=request.auth.project, contact_id=contact_id)
    )
    return Status(204, None)


@contacts.get(
    "/{contactId}/activity",
    response=ActivityPage,
    summary="The contact's activity: messages and what happened to them, newest first",
)
def contact_activity(
    request: HttpRequest,
    contact_id: ContactId,
    cursor: str | None = Query(None, description="The `nextCursor` of the previous page."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page."),
) -> dict[str, Any]:
    from tidings.tracking.selectors import contact_activity as activity

    project = request.auth.project
    contact = selectors.contact_get(project=project, contact_id=contact_id)
    items, next_cursor = activity(project=project, contact_id=contact.pk, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@contacts.get("/{contactId}/topics", response=list[schemas.TopicStateOut], summary="The contact's topics")
def contact_topics(request: HttpRequest, contact_id: ContactId) -> list[dict[str, Any]]:
    contact = selectors.contact_get(project=request.auth.project, contact_id=contact_id)
    return [
        {
            "topic_id": s["topic"].pk,
            "name": s["topic"].name,
            "subscribed": s["subscribed"],
            "explicit": s["explicit"],
        }
        for s in selectors.contact_topics(contact=contact)
    ]


@contacts.put(
    "/{contactId}/topics/{topicId}",
    response=schemas.TopicStateOut,
    summary="Subscribe or unsubscribe to a topic",
)
def contact_topic_set(
    request: HttpRequest, contact_id: ContactId, topic_id: TopicId, payload: schemas.TopicChoiceIn
) -> dict[str, Any]:
    project = request.auth.project
    contact = selectors.contact_get(project=project, contact_id=contact_id)
    topic = selectors.topic_get(project=project, topic_id=topic_id)
    services.topic_set_subscription(topic=topic, contact=contact, subscribed=payload.subscribed)
    return {"topic_id": topic.pk, "name": topic.name, "subscribed": payload.subscribed, "explicit": True}


@contacts.get(
    "/{contactId}/export", response=dict[str, Any], summary="Everything held about the contact (GDPR)"
)
def contact_export(request: HttpRequest, contact_id: ContactId) -> dict[str, Any]:
    contact = selectors.contact_get(project=request.auth.project, contact_id=contact_id)
    return selectors.contact_gdpr_export(contact=contact)


@contacts.post(
    "/{contactId}/erase",
    response={204: None},
    summary="Erase the contact (GDPR)",
    description="Deletes the contact with its tags, topic choices and activity, and keeps a hash of the "
    "address on the suppression list so it can never be added or mailed again.",
)
def contact_erase(request: HttpRequest, contact_id: ContactId) -> Status[None]:
    services.contact_erase(contact=selectors.contact_get(project=request.auth.project, contact_id=contact_id))
    return Status(204, None)


# -- tags ------------------------------------------------------------------------------


def _saved(tag: Tag, warnings: list[str]) -> dict[str, Any]:
    refreshed = selectors.tag_get(project=tag.project, tag_id=tag.pk)
    return {**schemas.TagOut.from_orm(refreshed).model_dump(), "warnings": warnings}


@tags.get("", response=list[schemas.TagOut], summary="List tags with their contact counts")
@paginate(CursorPagination)
def tag_list(request: HttpRequest) -> Any:
    return selectors.tag_list(project=request.auth.project)


@tags.post(
    "",
    response={201: schemas.TagSaved},
    summary="Create a tag (names are exact and case-sensitive)",
    openapi_extra=problems(409),
)
def tag_create(request: HttpRequest, payload: schemas.TagIn) -> Status[dict[str, Any]]:
    tag, warnings = services.tag_create(
        project=request.auth.project,
        name=payload.name,
        color=payload.color or "",
        description=payload.description or "",
    )
    return Status(201, _saved(tag, warnings))


@tags.get("/{tagId}", response=schemas.TagOut, summary="Get a tag")
def tag_get(request: HttpRequest, tag_id: TagId) -> Tag:
    return selectors.tag_get(project=request.auth.project, tag_id=tag_id)


@tags.patch(
    "/{tagId}", response=schemas.TagSaved, summary="Rename or recolour a tag", openapi_extra=problems(409)
)
def tag_update(request: HttpRequest, tag_id: TagId, payload: schemas.TagPatch) -> dict[str, Any]:
    tag = selectors.tag_get(project=request.auth.project, tag_id=tag_id)
    tag, warnings = services.tag_update(tag=tag, **payload.model_dump(exclude_unset=True))
    return _saved(tag, warnings)


@tags.delete("/{tagId}", response={204: None}, summary="Delete a tag (contacts keep everything else)")
def tag_delete(request: HttpRequest, tag_id: TagId) -> Status[None]:
    services.tag_delete(tag=selectors.tag_get(project=request.auth.project, tag_id=tag_id))
    return Status(204, None)


def _tag_targets(request: HttpRequest, payload: schemas.TagContactsIn) -> dict[str, Any]:
    given = [n for n in ("contact_ids", "emails", "segment_id") if getattr(payload, n) is not None]
    if len(given) != 1:
        raise ValidationError.field("", "give exactly one of contactIds, emails or segmentId")
    if payload.segment_id is not None:
        from tidings.audience.segments import segment_get

        segment = segment_get(project=request.auth.project, segment_id=payload.segment_id)
        return {"segment_filters": segment.filters}
    if len(payload.contact_ids or payload.emails or []) > services.BULK_LIMIT:
        raise ValidationError.field(given[0], f"at most {services.BULK_LIMIT} per call")
    return {"contact_ids": payload.contact_ids, "emails": payload.emails}


@tags.post(
    "/{tagId}/contacts", response=schemas.TagContactsOut, summary="Tag contacts (by id, email or segment)"
)
def tag_add(request: HttpRequest, tag_id: TagId, payload: schemas.TagContactsIn) -> dict[str, int]:
    tag = selectors.tag_get(project=request.auth.project, tag_id=tag_id)
    return {"changed": services.tag_add(tag=tag, **_tag_targets(request, payload))}


@tags.post("/{tagId}/contacts/remove", response=schemas.TagContactsOut, summary="Untag contacts")
def tag_remove(request: HttpRequest, tag_id: TagId, payload: schemas.TagContactsIn) -> dict[str, int]:
    tag = selectors.tag_get(project=request.auth.project, tag_id=tag_id)
    return {"changed": services.tag_remove(tag=tag, **_tag_targets(request, payload))}


# -- topics ----------------------------------------------------------------------------


@topics.get("", response=list[schemas.TopicOut], summary="List topics")
@paginate(CursorPagination)
def topic_list(request: HttpRequest) -> Any:
    return selectors.topic_list(project=request.auth.project)


@topics.post("", response={201: schemas.TopicOut}, summary="Create a topic", openapi_extra=problems(409))
def topic_create(request: HttpRequest, payload: schemas.TopicIn) -> Status[Topic]:
    return Status(201, services.topic_create(project=request.auth.project, **payload.model_dump()))


@topics.get("/{topicId}", response=schemas.TopicOut, summary="Get a topic")
def topic_get(request: HttpRequest, topic_id: TopicId) -> Topic:
    return selectors.topic_get(project=request.auth.project, topic_id=topic_id)


@topics.patch("/{topicId}", response=schemas.TopicOut, summary="Change a topic", openapi_extra=problems(409))
def topic_update(request: HttpRequest, topic_id: TopicId, payload: schemas.TopicPatch) -> Topic:
    topic = selectors.topic_get(project=request.auth.project, topic_id=topic_id)
    return services.topic_update(topic=topic, **payload.model_dump(exclude_unset=True))


@topics.delete("/{topicId}", response={204: None}, summary="Delete a topic and every choice made for it")
def topic_delete(request: HttpRequest, topic_id: TopicId) -> Status[None]:
    services.topic_delete(topic=selectors.topic_get(project=request.auth.project, topic_id=topic_id))
    return Status(204, None)


def _topic_member(
    request: HttpRequest, topic_id: int, payload: schemas.TopicMemberIn, subscribed: bool
) -> dict[str, Any]:
    project = request.auth.project
    topic = selectors.topic_get(project=project, topic_id=topic_id)
    if (payload.contact_id is None) == (payload.email is None):
        raise ValidationError.field("", "give exactly one of contactId or email")
    if payload.contact_id is not None:
        contact = selectors.contact_get(project=project, contact_id=payload.contact_id)
    else:
        contact = selectors.contact_get_by_email(project=project, email=payload.email or "")
    services.topic_set_subscription(topic=topic, contact=contact, subscribed=subscribed)
    return {"topic_id": topic.pk, "name": topic.name, "subscribed": subscribed, "explicit": True}


@topics.post(
    "/{topicId}/subscribe", response=schemas.TopicStateOut, summary="Subscribe a contact to the topic"
)
def topic_subscribe(
    request: HttpRequest, topic_id: TopicId, payload: schemas.TopicMemberIn
) -> dict[str, Any]:
    return _topic_member(request, topic_id, payload, True)


@topics.post(
    "/{topicId}/unsubscribe", response=schemas.TopicStateOut, summary="Unsubscribe a contact from the topic"
)
def topic_unsubscribe(
    request: HttpRequest, topic_id: TopicId, payload: schemas.TopicMemberIn
) -> dict[str, Any]:
    return _topic_member(request, topic_id, payload, False)
