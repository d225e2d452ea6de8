"""Forms of the UI. They collect input; the services decide what is valid."""

from __future__ import annotations

import re

from django import forms

from tidings.core.errors import ValidationError
from tidings.core.models import Project

_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def field_name(path: str) -> str:
    """A service's camelCase error path (``brandColor``) as a form field name (``brand_color``)."""
    return _CAMEL_HUMP.sub("_", path.split(".")[0]).lower()


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's field errors on the form's fields; the rest above the form."""
    for error in exc.errors:
        message = error.message[:1].upper() + error.message[1:]
        name = field_name(error.path) if error.path else ""
        if name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, f"{error.path}: {message}" if error.path else message)


def text_input(**attrs: object) -> forms.TextInput:
    return forms.TextInput(attrs={"spellcheck": "false", **attrs})


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(required=False, widget=text_input(maxlength=200))
    postal_address = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
        help_text="Printed in every marketing email, as anti-spam laws require.",
    )
    brand_color = forms.CharField(
        required=False,
        label="Brand colour",
        widget=text_input(maxlength=7, placeholder="#2f5d8a", autocomplete="off"),
        help_text="Your brand's main colour as a hex value.",
    )
    logo_url = forms.CharField(
        required=False,
        label="Logo URL",
        widget=forms.URLInput(attrs={"maxlength": 500, "placeholder": "https://"}),
    )
    default_from_name = forms.CharField(
        required=False,
        label="Default from-name",
        widget=text_input(maxlength=200),
        help_text="The sender name recipients see unless a campaign sets its own.",
    )
    track_opens = forms.BooleanField(
        required=False,
        label="Track opens",
        help_text="Add an invisible image to campaigns to see who opens them (a campaign may turn it off).",
    )
    track_clicks = forms.BooleanField(
        required=False,
        label="Track clicks",
        help_text="Send campaign links through Tidings to count clicks. Transactional mail never does.",
    )
    store_ip = forms.BooleanField(
        required=False,
        label="Keep IP addresses of opens and clicks",
        help_text="Off by default: an IP address is personal data.",
    )
    soft_bounce_limit = forms.IntegerField(
        required=False,
        label="Soft bounces before an address counts as bounced",
        widget=forms.NumberInput(attrs={"min": 1, "max": 100}),
        help_text="A full mailbox or a server refusing for now; this many within the days below.",
    )
    soft_bounce_days = forms.IntegerField(
        required=False,
        label="…within this many days",
        widget=forms.NumberInput(attrs={"min": 1, "max": 365}),
    )
    # Left out of a post (an older form), these keep their values.
    KEEP_WHEN_EMPTY = ("soft_bounce_limit", "soft_bounce_days")

    @classmethod
    def for_project(cls, project: Project) -> ProjectSettingsForm:
        return cls(initial={name: getattr(project, name) for name in cls.base_fields})


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        required=False,
        widget=text_input(maxlength=100, placeholder="e.g. Website signup form", required=True),
        help_text="What the key is for, so you know what breaks if you revoke it.",
    )
