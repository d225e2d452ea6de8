"""/api/v1/segments: saved rule trees, their live counts and samples, and a preview for unsaved rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from tidings.audience import segments
from tidings.audience.models import Segment
from tidings.audience.segment_rules import MAX_ID
from tidings.audience.segment_schemas import (
    SegmentCountOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    SegmentPreviewIn,
    SegmentPreviewOut,
    SegmentSampleOut,
)
from tidings.core.models import Project
from tidings.core.openapi import problems
from tidings.core.pagination import CursorPagination

router = Router(tags=["Segments"], by_alias=True)

SegmentId = Annotated[int, Path(alias="segmentId", ge=1, le=MAX_ID, description="The segment's id.")]
SampleLimit = Annotated[
    int, Query(ge=1, le=segments.SAMPLE_MAX, description="How many contacts to return, newest first.")
]


def _with_counts(project: Project, items: Iterable[Segment]) -> list[Segment]:
    items = list(items)
    counts = segments.segment_counts(project=project, segments=items)
    for segment in items:
        segment.count = counts[segment.pk]  # type: ignore[attr-defined]
    return items


class SegmentPagination(CursorPagination):
    """Cursor pages whose segments carry their live count: counted for the page only."""

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["items"] = _with_counts(request.auth.project, page["items"])
        return page


@router.get("", response=list[SegmentOut], summary="List segments, each with its live count")
@paginate(SegmentPagination)
def segment_list(request: HttpRequest) -> object:
    return segments.segment_list(project=request.auth.project)


@router.post("", response={201: SegmentOut}, summary="Create a segment", openapi_extra=problems(409))
def segment_create(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    project = request.auth.project
    segment = segments.segment_create(
        project=project, name=payload.name, description=payload.description, filters=payload.filters
    )
    return Status(201, _with_counts(project, [segment])[0])


@router.post(
    "/preview",
    response=SegmentPreviewOut,
    summary="Count and sample unsaved rules (the live count while editing)",
)
def segment_preview(request: HttpRequest, payload: SegmentPreviewIn, limit: SampleLimit = 10) -> object:
    count, sample = segments.segment_preview(
        project=request.auth.project, filters=payload.filters, limit=limit
    )
    return {"count": count, "sample": sample}


@router.get("/{segmentId}", response=SegmentOut, summary="Get a segment with its live count")
def segment_get(request: HttpRequest, segment_id: SegmentId) -> Segment:
    project = request.auth.project
    segment = segments.segment_get(project=project, segment_id=segment_id)
    return _with_counts(project, [segment])[0]


@router.patch(
    "/{segmentId}",
    response=SegmentOut,
    summary="Change a segment's name, description or rules",
    openapi_extra=problems(409),
)
def segment_update(request: HttpRequest, segment_id: SegmentId, payload: SegmentPatch) -> Segment:
    project = request.auth.project
    segment = segments.segment_get(project=project, segment_id=segment_id)
    segment = segments.segment_update(segment=segment, **payload.model_dump(exclude_unset=True))
    return _with_counts(project, [segment])[0]


@router.delete("/{segmentId}", response={204: None}, summary="Delete a segment (contacts are untouched)")
def segment_delete(request: HttpRequest, segment_id: SegmentId) -> Status[None]:
    segment = segments.segment_get(project=request.auth.project, segment_id=segment_id)
    segments.segment_delete(segment=segment)
    return Status(204, None)


@router.get("/{segmentId}/count", response=SegmentCountOut, summary="How many contacts are in a segment now")
def segment_count(request: HttpRequest, segment_id: SegmentId) -> object:
    project = request.auth.project
    segment = segments.segment_get(project=project, segment_id=segment_id)
    return {"count": segments.segment_count(project=project, filters=segment.filters)}


@router.get("/{segmentId}/sample", response=SegmentSampleOut, summary="Some of a segment's contacts")
def segment_sample(request: HttpRequest, segment_id: SegmentId, limit: SampleLimit = 10) -> object:
    project = request.auth.project
    segment = segments.segment_get(project=project, segment_id=segment_id)
    return {"items": segments.segment_sample(project=project, filters=segment.filters, limit=limit)}
