"""The project's home and the sections whose features are still to come.

Each says plainly that it is empty for this project and what it will hold;
nothing here pretends to work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tidings.core import selectors
from tidings.web.access import Current, project_view


@dataclass(frozen=True)
class Section:
    title: str
    group: str
    empty: str  # "There are no … in {project} yet." — the noun phrase
    holds: str  # one sentence: what the section will hold


SECTIONS = {
    "results": Section(
        "Results",
        "",
        "results",
        "Deliveries, opens, clicks, bounces and unsubscribes of sent campaigns are reported here.",
    ),
}


@project_view
def home(request: HttpRequest, current: Current) -> HttpResponse:
    overview = selectors.project_overview(project=current.project)
    return render(request, "web/home.html", {"overview": overview})


@project_view
def section(request: HttpRequest, current: Current, name: str) -> HttpResponse:
    return render(request, "web/section.html", {"section": SECTIONS[name]})
