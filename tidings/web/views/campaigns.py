"""Campaigns: the list, the editor (email → recipients → sender → schedule → review), and each
campaign's page with its live progress and the actions its status allows."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from tidings.audience import selectors as audience
from tidings.audience.models import Segment, Tag
from tidings.campaigns import selectors, services
from tidings.campaigns.models import Campaign, CampaignOrigin, CampaignStatus, RecipientType
from tidings.core.errors import Conflict, NotFound, ValidationError
from tidings.core.models import Project, Role
from tidings.core.pagination import cursor_page
from tidings.core.scoping import scoped
from tidings.sending.models import Message, SkipReason
from tidings.sending.planner import eligibility_counts
from tidings.web.access import Current, project_view
from tidings.web.campaign_forms import (
    CampaignForm,
    ScheduleForm,
    add_campaign_errors,
    field_for,
    sentence,
)
from tidings.web.views.results import campaign_report

PAGE_SIZE = 50
# How often a page following a sending campaign asks again, in seconds.
POLL_SECONDS = 1
STATUS_BADGES = {
    CampaignStatus.DRAFT: "badge-off",
    CampaignStatus.SCHEDULED: "badge-role",
    CampaignStatus.SENDING: "badge-role",
    CampaignStatus.PAUSED: "badge-warn",
    CampaignStatus.SENT: "badge-ok",
    CampaignStatus.CANCELLED: "badge-off",
    CampaignStatus.FAILED: "badge-danger",
}
STARTED = (
    CampaignStatus.SENDING,
    CampaignStatus.PAUSED,
    CampaignStatus.SENT,
    CampaignStatus.CANCELLED,
    CampaignStatus.FAILED,
)
SCHEDULE_PATHS = ("scheduledAt", "timezone")


# -- reading ----------------------------------------------------------------------------------


def _get(current: Current, campaign_id: int) -> Campaign:
    """The project's campaign; another project's, or a send API batch, is not found."""
    campaign = selectors.campaign_get(project=current.project, campaign_id=campaign_id)
    if campaign.origin != CampaignOrigin.CAMPAIGN:
        raise NotFound("no such campaign")
    return campaign


def _reason(reason: str) -> str:
    return SkipReason(reason).label if reason in SkipReason.values else reason.replace("_", " ")


def _reasons(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(_reason(reason), n) for reason, n in sorted(counts.items()) if n]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _when(moment: datetime | None, zone: str = "") -> str:
    """A moment as the page shows it, in ``zone`` (UTC unless given)."""
    if moment is None:
        return ""
    name = zone or "UTC"
    try:
        local = moment.astimezone(zoneinfo.ZoneInfo(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local, name = moment, "UTC"
    return f"{local:%Y-%m-%d %H:%M} {name.replace('_', ' ')}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    if seconds <= 0:
        return "none"
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


def _recipient_names(project: Project, campaigns: Iterable[Campaign]) -> dict[tuple[str, int], str]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for campaign in campaigns:
        if campaign.recipient_id is not None:
            wanted[campaign.recipient_type].add(campaign.recipient_id)
    names: dict[tuple[str, int], str] = {}
    for kind, model in ((RecipientType.AUDIENCE, Segment), (RecipientType.TAG, Tag)):
        if wanted[kind]:
            for pk, name in scoped(model, project).filter(pk__in=wanted[kind]).values_list("pk", "name"):
                names[(kind, pk)] = name
    return names


def _recipients_label(campaign: Campaign, names: dict[tuple[str, int], str]) -> str:
    if campaign.recipient_type == RecipientType.EMAIL:
        return campaign.recipient_email
    if campaign.recipient_id is None:
        return ""
    name = names.get((campaign.recipient_type, campaign.recipient_id))
    if campaign.recipient_type == RecipientType.TAG:
        return f"Tag: {name}" if name else "a deleted tag"
    return f"Audience: {name}" if name else "a deleted audience"


def _sent_counts(campaigns: Iterable[Campaign]) -> dict[int, dict[str, int]]:
    ids = [c.pk for c in campaigns if c.status in STARTED]
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"sent": 0, "total": 0})
    rows = (
        Message.objects.filter(campaign_id__in=ids)
        .values_list("campaign_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for campaign_id, state, n in rows:
        counts[campaign_id]["total"] += n
        if state == "sent":
            counts[campaign_id]["sent"] += n
    return counts


@project_view
def campaign_list(request: HttpRequest, current: Current) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    archived = request.GET.get("archived") in ("1", "on", "true")
    queryset = selectors.campaign_list(project=current.project, status=status or None, archived=archived)
    try:
        rows, next_cursor = cursor_page(queryset, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ValidationError:
        rows, next_cursor = cursor_page(queryset, cursor=None, limit=PAGE_SIZE)
    names = _recipient_names(current.project, rows)
    counts = _sent_counts(rows)
    items = [
        {
            "campaign": c,
            "badge": STATUS_BADGES.get(c.status, "badge-off"),
            "recipients": _recipients_label(c, names),
            "progress": counts.get(c.pk) if c.status in STARTED else None,
            "scheduled": _when(c.scheduled_at, c.timezone) if c.status == CampaignStatus.SCHEDULED else "",
        }
        for c in rows
    ]
    context = {
        "items": items,
        "next_cursor": next_cursor,
        "status": status,
        "archived": archived,
        "statuses": CampaignStatus.choices,
        "filtered": bool(status or archived),
    }
    return render(request, "web/campaigns.html", context)


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    progress = selectors.campaign_progress(campaign)
    return {
        "campaign": campaign,
        "progress": progress,
        "badge": STATUS_BADGES.get(campaign.status, "badge-off"),
        "skipped_reasons": _reasons(progress["skippedReasons"]),
        "eta": _duration(progress["etaSeconds"]),
        "polling": campaign.status == CampaignStatus.SENDING,
        "poll_seconds": POLL_SECONDS,
    }


def _review(campaign: Campaign) -> dict[str, Any]:
    problems, counts = services.campaign_preflight(campaign)
    return {
        "problems": [sentence(p.message, stop=True) for p in problems],
        "eligible": counts["eligible"],
        "excluded": _reasons(counts["excluded"]),
        "notices": [sentence(n, stop=True) for n in counts.get("notices", [])],
    }


@project_view
def campaign_detail(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    campaign = _get(current, campaign_id)
    names = _recipient_names(current.project, [campaign])
    design = campaign.design
    content = campaign.content or {}
    context = {
        **_progress_context(campaign),
        "recipients": _recipients_label(campaign, names),
        "subject": content.get("subject") or campaign.subject or (design.subject if design else ""),
        "preheader": content.get("preheader") or campaign.preheader or (design.preheader if design else ""),
        "connection": services.campaign_connection(campaign),
        "scheduled": _when(campaign.scheduled_at, campaign.timezone),
        "started": _when(campaign.started_at),
        "finished": _when(campaign.finished_at),
        "created": _when(campaign.created_at),
        "excluded_at_start": _reasons(campaign.excluded or {}),
        "editable": campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
        "started_once": campaign.status in STARTED,
    }
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        context |= {"review": _review(campaign), "schedule_form": ScheduleForm()}
    if campaign.status in STARTED and campaign.started_at is not None:
        context |= campaign_report(request, campaign)
    return render(request, "web/campaign_detail.html", context)


@project_view
def campaign_progress(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    """The live progress block; once a polled campaign stops sending, the whole page is reloaded."""
    campaign = _get(current, campaign_id)
    response = render(request, "web/_campaign_progress.html", _progress_context(campaign))
    if request.htmx and campaign.status != CampaignStatus.SENDING:
        response["HX-Refresh"] = "true"  # the status, actions and summary change with it
    return response


def _counts(project: Project, kind: str, recipient_id: int | None, topic_id: int | None) -> dict[str, Any]:
    """Who would receive it now, and who is left out and why (for the recipients step)."""
    if recipient_id is None:
        return {"chosen": False}
    campaign = Campaign(project=project, recipient_type=kind, recipient_id=recipient_id)
    try:
        if topic_id is not None:
            campaign.topic = audience.topic_get(project=project, topic_id=topic_id)
        eligible, excluded = eligibility_counts(campaign)
    except NotFound:
        return {"chosen": True, "count_error": "That audience, tag or topic no longer exists."}
    except ValidationError as exc:
        return {"chosen": True, "count_error": sentence(exc.detail, stop=True)}
    return {
        "chosen": True,
        "eligible": eligible,
        "excluded": _reasons(excluded),
        "excluded_total": sum(excluded.values()),
    }


def _raw_recipients(raw: str) -> tuple[str, int | None]:
    kind, _, pk = (raw or "").partition(":")
    if kind not in (RecipientType.AUDIENCE, RecipientType.TAG) or not pk.isdigit():
        return RecipientType.AUDIENCE, None
    return kind, int(pk)


@project_view
def campaign_recipients(request: HttpRequest, current: Current) -> HttpResponse:
    """The recipients step's live count (an htmx partial): eligible, and excluded by reason."""
    kind, recipient_id = _raw_recipients(request.GET.get("recipients", ""))
    raw_topic = request.GET.get("topic_id", "")
    topic_id = int(raw_topic) if raw_topic.isdigit() else None
    return render(
        request, "web/_campaign_recipients.html", _counts(current.project, kind, recipient_id, topic_id)
    )


