"""Create: drafts as conversations beside a live preview, shaped for a persona.

A persona is written ``kind:id`` in forms and links (``tag:4``, ``segment:2``,
``contact:17``); it shapes the draft and the preview, never the recipients.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from tidings.content import selectors as designs
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Project, Role
from tidings.drafts import selectors, services
from tidings.drafts.catalog import Persona, persona_resolve
from tidings.drafts.models import Draft, ProviderKind
from tidings.web.access import Current, project_view
from tidings.web.create_forms import PromptForm
from tidings.web.views.previews import preview_response

KINDS = {"contact": "contact", "segment": "segment", "audience": "segment", "tag": "tag"}


def parse_persona(project: Project, raw: str | None) -> Persona:
    """``tag:4`` → the project's tag 4 as a persona; empty or ``none`` → no persona."""
    if not raw or raw == "none":
        return Persona(type="none")
    kind, _, pk = raw.partition(":")
    if kind not in KINDS or not pk.isdigit():
        raise NotFound("no such persona")
    return persona_resolve(project=project, type=KINDS[kind], id=int(pk))


def persona_key(persona: Persona) -> str:
    return f"{persona.type}:{persona.id}" if persona.id else "none"


def _persona_context(current: Current, persona: Persona) -> dict[str, Any]:
    catalog = services.catalog_for(project=current.project, persona=persona)
    examples = selectors.persona_examples(project=current.project, persona=persona, catalog=catalog)
    return {
        "persona": persona,
        "persona_key": persona_key(persona),
        "catalog": catalog,
        "examples": examples,
        "menu": selectors.persona_menu(project=current.project),
    }


def _provider_context(current: Current) -> dict[str, Any]:
    settings = services.draft_settings_get(project=current.project)
    return {
        "provider": settings.provider,
        "provider_label": ProviderKind(settings.provider).label,
        "offline": settings.provider == ProviderKind.OFFLINE,
    }


@project_view
def create_home(request: HttpRequest, current: Current) -> HttpResponse:
    persona = parse_persona(current.project, request.GET.get("persona"))
    drafts = selectors.draft_list(project=current.project)[:50]
    context = {
        "drafts": drafts,
        "form": PromptForm(),
        **_persona_context(current, persona),
        **_provider_context(current),
    }
    return render(request, "web/create.html", context)


@project_view
def personalise(request: HttpRequest, current: Current, kind: str, pk: int) -> HttpResponse:
    """“Personalise for…” on a contact, tag or segment: Create with that persona chosen."""
    persona = parse_persona(current.project, f"{kind}:{pk}")
    return redirect(f"{reverse('web:create')}?persona={persona_key(persona)}")


@project_view
def persona_options(request: HttpRequest, current: Current) -> HttpResponse:
    """The persona menu's lists, filtered by the search box (an htmx partial)."""
    menu = selectors.persona_menu(project=current.project, search=request.GET.get("q"))
    return render(request, "web/_persona_options.html", {"menu": menu})


@project_view
def draft_new(request: HttpRequest, current: Current) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    persona = parse_persona(current.project, request.POST.get("persona"))
    form = PromptForm(request.POST)
    if not form.is_valid():
        context = {
            "drafts": selectors.draft_list(project=current.project)[:50],
            "form": form,
            **_persona_context(current, persona),
            **_provider_context(current),
        }
        return render(request, "web/create.html", context, status=422)
    draft, _ = services.draft_create(
        project=current.project, prompt=form.cleaned_data["prompt"], persona=persona, user=request.user
    )
    return redirect("web:draft", draft_id=draft.pk)


def _draft_page(
    request: HttpRequest, current: Current, draft: Draft, form: PromptForm | None = None, status: int = 200
) -> HttpResponse:
    persona = services.draft_persona(draft=draft)
    context = _persona_context(current, persona)
    examples = context["examples"]
    try:
        index = int(request.GET.get("as", "0"))
    except ValueError:
        index = 0
    index = index % len(examples) if examples else 0
    design = draft.design
    versions = list(designs.design_versions(design=design)) if design else []
    context.update(
        {
            "draft": draft,
            "design": design,
            "versions": versions,
            "chat": list(selectors.draft_messages(draft=draft)),
            "form": form or PromptForm(),
            "example": examples[index] if examples else None,
            "example_index": index,
            "next_example": (index + 1) % len(examples) if len(examples) > 1 else None,
            **_provider_context(current),
        }
    )
    template = "web/_draft_workspace.html" if request.htmx else "web/draft.html"
    return render(request, template, context, status=status)


@project_view
def draft_detail(request: HttpRequest, current: Current, draft_id: int) -> HttpResponse:
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    return _draft_page(request, current, draft)


@project_view
def draft_reply(request: HttpRequest, current: Current, draft_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    form = PromptForm(request.POST)
    if not form.is_valid():
        return _draft_page(request, current, draft, form=form, status=422)
    services.draft_reply(draft=draft, prompt=form.cleaned_data["prompt"], user=request.user)
    if request.htmx:
        return _draft_page(request, current, selectors.draft_get(project=current.project, draft_id=draft_id))
    return redirect("web:draft", draft_id=draft.pk)


@project_view
def draft_persona(request: HttpRequest, current: Current, draft_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    persona = parse_persona(current.project, request.POST.get("persona"))
    services.draft_set_persona(draft=draft, persona=persona)
    return redirect("web:draft", draft_id=draft.pk)


@project_view
def draft_restore(request: HttpRequest, current: Current, draft_id: int, number: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    current.require(Role.EDITOR)
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    try:
        message = services.draft_restore(draft=draft, number=number, user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, message.text)
    return redirect("web:draft", draft_id=draft.pk)


@project_view
def draft_delete(request: HttpRequest, current: Current, draft_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    if request.method != "POST":
        return render(request, "web/draft_delete.html", {"draft": draft})
    services.draft_delete(draft=draft)
    messages.success(request, f"The draft “{draft.title}” was deleted; its email design is kept.")
    return redirect("web:create")


@project_view
def draft_preview(request: HttpRequest, current: Current, draft_id: int) -> HttpResponse:
    """The draft's current (or a chosen) version, rendered as the chosen example contact."""
    draft = selectors.draft_get(project=current.project, draft_id=draft_id)
    if draft.design is None:
        return preview_response("<p style='font-family:sans-serif;color:#6b7785'>No version yet.</p>")
    contact = None
    if request.GET.get("contact"):
        contact = parse_persona(current.project, f"contact:{request.GET['contact']}").contact
    obj: Any = draft.design
    if request.GET.get("version", "").isdigit():
        obj = designs.design_version_get(design=draft.design, number=int(request.GET["version"]))
    rendered = designs.design_preview(project=current.project, source=designs.source_of(obj), contact=contact)
    return preview_response(rendered.html)
