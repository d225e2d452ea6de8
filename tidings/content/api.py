"""/api/v1/designs: email designs, their versions, previews and test sends."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from tidings.audience import selectors as audience
from tidings.content import schemas, selectors, services
from tidings.content.models import EmailDesign
from tidings.core.errors import ValidationError
from tidings.core.pagination import CursorPagination
from tidings.sending.testsend import send_design_test

router = Router(tags=["Designs"], by_alias=True)

DesignId = Annotated[int, Path(alias="designId", ge=1, description="The design's id.")]
Number = Annotated[int, Path(ge=1, description="The version's number (1, 2, …).")]


def _contact(request: HttpRequest, contact_id: int | None) -> Any:
    if contact_id is None:
        return None
    return audience.contact_get(project=request.auth.project, contact_id=contact_id)


def _design(request: HttpRequest, design_id: int) -> EmailDesign:
    return selectors.design_get(project=request.auth.project, design_id=design_id)


@router.get("", response=list[schemas.DesignSummaryOut], summary="List email designs, newest first")
@paginate(CursorPagination)
def design_list(
    request: HttpRequest, q: str | None = Query(None, description="Names containing this.")
) -> Any:
    return selectors.design_list(project=request.auth.project, search=q)


@router.post("", response={201: schemas.DesignOut}, summary="Create a design (version 1)")
def design_create(request: HttpRequest, payload: schemas.DesignIn) -> Status[EmailDesign]:
    project = request.auth.project
    if payload.starter is not None:
        if payload.body is not None:
            raise ValidationError.field("body", "give either body or starter, not both")
        design = services.design_create_from_starter(
            project=project, starter=payload.starter, name=payload.name
        )
        return Status(201, design)
    values = payload.model_dump(exclude={"starter"})
    values["body"] = values["body"] or ""
    return Status(201, services.design_create(project=project, values=values, source="api"))


@router.get("/starters", response=list[schemas.StarterOut], summary="Templates a design can start from")
def design_starters(request: HttpRequest) -> list[dict[str, str]]:
    return [{"id": key, "name": name} for key, (name, _) in services.STARTERS.items()]


@router.post(
    "/render", response=schemas.RenderedOut, summary="Render unsaved design source (the live preview)"
)
def design_render(request: HttpRequest, payload: schemas.RenderIn) -> dict[str, Any]:
    project = request.auth.project
    values = payload.model_dump(exclude={"contact_id"}) | {"name": "preview"}
    checked = services.design_check(
        project=project, values=values, contact=_contact(request, payload.contact_id)
    )
    rendered = checked.rendered
    return {**rendered.__dict__, "warnings": [w.as_dict() for w in checked.warnings]}


@router.get("/{designId}", response=schemas.DesignOut, summary="Get a design with its current content")
def design_get(request: HttpRequest, design_id: DesignId) -> EmailDesign:
    return _design(request, design_id)


@router.patch("/{designId}", response=schemas.DesignOut, summary="Save changes as the next version")
def design_update(request: HttpRequest, design_id: DesignId, payload: schemas.DesignPatch) -> EmailDesign:
    design = _design(request, design_id)
    values = payload.model_dump(exclude_unset=True)
    if any(v is None for v in values.values()):
        raise ValidationError.field(next(k for k, v in values.items() if v is None), "must not be null")
    design, _ = services.design_update(design=design, values=values, source="api")
    return design


@router.delete("/{designId}", response={204: None}, summary="Delete a design and its versions")
def design_delete(request: HttpRequest, design_id: DesignId) -> Status[None]:
    services.design_delete(design=_design(request, design_id))
    return Status(204, None)


@router.post("/{designId}/duplicate", response={201: schemas.DesignOut}, summary="Copy a design")
def design_duplicate(request: HttpRequest, design_id: DesignId) -> Status[EmailDesign]:
    return Status(201, services.design_duplicate(design=_design(request, design_id)))


@router.get(
    "/{designId}/versions",
    response=list[schemas.VersionSummaryOut],
    summary="Every saved version, newest first",
)
def design_versions(request: HttpRequest, design_id: DesignId) -> Any:
    return list(selectors.design_versions(design=_design(request, design_id)))


@router.get("/{designId}/versions/{number}", response=schemas.VersionOut, summary="One version's source")
def design_version(request: HttpRequest, design_id: DesignId, number: Number) -> Any:
    return selectors.design_version_get(design=_design(request, design_id), number=number)


@router.get("/{designId}/versions/{number}/diff", response=schemas.DiffOut, summary="Diff two versions")
def design_version_diff(
    request: HttpRequest,
    design_id: DesignId,
    number: Number,
    against: int = Query(..., ge=1, description="The version to compare with."),
) -> dict[str, Any]:
    design = _design(request, design_id)
    diff = selectors.design_version_diff(design=design, number=number, against=against)
    return {"number": number, "against": against, "diff": diff}


@router.post(
    "/{designId}/versions/{number}/restore",
    response=schemas.DesignOut,
    summary="Make a version current again (saved as a new version)",
)
def design_restore(request: HttpRequest, design_id: DesignId, number: Number) -> EmailDesign:
    return services.design_restore(design=_design(request, design_id), number=number)


@router.get("/{designId}/preview", response=schemas.RenderedOut, summary="Render a design for a contact")
def design_preview(
    request: HttpRequest,
    design_id: DesignId,
    contact_id: int | None = Query(None, alias="contactId", description="Whose values; none = defaults."),
    version: int | None = Query(None, ge=1, description="A saved version instead of the current one."),
) -> dict[str, Any]:
    design = _design(request, design_id)
    obj = design if version is None else selectors.design_version_get(design=design, number=version)
    rendered = selectors.design_preview(
        project=request.auth.project, source=selectors.source_of(obj), contact=_contact(request, contact_id)
    )
    return {**rendered.__dict__, "warnings": design.warnings if version is None else []}


@router.post(
    "/{designId}/test", response={202: schemas.TestSendOut}, summary="Send a test copy to one address"
)
def design_test(
    request: HttpRequest, design_id: DesignId, payload: schemas.TestSendIn
) -> Status[dict[str, str]]:
    project = request.auth.project
    design = _design(request, design_id)
    rendered = selectors.design_preview(
        project=project, source=selectors.source_of(design), contact=_contact(request, payload.contact_id)
    )
    sent = send_design_test(project=project, rendered=rendered, to=payload.to)
    return Status(202, {"to": sent.to, "delivered_to": sent.delivered_to, "file": sent.reference})
