"""Reads for email designs, always through the project."""

from __future__ import annotations

from django.db.models import QuerySet

from tidings.content.models import EmailDesign, EmailDesignVersion
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
