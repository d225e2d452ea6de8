"""/api/v1/connections: how a project's mail leaves, and "test connection"."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Status

from tidings.core.openapi import problems
from tidings.core.scoping import get_scoped, scoped
from tidings.sending import schemas, services
from tidings.sending.models import ProviderConnection

router = Router(tags=["Connections"], by_alias=True)

ConnectionId = Annotated[int, Path(alias="connectionId", ge=1, description="The connection's id.")]


def connection_out(connection: ProviderConnection) -> dict[str, Any]:
    return {
        **{f: getattr(connection, f) for f in ("id", "name", "kind", "is_default", "options", "rate_limit")},
        "secrets_set": sorted(services.connection_secrets(connection)),
        "last_checked_at": connection.last_checked_at,
        "last_check_ok": connection.last_check_ok,
        "last_check_message": connection.last_check_message,
        "created_at": connection.created_at,
        "webhook_url": services.connection_webhook_url(connection),
    }


def _get(request: HttpRequest, connection_id: int) -> ProviderConnection:
    return get_scoped(ProviderConnection, request.auth.project, pk=connection_id)


@router.get("", response=list[schemas.ConnectionOut], summary="List provider connections, the default first")
def connection_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [connection_out(c) for c in scoped(ProviderConnection, request.auth.project)]


@router.post(
    "",
    response={201: schemas.ConnectionOut},
    summary="Add a provider connection",
    openapi_extra=problems(409),
)
def connection_create(request: HttpRequest, payload: schemas.ConnectionIn) -> Status[dict[str, Any]]:
    connection = services.connection_create(
        project=request.auth.project,
        name=payload.name,
        kind=payload.kind,
        options=payload.options,
        secrets_given=payload.secrets,
        is_default=payload.is_default,
        rate_limit=payload.rate_limit,
    )
    return Status(201, connection_out(connection))


@router.get("/{connectionId}", response=schemas.ConnectionOut, summary="Get a provider connection")
def connection_get(request: HttpRequest, connection_id: ConnectionId) -> dict[str, Any]:
    return connection_out(_get(request, connection_id))


@router.patch(
    "/{connectionId}",
    response=schemas.ConnectionOut,
    summary="Change a provider connection",
    openapi_extra=problems(409),
)
def connection_update(
    request: HttpRequest, connection_id: ConnectionId, payload: schemas.ConnectionPatch
) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    if "secrets" in changes:
        changes["secrets_given"] = changes.pop("secrets")
    connection = services.connection_update(connection=_get(request, connection_id), **changes)
    return connection_out(connection)


@router.delete("/{connectionId}", response={204: None}, summary="Delete a provider connection")
def connection_delete(request: HttpRequest, connection_id: ConnectionId) -> Status[None]:
    services.connection_delete(connection=_get(request, connection_id))
    return Status(204, None)


@router.post(
    "/{connectionId}/webhook-secret",
    response=schemas.ConnectionOut,
    summary="Rotate the webhook password: the old webhook URL stops working at once",
)
def connection_webhook_rotate(request: HttpRequest, connection_id: ConnectionId) -> dict[str, Any]:
    connection = services.connection_webhook_rotate(connection=_get(request, connection_id))
    return connection_out(connection)


@router.post(
    "/{connectionId}/check",
    response=schemas.CheckOut,
    summary="Test the connection: reach the provider and log in, sending nothing",
)
def connection_check(request: HttpRequest, connection_id: ConnectionId) -> dict[str, Any]:
    result = services.connection_check(connection=_get(request, connection_id))
    return {"ok": result.ok, "code": result.code, "message": result.message}
