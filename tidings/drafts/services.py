"""Drafting: settings, conversations, and the turn that turns a prompt into a design version.

A turn stores the user's prompt first, in its own transaction, so a provider
that fails, hangs or answers garbage never loses what the user wrote; the
failure becomes a message in the conversation. A good answer is checked
(``answers``), saved as the next version of the draft's design, and the
answer message names that version, so every version can be restored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.db import transaction

from tidings.content import services as content
from tidings.content.models import DesignFormat, DesignPurpose, VersionSource
from tidings.content.templating import ProjectInfo
from tidings.core import netguard, secrets
from tidings.core.errors import FieldError, ValidationError
from tidings.core.models import Project
from tidings.drafts import composer
from tidings.drafts.answers import CheckedDraft, check_draft
from tidings.drafts.catalog import Catalog, Persona, catalog_build, persona_resolve
from tidings.drafts.models import Draft, DraftMessage, DraftSettings, MessageRole, PersonaType, ProviderKind
from tidings.drafts.prompting import system_prompt
from tidings.drafts.providers import DraftRequest, ProviderConfig, ProviderError, get_provider
from tidings.hooks import services as hooks

logger = logging.getLogger(__name__)

MAX_PROMPT = 4000
# A turn runs inside the request that asked for it (two calls at most, with the retry).
MAX_TIMEOUT = 120
MAX_BRAND_NOTES = 2000


# -- settings ------------------------------------------------------------------------


def draft_settings_get(*, project: Project) -> DraftSettings:
    settings, _ = DraftSettings.objects.get_or_create(project=project)
    return settings


def draft_settings_update(*, project: Project, **changes: Any) -> DraftSettings:
    """Change the drafting settings; ``api_key`` is stored encrypted ("" clears it, None keeps it)."""
    settings = draft_settings_get(project=project)
    errors: list[FieldError] = []
    provider = changes.get("provider", settings.provider)
    if provider not in ProviderKind.values:
        errors.append(FieldError("provider", f"must be one of: {', '.join(ProviderKind.values)}"))
    base_url = (changes.get("base_url", settings.base_url) or "").strip()
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("baseUrl", "must be an http(s) address, e.g. http://127.0.0.1:11434/v1"))
        else:
            try:
                netguard.check_public_url(base_url, allowed_hosts=django_settings.AI_ALLOWED_HOSTS)
            except netguard.BlockedAddress as exc:
                errors.append(FieldError("baseUrl", exc.detail))
    model = (changes.get("model", settings.model) or "").strip()
    if provider != ProviderKind.OFFLINE and not model:
        errors.append(FieldError("model", f"is required for the {provider} provider"))
    timeout = changes.get("timeout_seconds", settings.timeout_seconds)
    if not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
        errors.append(FieldError("timeoutSeconds", f"must be between 1 and {MAX_TIMEOUT}"))
    notes = changes.get("brand_notes", settings.brand_notes) or ""
    if len(notes) > MAX_BRAND_NOTES:
        errors.append(FieldError("brandNotes", f"must be at most {MAX_BRAND_NOTES} characters"))
    threshold = changes.get("catalog_threshold_bp", settings.catalog_threshold_bp)
    if not isinstance(threshold, int) or not 0 <= threshold <= 10_000:
        errors.append(FieldError("catalogThreshold", "must be between 0 and 100 percent"))
    if errors:
        raise ValidationError(errors)
    if changes.get("api_key") is not None:
        settings.api_key_encrypted = secrets.encrypt(changes["api_key"].strip())
    elif (provider, base_url) != (settings.provider, settings.base_url):
        # A key is for one service: never send it to another address.
        settings.api_key_encrypted = ""
    settings.provider, settings.base_url, settings.model = provider, base_url, model
    settings.timeout_seconds, settings.brand_notes, settings.catalog_threshold_bp = timeout, notes, threshold
    settings.save()
    return settings


def catalog_for(*, project: Project, persona: Persona) -> Catalog:
    settings = draft_settings_get(project=project)
    return catalog_build(project=project, persona=persona, threshold_bp=settings.catalog_threshold_bp)


# -- conversations -------------------------------------------------------------------


def _clean_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValidationError.field("prompt", "must not be empty")
    if len(prompt) > MAX_PROMPT:
        raise ValidationError.field("prompt", f"must be at most {MAX_PROMPT} characters")
    return prompt.strip()


def _title(text: str, limit: int = 70) -> str:
    """A short title from the first line of a prompt, cut at a word."""
    line = text.strip().splitlines()[0].strip()
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def draft_create(
    *, project: Project, prompt: str, persona: Persona, user: Any | None = None
) -> tuple[Draft, DraftMessage]:
    """Start a conversation with its first prompt; returns the draft and the turn's last message."""
    prompt = _clean_prompt(prompt)
    title = _title(prompt)
    draft = Draft.objects.create(
        project=project,
        title=title,
        persona_type=persona.type,
        persona_id=persona.id,
        persona_label=persona.label,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return draft, draft_reply(draft=draft, prompt=prompt, user=user)


def draft_persona(*, draft: Draft) -> Persona:
    """The draft's persona as it is now (a deleted tag or contact falls back to none)."""
    try:
        return persona_resolve(project=draft.project, type=draft.persona_type, id=draft.persona_id)
    except Exception:  # the persona was deleted since: draft for nobody, and say so
        return Persona(type=PersonaType.NONE)


def draft_set_persona(*, draft: Draft, persona: Persona) -> Draft:
    """Shape the next answers for another persona (it never changes who receives the email)."""
    draft.persona_type, draft.persona_id, draft.persona_label = persona.type, persona.id, persona.label
    draft.save(update_fields=["persona_type", "persona_id", "persona_label", "updated_at"])
    text = f"Persona set to {persona.label}." if persona.label else "Persona cleared."
    DraftMessage.objects.create(draft=draft, role=MessageRole.NOTE, text=text)
    return draft


@dataclass(frozen=True)
class _Answer:
    subject: str
    preheader: str
    body: str
    reply: str
    meta: dict[str, Any]


def _offline(draft: Draft, prompts: list[str], catalog: Catalog, brand_notes: str) -> _Answer:
    persona = catalog.persona
    cues = composer.PersonaCues(
        type=persona.type,
        name=persona.name,
        variables=catalog.defaults(),
        values={v.name: str(v.value) for v in catalog.variables if v.value is not None},
        dominant={name: cue["value"] for name, cue in catalog.cues.items() if cue["share"] >= 0.5},
        cohort_size=catalog.cohort_size,
    )
    result = composer.compose(
        prompts=prompts, persona=cues, project_name=draft.project.name, brand_notes=brand_notes
    )
    return _Answer(result.subject, result.preheader, result.body, result.reply, {"plan": result.plan})


def _chain(message: DraftMessage | None) -> list[str] | None:
    return message.meta.get("prompts") if message is not None else None


def _offline_prompts(draft: Draft, prompt: str) -> tuple[list[str], str]:
    """The prompts that made the current version, then the new one; and a caveat, if any.

    The offline composer writes from the conversation, so a follow-up after a
    restore builds on the restored version, not on the latest prompts.
    """
    everything = list(draft.messages.filter(role=MessageRole.USER).values_list("text", flat=True))
    design = draft.design
    if design is None:
        return everything, ""
    answers = draft.messages.exclude(version=None).order_by("-id")
    current = _chain(answers.filter(version=design.version).first())
    if current is not None:
        return [*current, prompt], ""
    latest = answers.first()
    earlier = _chain(latest)
    if earlier is None:
        return everything, ""
    return [*earlier, prompt], (
        f"Edits made in the editor since version {latest.version} are not in this version: "  # type: ignore[union-attr]
        "the offline composer writes from the conversation."
    )


def _conversation(draft: Draft, prompt: str) -> list[tuple[str, str]]:
    """What a model sees: the first prompt, the current version as its own answer, the new prompt."""
    design = draft.design
    first = draft.messages.filter(role=MessageRole.USER).values_list("text", flat=True).first()
    if design is None or first is None or first == prompt:
        return [("user", prompt)]
    current = json.dumps(
        {"subject": design.subject, "preheader": design.preheader, "body": design.body}, ensure_ascii=False
    )
    return [("user", first), ("assistant", current), ("user", prompt)]


def _remote(draft: Draft, settings: DraftSettings, prompt: str, catalog: Catalog) -> _Answer:
    config = ProviderConfig(
        kind=settings.provider,
        model=settings.model,
        api_key=secrets.decrypt(settings.api_key_encrypted),
        base_url=settings.base_url,
        timeout=float(settings.timeout_seconds),
    )
    if settings.base_url:
        try:  # checked again now: what the name resolves to may have changed since it was saved
            netguard.check_public_url(settings.base_url, allowed_hosts=django_settings.AI_ALLOWED_HOSTS)
        except netguard.BlockedAddress as exc:
            raise ProviderError(
                "refused", f"The AI provider's address is not allowed: {exc.detail}."
            ) from exc
    provider = get_provider(config)
    system = system_prompt(catalog=catalog, project_name=draft.project.name, brand_notes=settings.brand_notes)
    messages = _conversation(draft, prompt)
    project = ProjectInfo.of(draft.project)
    answer = provider.draft(DraftRequest(system=system, messages=messages))
    checked = check_draft(
        subject=answer.subject,
        preheader=answer.preheader,
        body=answer.body,
        catalog=catalog,
        project=project,
        final=False,
    )
    retried = False
    if checked.problems:
        retried = True
        fix = "Your answer had these problems; answer again with all of them fixed:\n- " + "\n- ".join(
            checked.problems
        )
        again = provider.draft(
            DraftRequest(system=system, messages=[*messages, ("assistant", answer.raw), ("user", fix)])
        )
        checked = check_draft(
            subject=again.subject,
            preheader=again.preheader,
            body=again.body,
            catalog=catalog,
            project=project,
            final=True,
        )
        if checked.problems:
            raise ProviderError(
                "bad_answer",
                "The AI provider answered twice with an email that does not work: "
                + "; ".join(checked.problems),
            )
    return _Answer(
        checked.subject, checked.preheader, checked.body, _reply(checked, retried), {"retried": retried}
    )


def _reply(checked: CheckedDraft, retried: bool) -> str:
    parts = [f"Drafted “{checked.subject}”."]
    if checked.variables:
        parts.append("Personalised with " + ", ".join(checked.variables) + ".")
    if checked.removed:
        parts.append("Removed variables this persona has no data for: " + ", ".join(checked.removed) + ".")
    return " ".join(parts)


def draft_reply(*, draft: Draft, prompt: str, user: Any | None = None) -> DraftMessage:
    """One turn: keep the prompt, ask the provider, save the answer as a new version (or the failure)."""
    prompt = _clean_prompt(prompt)
    persona = draft_persona(draft=draft)
    DraftMessage.objects.create(
        draft=draft, role=MessageRole.USER, text=prompt, meta={"persona": persona.label}
    )
    settings = draft_settings_get(project=draft.project)
    catalog = catalog_for(project=draft.project, persona=persona)
    meta: dict[str, Any] = {"persona": persona.label, "catalog": catalog.names}
    try:
        if settings.provider == ProviderKind.OFFLINE:
            prompts, caveat = _offline_prompts(draft, prompt)
            answer = _offline(draft, prompts, catalog, settings.brand_notes)
            answer = _Answer(
                answer.subject,
                answer.preheader,
                answer.body,
                f"{answer.reply} {caveat}".strip(),
                {**answer.meta, "prompts": prompts},
            )
        else:
            answer = _remote(draft, settings, prompt, catalog)
    except ProviderError as exc:
        return DraftMessage.objects.create(
            draft=draft,
            role=MessageRole.ERROR,
            text=exc.detail,
            provider=settings.provider,
            meta={**meta, "kind": exc.kind},
        )
    except secrets.SecretUnreadable as exc:
        return DraftMessage.objects.create(
            draft=draft, role=MessageRole.ERROR, text=exc.detail, provider=settings.provider, meta=meta
        )
    return _save_answer(draft, answer, settings.provider, meta, user)


@transaction.atomic
def _save_answer(
    draft: Draft, answer: _Answer, provider: str, meta: dict[str, Any], user: Any | None
) -> DraftMessage:
    values = {
        "name": draft.title,
        "purpose": DesignPurpose.MARKETING,
        "format": DesignFormat.MJML,
        "subject": answer.subject,
        "preheader": answer.preheader,
        "body": answer.body,
    }
    try:
        if draft.design is None:
            # The first answer names the draft: its subject says more than the prompt's first words.
            if answer.subject:
                draft.title = values["name"] = _title(answer.subject)
            design = content.design_create(
                project=draft.project, values=values, user=user, source=VersionSource.DRAFT
            )
            draft.design = design
            draft.save(update_fields=["title", "design", "updated_at"])
        else:
            design, _ = content.design_update(
                design=draft.design,
                # Only the content: a purpose or name set in the editor stays as it is.
                values={k: values[k] for k in ("subject", "preheader", "body")},
                user=user,
                source=VersionSource.DRAFT,
            )
    except ValidationError as exc:
        return DraftMessage.objects.create(
            draft=draft,
            role=MessageRole.ERROR,
            provider=provider,
            meta=meta,
            text=f"The draft could not be saved: {exc.detail}",
        )
    draft.save(update_fields=["updated_at"])
    message = DraftMessage.objects.create(
        draft=draft,
        role=MessageRole.ASSISTANT,
        text=answer.reply,
        version=design.version,
        provider=provider,
        meta={**meta, **answer.meta},
    )
    hooks.emit(
        draft.project_id,
        "draft.completed",
        {
            "id": draft.pk,
            "title": draft.title,
            "designId": design.pk,
            "version": design.version,
            "subject": answer.subject,
            "preheader": answer.preheader,
            "reply": answer.reply,
            "persona": draft.persona_label,
            "provider": provider,
        },
    )
    return message


def draft_restore(*, draft: Draft, number: int, user: Any | None = None) -> DraftMessage:
    """Make an earlier version current again (as a new version), noted in the conversation."""
    if draft.design is None:
        raise ValidationError.field("version", "this draft has no versions yet")
    design = content.design_restore(design=draft.design, number=number, user=user)
    # The restored version keeps the prompts that made it, so the next follow-up builds on it.
    made = next((m for m in draft.messages.filter(version=number).order_by("-id") if _chain(m)), None)
    return DraftMessage.objects.create(
        draft=draft,
        role=MessageRole.NOTE,
        version=design.version,
        text=f"Restored version {number} as version {design.version}.",
        meta={"prompts": _chain(made)} if made else {},
    )


def draft_delete(*, draft: Draft, keep_design: bool = True) -> None:
    """Delete the conversation; the design it wrote stays unless ``keep_design`` is False."""
    design = draft.design
    draft.delete()
    if design is not None and not keep_design:
        design.delete()
