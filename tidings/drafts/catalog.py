"""Personas and the variable catalog: which personalisation variables the AI may use.

- No persona: the fallback variables ``firstName``, ``lastName``, ``email``, ``company``.
- One contact: the fields that contact really has, with their values.
- A segment (audience) or a tag: every built-in field and every custom-field key
  with its fill rate in the cohort; a field filled for fewer than the project's
  threshold (5 % unless set) is hidden, so a draft never leans on it.

The cohort is read in two passes whatever its size: one grouped scan for the
built-in fields (which also yields the dominant country and language, the tone
cues), and one pass over the custom fields' JSON keys; never a query per key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from tidings.audience import segments
from tidings.audience.fields import CONTACT_FIELDS
from tidings.audience.models import Contact, ContactTag, Segment, Tag
from tidings.content.templating import RESERVED
from tidings.core.errors import ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped
from tidings.drafts.models import DEFAULT_THRESHOLD_BP, PersonaType

# The built-in variables a catalog offers, in the order people think of them.
BUILT_IN = ("firstName", "lastName", "email", "company", "phone", "country", "language", "createdAt")
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
# Low-cardinality fields whose most common value shapes the tone of a draft.
CUE_FIELDS = ("country", "language")


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


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "text"
        return "date" if len(value) >= 10 and value[4] == "-" else "text"
    return "text"


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
        if key in RESERVED or value in ("", None) or isinstance(value, dict | list):
            continue
        variables.append(Variable(key, key, "custom", _json_type(value), value=value))
    return variables


# -- the cohort passes ---------------------------------------------------------------


def _built_in_counts(cohort: QuerySet[Contact]) -> tuple[int, dict[str, int], dict[str, dict[str, Any]]]:
    """One grouped scan: the size, how many have each built-in field, and the cue fields' modes."""
    counted = {
        name: Count("pk", filter=~Q(**{CONTACT_FIELDS[name].column: ""}))
        for name in BUILT_IN
        if name not in ("email", "createdAt", *CUE_FIELDS)
    }
    rows = cohort.order_by().values(*CUE_FIELDS).annotate(n=Count("pk"), **counted)
    total = 0
    filled = dict.fromkeys(counted, 0)
    tallies: dict[str, dict[str, int]] = {name: {} for name in CUE_FIELDS}
    for row in rows:
        total += row["n"]
        for name in counted:
            filled[name] += row[name]
        for name in CUE_FIELDS:
            value = row[CONTACT_FIELDS[name].column]
            if value:
                tallies[name][value] = tallies[name].get(value, 0) + row["n"]
    filled["email"] = filled["createdAt"] = total
    cues = {}
    for name, tally in tallies.items():
        filled[name] = sum(tally.values())
        if tally:
            value, count = max(tally.items(), key=lambda item: (item[1], item[0]))
            cues[name] = {"value": value, "share": count / total}
    return total, filled, cues


_CUSTOM_SQL = {
    "postgresql": """
        SELECT e.key, jsonb_typeof(e.value), count(*)
        FROM ({cohort}) AS c CROSS JOIN LATERAL jsonb_each(c.custom_fields) AS e
        WHERE e.value NOT IN ('null'::jsonb, '""'::jsonb)
        GROUP BY 1, 2
    """,
    "sqlite": """
        SELECT e.key, e.type, count(*)
        FROM ({cohort}) AS c, json_each(c.custom_fields) AS e
        WHERE e.type <> 'null' AND NOT (e.type = 'text' AND e.value = '')
        GROUP BY 1, 2
    """,
}
_SQL_TYPES = {
    "string": "text",
    "text": "text",
    "number": "number",
    "integer": "number",
    "real": "number",
    "boolean": "boolean",
    "true": "boolean",
    "false": "boolean",
}


def _custom_counts(cohort: QuerySet[Contact]) -> dict[str, tuple[int, str]]:
    """One pass over every cohort member's custom-field keys: key -> (filled, type)."""
    sql, params = cohort.order_by().values("custom_fields").query.sql_with_params()
    statement = _CUSTOM_SQL[connection.vendor].format(cohort=sql)
    found: dict[str, tuple[int, set[str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for key, sql_type, count in cursor.fetchall():
            kind = _SQL_TYPES.get(sql_type)
            if kind is None:  # objects and arrays are not variables
                continue
            filled, kinds = found.get(key, (0, set()))
            found[key] = (filled + count, kinds | {kind})
    return {
        key: (filled, kinds.pop() if len(kinds) == 1 else "mixed") for key, (filled, kinds) in found.items()
    }


def _shown(filled: int, total: int, threshold_bp: int) -> bool:
    # Integer arithmetic: 4.9 % is below 5 % and 5.0 % is not, with no rounding in between.
    return total > 0 and filled * 10_000 >= threshold_bp * total


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
    total, filled, cues = _built_in_counts(cohort)
    candidates = [
        Variable(
            name,
            LABELS[name],
            "built-in",
            "date" if name == "createdAt" else "text",
            filled=filled[name],
            fill_rate=filled[name] / total if total else 0.0,
            default=DEFAULTS.get(name, ""),
        )
        for name in BUILT_IN
    ]
    if total:
        for key, (count, kind) in sorted(_custom_counts(cohort).items()):
            if key in RESERVED:
                continue
            candidates.append(Variable(key, key, "custom", kind, filled=count, fill_rate=count / total))
    shown = [v for v in candidates if _shown(v.filled or 0, total, threshold_bp)]
    hidden = [v for v in candidates if not _shown(v.filled or 0, total, threshold_bp)]
    return Catalog(
        persona=persona,
        cohort_size=total,
        threshold_bp=threshold_bp,
        variables=shown,
        hidden=hidden,
        cues=cues,
    )
