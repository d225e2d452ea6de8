"""The send API's rules (``POST /api/v1/sending``), each applied here and nowhere else:

1. ``recipientType: email`` is transactional unless ``transactional: false``;
   ``audience`` and ``tag`` are marketing unless ``transactional: true``.
2. Transactional mail ignores subscription status and topic choices, and has
   no List-Unsubscribe headers and no added unsubscribe footer.
3. Marketing mail goes only to subscribed contacts not opted out of its topic,
   and always carries an unsubscribe link, the postal address and the
   List-Unsubscribe (one-click) headers.
4. Bounced and complained addresses are excluded from everything, always; the
   batch says so for each.
5. A marketing send to one address that is no contact is refused; a
   transactional one is sent, and makes no contact.

Every send is a campaign (``origin=api``): its id is the ``batchId``; a send to
one address also answers with the message's id as ``sendId``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from tidings.audience.models import Contact
from tidings.audience.services import is_suppressed
from tidings.campaigns import services
from tidings.campaigns.models import Campaign, CampaignOrigin, CampaignStatus, RecipientType
from tidings.content.templating import check_template
from tidings.core.errors import FieldError, NotFound, PermissionDenied, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import scoped
from tidings.sending.models import ConnectionKind, Message, ProviderConnection, SkipReason
from tidings.sending.planner import plan_single, skip_reason

MAX_TEMPLATE = 1_000_000
MAX_VARIABLES = 100_000  # characters of JSON

_FIELDS = {
    "recipientType",
    "recipientEmail",
    "recipientId",
    "from",
    "fromName",
    "replyTo",
    "subject",
    "preheader",
    "template",
    "emailId",
    "projectId",
    "providerType",
    "transactional",
    "topicId",
    "variables",
}


def _connection(project: Project, provider_type: Any, errors: list[FieldError]) -> ProviderConnection | None:
    connections = scoped(ProviderConnection, project)
    if provider_type is None:
        found = connections.filter(is_default=True).first()
        if found is None:
            errors.append(FieldError("providerType", "the project has no provider connection"))
        return found
    if provider_type not in ConnectionKind.values:
        errors.append(FieldError("providerType", f"must be one of: {', '.join(ConnectionKind.values)}"))
        return None
    found = connections.filter(kind=provider_type).order_by("-is_default", "name", "id").first()
    if found is None:
        errors.append(FieldError("providerType", f"the project has no {provider_type} connection"))
    return found


def _variables(value: Any, errors: list[FieldError]) -> dict[str, Any]:
    import json

    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(FieldError("variables", "must be an object of names and values"))
        return {}
    if len(json.dumps(value, default=str)) > MAX_VARIABLES:
        errors.append(FieldError("variables", f"must be at most {MAX_VARIABLES:,} characters as JSON"))
        return {}
    return value


def _clean(project: Project, payload: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = [
        FieldError(k, "is not a field of a send") for k in payload if k not in _FIELDS
    ]
    project_id = payload.get("projectId")
    if project_id is not None and project_id != project.pk:
        raise PermissionDenied(f"this API key acts for project {project.pk}, not for project {project_id}")
    kind = payload.get("recipientType")
    if kind not in RecipientType.values:
        errors.append(FieldError("recipientType", "must be one of: email, audience, tag"))
    transactional = payload.get("transactional")
    if transactional is not None and not isinstance(transactional, bool):
        errors.append(FieldError("transactional", "must be true or false"))
    if transactional is None:
        transactional = kind == RecipientType.EMAIL  # rule 1
    out: dict[str, Any] = {"recipient_type": kind, "transactional": transactional}
    if kind == RecipientType.EMAIL:
        out["recipient_email"] = services.clean_address(
            payload.get("recipientEmail"), "recipientEmail", errors, required=True
        )
        if payload.get("recipientId") is not None:
            errors.append(FieldError("recipientId", "is not used with recipientType email"))
    elif kind in (RecipientType.AUDIENCE, RecipientType.TAG):
        if payload.get("recipientEmail") is not None:
            errors.append(FieldError("recipientEmail", f"is not used with recipientType {kind}"))
        if payload.get("recipientId") is None:
            errors.append(FieldError("recipientId", "is required"))
    template = payload.get("template")
    email_id = payload.get("emailId")
    if (template is None) == (email_id is None):
        errors.append(FieldError("template", "give either template (HTML with Liquid) or emailId"))
    elif template is not None:
        if not isinstance(template, str) or not template.strip():
            errors.append(FieldError("template", "must be HTML text"))
        elif len(template) > MAX_TEMPLATE:
            errors.append(FieldError("template", f"must be at most {MAX_TEMPLATE:,} characters"))
        else:
            try:
                check_template(template, path="template")
            except ValidationError as exc:
                errors.extend(exc.errors)
            out["template"] = template
        if not isinstance(payload.get("subject"), str) or not payload["subject"].strip():
            errors.append(FieldError("subject", "is required with a template"))
    if isinstance(payload.get("subject"), str):
        try:
            check_template(payload["subject"], path="subject")
        except ValidationError as exc:
            errors.extend(exc.errors)
    campaign_values = {
        key: payload[key]
        for key in (
            "from",
            "fromName",
            "replyTo",
            "subject",
            "preheader",
            "emailId",
            "topicId",
            "recipientId",
        )
        if payload.get(key) is not None
    }
    if "from" not in campaign_values:
        errors.append(FieldError("from", "is required"))
    if kind in (RecipientType.AUDIENCE, RecipientType.TAG):
        campaign_values["recipientType"] = kind
    out["variables"] = _variables(payload.get("variables"), errors)
    out["connection"] = _connection(project, payload.get("providerType"), errors)
    try:
        cleaned = services._clean(project, {"name": "API send", **campaign_values}, creating=True)
    except ValidationError as exc:
        errors.extend(exc.errors)
        cleaned = {}
    if errors:
        raise ValidationError(errors)
    return {**cleaned, **out}


def send(*, project: Project, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check a send, create its campaign and messages, and start it; returns the answer."""
    values = _clean(project, payload)
    kind = values["recipient_type"]
    campaign = Campaign(project=project, origin=CampaignOrigin.API, **values)
    campaign.name = _name(campaign)
    # A receipt's links go straight to their place: transactional mail has click tracking off.
    campaign.track_clicks = not campaign.transactional
    if kind != RecipientType.EMAIL:
        services._check_recipients(project, campaign)
    contact: Contact | None = None
    reason = ""
    if kind == RecipientType.EMAIL:
        address = campaign.recipient_email
        contact = Contact.objects.for_project(project).filter(email_key=address.lower()).first()
        if contact is None and not campaign.transactional:  # rule 5
            raise ValidationError.field(
                "recipientEmail",
                f"{address} is not a contact of this project: marketing mail goes only to subscribed "
                "contacts (add the contact first, or send with transactional: true)",
            )
        if contact is None:
            reason = (
                SkipReason.SUPPRESSED if is_suppressed(project=project, email_key=address.lower()) else ""
            )
        else:
            reason = skip_reason(status=contact.status, transactional=campaign.transactional)
            if not reason and not campaign.transactional and campaign.topic is not None:
                from tidings.sending.planner import with_opt_out

                opted = with_opt_out(Contact.objects.filter(pk=contact.pk), campaign.topic).values_list(
                    "topic_opted_out", flat=True
                )
                reason = SkipReason.TOPIC_OPT_OUT if opted[0] else ""
    problems, _ = services.campaign_preflight(campaign, count_recipients=False)
    if problems:
        raise services._refuse(problems)
    with transaction.atomic():
        campaign.save()
        if kind == RecipientType.EMAIL:
            message = plan_single(campaign, email=campaign.recipient_email, contact=contact, reason=reason)
            if reason:
                # Nothing to send: the batch is done, and says why.
                Campaign.objects.filter(pk=campaign.pk).update(
                    status=CampaignStatus.SENT,
                    started_at=timezone.now(),
                    finished_at=timezone.now(),
                    excluded={reason: 1},
                    content=_content(campaign),
                    connection=campaign.connection,
                )
                campaign.refresh_from_db()
                return _answer(campaign, message)
        campaign = services.campaign_start(campaign=campaign)
    message = Message.objects.filter(campaign=campaign).first() if kind == RecipientType.EMAIL else None
    return _answer(campaign, message)


