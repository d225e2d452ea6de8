"""/api/v1/webhooks: endpoints that receive the project's events, their deliveries, "send test event"."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.pagination import paginate

from tidings.core.errors import ValidationError
from tidings.core.pagination import DEFAULT_LIMIT, Cursor, CursorPagination, Limit, cursor_page
from tidings.core.scoping import get_scoped, scoped
from tidings.hooks import schemas, sender, services
from tidings.hooks.events import EVENT_TYPES
from tidings.hooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

router = Router(tags=["Webhooks"], by_alias=True)

WebhookId = Annotated[int, Path(alias="webhookId", ge=1, description="The webhook endpoint's id.")]
DeliveryId = Annotated[int, Path(alias="deliveryId", ge=1, description="The delivery's id.")]
StateFilter = Annotated[
    str | None, Query(None, description="Only deliveries in this state: pending, succeeded or failed.")
]
EventTypeFilter = Annotated[str | None, Query(None, alias="eventType", description="Only this event type.")]


def _issued(issued: services.IssuedEndpoint) -> dict[str, Any]:
    return {**schemas.WebhookOut.from_orm(issued.endpoint).model_dump(), "secret": issued.secret}


def _get(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    return get_scoped(WebhookEndpoint, request.auth.project, pk=webhook_id)


def _delivery(request: HttpRequest, delivery_id: int) -> WebhookDelivery:
    return get_scoped(
        WebhookDelivery.objects.prefetch_related("attempt_log"), request.auth.project, pk=delivery_id
    )


@router.get("", response=list[schemas.WebhookOut], summary="List webhook endpoints")
@paginate(CursorPagination)
def webhook_list(request: HttpRequest) -> Any:
    return scoped(WebhookEndpoint, request.auth.project)


@router.post(
    "",
    response={201: schemas.WebhookCreated},
    summary="Register an endpoint (its signing secret is shown once)",
    description="Events are POSTed as JSON and signed: `Tidings-Signature: t=<unix time>,v1=<hex>` where "
    "the hex is HMAC-SHA256 with the secret over `<t>.<body>`.",
)
def webhook_create(request: HttpRequest, payload: schemas.WebhookIn) -> Status[dict[str, Any]]:
    issued = services.endpoint_create(project=request.auth.project, values=payload.model_dump())
    return Status(201, _issued(issued))


@router.get("/events", response=list[schemas.EventTypeOut], summary="The event types an endpoint can receive")
def webhook_event_types(request: HttpRequest) -> list[dict[str, str]]:
    return [{"type": name, "description": text} for name, text in EVENT_TYPES.items()]


@router.get(
    "/deliveries/{deliveryId}", response=schemas.DeliveryDetail, summary="One delivery and its attempts"
)
def webhook_delivery_get(request: HttpRequest, delivery_id: DeliveryId) -> WebhookDelivery:
    return _delivery(request, delivery_id)


@router.post(
    "/deliveries/{deliveryId}/retry",
    response=schemas.DeliveryOut,
    summary="Send a delivery again now",
    description="A failed delivery gets one more attempt; one waiting for a retry is sent at once.",
)
def webhook_delivery_retry(request: HttpRequest, delivery_id: DeliveryId) -> WebhookDelivery:
    return services.delivery_retry(delivery=_delivery(request, delivery_id))


@router.get("/{webhookId}", response=schemas.WebhookOut, summary="A webhook endpoint")
def webhook_get(request: HttpRequest, webhook_id: WebhookId) -> WebhookEndpoint:
    return _get(request, webhook_id)


@router.patch(
    "/{webhookId}", response=schemas.WebhookOut, summary="Change an endpoint's URL, events or state"
)
def webhook_update(
    request: HttpRequest, webhook_id: WebhookId, payload: schemas.WebhookPatch
) -> WebhookEndpoint:
    changes = payload.model_dump(exclude_unset=True)
    return services.endpoint_update(endpoint=_get(request, webhook_id), values=changes)


@router.delete("/{webhookId}", response={204: None}, summary="Delete an endpoint and its delivery log")
def webhook_delete(request: HttpRequest, webhook_id: WebhookId) -> Status[None]:
    services.endpoint_delete(endpoint=_get(request, webhook_id))
    return Status(204, None)


@router.post(
    "/{webhookId}/rotate-secret",
    response=schemas.WebhookCreated,
    summary="Issue a new signing secret (shown once)",
    description="For 24 hours the previous secret still signs beside the new one (a second `v1=`), "
    "so receivers can switch without losing events.",
)
def webhook_rotate_secret(request: HttpRequest, webhook_id: WebhookId) -> dict[str, Any]:
    return _issued(services.endpoint_rotate_secret(endpoint=_get(request, webhook_id)))


@router.post(
    "/{webhookId}/test",
    response=schemas.DeliveryDetail,
    summary="Send a test event now and show what the endpoint answered",
    description="A `webhook.test` event, signed like every other, sent once within this request.",
)
def webhook_test(request: HttpRequest, webhook_id: WebhookId) -> WebhookDelivery:
    delivery = sender.send_now(services.test_delivery(endpoint=_get(request, webhook_id)))
    return _delivery(request, delivery.pk)


@router.get(
    "/{webhookId}/deliveries",
    response=schemas.DeliveryPage,
    summary="The delivery log, newest first",
)
def webhook_deliveries(
    request: HttpRequest,
    webhook_id: WebhookId,
    state: StateFilter = None,
    event_type: EventTypeFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    endpoint = _get(request, webhook_id)
    found = WebhookDelivery.objects.for_project(request.auth.project).filter(endpoint=endpoint)
    if state is not None:
        if state not in DeliveryState.values:
            raise ValidationError.field("state", f"must be one of {', '.join(DeliveryState.values)}")
        found = found.filter(state=state)
    if event_type:
        found = found.filter(event_type=event_type)
    items, next_cursor = cursor_page(found, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}
