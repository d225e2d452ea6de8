"""Settings → Topics: the subjects contacts opt in to or out of."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.audience import selectors, services
from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.web.access import Current, project_view
from tidings.web.audience_forms import TopicForm, add_conflict
from tidings.web.forms import add_service_errors


@project_view
def topic_list(request: HttpRequest, current: Current) -> HttpResponse:
    topics = selectors.topic_list(project=current.project)
    return render(request, "web/topics.html", {"topics": topics})


@project_view
def topic_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.EDITOR)
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.topic_create(project=current.project, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            add_conflict(form, "name", exc)
        else:
            messages.success(request, f"The topic “{topic.name}” was created.")
            return redirect("web:topics")
    return render(request, "web/topic_form.html", {"form": form})


@project_view
def topic_edit(request: HttpRequest, current: Current, topic_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    topic = selectors.topic_get(project=current.project, topic_id=topic_id)
    if request.method != "POST":
        return render(request, "web/topic_form.html", {"form": TopicForm.for_topic(topic), "topic": topic})
    form = TopicForm(request.POST)
    if form.is_valid():
        try:
            topic = services.topic_update(topic=topic, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            add_conflict(form, "name", exc)
        else:
            messages.success(request, f"The topic “{topic.name}” was saved.")
            return redirect("web:topics")
        topic.refresh_from_db()
    return render(request, "web/topic_form.html", {"form": form, "topic": topic})


@project_view
def topic_delete(request: HttpRequest, current: Current, topic_id: int) -> HttpResponse:
    current.require(Role.EDITOR)
    topic = selectors.topic_get(project=current.project, topic_id=topic_id)
    if request.method != "POST":
        return render(request, "web/topic_delete.html", {"topic": topic})
    services.topic_delete(topic=topic)
    messages.success(request, f"The topic “{topic.name}” was deleted with every choice made for it.")
    return redirect("web:topics")
