"""/api/v1/personas and /api/v1/drafts: whom to draft for, what data they have, and drafting."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from tidings.core.pagination import CursorPagination
from tidings.drafts import schemas, selectors, services
from tidings.drafts.catalog import Catalog, Persona, persona_resolve
from tidings.drafts.models import Draft, DraftSettings

personas = Router(tags=["Personas"], by_alias=True)
drafts = Router(tags=["Drafts"], by_alias=True)

DraftId = Annotated[int, Path(alias="draftId", ge=1, description="The draft's id.")]


def persona_out(persona: Persona) -> dict[str, Any]:
    return {"type": persona.type, "id": persona.id, "name": persona.name, "label": persona.label}


def catalog_out(catalog: Catalog) -> dict[str, Any]:
    return {
        "persona": persona_out(catalog.persona),
        "cohort_size": catalog.cohort_size,
        "threshold": catalog.threshold_bp / 100,
        "variables": [v.as_dict() for v in catalog.variables],
        "hidden": [v.as_dict() for v in catalog.hidden],
        "cues": catalog.cues,
    }


@personas.get("", response=schemas.PersonaMenuOut, summary="Audiences, tags and recent contacts to draft for")
def persona_menu(
    request: HttpRequest, q: str | None = Query(None, description="Names containing this.")
) -> Any:
    return selectors.persona_menu(project=request.auth.project, search=q)


@personas.get(
    "/catalog",
    response=schemas.CatalogOut,
    summary="The variables a draft for this persona may use, with fill rates or the contact's values",
)
def persona_catalog(
    request: HttpRequest,
    type: str = Query("none", description="none, contact, audience (or segment), tag"),
    id: int | None = Query(None, ge=1, description="The contact's, segment's or tag's id."),
) -> dict[str, Any]:
    project = request.auth.project
    persona = persona_resolve(project=project, type=type, id=id)
    return catalog_out(services.catalog_for(project=project, persona=persona))


def draft_out(draft: Draft) -> dict[str, Any]:
    persona = services.draft_persona(draft=draft)
    return {
        "id": draft.pk,
        "title": draft.title,
        "design_id": draft.design_id,
        "version": draft.design.version if draft.design else None,
        "persona": persona_out(persona),
        "provider": services.draft_settings_get(project=draft.project).provider,
        "messages": list(selectors.draft_messages(draft=draft)),
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
    }


def _draft(request: HttpRequest, draft_id: int) -> Draft:
    return selectors.draft_get(project=request.auth.project, draft_id=draft_id)


def settings_out(settings: DraftSettings) -> dict[str, Any]:
    return {
        "provider": settings.provider,
        "base_url": settings.base_url,
        "model": settings.model,
        "has_api_key": bool(settings.api_key_encrypted),
        "timeout_seconds": settings.timeout_seconds,
        "brand_notes": settings.brand_notes,
        "catalog_threshold": settings.catalog_threshold_bp / 100,
    }


@drafts.get("/settings", response=schemas.DraftSettingsOut, summary="The project's drafting settings")
def draft_settings(request: HttpRequest) -> dict[str, Any]:
    return settings_out(services.draft_settings_get(project=request.auth.project))


@drafts.patch("/settings", response=schemas.DraftSettingsOut, summary="Choose the AI provider, brand notes…")
def draft_settings_update(request: HttpRequest, payload: schemas.DraftSettingsPatch) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    if "catalog_threshold" in changes:
        # null reaches the service as None, which refuses it like any other value out of range.
        threshold = changes.pop("catalog_threshold")
        changes["catalog_threshold_bp"] = None if threshold is None else round(threshold * 100)
    return settings_out(services.draft_settings_update(project=request.auth.project, **changes))


@drafts.get("", response=list[schemas.DraftSummaryOut], summary="List drafts, newest first")
@paginate(CursorPagination)
def draft_list(request: HttpRequest) -> Any:
    return selectors.draft_list(project=request.auth.project)


@drafts.post(
    "",
    response={201: schemas.DraftOut},
    summary="Start a draft: the prompt (and persona) make version 1 of a new design",
    description="A provider failure does not fail the request: the prompt is kept and the "
    "conversation ends with an `error` message saying what went wrong.",
)
def draft_create(request: HttpRequest, payload: schemas.DraftIn) -> Status[dict[str, Any]]:
    project = request.auth.project
    choice = payload.persona or schemas.PersonaIn()
    persona = persona_resolve(project=project, type=choice.type, id=choice.id)
    draft, _ = services.draft_create(project=project, prompt=payload.prompt, persona=persona)
    return Status(201, draft_out(draft))


@drafts.get("/{draftId}", response=schemas.DraftOut, summary="A draft with its whole conversation")
def draft_get(request: HttpRequest, draft_id: DraftId) -> dict[str, Any]:
    return draft_out(_draft(request, draft_id))


@drafts.post("/{draftId}/messages", response=schemas.DraftOut, summary="Follow up: revise the draft")
def draft_reply(request: HttpRequest, draft_id: DraftId, payload: schemas.PromptIn) -> dict[str, Any]:
    draft = _draft(request, draft_id)
    services.draft_reply(draft=draft, prompt=payload.prompt)
    return draft_out(_draft(request, draft_id))


@drafts.put("/{draftId}/persona", response=schemas.DraftOut, summary="Shape the next answers for a persona")
def draft_persona(request: HttpRequest, draft_id: DraftId, payload: schemas.PersonaIn) -> dict[str, Any]:
    draft = _draft(request, draft_id)
    persona = persona_resolve(project=request.auth.project, type=payload.type, id=payload.id)
    return draft_out(services.draft_set_persona(draft=draft, persona=persona))


@drafts.post("/{draftId}/restore", response=schemas.DraftOut, summary="Restore an earlier version")
def draft_restore(request: HttpRequest, draft_id: DraftId, payload: schemas.RestoreIn) -> dict[str, Any]:
    draft = _draft(request, draft_id)
    services.draft_restore(draft=draft, number=payload.version)
    return draft_out(_draft(request, draft_id))


@drafts.delete("/{draftId}", response={204: None}, summary="Delete a draft's conversation (its design stays)")
def draft_delete(request: HttpRequest, draft_id: DraftId) -> Status[None]:
    services.draft_delete(draft=_draft(request, draft_id))
    return Status(204, None)
