"""Personas and the variable catalog: which personalisation variables the AI may use.

- No persona: the fallback variables ``firstName``, ``lastName``, ``email``, ``company``.
- One contact: the fields that contact really has, with their values.
- A segment (audience) or a tag: every built-in field and every custom-field key
  with its fill rate in the cohort; a field filled for fewer than the project's
  threshold (5 % unless set) is hidden, so a draft never leans on it, and a field
  nobody has is never offered.

A value is what a template shows: a blank or whitespace-only string (Liquid gets
nil for it), JSON null, an object or a list is none. A custom key that Liquid
cannot take as a top-level name (a keyword such as ``in``, or a built-in
variable's name) is offered as ``customFields.<key>``, and skipped if it is no
plain name at all.

A cohort is read in one or two passes whatever its size, never a query per key:

- PostgreSQL: one grouped statement counts the cohort, the built-in fields (and
  the dominant country and language, the tone cues), each custom-field key the
  project's registry (``CustomFieldKey``) knows, and the members holding a key it
  does not know. Usually there are none and the counts are complete. Otherwise a
  discovery pass (``jsonb_each`` over the cohort) counts every key and registers
  the new ones, so the next catalog is one statement again.
- SQLite: the grouped statement for the built-in fields, then the discovery pass.

A key's type (text, number, boolean, date, or mixed) is judged from the values
of the first 200 members: typing every value of a large cohort would cost more
than counting them (see bench/persona_catalog.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tidings.audience import segments
from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_PREFIX
from tidings.audience.models import Contact, ContactTag, Segment, Tag
from tidings.content.templating import RESERVED
from tidings.core.errors import ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped
from tidings.drafts.cohort_counts import BUILT_IN, cohort_counts, is_value, json_type, sampled_types
from tidings.drafts.models import DEFAULT_THRESHOLD_BP, PersonaType

# The built-in variables a catalog offers, in the order people think of them.
FALLBACK = ("firstName", "lastName", "email", "company")
LABELS = {
    "firstName": "First name",
    "lastName": "Last name",
    "email": "Email address",
    "company": "Company",
    "phone": "Phone",
    "country": "Country",
    "language": "Language",
    "createdAt": "Signed up",
}
# What a variable shows when a recipient has no value: every variable has one.
DEFAULTS = {"firstName": "there", "company": "your company"}

# Words that end or change a Liquid expression: `{{ in }}` is a syntax error and
# `{{ nil }}` is nil, so a key named so is offered as customFields.<key>. `forloop`
# is Liquid's loop object (the template checker never counts it as a variable).
LIQUID_WORDS = frozenset(
    {
        "in", "and", "or", "not", "contains", "with", "for", "as", "if", "else", "limit", "offset",
        "reversed", "continue", "cols", "required", "empty", "blank", "nil", "null", "true", "false",
        "forloop",
    }
)  # fmt: skip
# A name a Liquid path can hold: letters, digits, underscore, hyphen, not starting with a digit.
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str  # "built-in" | "custom"
    type: str  # "text" | "number" | "boolean" | "date" | "mixed"
    filled: int | None = None  # contacts of the cohort that have a value
    fill_rate: float | None = None  # filled / cohort size, 0..1
    value: Any = None  # a contact persona's own value
    default: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "type": self.type,
            "filled": self.filled,
            "fillRate": self.fill_rate,
            "value": self.value,
            "default": self.default,
        }


@dataclass(frozen=True)
class Persona:
    """Whom a draft is written for. It shapes the draft only; it never picks recipients."""

    type: str
    id: int | None = None
    name: str = ""
    contact: Contact | None = None

    @property
    def label(self) -> str:
        if self.type == PersonaType.NONE:
            return ""
        kind = {"contact": "Contact", "segment": "Audience", "tag": "Tag"}[self.type]
        return f"{kind}: {self.name}"


@dataclass(frozen=True)
class Catalog:
    persona: Persona
    cohort_size: int
    threshold_bp: int
    variables: list[Variable]  # what the AI may use
    hidden: list[Variable] = field(default_factory=list)  # below the threshold
    cues: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {value, share}

    @property
    def threshold_percent(self) -> float:
        return self.threshold_bp / 100

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def defaults(self) -> dict[str, str]:
        return {v.name: v.default for v in self.variables}


def persona_resolve(*, project: Project, type: str | None, id: int | None) -> Persona:
    """The persona ``type``/``id`` names in ``project`` (``audience`` is a segment); NotFound for others'."""
    kind = {"audience": PersonaType.SEGMENT, None: PersonaType.NONE, "": PersonaType.NONE}.get(type, type)
    if kind not in PersonaType.values:
        raise ValidationError.field("type", "must be one of: none, contact, audience (segment), tag")
    if kind == PersonaType.NONE:
        return Persona(type=PersonaType.NONE)
    if id is None:
        raise ValidationError.field("id", f"is required for a {kind} persona")
    if kind == PersonaType.CONTACT:
        contact = get_scoped(Contact, project, pk=id)
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p) or contact.email
        return Persona(type=kind, id=contact.pk, name=name, contact=contact)
    model = Segment if kind == PersonaType.SEGMENT else Tag
    obj = get_scoped(model, project, pk=id)
    return Persona(type=kind, id=obj.pk, name=obj.name)


