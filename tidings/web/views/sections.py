"""The project's home: its dashboard (alerts, the marketing pause, the last campaigns and the last
30 days) and what the project is set up with."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tidings.core import selectors
from tidings.web.access import Current, project_view
from tidings.web.views.results import dashboard


@project_view
def home(request: HttpRequest, current: Current) -> HttpResponse:
    overview = selectors.project_overview(project=current.project)
    return render(request, "web/home.html", {"overview": overview, **dashboard(current)})
