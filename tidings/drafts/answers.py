"""Checking an AI provider's draft before anyone sees it.

An answer must be valid Liquid and MJML that compiles, and may use only the
persona's catalog variables (plus the links and ``project.*`` every email has).
The caller asks once more, with the problems, when an answer falls short;
unknown variables that survive the second answer are removed, and every
variable left is given a default, so every recipient gets a whole email.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tidings.content.rendering import MJML, DesignSource, RenderError, render_full
from tidings.content.templating import (
    LINK_VARIABLES,
    LIQUID_MARKUP,
    ProjectInfo,
    check_template,
    render_context,
    variable_paths,
)
from tidings.core.errors import ValidationError
from tidings.drafts.catalog import Catalog

ALWAYS_ALLOWED = frozenset({*LINK_VARIABLES, "project"})
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_OUTPUT = re.compile(r"\{\{(-?)\s*(" + _NAME + r")((?:\.\w+)*)\s*((?:\|[^}]*)?)(-?)\}\}")
_DEFAULT_LITERAL = re.compile(r"default\s*:\s*(\"[^\"]*\"|'[^']*')")


@dataclass
class CheckedDraft:
    subject: str
    preheader: str
    body: str
    variables: list[str]
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what a second answer must fix


def _literal(text: str) -> str:
    """A Liquid string literal for ``text`` (Liquid has no escapes inside quotes)."""
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "'") + '"'


def _dotted(name: str, path: str) -> str:
    """The catalog's name for a use: ``customFields.plan`` keeps its key, others their head."""
    if name in ("customFields", "project") and path:
        return name + "." + path.lstrip(".").split(".")[0]
    return name


def _remove_unknown(source: str, unknown: set[str]) -> str:
    """Outputs of unknown variables become their default text (or nothing); other uses see nil."""
    if not unknown:
        return source

    def output(match: re.Match[str]) -> str:
        if _dotted(match.group(2), match.group(3)) not in unknown:
            return match.group(0)
        default = _DEFAULT_LITERAL.search(match.group(4) or "")
        return default.group(1)[1:-1] if default else ""

    source = _OUTPUT.sub(output, source)
    names = re.compile(
        r"(?<![\w.\"'])("
        + "|".join(re.escape(n) for n in sorted(unknown, key=len, reverse=True))
        + r")((?:\.\w+)*)\b"
    )
    return LIQUID_MARKUP.sub(lambda m: names.sub("nil", m.group(0)), source)


def add_defaults(source: str, defaults: dict[str, str]) -> str:
    """Give every catalog variable's output a ``default`` filter, placed first."""

    def output(match: re.Match[str]) -> str:
        left, name, path, filters, right = match.groups()
        key = _dotted(name, path)
        if key not in defaults and name == "customFields":
            key = key.partition(".")[2]  # a custom field offered by its key, read the long way
        if name in ALWAYS_ALLOWED or key not in defaults or _DEFAULT_LITERAL.search(filters or ""):
            return match.group(0)
        chain = f" | default: {_literal(defaults[key])}"
        rest = f" {filters.strip()}" if filters and filters.strip() else ""
        return "{{" + left + f" {name}{path}{chain}{rest} " + right + "}}"

    return _OUTPUT.sub(output, source)


def _allowed(path: str, catalog: Catalog) -> bool:
    head = path.split(".")[0]
    if head in ALWAYS_ALLOWED or path in catalog.names:
        return True
    # A custom field the catalog offers by its key may also be read as customFields.<key>.
    custom = {v.label for v in catalog.variables if v.kind == "custom"}
    return head == "customFields" and path.partition(".")[2] in custom


def unknown_paths(text: str, catalog: Catalog) -> set[str]:
    """The variables ``text`` reads that the catalog does not offer (by Liquid's own analysis)."""
    return {path for path in variable_paths(text) if not _allowed(path, catalog)}


def check_draft(
    *, subject: str, preheader: str, body: str, catalog: Catalog, project: ProjectInfo, final: bool
) -> CheckedDraft:
    """Check and clean one answer. Unless ``final``, problems are returned for a second try first."""
    problems: list[str] = []
    for path, text in (("subject", subject), ("preheader", preheader), ("body", body)):
        try:
            check_template(text, path=path)
        except ValidationError as exc:
            problems.append(exc.detail)
    unknown = unknown_paths(f"{subject}\n{preheader}\n{body}", catalog)
    if not body.lstrip().lower().startswith("<mjml"):
        problems.append("body: must be an MJML document starting with <mjml>")
    if unknown and not final:
        offered = sorted({*catalog.names, *LINK_VARIABLES, "project.name", "project.postalAddress"})
        problems.append(
            "uses variables that are not in the catalog: "
            + ", ".join(sorted(unknown))
            + f". Use only: {', '.join(offered)}."
        )
    if not problems or final:
        subject, preheader, body = (_remove_unknown(t, unknown) for t in (subject, preheader, body))
        left = unknown_paths(f"{subject}\n{preheader}\n{body}", catalog)
        if left:
            problems.append(
                "reads variables outside the catalog in ways that cannot be removed: "
                + ", ".join(sorted(left))
            )
        defaults = catalog.defaults()
        subject, preheader, body = (add_defaults(t, defaults) for t in (subject, preheader, body))
        try:
            render_full(DesignSource(MJML, subject, preheader, body), render_context(project=project))
        except RenderError as exc:
            problems.append(f"body: {exc.detail}")
    used = variable_paths(f"{subject}\n{preheader}\n{body}")
    return CheckedDraft(
        subject=subject.strip(),
        preheader=preheader.strip(),
        body=body,
        variables=sorted(p for p in used if p.split(".")[0] not in ALWAYS_ALLOWED),
        removed=sorted(unknown) if (final or not problems) else [],
        problems=problems,
    )


def catalog_for_prompt(catalog: Catalog) -> str:
    """The catalog as the system prompt shows it: one variable a line."""
    lines = []
    for v in catalog.variables:
        if v.value is not None:
            detail = f"this person's value: {json.dumps(v.value, ensure_ascii=False)}"
        elif v.fill_rate is not None:
            detail = f"filled for {v.fill_rate:.0%} of them"
        else:
            detail = "fallback variable"
        lines.append(f'- {v.name} ({v.label}; {v.type}; {detail}; default "{v.default}")')
    return "\n".join(lines) or "- (none: write without personal data)"