def persona_cohort(*, project: Project, persona: Persona) -> QuerySet[Contact]:
    """The contacts a segment or tag persona stands for (as they are now)."""
    if persona.type == PersonaType.SEGMENT:
        segment = get_scoped(Segment, project, pk=persona.id)
        return segments.segment_contacts(project=project, filters=segment.filters)
    if persona.type == PersonaType.TAG:
        members = ContactTag.objects.filter(tag_id=persona.id).values("contact_id")
        return scoped(Contact, project).filter(pk__in=members)
    if persona.type == PersonaType.CONTACT:
        return scoped(Contact, project).filter(pk=persona.id)
    return scoped(Contact, project).none()


def _variable_name(key: str) -> str | None:
    """The name a custom key is offered under: itself, ``customFields.<key>``, or None (not at all)."""
    if not PLAIN_NAME.fullmatch(key):
        return None
    if key in RESERVED or key in LIQUID_WORDS:
        return CUSTOM_PREFIX + key
    return key


def _contact_catalog(persona: Persona) -> list[Variable]:
    contact = persona.contact
    assert contact is not None
    variables = []
    for name in BUILT_IN:
        value = getattr(contact, CONTACT_FIELDS[name].column)
        if value in ("", None):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        kind = "date" if name == "createdAt" else "text"
        variables.append(
            Variable(name, LABELS[name], "built-in", kind, value=value, default=DEFAULTS.get(name, ""))
        )
    for key, value in sorted((contact.custom_fields or {}).items()):
        name = _variable_name(key)
        if name is None or not is_value(value):
            continue
        variables.append(Variable(name, key, "custom", json_type(value), value=value))
    return variables


# -- reading a cohort ----------------------------------------------------------------


def _shown(filled: int, total: int, threshold_bp: int) -> bool:
    # Integer arithmetic: 4.9 % is below 5 % and 5.0 % is not, with no rounding in
    # between; and however low the threshold, a field nobody has is not offered.
    return filled > 0 and filled * 10_000 >= threshold_bp * total


def catalog_build(*, project: Project, persona: Persona, threshold_bp: int = DEFAULT_THRESHOLD_BP) -> Catalog:
    """The variable catalog of ``persona`` (see the module's docstring)."""
    if persona.type == PersonaType.NONE:
        variables = [
            Variable(name, LABELS[name], "built-in", "text", default=DEFAULTS.get(name, ""))
            for name in FALLBACK
        ]
        return Catalog(persona=persona, cohort_size=0, threshold_bp=threshold_bp, variables=variables)
    if persona.type == PersonaType.CONTACT:
        return Catalog(
            persona=persona, cohort_size=1, threshold_bp=threshold_bp, variables=_contact_catalog(persona)
        )
    cohort = persona_cohort(project=project, persona=persona)
    counts = cohort_counts(project, cohort)
    total = counts.total
    candidates = [
        Variable(
            name,
            LABELS[name],
            "built-in",
            "date" if name == "createdAt" else "text",
            filled=counts.filled[name],
            fill_rate=counts.filled[name] / total if total else 0.0,
            default=DEFAULTS.get(name, ""),
        )
        for name in BUILT_IN
    ]
    offered: dict[str, str] = {}  # key -> the name it is offered under
    for key, filled in sorted(counts.custom.items()):
        name = _variable_name(key)
        if filled and name is not None:
            offered[key] = name
    types = sampled_types(cohort, list(offered)) if offered else {}
    for key, name in offered.items():
        filled = counts.custom[key]
        candidates.append(Variable(name, key, "custom", types[key], filled=filled, fill_rate=filled / total))
    shown = [v for v in candidates if _shown(v.filled or 0, total, threshold_bp)]
    hidden = [v for v in candidates if not _shown(v.filled or 0, total, threshold_bp)]
    return Catalog(
        persona=persona,
        cohort_size=total,
        threshold_bp=threshold_bp,
        variables=shown,
        hidden=hidden,
        cues=counts.cues,
    )
