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
    ProjectInfo,
    check_template,
    render_context,
    variables_used,
)
from tidings.core.errors import ValidationError
from tidings.drafts.catalog import Catalog

ALWAYS_ALLOWED = frozenset({*LINK_VARIABLES, "project"})
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_OUTPUT = re.compile(r"\{\{(-?)\s*(" + _NAME + r")((?:\.\w+)*)\s*((?:\|[^}]*)?)(-?)\}\}")
_TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
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


def _remove_unknown(source: str, unknown: set[str]) -> str:
    """Outputs of unknown variables become their default text (or nothing); conditions see nil."""

    def output(match: re.Match[str]) -> str:
        if match.group(2) not in unknown:
            return match.group(0)
        default = _DEFAULT_LITERAL.search(match.group(4) or "")
        return default.group(1)[1:-1] if default else ""

    source = _OUTPUT.sub(output, source)
    if not unknown:
        return source
    names = re.compile(
        r"(?<![\w.\"'])(" + "|".join(re.escape(n) for n in sorted(unknown)) + r")((?:\.\w+)*)\b"
    )
    return _TAG.sub(lambda m: names.sub("nil", m.group(0)), source)


def add_defaults(source: str, defaults: dict[str, str]) -> str:
    """Give every catalog variable's output a ``default`` filter, placed first."""

    def output(match: re.Match[str]) -> str:
        left, name, path, filters, right = match.groups()
        if name in ALWAYS_ALLOWED or name not in defaults or "default" in (filters or ""):
            return match.group(0)
        chain = f" | default: {_literal(defaults[name])}"
        rest = f" {filters.strip()}" if filters and filters.strip() else ""
        return "{{" + left + f" {name}{path}{chain}{rest} " + right + "}}"

    return _OUTPUT.sub(output, source)


def check_draft(
    *, subject: str, preheader: str, body: str, catalog: Catalog, project: ProjectInfo, final: bool
) -> CheckedDraft:
    """Check and clean one answer. Unless ``final``, problems are returned for a second try first."""
    problems: list[str] = []
    allowed = set(catalog.names) | ALWAYS_ALLOWED
    used = variables_used(f"{subject}\n{preheader}\n{body}")
    unknown = used - allowed
    for path, text in (("subject", subject), ("preheader", preheader), ("body", body)):
        try:
            check_template(text, path=path)
        except ValidationError as exc:
            problems.append(exc.detail)
    if not body.lstrip().lower().startswith("<mjml"):
        problems.append("body: must be an MJML document starting with <mjml>")
    if unknown and not final:
        problems.append(
            "uses variables that are not in the catalog: "
            + ", ".join(sorted(unknown))
            + f". Use only: {', '.join(sorted(allowed))}."
        )
    if not problems or final:
        subject, preheader, body = (_remove_unknown(t, unknown) for t in (subject, preheader, body))
        defaults = catalog.defaults()
        subject, preheader, body = (add_defaults(t, defaults) for t in (subject, preheader, body))
        try:
            render_full(DesignSource(MJML, subject, preheader, body), render_context(project=project))
        except RenderError as exc:
            problems.append(f"body: {exc.detail}")
    used = variables_used(f"{subject}\n{preheader}\n{body}")
    return CheckedDraft(
        subject=subject.strip(),
        preheader=preheader.strip(),
        body=body,
        variables=sorted(used - ALWAYS_ALLOWED),
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
