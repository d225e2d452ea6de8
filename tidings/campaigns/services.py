"""Writes for campaigns: create, change, preflight, start, schedule, pause, resume, cancel,
duplicate, archive.

Starting is one transaction: the status moves from draft (or scheduled) to
sending only if it still is draft (or scheduled), the content is frozen, and
every recipient's message row is inserted. A second start — a double click,
two API calls, two schedulers — finds the campaign no longer startable and
changes nothing. The workers are told once the transaction has committed.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from email_validator import EmailNotValidError, validate_email

from tidings.audience.models import Segment, Tag, Topic
from tidings.campaigns.models import FINISHED, Campaign, CampaignOrigin, CampaignStatus, RecipientType
from tidings.campaigns.words import excluded_summary
from tidings.content.models import EmailDesign
from tidings.content.rendering import DesignSource, RenderError, render_full
from tidings.content.templating import ProjectInfo, render_context
from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.core.models import Project
from tidings.core.queue import can_defer
from tidings.core.scoping import scoped
from tidings.hooks import events as hook_events
from tidings.hooks import services as hooks
from tidings.sending.domains import sender_problem
from tidings.sending.models import ConnectionKind, Message, MessageState, ProviderConnection
from tidings.sending.planner import eligibility_counts, plan_campaign

STARTABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)


# -- checking input ---------------------------------------------------------------------------


def one_line_text(value: Any, path: str, *, limit: int, errors: list[FieldError]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be text"))
        return ""
    if "\r" in value or "\n" in value or any(ord(c) < 32 and c != "\t" for c in value):
        errors.append(FieldError(path, "must be one line (no line breaks or control characters)"))
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(path, f"must be at most {limit} characters"))
    return value


def clean_address(value: Any, path: str, errors: list[FieldError], *, required: bool = False) -> str:
    if value in (None, ""):
        if required:
            errors.append(FieldError(path, "is required"))
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be an email address"))
        return ""
    if "\r" in value or "\n" in value:
        errors.append(FieldError(path, "must be one email address (no line breaks)"))
        return ""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        errors.append(FieldError(path, f"is not a valid email address: {exc}"))
        return ""


def _id(value: Any, path: str, errors: list[FieldError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append(FieldError(path, "must be a positive whole number"))
        return None
    return value


def _scoped_or_error(
    model: type, project: Project, pk: int | None, path: str, what: str, errors: list
) -> Any:
    if pk is None:
        return None
    found = scoped(model, project).filter(pk=pk).first()
    if found is None:
        errors.append(FieldError(path, f"no {what} with id {pk} in this project"))
    return found


_FIELDS = {
    "name",
    "designId",
    "emailId",
    "subject",
    "preheader",
    "from",
    "fromName",
    "replyTo",
    "recipientType",
    "recipientId",
    "connectionId",
    "topicId",
    "trackOpens",
    "trackClicks",
}


def _clean(project: Project, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: list[FieldError] = [FieldError(k, "is not a campaign field") for k in values if k not in _FIELDS]
    out: dict[str, Any] = {}
    if "name" in values or creating:
        name = one_line_text(values.get("name"), "name", limit=200, errors=errors)
        if not name and not any(e.path == "name" for e in errors):
            errors.append(FieldError("name", "is required"))
        out["name"] = name
    if "designId" in values or "emailId" in values:
        path = "designId" if "designId" in values else "emailId"
        out["design"] = _scoped_or_error(
            EmailDesign, project, _id(values[path], path, errors), path, "email", errors
        )
    for key, column, limit in (("subject", "subject", 500), ("preheader", "preheader", 500)):
        if key in values:
            out[column] = one_line_text(values[key], key, limit=limit, errors=errors)
    if "fromName" in values:
        out["from_name"] = one_line_text(values["fromName"], "fromName", limit=200, errors=errors)
    if "from" in values:
        address = clean_address(values["from"], "from", errors)
        if address:
            problem = sender_problem(project=project, address=address, kind=ConnectionKind.OUTBOX)
            if problem:  # free mail: never, whatever the connection
                errors.append(FieldError("from", problem))
        out["from_email"] = address
    if "replyTo" in values:
        out["reply_to"] = clean_address(values["replyTo"], "replyTo", errors)
    if "recipientType" in values:
        kind = values["recipientType"]
        if kind not in (RecipientType.AUDIENCE, RecipientType.TAG):
            errors.append(FieldError("recipientType", "must be audience or tag"))
        else:
            out["recipient_type"] = kind
    if "recipientId" in values:
        out["recipient_id"] = _id(values["recipientId"], "recipientId", errors)
    if "connectionId" in values:
        out["connection"] = _scoped_or_error(
            ProviderConnection,
            project,
            _id(values["connectionId"], "connectionId", errors),
            "connectionId",
            "provider connection",
            errors,
        )
    if "topicId" in values:
        out["topic"] = _scoped_or_error(
            Topic, project, _id(values["topicId"], "topicId", errors), "topicId", "topic", errors
        )
    for key, column in (("trackOpens", "track_opens"), ("trackClicks", "track_clicks")):
        if key in values:
            if not isinstance(values[key], bool):
                errors.append(FieldError(key, "must be true or false"))
            else:
                out[column] = values[key]
    if errors:
        raise ValidationError(errors)
    return out


def _check_recipients(project: Project, campaign: Campaign) -> None:
    if campaign.recipient_id is None:
        return
    model, what = (Segment, "audience") if campaign.recipient_type == RecipientType.AUDIENCE else (Tag, "tag")
    if not scoped(model, project).filter(pk=campaign.recipient_id).exists():
        raise ValidationError.field(
            "recipientId", f"no {what} with id {campaign.recipient_id} in this project"
        )


def campaign_create(*, project: Project, values: Mapping[str, Any]) -> Campaign:
    cleaned = _clean(project, values, creating=True)
    campaign = Campaign(project=project, **cleaned)
    _check_recipients(project, campaign)
    campaign.save()
    return campaign


def campaign_update(*, campaign: Campaign, values: Mapping[str, Any]) -> Campaign:
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise Conflict(f"a {campaign.status} campaign cannot be changed; duplicate it to send it again")
    cleaned = _clean(campaign.project, values, creating=False)
    for column, value in cleaned.items():
        setattr(campaign, column, value)
    _check_recipients(campaign.project, campaign)
    # Only while it is still a draft or scheduled: an edit never overwrites a start that
    # happened since the campaign was read.
    changed = Campaign.objects.filter(
        pk=campaign.pk, status__in=(CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
    ).update(**cleaned, updated_at=timezone.now())
    campaign.refresh_from_db()
    if not changed:
        raise Conflict(f"the campaign is {campaign.status} now and can no longer be changed")
    return campaign


# -- preflight -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}


def campaign_connection(campaign: Campaign) -> ProviderConnection | None:
    if campaign.connection_id is not None:
        return campaign.connection
    return scoped(ProviderConnection, campaign.project).filter(is_default=True).first()


def campaign_source(campaign: Campaign) -> DesignSource | None:
    """The content the campaign would send now: its design (or template) with its overrides."""
    design = campaign.design
    if design is not None:
        return DesignSource(
            design.format,
            campaign.subject or design.subject,
            campaign.preheader or design.preheader,
            design.body,
        )
    if campaign.template:
        return DesignSource("html", campaign.subject, campaign.preheader, campaign.template)
    return None


def campaign_preflight(campaign: Campaign, *, count_recipients: bool = True) -> tuple[list[Problem], dict]:
    """Every reason the campaign cannot start, one clear message each, and the recipient counts."""
    problems: list[Problem] = []
    project = campaign.project
    connection = campaign_connection(campaign)
    if connection is None:
        problems.append(
            Problem(
                "no_provider",
                "connectionId",
                "no provider connection: add one under Settings → Email providers",
            )
        )
    if not campaign.from_email:
        problems.append(Problem("no_sender", "from", "the from address is missing"))
    elif connection is not None:
        problem = sender_problem(project=project, address=campaign.from_email, kind=connection.kind)
        if problem:
            code = "free_mail" if "free-mail" in problem else "domain_not_verified"
            problems.append(Problem(code, "from", problem))
    source = campaign_source(campaign)
    if source is None:
        problems.append(Problem("no_content", "designId", "no email is chosen"))
    else:
        if not source.subject.strip():
            problems.append(Problem("no_subject", "subject", "the email has no subject"))
        try:
            render_full(source, render_context(project=ProjectInfo.of(project)))
        except RenderError as exc:
            problems.append(
                Problem("design_does_not_render", "designId", f"the email does not render: {exc.detail}")
            )
    if not campaign.transactional and not project.postal_address.strip():
        problems.append(
            Problem(
                "no_postal_address",
                "project.postalAddress",
                "marketing email must carry the sender's postal address: set it in Settings → Project",
            )
        )
    if not campaign.transactional and project.marketing_paused_at is not None:
        problems.append(
            Problem("marketing_paused", "project.marketingPaused", marketing_paused_text(project))
        )
    counts: dict[str, Any] = {"eligible": None, "excluded": {}, "notices": []}
    if connection is not None and connection.kind == ConnectionKind.OUTBOX:
        counts["notices"].append(
            f"{connection.name} is an outbox: it delivers nowhere, writing each message as an .eml file "
            "in the data folder, so any from domain will do"
        )
    if campaign.recipient_type != RecipientType.EMAIL:
        if campaign.recipient_id is None:
            problems.append(Problem("no_recipients", "recipientId", "no audience or tag is chosen"))
        elif count_recipients:
            try:
                eligible, excluded = eligibility_counts(campaign)
            except Exception as exc:  # the segment or tag is gone
                problems.append(
                    Problem("no_recipients", "recipientId", f"the recipients cannot be found: {exc}")
                )
            else:
                counts.update(eligible=eligible, excluded=excluded)
                if eligible == 0:
                    detail = excluded_summary(excluded)
                    problems.append(
                        Problem(
                            "no_eligible_recipients",
                            "recipientId",
                            "no eligible recipients" + (f" (excluded: {detail})" if detail else ""),
                        )
                    )
    return problems, counts


def _refuse(problems: list[Problem]) -> ValidationError:
    return ValidationError(
        [FieldError(p.path, p.message) for p in problems],
        detail="The campaign cannot start: " + "; ".join(p.message for p in problems),
    )


# -- lifecycle ------------------------------------------------------------------------------------


def _enqueue_send(campaign: Campaign) -> None:
    from tidings.sending.tasks import enqueue_campaign

    transaction.on_commit(lambda: enqueue_campaign(campaign.project_id, campaign.pk))


def campaign_start(*, campaign: Campaign) -> Campaign:
    """Start sending now. Starting a campaign that already started changes nothing."""
    if campaign.status not in STARTABLE:
        return campaign
    problems, _counts = campaign_preflight(campaign, count_recipients=False)
    if problems:
        raise _refuse(problems)
    connection = campaign_connection(campaign)
    source = campaign_source(campaign)
    assert connection is not None
    assert source is not None
    now = timezone.now()
    refusal: ValidationError | None = None
    with transaction.atomic():
        won = Campaign.objects.filter(pk=campaign.pk, status__in=STARTABLE).update(
            status=CampaignStatus.SENDING,
            started_at=now,
            updated_at=now,
            connection=connection,
            content={
                "format": source.format,
                "subject": source.subject,
                "preheader": source.preheader,
                "body": source.body,
            },
        )
        campaign.refresh_from_db()
        if not won:
            return campaign
        if campaign.recipient_type != RecipientType.EMAIL:
            queued, excluded = plan_campaign(campaign)
            if queued == 0:
                detail = excluded_summary(excluded)
                refusal = _refuse(
                    [
                        Problem(
                            "no_eligible_recipients",
                            "recipientId",
                            "no eligible recipients" + (f" (excluded: {detail})" if detail else ""),
                        )
                    ]
                )
                transaction.set_rollback(True)  # nothing of this start stays
            else:
                Campaign.objects.filter(pk=campaign.pk).update(excluded=excluded)
                campaign.excluded = excluded
        if refusal is None:
            _enqueue_send(campaign)
            hooks.emit(campaign.project_id, "campaign.started", hook_events.campaign_data(campaign))
    if refusal is not None:
        campaign.refresh_from_db()
        raise refusal
    return campaign


def parse_schedule(value: Any, zone: Any) -> tuple[datetime, str]:
    """``scheduledAt`` (ISO 8601; without an offset it is read in ``timezone``) as an aware time."""
    errors: list[FieldError] = []
    name = zone or "UTC"
    try:
        tz = zoneinfo.ZoneInfo(name) if isinstance(name, str) else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        errors.append(FieldError("timezone", f"{zone!r} is not a known time zone (e.g. Europe/Berlin)"))
    try:
        parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
    except ValueError:  # shaped like a date, but no such day or hour
        parsed = None
    if parsed is None:
        errors.append(FieldError("scheduledAt", "must be a date and time like 2026-12-01T09:30"))
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    assert tz is not None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    if parsed <= timezone.now() + timedelta(seconds=30):
        raise ValidationError.field("scheduledAt", "must be in the future")
    return parsed, name


def campaign_schedule(*, campaign: Campaign, scheduled_at: Any, zone: Any = None) -> Campaign:
    if campaign.status not in STARTABLE:
        raise Conflict(f"a {campaign.status} campaign cannot be scheduled")
    if not can_defer():
        raise Conflict(
            "this installation's task queue runs tasks at once (TIDINGS_TASKS_BACKEND=immediate), "
            "so it cannot start a campaign later: send it now, or use the db or rq queue"
        )
    when, name = parse_schedule(scheduled_at, zone)
    problems, _ = campaign_preflight(campaign, count_recipients=False)
    if problems:
        raise _refuse(problems)
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign.pk, status__in=STARTABLE).update(
            status=CampaignStatus.SCHEDULED, scheduled_at=when, timezone=name, updated_at=timezone.now()
        )
        if not updated:
            raise Conflict("the campaign started meanwhile")
        from tidings.sending.tasks import enqueue_scheduled

        transaction.on_commit(lambda: enqueue_scheduled(campaign.project_id, campaign.pk, when))
    campaign.refresh_from_db()
    return campaign


def campaign_unschedule(*, campaign: Campaign) -> Campaign:
    unscheduled = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
        status=CampaignStatus.DRAFT, scheduled_at=None, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not unscheduled and campaign.status != CampaignStatus.DRAFT:  # a draft again is no change
        raise Conflict(f"only a scheduled campaign can be unscheduled; this one is {campaign.status}")
    return campaign


def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Stop new sends; workers notice within half a second and let go of what they hold."""
    if not Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, updated_at=timezone.now()
    ):
        campaign.refresh_from_db()
        if campaign.status != CampaignStatus.PAUSED:
            raise Conflict(f"only a sending campaign can be paused; this one is {campaign.status}")
    campaign.refresh_from_db()
    return campaign


