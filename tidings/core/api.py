"""/api/v1 endpoints of the core area: the key's project, its API keys and members."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Status
from ninja.pagination import paginate

from tidings.core import selectors, services
from tidings.core.models import ApiKey
from tidings.core.openapi import problems
from tidings.core.pagination import CursorPagination
from tidings.core.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    MemberOut,
    ProjectOut,
    ProjectPatch,
)

router = Router(tags=["Project"], by_alias=True)


@router.get("/project", response=ProjectOut, summary="The project this key belongs to")
def project_get(request: HttpRequest) -> object:
    return request.auth.project


@router.patch(
    "/project", response=ProjectOut, summary="Change the project's settings", openapi_extra=problems(409)
)
def project_patch(request: HttpRequest, payload: ProjectPatch) -> object:
    changes = payload.model_dump(exclude_unset=True)
    return services.project_update(project=request.auth.project, **changes)


@router.get("/members", response=list[MemberOut], summary="People with access to the project")
@paginate(CursorPagination)
def member_list(request: HttpRequest) -> object:
    return selectors.membership_list(project=request.auth.project)


keys = Router(tags=["API keys"], by_alias=True)


@keys.get("", response=list[ApiKeyOut], summary="List API keys")
@paginate(CursorPagination)
def api_key_list(request: HttpRequest) -> object:
    return selectors.api_key_list(project=request.auth.project)


@keys.post(
    "",
    response={201: ApiKeyCreated},
    summary="Create an API key (the secret is shown once)",
    openapi_extra=problems(409),
)
def api_key_create(request: HttpRequest, payload: ApiKeyIn) -> Status[dict[str, object]]:
    # The command line acts through an unsaved key: nothing to tie the new key to.
    parent = request.auth if request.auth.pk else None
    issued = services.api_key_create(project=request.auth.project, name=payload.name, created_by_key=parent)
    return Status(201, {**ApiKeyOut.from_orm(issued.api_key).model_dump(), "key": issued.secret})


KeyId = Annotated[int, Path(alias="keyId", description="The key's id.")]


@keys.get("/{keyId}", response=ApiKeyOut, summary="Get an API key")
def api_key_get(request: HttpRequest, key_id: KeyId) -> ApiKey:
    return selectors.api_key_get(project=request.auth.project, key_id=key_id)


@keys.delete(
    "/{keyId}",
    response=ApiKeyOut,
    summary="Revoke an API key (takes effect at once)",
    description="Keys created through the API with this key are revoked with it.",
)
def api_key_revoke(request: HttpRequest, key_id: KeyId) -> ApiKey:
    key = selectors.api_key_get(project=request.auth.project, key_id=key_id)
    return services.api_key_revoke(api_key=key)
