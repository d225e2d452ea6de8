"""Forms of the Campaigns pages. They collect input; the campaign services decide what is valid."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django import forms

from tidings.audience import segments
from tidings.audience import selectors as audience
from tidings.campaigns.models import Campaign, CampaignStatus, RecipientType
from tidings.content import selectors as content
from tidings.core.errors import FieldError
from tidings.core.models import Project
from tidings.sending.models import ProviderConnection
from tidings.web.forms import text_input

# The time zones offered for a schedule; the browser's own is added when it is not among them.
TIMEZONES = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Bogota",
    "America/Lima",
    "America/Halifax",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
]

WHEN_NOW, WHEN_LATER = "now", "later"

# A service's error path → the field that shows it (the rest map camelCase → snake_case).
_PATHS = {
    "from": "from_email",
    "recipientType": "recipients",
    "recipientId": "recipients",
    "emailId": "design_id",
}
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")
_STARTS_WITH_ADDRESS = re.compile(r"^[^\s:]+[.@][^\s:]+")


def sentence(message: str, *, stop: bool = False) -> str:
    """A service's message as the UI shows it: a capital first letter (not on a domain) and, asked, a stop."""
    message = message.strip()
    if message and not _STARTS_WITH_ADDRESS.match(message):
        message = message[:1].upper() + message[1:]
    if stop and message and message[-1] not in ".!?":
        message += "."
    return message


def field_for(path: str) -> str:
    head = path.split(".")[0]
    return _PATHS.get(head) or _CAMEL_HUMP.sub("_", head).lower()


def add_campaign_errors(form: forms.Form, errors: list[FieldError]) -> None:
    """Show the services' field errors on the form's fields; the rest above the form."""
    for error in errors:
        name = field_for(error.path) if error.path else ""
        if name in form.fields:
            form.add_error(name, sentence(error.message))
        else:
            form.add_error(None, sentence(f"{error.path}: {error.message}" if error.path else error.message))


