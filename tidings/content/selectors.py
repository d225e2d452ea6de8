"""Reads for email designs, always through the project: designs, versions, diffs, previews."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from tidings.content.models import EmailDesign, EmailDesignVersion
from tidings.content.rendering import DesignSource, Rendered, RenderError, render_full
from tidings.content.templating import ProjectInfo, render_context
from tidings.core.errors import FieldError, NotFound, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped


def design_list(*, project: Project, search: str | None = None) -> QuerySet[EmailDesign]:
    designs = scoped(EmailDesign, project)
    if search and search.strip():
        designs = designs.filter(name__icontains=search.strip())
    return designs.defer("body")


def design_get(*, project: Project, design_id: int) -> EmailDesign:
    return get_scoped(EmailDesign, project, pk=design_id)


def design_versions(*, design: EmailDesign) -> QuerySet[EmailDesignVersion]:
    return design.versions.defer("body").order_by("-number")


def design_version_get(*, design: EmailDesign, number: int) -> EmailDesignVersion:
    try:
        return design.versions.get(number=number)
    except (EmailDesignVersion.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"design {design.pk} has no version {number}") from exc


def design_version_diff(*, design: EmailDesign, number: int, against: int) -> str:
    """A unified diff of two versions' sources (subject and preheader as the first lines)."""
    new = design_version_get(design=design, number=number)
    old = design_version_get(design=design, number=against)

    def lines(v: EmailDesignVersion) -> list[str]:
        return [
            f"Subject: {v.subject}\n",
            f"Preheader: {v.preheader}\n",
            "\n",
            *v.body.splitlines(keepends=True),
        ]

    return "".join(
        difflib.unified_diff(
            lines(old), lines(new), fromfile=f"version {against}", tofile=f"version {number}"
        )
    )


def preview_links() -> dict[str, str]:
    """Stand-ins for the per-recipient links, so a preview's links go somewhere harmless."""
    base = settings.BASE_URL.rstrip("/")
    return {"unsubscribeUrl": f"{base}/unsubscribe/preview", "preferencesUrl": f"{base}/preferences/preview"}


def design_context(*, project: Project, contact: Any | None = None) -> dict[str, Any]:
    """The variables of a preview: a contact's own values (or none), preview links, the project."""
    return render_context(project=ProjectInfo.of(project), contact=contact, links=preview_links())


def source_of(obj: EmailDesign | EmailDesignVersion | Mapping[str, Any]) -> DesignSource:
    if isinstance(obj, Mapping):
        return DesignSource(obj["format"], obj.get("subject", ""), obj.get("preheader", ""), obj["body"])
    return DesignSource(obj.format, obj.subject, obj.preheader, obj.body)


def design_preview(*, project: Project, source: DesignSource, contact: Any | None = None) -> Rendered:
    """Render a design (saved or not) for one contact, or for nobody (every default)."""
    try:
        return render_full(source, design_context(project=project, contact=contact))
    except RenderError as exc:
        raise ValidationError(FieldError("body", exc.detail)) from exc
