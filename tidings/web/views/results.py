"""Results: a campaign's report (figures, timeline, links, per-recipient log, CSV), the Results
page of every started campaign, and the project dashboard's figures, alerts and marketing pause."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render

from tidings.campaigns.models import Campaign, CampaignOrigin
from tidings.campaigns.selectors import campaign_get
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Role
from tidings.core.pagination import cursor_page
from tidings.core.scoping import scoped
from tidings.sending.models import MessageState, SkipReason
from tidings.tracking import delivery, selectors
from tidings.tracking.exports import recipient_log_response
from tidings.tracking.models import BounceType, EventKind
from tidings.web import charts
from tidings.web.access import Current, project_view

LOG_PAGE = 50
LIST_PAGE = 25
STATUS_LABELS = {
    "sent": "Sent",
    "delivered": "Delivered",
    "opened": "Opened",
    "clicked": "Clicked",
    "bounced": "Bounced",
    "refused": "Refused for the sender",
    "complained": "Complained",
    "unsubscribed": "Unsubscribed",
    "failed": "Failed",
    "skipped": "Skipped",
    "queued": "Queued",
    "cancelled": "Cancelled",
}
EVENT_LABELS = {**dict(EventKind.choices), **dict(MessageState.choices)}
BOUNCE_LABELS = dict(BounceType.choices)
SKIP_LABELS = dict(SkipReason.choices)


def percent(rate: float | None) -> str:
    """A rate as the page shows it: 12.3 %, or — when there is nothing to divide by."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f} %".replace(".0 %", " %")


