"""/api/v1/campaigns (campaigns and their actions) and /api/v1/sending (the send API)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from tidings.campaigns import schemas, selectors, sendapi, services
from tidings.campaigns.models import Campaign
from tidings.core import openapi
from tidings.core.pagination import DEFAULT_LIMIT, Cursor, Limit, cursor_page
from tidings.sending.models import Message, MessageState

campaigns = Router(tags=["Campaigns"], by_alias=True)
sending = Router(tags=["Sending"], by_alias=True)

CampaignId = Annotated[int, Path(alias="campaignId", ge=1, description="The campaign's id.")]
BatchId = Annotated[int, Path(alias="batchId", ge=1, description="The batch's id.")]
SendId = Annotated[int, Path(alias="sendId", ge=1, description="The send's id.")]
CSV = {"text/csv": {"schema": {"type": "string"}}}


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    out = {
        f: getattr(campaign, f)
        for f in (
            "id",
            "name",
            "status",
            "transactional",
            "design_id",
            "subject",
            "preheader",
            "from_name",
            "reply_to",
            "recipient_type",
            "recipient_id",
            "connection_id",
            "topic_id",
            "track_opens",
            "track_clicks",
            "scheduled_at",
            "timezone",
            "started_at",
            "finished_at",
            "archived_at",
            "error",
            "excluded",
            "created_at",
        )
    }
    out["from_"] = campaign.from_email
    out["progress"] = selectors.campaign_progress(campaign)
    return out


def _values(payload: schemas._CampaignFields) -> dict[str, Any]:
    return payload.model_dump(by_alias=True, exclude_unset=True)


def _get(request: HttpRequest, campaign_id: int) -> Campaign:
    return selectors.campaign_get(project=request.auth.project, campaign_id=campaign_id)


# -- campaigns -----------------------------------------------------------------------------------


@campaigns.get("", response=schemas.CampaignPage, summary="List campaigns, newest first")
def campaign_list(
    request: HttpRequest,
    status: str | None = Query(None, description="Only campaigns in this state."),
    archived: bool = Query(False, description="Archived campaigns instead of current ones."),
    q: str | None = Query(None, description="Name contains this."),
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    rows = selectors.campaign_list(project=request.auth.project, status=status, archived=archived, search=q)
    items, next_cursor = cursor_page(rows, cursor=cursor, limit=limit)
    return {"items": [campaign_out(c) for c in items], "next_cursor": next_cursor}


@campaigns.post("", response={201: schemas.CampaignOut}, summary="Create a campaign (a draft)")
def campaign_create(request: HttpRequest, payload: schemas.CampaignIn) -> Status[dict[str, Any]]:
    campaign = services.campaign_create(project=request.auth.project, values=_values(payload))
    return Status(201, campaign_out(campaign))


@campaigns.get("/{campaignId}", response=schemas.CampaignOut, summary="Get a campaign with its progress")
def campaign_get(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(_get(request, campaign_id))


@campaigns.patch(
    "/{campaignId}",
    response=schemas.CampaignOut,
    summary="Change a draft or scheduled campaign",
    openapi_extra=openapi.problems(409),
)
def campaign_update(
    request: HttpRequest, campaign_id: CampaignId, payload: schemas.CampaignPatch
) -> dict[str, Any]:
    campaign = services.campaign_update(campaign=_get(request, campaign_id), values=_values(payload))
    return campaign_out(campaign)


@campaigns.delete(
    "/{campaignId}", response={204: None}, summary="Delete a draft", openapi_extra=openapi.problems(409)
)
def campaign_delete(request: HttpRequest, campaign_id: CampaignId) -> Status[None]:
    services.campaign_delete(campaign=_get(request, campaign_id))
    return Status(204, None)


@campaigns.get(
    "/{campaignId}/preflight", response=schemas.PreflightOut, summary="Check a campaign before it starts"
)
def campaign_preflight(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    problems, counts = services.campaign_preflight(_get(request, campaign_id))
    return {
        "ok": not problems,
        "problems": [p.as_dict() for p in problems],
        "eligible": counts["eligible"],
        "excluded": counts["excluded"],
        "notices": counts["notices"],
    }


@campaigns.post("/{campaignId}/send", response=schemas.CampaignOut, summary="Start sending now")
def campaign_send(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_start(campaign=_get(request, campaign_id)))


@campaigns.post(
    "/{campaignId}/schedule",
    response=schemas.CampaignOut,
    summary="Send at a time",
    openapi_extra=openapi.problems(409),
)
def campaign_schedule(
    request: HttpRequest, campaign_id: CampaignId, payload: schemas.ScheduleIn
) -> dict[str, Any]:
    campaign = services.campaign_schedule(
        campaign=_get(request, campaign_id), scheduled_at=payload.scheduled_at, zone=payload.timezone
    )
    return campaign_out(campaign)


@campaigns.post(
    "/{campaignId}/unschedule",
    response=schemas.CampaignOut,
    summary="Back to draft",
    openapi_extra=openapi.problems(409),
)
def campaign_unschedule(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_unschedule(campaign=_get(request, campaign_id)))


@campaigns.post(
    "/{campaignId}/pause",
    response=schemas.CampaignOut,
    summary="Pause sending",
    openapi_extra=openapi.problems(409),
)
def campaign_pause(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_pause(campaign=_get(request, campaign_id)))


@campaigns.post(
    "/{campaignId}/resume",
    response=schemas.CampaignOut,
    summary="Resume sending",
    openapi_extra=openapi.problems(409),
)
def campaign_resume(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_resume(campaign=_get(request, campaign_id)))


@campaigns.post(
    "/{campaignId}/cancel",
    response=schemas.CancelOut,
    summary="Cancel; the rest stays unsent",
    openapi_extra=openapi.problems(409),
)
def campaign_cancel(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    campaign, unsent = services.campaign_cancel(campaign=_get(request, campaign_id))
    return {"campaign": campaign_out(campaign), "unsent": unsent}


@campaigns.post("/{campaignId}/duplicate", response={201: schemas.CampaignOut}, summary="Copy as a new draft")
def campaign_duplicate(request: HttpRequest, campaign_id: CampaignId) -> Status[dict[str, Any]]:
    return Status(201, campaign_out(services.campaign_duplicate(campaign=_get(request, campaign_id))))


@campaigns.post(
    "/{campaignId}/archive",
    response=schemas.CampaignOut,
    summary="Archive",
    openapi_extra=openapi.problems(409),
)
def campaign_archive(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_archive(campaign=_get(request, campaign_id)))


@campaigns.post(
    "/{campaignId}/unarchive",
    response=schemas.CampaignOut,
    summary="Bring back from the archive",
    openapi_extra=openapi.problems(409),
)
def campaign_unarchive(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    return campaign_out(services.campaign_archive(campaign=_get(request, campaign_id), archived=False))


def _recipients(campaign: Campaign, state: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
    messages = Message.objects.filter(campaign=campaign)
    if state:
        if state not in MessageState.values:
            from tidings.core.errors import ValidationError

            raise ValidationError.field("state", f"must be one of: {', '.join(MessageState.values)}")
        messages = messages.filter(state=state)
    items, next_cursor = cursor_page(messages, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@campaigns.get(
    "/{campaignId}/results",
    response=schemas.ResultsOut,
    summary="What became of a campaign: deliveries, opens, clicks, bounces, complaints, unsubscribes",
    description=(
        "Opens and clicks count people and machines (privacy proxies, link scanners) apart. Rates: "
        "delivery over sent; open, click and unsubscribe over delivered; bounce and complaint over sent; "
        "null when the denominator is 0."
    ),
)
def campaign_results(request: HttpRequest, campaign_id: CampaignId) -> dict[str, Any]:
    from tidings.tracking.selectors import campaign_results as results

    return results(_get(request, campaign_id))


LogStatus = Annotated[
    str | None,
    Query(
        None,
        description="Only the messages that were: sent, delivered, opened, clicked, bounced, refused, "
        "complained, unsubscribed, failed, skipped, queued or cancelled.",
    ),
]


@campaigns.get(
    "/{campaignId}/results/recipients",
    response=schemas.RecipientLogPage,
    summary="The per-recipient log: each message and what became of it, newest first",
)
def campaign_recipient_log(
    request: HttpRequest,
    campaign_id: CampaignId,
    status: LogStatus = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    from tidings.tracking.selectors import campaign_recipient_log as log

    items, next_cursor = log(campaign=_get(request, campaign_id), status=status, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@campaigns.get(
    "/{campaignId}/results.csv",
    summary="The per-recipient log as CSV",
    openapi_extra={"responses": {200: {"description": "One row per message.", "content": CSV}}},
    description=(
        "One row per message, oldest first (only those of `status` when given). Columns: messageId, "
        "email, contactId, state, skipReason, error, sentAt, delivered, opened, opens, machineOpens, "
        "clicked, clicks, bounceType, statusCode, bounceDetail, complained, unsubscribed, lastEvent, "
        "lastEventAt, lastUserAgent. Yes/no columns say `yes` or `no`; times are ISO 8601 in UTC. "
        "A cell a spreadsheet would run as a formula starts with a `'`."
    ),
)
def campaign_results_csv(request: HttpRequest, campaign_id: CampaignId, status: LogStatus = None) -> Any:
    from tidings.tracking.exports import recipient_log_response

    return recipient_log_response(campaign=_get(request, campaign_id), status=status)


@campaigns.get("/{campaignId}/recipients", response=schemas.RecipientPage, summary="Each recipient's message")
def campaign_recipients(
    request: HttpRequest,
    campaign_id: CampaignId,
    state: str | None = Query(None, description="queued, sent, failed, skipped or cancelled"),
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    return _recipients(_get(request, campaign_id), state, cursor, limit)


# -- the send API -------------------------------------------------------------------------------


@sending.post(
    "",
    response={202: schemas.SendOut},
    summary="Send an email to one address, an audience or a tag",
    description=(sendapi.__doc__ or "").split("\n\n", 1)[1],
    openapi_extra=openapi.problems(403),
)
def send(request: HttpRequest, payload: schemas.SendIn) -> Any:
    values = payload.model_dump(by_alias=True, exclude_unset=True)
    return Status(202, sendapi.send(project=request.auth.project, payload=values))


@sending.get("/batches/{batchId}", response=schemas.BatchOut, summary="A batch's status and counts")
def batch_get(request: HttpRequest, batch_id: BatchId) -> dict[str, Any]:
    campaign = sendapi.batch_get(project=request.auth.project, batch_id=batch_id)
    return {
        "batch_id": campaign.pk,
        "status": campaign.status,
        "transactional": campaign.transactional,
        "error": campaign.error,
        "created_at": campaign.created_at,
        "started_at": campaign.started_at,
        "finished_at": campaign.finished_at,
        "counts": selectors.campaign_progress(campaign),
        "excluded": campaign.excluded,
    }


@sending.get(
    "/batches/{batchId}/recipients",
    response=schemas.RecipientPage,
    summary="Each recipient of a batch: state, and why one was skipped or failed",
)
def batch_recipients(
    request: HttpRequest,
    batch_id: BatchId,
    state: str | None = Query(None, description="queued, sent, failed, skipped or cancelled"),
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    campaign = sendapi.batch_get(project=request.auth.project, batch_id=batch_id)
    return _recipients(campaign, state, cursor, limit)


@sending.get("/{sendId}", response=schemas.RecipientOut, summary="One send's state")
def send_get(request: HttpRequest, send_id: SendId) -> Message:
    return sendapi.send_get(project=request.auth.project, send_id=send_id)
