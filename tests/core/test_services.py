"""Project, member and API key services: the rules they keep."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tidings.core import services
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Membership, Project, Role


def test_project_slug_is_derived_from_the_name_and_kept_unique(db: None) -> None:
    first = services.project_create(name="Acme Mail!")
    second = services.project_create(name="Acme  mail")
    assert (first.slug, second.slug) == ("acme-mail", "acme-mail-2")


def test_derived_slug_passes_the_slug_rule(db: None) -> None:
    project = services.project_create(name="my_project")
    assert project.slug == "my-project"
    services.project_update(project=project, slug=project.slug)


def test_project_with_a_taken_slug_is_a_conflict(db: None) -> None:
    services.project_create(name="A", slug="shop")
    with pytest.raises(Conflict, match="'shop' already exists"):
        services.project_create(name="B", slug="shop")
    assert Project.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x", "slug": "Bad Slug"}, "slug"),
        ({"name": "x", "brand_color": "#12345"}, "brandColor"),
        ({"name": "x", "logo_url": "ftp://example.com/logo.png"}, "logoUrl"),
        ({"name": "x", "postal_address": "a" * 1001}, "postalAddress"),
        ({"name": "x", "brand_color": "#123456\n"}, "brandColor"),
        ({"name": "x", "slug": "acme\n"}, "slug"),
        ({"name": "x", "logo_url": "https://example.com/" + "a" * 500}, "logoUrl"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_invalid_project_fields_are_refused_with_the_field_path(
    db: None, fields: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.project_create(**fields)
    assert [e.path for e in caught.value.errors] == [path]
    assert Project.objects.count() == 0


def test_project_owner_becomes_its_first_member(make_user: Callable[..., Any]) -> None:
    user = make_user("owen")
    project = services.project_create(name="P", owner=user)
    assert list(Membership.objects.for_project(project).values_list("user__username", "role")) == [
        ("owen", "owner")
    ]


def test_roles_include_those_below_them(project: Project, make_user: Callable[..., Any]) -> None:
    editor = services.membership_set(project=project, user=make_user(), role=Role.EDITOR)
    assert editor.allows(Role.VIEWER)
    assert editor.allows(Role.EDITOR)
    assert not editor.allows(Role.ADMIN)


def test_unknown_role_is_refused(project: Project, make_user: Callable[..., Any]) -> None:
    with pytest.raises(ValidationError, match="role: must be one of owner, admin, editor, viewer"):
        services.membership_set(project=project, user=make_user(), role="god")


def test_weak_password_is_refused(db: None) -> None:
    with pytest.raises(ValidationError) as caught:
        services.user_create(username="pat", password="123")
    assert {e.path for e in caught.value.errors} == {"password"}


@pytest.mark.parametrize(
    ("username", "message"),
    [("a" * 151, "must be at most 150 characters"), ("bad name!", "use letters, digits and @ . + - _ only")],
)
def test_invalid_username_is_refused(db: None, username: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(f"username: {message}")):
        services.user_create(username=username, password="a long enough passphrase")


def test_username_is_unique_regardless_of_case(db: None) -> None:
    services.user_create(username="Sam", password="a long enough passphrase")
    with pytest.raises(Conflict):
        services.user_create(username="sam", password="a long enough passphrase")


def test_api_key_name_is_required(project: Project) -> None:
    with pytest.raises(ValidationError, match="name: must not be empty"):
        services.api_key_create(project=project, name="   ")
