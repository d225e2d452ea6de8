"""The one way to reach tenant data: always through a project.

Every read of a ``ProjectScopedModel`` goes through ``scoped`` (or
``Model.objects.for_project``). An id from another project is indistinguishable
from an id that does not exist: both are ``NotFound``.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from tidings.core.errors import NotFound
from tidings.core.models import Project, ProjectScopedModel


def scoped[M: ProjectScopedModel](
    source: type[M] | models.QuerySet[M], project: Project | int
) -> models.QuerySet[M]:
    queryset = source._default_manager.all() if isinstance(source, type) else source
    project_id = project if isinstance(project, int) else project.pk
    return queryset.filter(project_id=project_id)


def get_scoped[M: ProjectScopedModel](
    source: type[M] | models.QuerySet[M], project: Project | int, **lookup: Any
) -> M:
    queryset = scoped(source, project)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"{queryset.model._meta.verbose_name} not found") from exc
