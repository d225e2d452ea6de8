"""Writes for email designs: create, save (a new version each time), restore, delete, test sends.

Every save is checked first: Liquid syntax (with line and column), a render
for a sample recipient (MJML that compiles, no sandbox limit hit), then lint
warnings, which are kept on the design and shown, never blocking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F

from tidings.content.lint import LintWarning, lint_design
from tidings.content.models import DesignFormat, DesignPurpose, EmailDesign, EmailDesignVersion, VersionSource
from tidings.content.rendering import Rendered, RenderError, render_full
from tidings.content.selectors import design_context, design_version_get, source_of
from tidings.content.templating import check_template
from tidings.core.errors import FieldError, ValidationError
from tidings.core.models import Project

MAX_BODY_BYTES = 512 * 1024
STARTERS_DIR = Path(__file__).parent / "starters"
STARTERS = {
    "newsletter": ("Monthly newsletter", '{{ firstName | default: "Hello" }}, what changed this month'),
    "blank": ("Blank email", ""),
}
CONTENT_FIELDS = ("name", "purpose", "format", "subject", "preheader", "body")


def starter_body(name: str) -> str:
    if name == "blank":
        return (
            "<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n"
            '        <mj-text>Hello {{ firstName | default: "there" }},</mj-text>\n'
            "      </mj-column>\n    </mj-section>\n    <mj-section>\n      <mj-column>\n"
            '        <mj-text font-size="12px" color="#6b7785">{{ project.postalAddress }} · '
            '<a href="{{ unsubscribeUrl }}">Unsubscribe</a></mj-text>\n'
            "      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n"
        )
    return (STARTERS_DIR / f"{name}.mjml").read_text()


# -- checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]
    rendered: Rendered
    warnings: list[LintWarning]


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError("name", "must not be empty"))
    elif len(name.strip()) > 200:
        errors.append(FieldError("name", "must be at most 200 characters"))
    else:
        cleaned["name"] = name.strip()
    for key, choices in (("format", DesignFormat), ("purpose", DesignPurpose)):
        value = values.get(key)
        if value not in choices.values:
            errors.append(FieldError(key, f"must be one of: {', '.join(choices.values)}"))
        else:
            cleaned[key] = value
    for key in ("subject", "preheader"):
        value = values.get(key) or ""
        if not isinstance(value, str):
            errors.append(FieldError(key, "must be text"))
        elif len(value) > 500:
            errors.append(FieldError(key, "must be at most 500 characters"))
        elif "\n" in value.strip() or "\r" in value:
            errors.append(FieldError(key, "must be one line"))
        else:
            cleaned[key] = value.strip()
    body = values.get("body")
    if not isinstance(body, str) or not body.strip():
        errors.append(FieldError("body", "must not be empty"))
    elif len(body.encode()) > MAX_BODY_BYTES:
        errors.append(FieldError("body", f"must be at most {MAX_BODY_BYTES // 1024} KB"))
    else:
        cleaned["body"] = body
    for key in ("subject", "preheader", "body"):
        if key in cleaned:
            try:
                check_template(cleaned[key], path=key)
            except ValidationError as exc:
                errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def design_check(*, project: Project, values: Mapping[str, Any], contact: Any | None = None) -> Checked:
    """Check a design's fields and render it for ``contact`` (or nobody); raises ``ValidationError``."""
    cleaned = _clean(values)
    source = source_of(cleaned)
    try:
        rendered = render_full(source, design_context(project=project, contact=contact))
    except RenderError as exc:
        raise ValidationError(FieldError("body", exc.detail)) from exc
    warnings = lint_design(
        html=rendered.html, body_source=source.body, marketing=cleaned["purpose"] == DesignPurpose.MARKETING
    )
    if not cleaned.get("subject"):
        warnings.insert(0, LintWarning("no_subject", "The email has no subject yet."))
    return Checked(values=cleaned, rendered=rendered, warnings=warnings)


# -- writes --------------------------------------------------------------------------


def _add_version(
    design: EmailDesign, *, source: str, user: Any | None = None, note: str = ""
) -> EmailDesignVersion:
    return EmailDesignVersion.objects.create(
        design=design,
        number=design.version,
        name=design.name,
        format=design.format,
        subject=design.subject,
        preheader=design.preheader,
        body=design.body,
        source=source,
        note=note[:500],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


@transaction.atomic
def design_create(
    *,
    project: Project,
    values: Mapping[str, Any],
    user: Any | None = None,
    source: str = VersionSource.EDITOR,
    note: str = "",
) -> EmailDesign:
    """Create a design and its version 1. ``values``: name, purpose, format, subject, preheader, body."""
    values = {"purpose": DesignPurpose.MARKETING, "format": DesignFormat.MJML, **values}
    checked = design_check(project=project, values=values)
    design = EmailDesign.objects.create(
        project=project, version=1, warnings=[w.as_dict() for w in checked.warnings], **checked.values
    )
    _add_version(design, source=source, user=user, note=note)
    return design


def design_create_from_starter(
    *, project: Project, starter: str, name: str | None = None, user: Any | None = None
) -> EmailDesign:
    if starter not in STARTERS:
        raise ValidationError.field("starter", f"must be one of: {', '.join(STARTERS)}")
    title, subject = STARTERS[starter]
    values = {"name": name or title, "subject": subject, "body": starter_body(starter)}
    return design_create(project=project, values=values, user=user, source=VersionSource.STARTER)


@transaction.atomic
def design_update(
    *,
    design: EmailDesign,
    values: Mapping[str, Any],
    user: Any | None = None,
    source: str = VersionSource.EDITOR,
    note: str = "",
) -> tuple[EmailDesign, bool]:
    """Save changes as the next version; returns (design, whether a version was added).

    Fields left out keep their value; a save that changes nothing adds no version.
    """
    design = EmailDesign.objects.select_for_update().get(pk=design.pk)
    merged = {key: values.get(key, getattr(design, key)) for key in CONTENT_FIELDS}
    checked = design_check(project=design.project, values=merged)
    if all(getattr(design, key) == checked.values[key] for key in CONTENT_FIELDS):
        return design, False
    for key, value in checked.values.items():
        setattr(design, key, value)
    design.version = F("version") + 1
    design.warnings = [w.as_dict() for w in checked.warnings]
    design.save()
    design.refresh_from_db()
    _add_version(design, source=source, user=user, note=note)
    return design, True


def design_restore(*, design: EmailDesign, number: int, user: Any | None = None) -> EmailDesign:
    """Make an earlier version current again, as a new version (history is never rewritten)."""
    old = design_version_get(design=design, number=number)
    values = {key: getattr(old, key) for key in ("name", "format", "subject", "preheader", "body")}
    updated, _ = design_update(
        design=design,
        values=values,
        user=user,
        source=VersionSource.RESTORE,
        note=f"Restored version {number}",
    )
    return updated


def design_delete(*, design: EmailDesign) -> None:
    design.delete()


def design_duplicate(*, design: EmailDesign, user: Any | None = None) -> EmailDesign:
    values = {key: getattr(design, key) for key in CONTENT_FIELDS}
    values["name"] = f"{design.name} (copy)"[:200]
    return design_create(
        project=design.project, values=values, user=user, note=f"Copied from “{design.name}”"
    )
