"""The web UI through Django's test client: signing in, pages, the current project."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import PASSWORD
from tidings.core import services
from tidings.core.models import ApiKey, Project, Role
from tidings.web.access import SESSION_PROJECT

NAV_PAGES = [
    "web:home",
    "web:contacts",
    "web:tags",
    "web:segments",
    "web:create",
    "web:campaigns",
    "web:results",
    "web:project_settings",
    "web:providers",
    "web:domains",
    "web:topics",
    "web:api_keys",
    "web:members",
]
EMPTY_SECTIONS = {
    "web:contacts": "There are no contacts in Acme Mail yet.",
    "web:tags": "There are no tags in Acme Mail yet.",
    "web:segments": "There are no segments in Acme Mail yet.",
    "web:create": "There are no email drafts in Acme Mail yet.",
    "web:campaigns": "There are no campaigns in Acme Mail yet.",
    "web:results": "There are no results in Acme Mail yet.",
    "web:providers": "There are no email provider connections in Acme Mail yet.",
    "web:domains": "There are no sending domains in Acme Mail yet.",
    "web:topics": "There are no topics in Acme Mail yet.",
}
API_KEYS = "/settings/api-keys/"


def _revoke_url(key: ApiKey) -> str:
    return reverse("web:api_key_revoke", args=[key.pk])


# -- signing in -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAV_PAGES)
def test_pages_redirect_anonymous_visitors_to_login(db: None, name: str) -> None:
    url = reverse(name)

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_login_with_the_right_password_opens_the_project(project: Project, owner: Any) -> None:
    client = Client()

    response = client.post("/login/", {"username": "olivia", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "<h1>Acme Mail</h1>" in home.content.decode()


def test_login_with_a_wrong_password_is_refused(project: Project, owner: Any) -> None:
    client = Client()

    response = client.post("/login/", {"username": "olivia", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_logout_is_a_post_and_ends_the_session(owner_client: Client) -> None:
    assert owner_client.get("/logout/").status_code == 405

    response = owner_client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert owner_client.get("/").status_code == 302


def test_forms_refuse_a_post_without_csrf_token(project: Project, owner: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(API_KEYS, {"name": "sneaky"})

    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="sneaky").exists()


def test_user_without_a_project_is_told_how_to_get_one(make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user("nomad"))

    response = client.get("/audience/contacts/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "You are not in a project yet" in body
    assert "tidings member add nomad --project SLUG --role editor" in body
    assert 'tidings project create "Project name" --owner nomad' in body


# -- pages and the current project --------------------------------------------------


@pytest.mark.parametrize("name", NAV_PAGES)
def test_every_nav_page_renders_for_a_viewer(
    project: Project, member_client: Callable[..., Client], name: str
) -> None:
    client = member_client(project, Role.VIEWER)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert "Acme Mail" in response.content.decode()


@pytest.mark.parametrize(("name", "sentence"), EMPTY_SECTIONS.items())
def test_empty_sections_say_they_are_empty_for_this_project(
    owner_client: Client, name: str, sentence: str
) -> None:
    response = owner_client.get(reverse(name))

    assert sentence in response.content.decode()


def test_nav_marks_the_page_being_viewed(owner_client: Client) -> None:
    body = owner_client.get("/audience/tags/").content.decode()

    assert '<a href="/audience/tags/" aria-current="page">Tags</a>' in body
    assert '<a href="/audience/contacts/">Contacts</a>' in body


def test_project_names_are_escaped(make_project: Callable[..., Project], owner: Any) -> None:
    project = make_project("<script>alert(1)</script>", owner=owner)
    client = Client()
    client.force_login(owner)
    client.post("/switch-project/", {"project": project.pk})

    body = client.get("/").content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_switch_project_makes_a_member_project_current(
    project: Project, other_project: Project, owner: Any, owner_client: Client
) -> None:
    services.membership_set(project=other_project, user=owner, role=Role.VIEWER)

    response = owner_client.post("/switch-project/", {"project": other_project.pk, "next": "/audience/tags/"})

    assert response.status_code == 302
    assert response["Location"] == "/audience/tags/"
    assert owner_client.session[SESSION_PROJECT] == other_project.pk
    assert "There are no tags in Rival Co yet." in owner_client.get("/audience/tags/").content.decode()


def test_switch_project_refuses_a_project_the_user_is_not_a_member_of(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    owner_client.post("/switch-project/", {"project": project.pk})

    response = owner_client.post("/switch-project/", {"project": other_project.pk})

    assert response.status_code == 404
    assert owner_client.session[SESSION_PROJECT] == project.pk
    assert "<h1>Acme Mail</h1>" in owner_client.get("/").content.decode()


def test_switch_project_does_not_redirect_to_another_site(project: Project, owner_client: Client) -> None:
    response = owner_client.post("/switch-project/", {"project": project.pk, "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_a_project_left_behind_in_the_session_falls_back_to_a_member_project(
    project: Project, other_project: Project, owner: Any, owner_client: Client
) -> None:
    membership = services.membership_set(project=other_project, user=owner, role=Role.ADMIN)
    owner_client.post("/switch-project/", {"project": other_project.pk})
    membership.delete()

    response = owner_client.get("/")

    assert "<h1>Acme Mail</h1>" in response.content.decode()


def test_unknown_pages_get_the_not_found_page(owner_client: Client) -> None:
    response = owner_client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_members_page_lists_members_with_roles(
    project: Project, owner_client: Client, member_client: Callable[..., Client]
) -> None:
    member_client(project, Role.EDITOR, username="eddie")
    member_client(project, Role.VIEWER, username="vera")

    body = owner_client.get("/settings/members/").content.decode()
    body = body[body.index("<tbody>") :]

    assert body.index("eddie") < body.index("olivia") < body.index("vera")
    assert body.count('<span class="badge badge-role">') == 3
    assert '<span class="badge badge-role">Editor</span>' in body


def test_members_page_does_not_list_another_projects_members(
    project: Project, other_project: Project, owner_client: Client, member_client: Callable[..., Client]
) -> None:
    member_client(other_project, Role.OWNER, username="zed_rival")

    body = owner_client.get("/settings/members/").content.decode()

    assert "zed_rival" not in body