def _optional_id(raw: str, what: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise forms.ValidationError(f"Choose {what} from the list.")
    return int(raw)


class CampaignForm(forms.Form):
    """One campaign: its email, recipients, sender and schedule (the services check the values)."""

    name = forms.CharField(
        required=False,
        widget=text_input(maxlength=200, required=True),
        help_text="For you; recipients never see it.",
    )
    # 1. The email
    design_id = forms.CharField(required=False, label="Email design", widget=forms.Select())
    subject = forms.CharField(
        required=False, widget=text_input(maxlength=500), help_text="Empty: the design's own subject."
    )
    preheader = forms.CharField(
        required=False,
        widget=text_input(maxlength=500),
        help_text="The line inboxes show after the subject. Empty: the design's own.",
    )
    # 2. The recipients
    recipients = forms.CharField(
        required=False,
        label="Send to",
        widget=forms.Select(),
        help_text="An audience (a saved segment) or everyone with a tag.",
    )
    # 3. The sender
    from_email = forms.CharField(
        required=False,
        label="From address",
        widget=text_input(type="email", maxlength=254, placeholder="news@example.com", autocomplete="off"),
        help_text="On a verified sending domain of the project (Settings → Domains).",
    )
    from_name = forms.CharField(required=False, label="From name", widget=text_input(maxlength=200))
    reply_to = forms.CharField(
        required=False,
        label="Reply-to address",
        widget=text_input(type="email", maxlength=254, autocomplete="off"),
        help_text="Empty: replies go to the from address.",
    )
    connection_id = forms.CharField(required=False, label="Send through", widget=forms.Select())
    topic_id = forms.CharField(
        required=False,
        label="Topic",
        widget=forms.Select(),
        help_text="Contacts who opted out of the topic are skipped.",
    )
    track_opens = forms.BooleanField(required=False, label="Track opens")
    track_clicks = forms.BooleanField(required=False, label="Track clicks")
    # 4. The schedule
    when = forms.ChoiceField(
        required=False,
        choices=[(WHEN_NOW, "Send now"), (WHEN_LATER, "At a date and time")],
        widget=forms.RadioSelect,
        initial=WHEN_NOW,
        label="When",
    )
    scheduled_at = forms.CharField(
        required=False,
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    timezone = forms.CharField(
        required=False, label="Time zone", initial="UTC", widget=forms.Select(attrs={"data-browser-zone": ""})
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        designs = content.design_list(project=project).order_by("name")
        self.fields["design_id"].widget.choices = [("", "Choose a design…")] + [
            (str(d.pk), d.name) for d in designs
        ]
        audiences = [
            (f"{RecipientType.AUDIENCE}:{s.pk}", s.name) for s in segments.segment_list(project=project)
        ]
        tags = [(f"{RecipientType.TAG}:{t.pk}", t.name) for t in audience.tag_list(project=project)]
        self.fields["recipients"].widget.choices = [
            ("", "Choose an audience or a tag…"),
            ("Audiences (segments)", audiences),
            ("Tags", tags),
        ]
        connections = list(ProviderConnection.objects.for_project(project).order_by("name"))
        self.fields["connection_id"].widget.choices = (
            [(str(c.pk), f"{c.name}{' (default)' if c.is_default else ''}") for c in connections]
            if connections
            else [("", "No connection yet: add one under Settings → Email providers")]
        )
        self.fields["topic_id"].widget.choices = [("", "No topic")] + [
            (str(t.pk), t.name) for t in audience.topic_list(project=project)
        ]
        zones = list(TIMEZONES)
        chosen = (self.data.get("timezone") if self.is_bound else self.initial.get("timezone")) or ""
        if chosen and chosen not in zones:
            zones.append(chosen)
        self.fields["timezone"].widget.choices = [(z, z.replace("_", " ")) for z in zones]

    def clean_design_id(self) -> int | None:
        return _optional_id(self.cleaned_data["design_id"], "a design")

    def clean_connection_id(self) -> int | None:
        return _optional_id(self.cleaned_data["connection_id"], "a connection")

    def clean_topic_id(self) -> int | None:
        return _optional_id(self.cleaned_data["topic_id"], "a topic")

    def clean_recipients(self) -> tuple[str, int | None]:
        raw = (self.cleaned_data["recipients"] or "").strip()
        if not raw:
            return RecipientType.AUDIENCE, None
        kind, _, pk = raw.partition(":")
        if kind not in (RecipientType.AUDIENCE, RecipientType.TAG) or not pk.isdigit():
            raise forms.ValidationError("Choose an audience or a tag from the list.")
        return kind, int(pk)

    def clean_timezone(self) -> str:
        zone = (self.cleaned_data["timezone"] or "").strip() or "UTC"
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(f"“{zone}” is not a known time zone.") from exc
        return zone

    def values(self) -> dict[str, Any]:
        """The campaign's values as the services take them (API names)."""
        data = self.cleaned_data
        kind, recipient_id = data["recipients"]
        return {
            "name": data["name"],
            "designId": data["design_id"],
            "subject": data["subject"],
            "preheader": data["preheader"],
            "from": data["from_email"],
            "fromName": data["from_name"],
            "replyTo": data["reply_to"],
            "recipientType": kind,
            "recipientId": recipient_id,
            "connectionId": data["connection_id"],
            "topicId": data["topic_id"],
            "trackOpens": data["track_opens"],
            "trackClicks": data["track_clicks"],
        }

    @classmethod
    def initial_for(cls, project: Project, campaign: Campaign | None) -> dict[str, Any]:
        """What the form shows first: the campaign's values, or a new one's defaults."""
        if campaign is None:
            default = ProviderConnection.objects.for_project(project).filter(is_default=True).first()
            return {
                "from_name": project.default_from_name,
                "connection_id": str(default.pk) if default else "",
                "track_opens": True,
                "track_clicks": True,
                "when": WHEN_NOW,
                "timezone": "",
            }
        initial: dict[str, Any] = {
            "name": campaign.name,
            "design_id": str(campaign.design_id or ""),
            "subject": campaign.subject,
            "preheader": campaign.preheader,
            "recipients": (
                f"{campaign.recipient_type}:{campaign.recipient_id}" if campaign.recipient_id else ""
            ),
            "from_email": campaign.from_email,
            "from_name": campaign.from_name,
            "reply_to": campaign.reply_to,
            "connection_id": str(campaign.connection_id or ""),
            "topic_id": str(campaign.topic_id or ""),
            "track_opens": campaign.track_opens,
            "track_clicks": campaign.track_clicks,
            "when": WHEN_NOW,
            "timezone": campaign.timezone,
        }
        if campaign.connection_id is None:
            default = ProviderConnection.objects.for_project(project).filter(is_default=True).first()
            initial["connection_id"] = str(default.pk) if default else ""
        if campaign.status == CampaignStatus.SCHEDULED and campaign.scheduled_at:
            zone = zoneinfo.ZoneInfo(campaign.timezone or "UTC")
            initial["when"] = WHEN_LATER
            initial["scheduled_at"] = campaign.scheduled_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        return initial


class ScheduleForm(forms.Form):
    """Schedule a saved campaign from its page."""

    scheduled_at = forms.CharField(
        required=False,
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    timezone = forms.CharField(
        required=False, label="Time zone", widget=forms.Select(attrs={"data-browser-zone": ""})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget.choices = [(z, z.replace("_", " ")) for z in TIMEZONES]