# -- the editor ---------------------------------------------------------------------------------


def _editor(
    request: HttpRequest,
    current: Current,
    form: CampaignForm,
    campaign: Campaign | None,
    review: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    shown = form.data if form.is_bound else form.initial  # what the recipients step shows now
    kind, recipient_id = _raw_recipients(str(shown.get("recipients") or ""))
    raw_topic = str(shown.get("topic_id") or "")
    topic_id = int(raw_topic) if raw_topic.isdigit() else None
    context = {
        "form": form,
        "campaign": campaign,
        "counts": _counts(current.project, kind, recipient_id, topic_id),
        **review,
    }
    return render(request, "web/campaign_form.html", context, status=status)


def _when_of(form: CampaignForm) -> str:
    if form.is_bound:
        return form.data.get("when", "")
    return form.initial.get("when", "")


def _review_of_saved(campaign: Campaign | None, form: CampaignForm) -> dict[str, Any]:
    review = _review(campaign) if campaign is not None else {"problems": None}
    return {"review": review, "when": _when_of(form)}


def _labelled(form: CampaignForm, path: str, message: str) -> str:
    name = field_for(path) if path else ""
    if name in form.fields:
        return f"{form[name].label}: {sentence(message)}"
    return sentence(f"{path}: {message}" if path else message)


def _review_of_form(current: Current, form: CampaignForm, campaign: Campaign | None) -> dict[str, Any]:
    return {"review": _dry_run(current, form, campaign), "when": _when_of(form)}


def _dry_run(current: Current, form: CampaignForm, campaign: Campaign | None) -> dict[str, Any]:
    """The preflight of what the form says now, without saving it: the changes are rolled back."""
    if not form.is_valid():
        return {"invalid": ["Some fields need fixing first; they are marked above."]}
    try:
        with transaction.atomic():
            if campaign is None:
                campaign = services.campaign_create(project=current.project, values=form.values())
            else:
                campaign = services.campaign_update(campaign=campaign, values=form.values())
            review = _review(campaign)
            transaction.set_rollback(True)
    except ValidationError as exc:
        return {"invalid": [_labelled(form, e.path, e.message) for e in exc.errors]}
    except Conflict as exc:
        return {"invalid": [sentence(exc.detail, stop=True)]}
    return review


@project_view
def campaign_check(request: HttpRequest, current: Current) -> HttpResponse:
    """The review step, live: the preflight of the form as it stands (an htmx partial)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    raw = request.POST.get("campaign", "")
    campaign = _get(current, int(raw)) if raw.isdigit() else None
    form = CampaignForm(request.POST, project=current.project)
    context = {"review": _dry_run(current, form, campaign), "when": _when_of(form), "in_form": True}
    return render(request, "web/_campaign_review.html", context)


def _start(request: HttpRequest, campaign: Campaign, *, saved: bool = False) -> HttpResponse:
    if campaign.status not in services.STARTABLE:  # a second click: nothing to start
        status = campaign.get_status_display().lower()
        messages.warning(request, f"“{campaign.name}” is {status} already, so it was not started again.")
        return redirect("web:campaign_detail", campaign.pk)
    try:
        campaign = services.campaign_start(campaign=campaign)
    except ValidationError:
        lead = "It was saved as a draft, but it cannot" if saved else "It cannot"
        messages.error(request, f"{lead} start yet. Fix the problems listed under Review first.")
        return redirect("web:campaign_edit" if saved else "web:campaign_detail", campaign.pk)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
        return redirect("web:campaign_detail", campaign.pk)
    if campaign.status == CampaignStatus.SENDING:
        messages.success(request, f"“{campaign.name}” is sending.")
    else:  # started by someone else a moment ago
        messages.warning(request, f"“{campaign.name}” is {campaign.get_status_display().lower()}.")
    return redirect("web:campaign_detail", campaign.pk)


def _schedule_failed(request: HttpRequest, campaign: Campaign, exc: ValidationError, saved: bool) -> bool:
    """Say why scheduling was refused; True when it was the time or zone (shown on the fields)."""
    if all(e.path in SCHEDULE_PATHS for e in exc.errors):
        return True
    lead = "It was saved as a draft, but it cannot" if saved else "It cannot"
    messages.error(request, f"{lead} be scheduled yet. Fix the problems listed under Review first.")
    return False


def _scheduled_message(request: HttpRequest, campaign: Campaign) -> None:
    messages.success(
        request, f"“{campaign.name}” will be sent at {_when(campaign.scheduled_at, campaign.timezone)}."
    )


def _schedule_saved(
    request: HttpRequest, current: Current, form: CampaignForm, campaign: Campaign
) -> HttpResponse:
    """The editor's Schedule: the campaign is saved; a wrong time or zone is shown on its field."""
    try:
        campaign = services.campaign_schedule(
            campaign=campaign,
            scheduled_at=form.cleaned_data["scheduled_at"],
            zone=form.cleaned_data["timezone"],
        )
    except ValidationError as exc:
        if not _schedule_failed(request, campaign, exc, saved=True):
            return redirect("web:campaign_edit", campaign.pk)
        add_campaign_errors(form, exc.errors)
        form.add_error(None, "The campaign was saved as a draft; it is not scheduled yet.")
        review = _review_of_form(current, form, campaign)
        return _editor(request, current, form, campaign, review, 422)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
        return redirect("web:campaign_detail", campaign.pk)
    _scheduled_message(request, campaign)
    return redirect("web:campaign_detail", campaign.pk)


def _save(request: HttpRequest, current: Current, campaign: Campaign | None) -> HttpResponse:
    """Save the form (a new campaign is a draft), then Send now or Schedule if that was pressed."""
    form = CampaignForm(request.POST, project=current.project)
    action = request.POST.get("action", "save")
    if not form.is_valid():
        return _editor(request, current, form, campaign, _review_of_form(current, form, campaign), 422)
    try:
        if campaign is None:
            campaign = services.campaign_create(project=current.project, values=form.values())
        else:
            campaign = services.campaign_update(campaign=campaign, values=form.values())
    except ValidationError as exc:
        add_campaign_errors(form, exc.errors)
        return _editor(request, current, form, campaign, _review_of_form(current, form, campaign), 422)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
        return redirect("web:campaign_detail", campaign.pk) if campaign else redirect("web:campaigns")
    if action == "send":
        return _start(request, campaign, saved=True)
    if action == "schedule":
        return _schedule_saved(request, current, form, campaign)
    if campaign.status == CampaignStatus.SCHEDULED:
        when = _when(campaign.scheduled_at, campaign.timezone)
        messages.success(request, f"“{campaign.name}” was saved; it is still scheduled for {when}.")
    else:
        messages.success(request, f"“{campaign.name}” was saved as a draft.")
    return redirect("web:campaign_edit", campaign.pk)


@project_view
def campaign_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    if request.method == "POST":
        return _save(request, current, None)
    form = CampaignForm(project=current.project, initial=CampaignForm.initial_for(current.project, None))
    return _editor(request, current, form, None, _review_of_saved(None, form))


@project_view
def campaign_edit(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    campaign = _get(current, campaign_id)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        status = campaign.get_status_display().lower()
        messages.error(request, f"A {status} campaign cannot be changed; duplicate it to send it again.")
        return redirect("web:campaign_detail", campaign.pk)
    if request.method == "POST":
        return _save(request, current, campaign)
    form = CampaignForm(project=current.project, initial=CampaignForm.initial_for(current.project, campaign))
    return _editor(request, current, form, campaign, _review_of_saved(campaign, form))


# -- actions --------------------------------------------------------------------------------------


def _action(
    request: HttpRequest, current: Current, campaign_id: int, work: Callable[[Campaign], HttpResponse]
) -> HttpResponse:
    """A POST by an editor or above on one campaign; a Conflict becomes a message, never an error page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    campaign = _get(current, campaign_id)
    try:
        return work(campaign)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
        return redirect("web:campaign_detail", campaign.pk)


@project_view
def campaign_send(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    return _action(request, current, campaign_id, lambda c: _start(request, c))


@project_view
def campaign_schedule(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        form = ScheduleForm(request.POST)
        form.is_valid()
        try:
            campaign = services.campaign_schedule(
                campaign=campaign,
                scheduled_at=form.cleaned_data.get("scheduled_at", ""),
                zone=form.cleaned_data.get("timezone") or "UTC",
            )
        except ValidationError as exc:
            if _schedule_failed(request, campaign, exc, saved=False):
                for error in exc.errors:
                    label = "The send time" if error.path == "scheduledAt" else "The time zone"
                    text = error.message if error.path == "timezone" else f"{label} {error.message}"
                    messages.error(request, sentence(text, stop=True))
            return redirect("web:campaign_detail", campaign.pk)
        _scheduled_message(request, campaign)
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_unschedule(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        was = campaign.status
        campaign = services.campaign_unschedule(campaign=campaign)
        if was == CampaignStatus.SCHEDULED and campaign.status == CampaignStatus.DRAFT:
            messages.success(request, f"“{campaign.name}” is a draft again; it is not sent until you say so.")
        else:
            messages.error(
                request, f"Only a scheduled campaign can be unscheduled; this one is {campaign.status}."
            )
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_pause(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        campaign = services.campaign_pause(campaign=campaign)
        queued = selectors.campaign_progress(campaign)["queued"]
        messages.success(
            request,
            f"Sending is paused; {_plural(queued, 'message')} {'waits' if queued == 1 else 'wait'}. "
            "Resume to send them.",
        )
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_resume(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        if campaign.status == CampaignStatus.FAILED and campaign.started_at is None:
            # It failed to start (at its scheduled time): there is nothing to resume, and resuming
            # would mark it sent with no message sent.
            messages.error(request, "It never started, so there is nothing to resume; duplicate it instead.")
            return redirect("web:campaign_detail", campaign.pk)
        campaign = services.campaign_resume(campaign=campaign)
        if campaign.status == CampaignStatus.SENDING:
            messages.success(request, f"“{campaign.name}” is sending again.")
        else:
            messages.success(request, f"Nothing was left to send: “{campaign.name}” is {campaign.status}.")
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_cancel(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    campaign = _get(current, campaign_id)
    if request.method != "POST":
        progress = selectors.campaign_progress(campaign)
        context = {
            "campaign": campaign,
            "progress": progress,
            "scheduled": _when(campaign.scheduled_at, campaign.timezone),
        }
        return render(request, "web/campaign_cancel.html", context)
    try:
        campaign, unsent = services.campaign_cancel(campaign=campaign)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
    else:
        left = f"{_plural(unsent, 'message')} {'was' if unsent == 1 else 'were'} left unsent."
        messages.success(request, f"“{campaign.name}” was cancelled. {left}")
    return redirect("web:campaign_detail", campaign.pk)


@project_view
def campaign_duplicate(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        copy = services.campaign_duplicate(campaign=campaign)
        messages.success(request, f"“{copy.name}” is a new draft, copied from “{campaign.name}”.")
        return redirect("web:campaign_edit", copy.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_archive(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        services.campaign_archive(campaign=campaign)
        messages.success(request, f"“{campaign.name}” was archived.")
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_unarchive(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    def work(campaign: Campaign) -> HttpResponse:
        services.campaign_archive(campaign=campaign, archived=False)
        messages.success(request, f"“{campaign.name}” is back from the archive.")
        return redirect("web:campaign_detail", campaign.pk)

    return _action(request, current, campaign_id, work)


@project_view
def campaign_delete(request: HttpRequest, current: Current, campaign_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    campaign = _get(current, campaign_id)
    if request.method != "POST":
        if campaign.status != CampaignStatus.DRAFT:
            messages.error(request, "Only a draft can be deleted; archive a campaign that was sent.")
            return redirect("web:campaign_detail", campaign.pk)
        return render(request, "web/campaign_delete.html", {"campaign": campaign})
    try:
        services.campaign_delete(campaign=campaign)
    except Conflict as exc:
        messages.error(request, sentence(exc.detail, stop=True))
        return redirect("web:campaign_detail", campaign.pk)
    messages.success(request, f"“{campaign.name}” was deleted.")
    return redirect(reverse("web:campaigns"))