def figure_tiles(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline figures, each with its rate and what the rate is of."""
    rates = results["rates"]
    return [
        {"key": "sent", "label": "Sent", "value": results["sent"], "rate": "", "of": ""},
        {
            "key": "delivered",
            "label": "Delivered",
            "value": results["delivered"],
            "rate": percent(rates["delivery"]),
            "of": "of sent",
        },
        {
            "key": "opened",
            "label": "Opened",
            "value": results["opens"]["unique"],
            "rate": percent(rates["open"]),
            "of": "of delivered",
        },
        {
            "key": "clicked",
            "label": "Clicked",
            "value": results["clicks"]["unique"],
            "rate": percent(rates["click"]),
            "of": "of delivered",
        },
        {
            "key": "bounced",
            "label": "Bounced",
            "value": results["bounces"]["total"],
            "rate": percent(rates["bounce"]),
            "of": "of sent",
        },
        {
            "key": "complained",
            "label": "Complaints",
            "value": results["complaints"],
            "rate": percent(rates["complaint"]),
            "of": "of sent",
        },
        {
            "key": "unsubscribed",
            "label": "Unsubscribed",
            "value": results["unsubscribes"],
            "rate": percent(rates["unsubscribe"]),
            "of": "of delivered",
        },
    ]


def _log_status(request: HttpRequest) -> str:
    status = request.GET.get("status", "")
    return status if status in selectors.LOG_STATUSES else ""


def campaign_report(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """The report block of a started campaign's page."""
    results = selectors.campaign_results(campaign)
    status = _log_status(request)
    try:
        rows, next_cursor = selectors.campaign_recipient_log(
            campaign=campaign, status=status or None, cursor=request.GET.get("cursor"), limit=LOG_PAGE
        )
    except ValidationError:  # a stale or hand-edited cursor: start from the newest
        rows, next_cursor = selectors.campaign_recipient_log(
            campaign=campaign, status=status or None, limit=LOG_PAGE
        )
    for row in rows:
        row["last_event_label"] = EVENT_LABELS.get(row["last_event"], row["last_event"])
        row["bounce_label"] = BOUNCE_LABELS.get(row["bounce_type"], "")
        row["skip_label"] = SKIP_LABELS.get(row["skip_reason"], row["skip_reason"])
    for link in results["links"]:  # a link is shown as one only when it leads to a web page
        link["href"] = link["url"] if link["url"].lower().startswith(("http://", "https://")) else ""
    return {
        "results": results,
        "tiles": figure_tiles(results),
        "chart": charts.timeline(
            results["timeline"], title=f"Opens and clicks of “{campaign.name}”", start=campaign.started_at
        ),
        "log": rows,
        "log_status": status,
        "log_next": next_cursor,
        "log_paged": bool(request.GET.get("cursor")),
        "log_statuses": list(STATUS_LABELS.items()),
    }


@project_view
def campaign_results_csv(request: HttpRequest, current: Current, campaign_id: int) -> StreamingHttpResponse:
    """The per-recipient log as a CSV download (its addresses make it an editor's download, as the
    contacts export is)."""
    current.require(Role.EDITOR)
    campaign = campaign_get(project=current.project, campaign_id=campaign_id)
    if campaign.origin != CampaignOrigin.CAMPAIGN:
        raise NotFound("no such campaign")
    status = _log_status(request)
    return recipient_log_response(campaign=campaign, status=status or None)


def _with_figures(current: Current, campaigns: list[Campaign]) -> list[dict[str, Any]]:
    figures = selectors.campaigns_figures(project=current.project, campaigns=campaigns)
    return [
        {
            "campaign": c,
            "figures": figures[c.pk],
            "delivery": percent(figures[c.pk]["rates"]["delivery"]),
            "open": percent(figures[c.pk]["rates"]["open"]),
            "click": percent(figures[c.pk]["rates"]["click"]),
            "bounce": percent(figures[c.pk]["rates"]["bounce"]),
            "complaint": percent(figures[c.pk]["rates"]["complaint"]),
        }
        for c in campaigns
    ]


def totals_tiles(current: Current) -> tuple[int, list[dict[str, Any]]]:
    totals = selectors.project_totals(project=current.project)
    return totals["days"], figure_tiles(totals)


@project_view
def results_list(request: HttpRequest, current: Current) -> HttpResponse:
    """Every campaign that started, newest first, with its key rates; and the last 30 days."""
    started = scoped(Campaign, current.project).filter(
        origin=CampaignOrigin.CAMPAIGN, started_at__isnull=False
    )
    try:
        page, next_cursor = cursor_page(started, cursor=request.GET.get("cursor"), limit=LIST_PAGE)
    except ValidationError:
        page, next_cursor = cursor_page(started, cursor=None, limit=LIST_PAGE)
    days, tiles = totals_tiles(current)
    context = {
        "rows": _with_figures(current, page),
        "next_cursor": next_cursor,
        "paged": bool(request.GET.get("cursor")),
        "days": days,
        "totals": tiles,
    }
    return render(request, "web/results.html", context)


def dashboard(current: Current) -> dict[str, Any]:
    """The home page's figures: the last campaigns, the last 30 days, and open alerts."""
    days, tiles = totals_tiles(current)
    return {
        "recent": _with_figures(current, selectors.recent_campaigns(project=current.project)),
        "days": days,
        "totals": tiles,
        "alerts": list(selectors.alert_list(project=current.project)[:20]),
    }


@project_view
def alert_resolve(request: HttpRequest, current: Current, alert_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    alert = delivery.alert_resolve(project=current.project, alert_id=alert_id)
    messages.success(request, f"The alert “{alert.title}” was marked dealt with.")
    return redirect("web:home")


@project_view
def marketing_resume(request: HttpRequest, current: Current) -> HttpResponse:
    """Lift the pause on marketing sends (admins): campaigns may start again; paused ones stay
    paused until resumed one by one."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.ADMIN)
    if current.project.marketing_paused_at is None:
        messages.warning(request, "Marketing sends were not paused.")
        return redirect("web:home")
    delivery.marketing_resume(project=current.project)
    messages.success(
        request, "Marketing sends may start again. Paused campaigns stay paused until you resume each."
    )
    return redirect("web:home")
