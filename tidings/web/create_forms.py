"""Forms of the Create area: designs, prompts, test sends and the drafting settings."""

from __future__ import annotations

from django import forms

from tidings.content.models import DesignFormat, DesignPurpose
from tidings.drafts.models import DraftSettings, ProviderKind
from tidings.web.forms import text_input


class DesignForm(forms.Form):
    name = forms.CharField(max_length=200, widget=text_input(maxlength=200))
    purpose = forms.ChoiceField(
        choices=DesignPurpose.choices,
        help_text="Marketing email carries an unsubscribe link and the postal address.",
    )
    format = forms.ChoiceField(choices=DesignFormat.choices)
    subject = forms.CharField(required=False, max_length=500, widget=text_input(maxlength=500))
    preheader = forms.CharField(
        required=False,
        max_length=500,
        widget=text_input(maxlength=500),
        help_text="The line inboxes show after the subject.",
    )
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code", "wrap": "off"}),
        help_text='MJML or HTML. Personalise with Liquid: {{ firstName | default: "there" }}.',
    )


class PromptForm(forms.Form):
    prompt = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Describe the email, or what to change in it…"}
        ),
    )


class TestSendForm(forms.Form):
    to = forms.CharField(max_length=254, widget=text_input(type="email", autocomplete="email"))


class DraftSettingsForm(forms.Form):
    provider = forms.ChoiceField(choices=ProviderKind.choices, widget=forms.RadioSelect)
    base_url = forms.CharField(
        required=False,
        max_length=500,
        label="Base URL",
        widget=text_input(placeholder="https://api.openai.com/v1 or http://127.0.0.1:11434/v1"),
        help_text="For OpenAI-compatible servers (Ollama, vLLM, LM Studio); empty for the official API.",
    )
    model = forms.CharField(required=False, max_length=200, widget=text_input())
    api_key = forms.CharField(
        required=False,
        label="API key",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Stored encrypted. Leave empty to keep the current key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    timeout_seconds = forms.IntegerField(min_value=1, max_value=120, label="Timeout (seconds)")
    brand_notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Voice and rules every draft follows, e.g. “Friendly, no exclamation marks”.",
    )
    catalog_threshold = forms.DecimalField(
        min_value=0,
        max_value=100,
        decimal_places=2,
        label="Catalog threshold (%)",
        help_text="A field filled for fewer of a persona's contacts than this is never used in drafts.",
    )

    @classmethod
    def for_settings(cls, settings: DraftSettings) -> DraftSettingsForm:
        return cls(
            initial={
                "provider": settings.provider,
                "base_url": settings.base_url,
                "model": settings.model,
                "timeout_seconds": settings.timeout_seconds,
                "brand_notes": settings.brand_notes,
                "catalog_threshold": settings.catalog_threshold_bp / 100,
            }
        )
