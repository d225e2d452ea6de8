"""Who is looking, at which project: the one gate every UI view for tenant data passes.

The current project lives in the session. A user only ever sees projects they
are a member of; a stale or foreign id in the session falls back to their
first project instead of leaking or failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tidings.core import errors, selectors
from tidings.core.models import Membership, Project, Role

SESSION_PROJECT = "tidings.project_id"
_CACHE = "_tidings_current"


@dataclass(frozen=True)
class Current:
    """The signed-in user's current project, their membership in it, and all their projects."""

    project: Project
    membership: Membership
    projects: list[Project]

    @property
    def can_manage(self) -> bool:
        """Admins and owners change settings, keys and members."""
        return self.membership.allows(Role.ADMIN)

    @property
    def can_edit(self) -> bool:
        """Editors and above change the audience; viewers only read it."""
        return self.membership.allows(Role.EDITOR)

    def require(self, role: Role) -> None:
        if not self.membership.allows(role):
            raise PermissionDenied(f"needs the {Role(role).label.lower()} role or higher")


def current_for(request: HttpRequest) -> Current | None:
    """The current project of ``request``'s user, or None (anonymous, or no project yet)."""
    if hasattr(request, _CACHE):
        return getattr(request, _CACHE)
    current = None
    if request.user.is_authenticated:
        projects = list(selectors.project_list_for_user(user=request.user))
        if projects:
            wanted = request.session.get(SESSION_PROJECT)
            project = next((p for p in projects if p.pk == wanted), projects[0])
            membership = selectors.membership_get(project=project, user=request.user)
            current = Current(project=project, membership=membership, projects=projects)
    setattr(request, _CACHE, current)
    return current


def switch_project(request: HttpRequest, project_id: int) -> Project:
    """Make ``project_id`` current; NotFound unless the user is a member of it."""
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    request.session[SESSION_PROJECT] = project.pk
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)
    return project


def project_view[**P](
    view: Callable[Concatenate[HttpRequest, Current, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Login required; the view gets the current project, and core errors become 404/403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        current = current_for(request)
        if current is None:
            return render(request, "web/no_project.html")
        try:
            return view(request, current, *args, **kwargs)
        except errors.NotFound as exc:
            raise Http404(exc.detail) from exc
        except errors.PermissionDenied as exc:
            raise PermissionDenied(exc.detail) from exc

    return login_required(wrapper)
