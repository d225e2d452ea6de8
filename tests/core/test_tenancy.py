"""Tenancy is enforced in one place: every tenant-owned model goes through the project scope."""

from __future__ import annotations

import pytest
from django.apps import apps

from tidings.core.errors import NotFound
from tidings.core.models import ApiKey, Project, ProjectScopedModel
from tidings.core.scoping import get_scoped, scoped
from tidings.core.services import api_key_create


def test_every_model_with_a_project_is_project_scoped() -> None:
    offenders = [
        model._meta.label
        for model in apps.get_models()
        if any(getattr(f, "related_model", None) is Project for f in model._meta.fields)
        and not issubclass(model, ProjectScopedModel)
    ]
    assert offenders == []


def test_scoped_reads_see_only_the_given_project(project: Project, other_project: Project) -> None:
    mine = api_key_create(project=project, name="mine").api_key
    api_key_create(project=other_project, name="theirs")
    assert list(scoped(ApiKey, project)) == [mine]
    assert list(ApiKey.objects.for_project(project.pk)) == [mine]


def test_another_projects_id_is_not_found(project: Project, other_project: Project) -> None:
    theirs = api_key_create(project=other_project, name="theirs").api_key
    with pytest.raises(NotFound):
        get_scoped(ApiKey, project, pk=theirs.pk)


@pytest.mark.parametrize("bad_id", ["abc", None, 10**30])
def test_malformed_id_is_not_found(project: Project, bad_id: object) -> None:
    with pytest.raises(NotFound):
        get_scoped(ApiKey, project, pk=bad_id)