def _content(campaign: Campaign) -> dict[str, str] | None:
    source = services.campaign_source(campaign)
    if source is None:
        return None
    return {
        "format": source.format,
        "subject": source.subject,
        "preheader": source.preheader,
        "body": source.body,
    }


def _name(campaign: Campaign) -> str:
    who = campaign.recipient_email or f"{campaign.recipient_type} {campaign.recipient_id}"
    return f"API send to {who}"[:200]


def _answer(campaign: Campaign, message: Message | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "batchId": campaign.pk,
        "status": campaign.status,
        "transactional": campaign.transactional,
    }
    if message is not None:
        answer.update({"sendId": message.pk, "state": message.state, "reason": message.skip_reason or None})
    else:
        queued = Message.objects.filter(campaign=campaign, state="queued").count()
        answer.update({"queued": queued, "excluded": campaign.excluded})
    return answer


def batch_get(*, project: Project, batch_id: int) -> Campaign:
    campaign = scoped(Campaign, project).filter(pk=batch_id, origin=CampaignOrigin.API).first()
    if campaign is None:
        raise NotFound(f"no batch with id {batch_id} in this project")
    return campaign


def send_get(*, project: Project, send_id: int) -> Message:
    message = scoped(Message, project).filter(pk=send_id).select_related("campaign").first()
    if message is None or message.campaign.origin != CampaignOrigin.API:
        raise NotFound(f"no send with id {send_id} in this project")
    return message
