"""/api/v1/domains: the domains a project sends from, their DNS records, and "Verify"."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Status

from tidings.core.openapi import problems
from tidings.core.scoping import get_scoped, scoped
from tidings.sending import domains, schemas
from tidings.sending.models import SendingDomain

router = Router(tags=["Domains"], by_alias=True)

DomainId = Annotated[int, Path(alias="domainId", ge=1, description="The domain's id.")]


def domain_out(domain: SendingDomain) -> dict[str, Any]:
    checked = {r["purpose"]: r for r in domain.last_results or []}
    records = [
        {**record.as_dict(), **{k: checked.get(record.purpose, {}).get(k) for k in ("state", "seen")}}
        for record in domains.domain_records(domain)
    ]
    return {
        "id": domain.pk,
        "domain": domain.domain,
        "verified": domain.verified_at is not None,
        "verified_at": domain.verified_at,
        "last_checked_at": domain.last_checked_at,
        "records": records,
        "created_at": domain.created_at,
    }


def _get(request: HttpRequest, domain_id: int) -> SendingDomain:
    return get_scoped(SendingDomain, request.auth.project, pk=domain_id)


@router.get("", response=list[schemas.DomainOut], summary="List sending domains")
def domain_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [domain_out(d) for d in scoped(SendingDomain, request.auth.project)]


@router.post(
    "",
    response={201: schemas.DomainOut},
    summary="Add a sending domain: its DKIM keys and the records to publish",
    openapi_extra=problems(409),
)
def domain_create(request: HttpRequest, payload: schemas.DomainIn) -> Status[dict[str, Any]]:
    return Status(201, domain_out(domains.domain_create(project=request.auth.project, domain=payload.domain)))


@router.get("/{domainId}", response=schemas.DomainOut, summary="A sending domain and its records")
def domain_get(request: HttpRequest, domain_id: DomainId) -> dict[str, Any]:
    return domain_out(_get(request, domain_id))


@router.post(
    "/{domainId}/verify", response=schemas.DomainOut, summary="Look the records up: found, missing or wrong"
)
def domain_verify(request: HttpRequest, domain_id: DomainId) -> dict[str, Any]:
    domain = _get(request, domain_id)
    domains.domain_verify(domain=domain)
    return domain_out(domain)


@router.delete("/{domainId}", response={204: None}, summary="Delete a sending domain and its keys")
def domain_delete(request: HttpRequest, domain_id: DomainId) -> Status[None]:
    _get(request, domain_id).delete()
    return Status(204, None)
