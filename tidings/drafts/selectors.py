"""Reads for drafting: the persona menu and drafts, always through the project."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from tidings.audience.fields import CONTACT_FIELDS
from tidings.audience.models import Contact, Segment, Tag
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped
from tidings.drafts.catalog import Catalog, Persona, persona_cohort
from tidings.drafts.cohort_counts import is_value
from tidings.drafts.models import Draft, DraftMessage

MENU_SIZE = 8


@dataclass(frozen=True)
class PersonaOption:
    type: str
    id: int
    name: str
    detail: str = ""


def persona_menu(*, project: Project, search: str | None = None, limit: int = MENU_SIZE) -> dict[str, list]:
    """Audiences, tags and recent contacts to draft for, matching ``search`` (a few of each)."""
    term = (search or "").strip()
    segments = scoped(Segment, project).order_by("name")
    tags = scoped(Tag, project).order_by("name")
    contacts = scoped(Contact, project).order_by("-updated_at", "-pk")
    if term:
        segments = segments.filter(name__icontains=term)
        tags = tags.filter(name__icontains=term)
        contacts = (
            contacts.filter(email_key__contains=term.lower())
            | contacts.filter(first_name__icontains=term)
            | contacts.filter(last_name__icontains=term)
        )
    return {
        "audiences": [PersonaOption("segment", s.pk, s.name) for s in segments[:limit]],
        "tags": [PersonaOption("tag", t.pk, t.name) for t in tags[:limit]],
        "contacts": [
            PersonaOption(
                "contact", c.pk, " ".join(p for p in (c.first_name, c.last_name) if p) or c.email, c.email
            )
            for c in contacts.order_by("-updated_at", "-pk")[:limit]
        ],
    }


def draft_list(*, project: Project) -> QuerySet[Draft]:
    return scoped(Draft, project).select_related("design")


def draft_messages(*, draft: Draft) -> QuerySet[DraftMessage]:
    return draft.messages.order_by("id")


def draft_get(*, project: Project, draft_id: int) -> Draft:
    return get_scoped(Draft.objects.select_related("design", "project"), project, pk=draft_id)


def persona_examples(
    *, project: Project, persona: Persona, catalog: Catalog, limit: int = 5
) -> list[Contact]:
    """Contacts to preview a draft as: the persona's contact, or representative cohort members.

    Representative = the members with the most of the catalog's variables filled,
    among the newest few dozen, so a preview shows what most recipients will see.
    """
    if persona.type == "none":
        return []
    if persona.type == "contact":
        return [persona.contact] if persona.contact is not None else []
    variables = catalog.variables
    members = list(persona_cohort(project=project, persona=persona).order_by("-pk")[:50])

    def filled(contact: Contact) -> int:
        custom = contact.custom_fields or {}
        count = 0
        for v in variables:
            # Built-ins by their column; custom fields by their key (the label), also
            # those offered as customFields.<key>.
            value = (
                getattr(contact, CONTACT_FIELDS[v.name].column)
                if v.kind == "built-in"
                else custom.get(v.label)
            )
            count += is_value(value)
        return count

    return sorted(members, key=lambda c: (-filled(c), -c.pk))[:limit]
