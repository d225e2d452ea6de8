"""Forms of the audience pages. They collect input; the audience services decide what is valid."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from tidings.audience.models import (
    Contact,
    ContactStatus,
    OnConflict,
    Segment,
    Tag,
    Topic,
    TopicDefault,
    TopicVisibility,
)
from tidings.audience.services import BULK_LIMIT
from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.web.forms import add_service_errors, text_input

PAGE_SIZE = 50

# Statuses a person can be put in by hand; bounced and complained come from mail servers.
MANUAL_STATUSES = [
    (ContactStatus.SUBSCRIBED, "Subscribed"),
    (ContactStatus.NON_SUBSCRIBED, "Non-subscribed (known, never opted in)"),
    (ContactStatus.UNSUBSCRIBED, "Unsubscribed"),
]


def add_conflict(form: forms.Form, field: str, exc: Conflict) -> None:
    """A duplicate name or address, said on the field that holds it."""
    form.add_error(field, exc.detail[:1].upper() + exc.detail[1:] + ".")


def split_tag_names(raw: str) -> list[str]:
    """``"vip, newsletter"`` → ``["vip", "newsletter"]``; tag names are exact, so case is kept."""
    return [name.strip() for name in raw.split(",") if name.strip()]


# -- contacts ---------------------------------------------------------------------------


class ContactFilterForm(forms.Form):
    """The contacts list's search and filters; a bad value is dropped, never an error."""

    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Email or name starts with…",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *ContactStatus.choices], label="Status"
    )
    # Not a choice field: an id that is not this project's tag must reach the selector and be a 404.
    tag = forms.IntegerField(required=False, label="Tag", widget=forms.Select)

    def __init__(self, data: Any = None, *, tags: list[Tag]) -> None:
        super().__init__(data)
        self.fields["tag"].widget.choices = [("", "Any tag"), *((t.pk, t.name) for t in tags)]

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("q") or None,
            "status": data.get("status") or None,
            "tag_id": data.get("tag"),
        }


