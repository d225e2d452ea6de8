"""/api/v1/suppressions: addresses that are never mailed again, and taking one off with a note."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router
from ninja.pagination import paginate

from tidings.audience import selectors, services
from tidings.audience.models import SuppressionReason
from tidings.core.errors import ValidationError
from tidings.core.pagination import CursorPagination
from tidings.core.schemas import CamelIn, CamelSchema

router = Router(tags=["Suppressions"], by_alias=True)


class SuppressionOut(CamelSchema):
    id: int
    email: str = Field(
        description="The address; empty for an erased person, whose address is kept only as a hash."
    )
    reason: SuppressionReason = Field(description="bounced, complained, erased or manual.")
    detail: str = Field(description="What caused it, e.g. the bounce's status code and text.")
    created_at: datetime


class SuppressionRemoveIn(CamelIn):
    note: str = Field(description="Why the address may be mailed again; kept on record.", max_length=5000)


class SuppressionRemovalOut(CamelSchema):
    id: int
    email: str
    reason: SuppressionReason
    note: str
    removed_by: str
    removed_at: datetime


SuppressionId = Annotated[int, Path(alias="suppressionId", ge=1, description="The entry's id.")]


@router.get("", response=list[SuppressionOut], summary="List the suppression list, newest first")
@paginate(CursorPagination)
def suppression_list(
    request: HttpRequest,
    reason: str | None = Query(
        None, description="Only entries of this reason: bounced, complained, erased, manual."
    ),
    search: str = Query("", max_length=254, description="Part of an address."),
) -> object:
    if reason is not None and reason not in SuppressionReason.values:
        raise ValidationError.field("reason", f"must be one of {', '.join(SuppressionReason.values)}")
    return selectors.suppression_list(project=request.auth.project, reason=reason, search=search)


@router.get("/removals", response=list[SuppressionRemovalOut], summary="Addresses taken off the list")
@paginate(CursorPagination)
def suppression_removals(request: HttpRequest) -> object:
    return selectors.suppression_removals(project=request.auth.project)


@router.post(
    "/{suppressionId}/remove",
    response=SuppressionRemovalOut,
    summary="Take an address off the list, with a note",
    description="The contact, if there is one, gets back the status it had before it was suppressed "
    "(never subscribed unless it was), or non-subscribed. The removal is kept on record.",
)
def suppression_remove(
    request: HttpRequest, suppression_id: SuppressionId, payload: SuppressionRemoveIn
) -> object:
    return services.suppression_remove(
        project=request.auth.project,
        suppression_id=suppression_id,
        note=payload.note,
        removed_by=f"API key {request.auth.name} ({request.auth.prefix})",
    )
