"""/api/v1/alerts: what the project's team must act on, and lifting the pause on marketing sends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router
from ninja.pagination import paginate

from tidings.core.pagination import CursorPagination
from tidings.core.schemas import CamelSchema, ProjectOut
from tidings.tracking import delivery
from tidings.tracking.models import Alert, AlertKind

alerts = Router(tags=["Alerts"], by_alias=True)
marketing = Router(tags=["Project"], by_alias=True)


class AlertOut(CamelSchema):
    id: int
    kind: AlertKind = Field(description="sender_problem (mail refused for who sent it) or complaint_rate.")
    campaign_id: int | None
    title: str
    detail: str
    count: int = Field(description="How many times it happened while open.")
    created_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


AlertId = Annotated[int, Path(alias="alertId", ge=1, description="The alert's id.")]


@alerts.get("", response=list[AlertOut], summary="List the project's alerts, newest first")
@paginate(CursorPagination)
def alert_list(
    request: HttpRequest,
    open: bool | None = Query(None, description="true: only unresolved alerts; false: only resolved ones."),
) -> object:
    found = Alert.objects.for_project(request.auth.project)
    if open is not None:
        found = found.filter(resolved_at__isnull=open)
    return found


@alerts.post("/{alertId}/resolve", response=AlertOut, summary="Mark an alert dealt with")
def alert_resolve(request: HttpRequest, alert_id: AlertId) -> object:
    return delivery.alert_resolve(project=request.auth.project, alert_id=alert_id)


@marketing.post(
    "/project/marketing/resume",
    response=ProjectOut,
    summary="Lift the pause on marketing sends",
    description="A campaign whose complaint rate passed 0.3 % pauses the project's marketing sends. "
    "Lifting the pause lets campaigns start again; the paused ones stay paused until resumed.",
)
def marketing_resume(request: HttpRequest) -> object:
    return delivery.marketing_resume(project=request.auth.project)