class ContactForm(forms.Form):
    email = forms.CharField(
        required=False,
        widget=forms.EmailInput(attrs={"maxlength": 254, "spellcheck": "false", "autocomplete": "off"}),
    )
    first_name = forms.CharField(required=False, widget=text_input(maxlength=200, autocomplete="off"))
    last_name = forms.CharField(required=False, widget=text_input(maxlength=200, autocomplete="off"))
    company = forms.CharField(required=False, widget=text_input(maxlength=200))
    phone = forms.CharField(required=False, widget=text_input(maxlength=50, type="tel"))
    country = forms.CharField(
        required=False,
        widget=text_input(maxlength=2, placeholder="DE", autocomplete="off"),
        help_text="Two-letter ISO code, such as DE or US.",
    )
    language = forms.CharField(
        required=False,
        widget=text_input(maxlength=35, placeholder="en", autocomplete="off"),
        help_text="Language tag, such as en or pt-BR.",
    )
    status = forms.ChoiceField(choices=MANUAL_STATUSES, initial=ContactStatus.SUBSCRIBED)
    tags = forms.CharField(
        required=False,
        widget=text_input(
            maxlength=1000, placeholder="vip, newsletter", autocomplete="off", list="tag-names"
        ),
        help_text="Separate tags with commas. Names are exact: “vip” and “VIP” are two tags.",
    )

    def __init__(self, data: Any = None, *, contact: Contact | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if contact is not None:
            # Tags of an existing contact are changed on its page, one by one.
            del self.fields["tags"]
            if contact.status not in dict(MANUAL_STATUSES):
                self.fields["status"].choices = [
                    *MANUAL_STATUSES,
                    (contact.status, contact.get_status_display()),
                ]

    @classmethod
    def for_contact(cls, contact: Contact) -> ContactForm:
        initial = {name: getattr(contact, name) for name in cls.base_fields if name != "tags"}
        return cls(initial=initial, contact=contact)

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        if "tags" in values:
            values["tags"] = split_tag_names(values["tags"])
        return values


class BulkForm(forms.Form):
    ACTIONS = [("add_tag", "Add tag"), ("remove_tag", "Remove tag"), ("delete", "Delete")]

    action = forms.ChoiceField(choices=ACTIONS)
    tag = forms.IntegerField(required=False)
    confirm = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Any id may be sent; the services only ever touch this project's contacts.
        ids = list(dict.fromkeys(int(v) for v in self.data.getlist("ids") if v.isdigit()))
        if not ids:
            raise forms.ValidationError("Select one or more contacts first.")
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(f"Select at most {BULK_LIMIT} contacts at a time.")
        data["ids"] = ids
        if data.get("action") in ("add_tag", "remove_tag") and data.get("tag") is None:
            raise forms.ValidationError("Choose the tag to add or remove.")
        return data


class ContactTagForm(forms.Form):
    name = forms.CharField(
        label="Add a tag",
        widget=text_input(maxlength=100, placeholder="Tag name", autocomplete="off", list="tag-names"),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="One contact a line, with a header line. Exports of Mailchimp, listmonk and Brevo "
        "are recognised as they are; unknown columns become custom fields.",
    )
    tags = forms.CharField(
        required=False,
        label="Tags for everyone imported",
        widget=text_input(
            maxlength=1000, placeholder="imported, spring-fair", autocomplete="off", list="tag-names"
        ),
        help_text="Separate tags with commas. Missing tags are created.",
    )
    on_conflict = forms.ChoiceField(
        choices=[
            (OnConflict.SKIP, "Skip them: leave existing contacts as they are"),
            (OnConflict.UPSERT, "Update them: non-empty cells overwrite, custom fields merge"),
        ],
        initial=OnConflict.SKIP,
        widget=forms.RadioSelect,
        label="Addresses already in the project",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload:
            raise forms.ValidationError("Choose a CSV file to import.")
        return upload

    def service_values(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        return {
            "upload": upload,
            "file_name": upload.name or "contacts.csv",
            "tag_names": split_tag_names(self.cleaned_data["tags"]),
            "on_conflict": self.cleaned_data["on_conflict"],
        }


# -- tags -------------------------------------------------------------------------------


class TagForm(forms.Form):
    name = forms.CharField(
        required=False,
        widget=text_input(maxlength=100, required=True, autocomplete="off"),
        help_text="Exact and case-sensitive: “vip” and “VIP” are two tags.",
    )
    color = forms.CharField(
        required=False,
        label="Colour",
        widget=text_input(maxlength=7, placeholder="#d9480f", autocomplete="off"),
        help_text="A hex colour, shown beside the tag. Optional.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}))

    @classmethod
    def for_tag(cls, tag: Tag) -> TagForm:
        return cls(initial={"name": tag.name, "color": tag.color, "description": tag.description})


# -- topics -----------------------------------------------------------------------------


class TopicForm(forms.Form):
    name = forms.CharField(required=False, widget=text_input(maxlength=100, required=True))
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        help_text="Shown to contacts in their preference center.",
    )
    default_subscription = forms.ChoiceField(
        choices=TopicDefault.choices,
        initial=TopicDefault.OPT_OUT,
        widget=forms.RadioSelect,
        label="Default",
        help_text="What a contact who never chose gets.",
    )
    visibility = forms.ChoiceField(
        choices=TopicVisibility.choices, initial=TopicVisibility.PUBLIC, widget=forms.RadioSelect
    )
    position = forms.IntegerField(
        min_value=0,
        max_value=1_000_000,
        initial=0,
        widget=forms.NumberInput(attrs={"min": 0}),
        help_text="Topics are listed by position, lowest first.",
    )
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="Inactive topics are hidden from contacts and from contact pages.",
    )

    @classmethod
    def for_topic(cls, topic: Topic) -> TopicForm:
        return cls(initial={name: getattr(topic, name) for name in cls.base_fields})


# -- segments ---------------------------------------------------------------------------


def parse_rules(raw: str) -> Any:
    """The rule tree a form sent as JSON text; blank means everyone. ``ValueError`` says what is wrong."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The rules are not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc


def rule_errors(form: forms.Form, exc: ValidationError) -> list[FieldError]:
    """Errors inside the rule tree, kept with their paths for the builder; the rest go on the form."""
    inside = [e for e in exc.errors if e.path == "filters" or e.path.startswith("filters.")]
    others = [e for e in exc.errors if e not in inside]
    if others:
        add_service_errors(form, ValidationError(others))
    return inside


class SegmentForm(forms.Form):
    name = forms.CharField(
        required=False, widget=text_input(maxlength=200, required=True, autocomplete="off")
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 1000}))
    filters = forms.CharField(
        required=False,
        strip=False,
        label="Rules as JSON",
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        help_text='A group is {"match": "all" or "any", "conditions": [...]}. '
        "Leave it empty to include everyone.",
    )

    def clean_filters(self) -> Any:
        try:
            return parse_rules(self.cleaned_data["filters"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    @classmethod
    def for_segment(cls, segment: Segment) -> SegmentForm:
        return cls(
            initial={
                "name": segment.name,
                "description": segment.description,
                "filters": json.dumps(segment.filters, indent=2),
            }
        )


class SegmentTagForm(forms.Form):
    # Not a choice field: another project's tag id must reach the selector and be a 404.
    tag = forms.IntegerField(label="Tag", widget=forms.Select, error_messages={"required": "Choose a tag."})

    def __init__(self, data: Any = None, *, tags: list[Tag]) -> None:
        super().__init__(data)
        self.fields["tag"].widget.choices = [("", "Choose a tag…"), *((t.pk, t.name) for t in tags)]