def marketing_paused_text(project: Project) -> str:
    return (
        f"marketing sends are paused for this project: {project.marketing_paused_reason or 'by an admin'}; "
        "lift the pause in Settings → Project once the cause is dealt with"
    )


def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Go on with the next unsent message (also after a failure, once its cause is fixed)."""
    if not campaign.transactional and campaign.project.marketing_paused_at is not None:
        raise Conflict(marketing_paused_text(campaign.project))
    if campaign.status == CampaignStatus.FAILED and campaign.started_at is None:
        # It failed before it started (at its scheduled time): start it now, or say why not.
        with transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.FAILED).update(
                status=CampaignStatus.DRAFT, error=""
            )
            campaign.refresh_from_db()
            return campaign_start(campaign=campaign)
    with transaction.atomic():
        resumed = Campaign.objects.filter(
            pk=campaign.pk, status__in=(CampaignStatus.PAUSED, CampaignStatus.FAILED)
        ).update(status=CampaignStatus.SENDING, error="", updated_at=timezone.now())
        campaign.refresh_from_db()
        if not resumed:
            if campaign.status == CampaignStatus.SENDING:
                return campaign
            raise Conflict(f"only a paused or failed campaign can be resumed; this one is {campaign.status}")
        if not Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).exists():
            from tidings.sending.pipeline import finish_if_done

            finish_if_done(campaign)
        else:
            _enqueue_send(campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_cancel(*, campaign: Campaign) -> tuple[Campaign, int]:
    """Stop for good: the messages not yet sent stay unsent; returns how many."""
    with transaction.atomic():
        cancelled = (
            Campaign.objects.filter(pk=campaign.pk)
            .exclude(status__in=FINISHED)
            .update(status=CampaignStatus.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now())
        )
        campaign.refresh_from_db()
        if not cancelled:
            raise Conflict(f"a {campaign.status} campaign cannot be cancelled")
        unsent = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).update(
            state=MessageState.CANCELLED, updated_at=timezone.now()
        )
    return campaign, unsent


def campaign_duplicate(*, campaign: Campaign) -> Campaign:
    copy = Campaign(
        project_id=campaign.project_id,
        name=f"{campaign.name} (copy)"[:200],
        transactional=campaign.transactional,
        design_id=campaign.design_id,
        template=campaign.template,
        subject=campaign.subject,
        preheader=campaign.preheader,
        variables=campaign.variables,
        from_email=campaign.from_email,
        from_name=campaign.from_name,
        reply_to=campaign.reply_to,
        connection_id=campaign.connection_id,
        recipient_type=campaign.recipient_type,
        recipient_id=campaign.recipient_id,
        recipient_email=campaign.recipient_email,
        topic_id=campaign.topic_id,
        track_opens=campaign.track_opens,
        track_clicks=campaign.track_clicks,
    )
    if campaign.origin == CampaignOrigin.API and not campaign.design_id and campaign.content:
        copy.template = campaign.content.get("body", "")
        copy.subject = campaign.content.get("subject", "")
    copy.save()
    return copy


def campaign_archive(*, campaign: Campaign, archived: bool = True) -> Campaign:
    if archived and campaign.status in (
        CampaignStatus.SENDING,
        CampaignStatus.SCHEDULED,
        CampaignStatus.PAUSED,
    ):
        raise Conflict(f"a {campaign.status} campaign cannot be archived; cancel it first")
    campaign.archived_at = timezone.now() if archived else None
    campaign.save(update_fields=["archived_at", "updated_at"])
    return campaign


def campaign_delete(*, campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict("only a draft can be deleted; archive a campaign that sent")
    campaign.delete()
