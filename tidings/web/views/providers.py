"""Settings → Email providers: the project's provider connections, and “Test connection”."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.core.scoping import get_scoped, scoped
from tidings.sending import services
from tidings.sending.kinds import KINDS, Kind
from tidings.sending.models import ConnectionKind, ProviderConnection
from tidings.web.access import Current, project_view
from tidings.web.forms import text_input


def _field_name(api_name: str) -> str:
    return "opt_" + api_name


def connection_form(
    kind: Kind, data: Any = None, initial: dict[str, Any] | None = None, editing: bool = False
):
    """A form for one kind of connection, built from its table of settings."""
    fields: dict[str, forms.Field] = {
        "name": forms.CharField(max_length=100, widget=text_input(maxlength=100)),
        "rate_limit": forms.IntegerField(
            required=False, min_value=1, label="Rate limit (messages a second)", help_text="Empty: no limit."
        ),
    }
    for spec in kind.fields:
        help_text = spec.help
        if spec.type == "int":
            field: forms.Field = forms.IntegerField(required=False, label=spec.label)
        elif spec.type == "choice":
            field = forms.ChoiceField(choices=[(c, c) for c in spec.choices], label=spec.label)
        elif spec.secret:
            if editing:
                help_text = " ".join(
                    p for p in (spec.help, "Stored encrypted. Leave empty to keep the stored one.") if p
                )
            field = forms.CharField(
                required=False, label=spec.label, widget=forms.PasswordInput(attrs={"autocomplete": "off"})
            )
        else:
            field = forms.CharField(required=False, label=spec.label, widget=text_input())
        field.help_text = help_text
        field.initial = spec.default
        fields[_field_name(spec.name)] = field
    form_class = type("ConnectionForm", (forms.Form,), fields)
    return form_class(data=data, initial=initial)


def _values(kind: Kind, cleaned: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    options, secrets = {}, {}
    for spec in kind.fields:
        value = cleaned.get(_field_name(spec.name))
        if value in (None, ""):
            continue
        (secrets if spec.secret else options)[spec.name] = value
    return options, secrets


def _show_errors(form: forms.Form, exc: ValidationError) -> None:
    for error in exc.errors:
        group, _, name = error.path.partition(".")
        target = (
            _field_name(name)
            if group in ("options", "secrets")
            else {"rateLimit": "rate_limit"}.get(error.path, error.path)
        )
        message = error.message[:1].upper() + error.message[1:]
        form.add_error(target if target in form.fields else None, message)


def _kind(raw: str | None) -> Kind:
    if raw not in KINDS:
        raise Http404("no such kind of connection")
    return KINDS[raw]


@project_view
def provider_list(request: HttpRequest, current: Current) -> HttpResponse:
    connections = scoped(ProviderConnection, current.project)
    return render(
        request, "web/providers.html", {"connections": connections, "kinds": ConnectionKind.choices}
    )


@project_view
def provider_add(request: HttpRequest, current: Current) -> HttpResponse:
    current.require(Role.ADMIN)
    kind = _kind(request.GET.get("kind") or request.POST.get("kind"))
    form = connection_form(kind, request.POST or None, initial={"name": ConnectionKind(kind.kind).label})
    if request.method == "POST" and form.is_valid():
        options, secrets = _values(kind, form.cleaned_data)
        try:
            connection = services.connection_create(
                project=current.project,
                name=form.cleaned_data["name"],
                kind=kind.kind,
                options=options,
                secrets_given=secrets,
                rate_limit=form.cleaned_data["rate_limit"],
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        except Conflict as exc:
            form.add_error("name", exc.detail)
        else:
            messages.success(request, f"“{connection.name}” was added. Test it before sending.")
            return redirect("web:providers")
    status = 422 if request.method == "POST" else 200
    return render(request, "web/provider_form.html", {"form": form, "kind": kind}, status=status)


@project_view
def provider_edit(request: HttpRequest, current: Current, connection_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    connection = get_scoped(ProviderConnection, current.project, pk=connection_id)
    kind = KINDS[connection.kind]
    initial = {"name": connection.name, "rate_limit": connection.rate_limit}
    initial |= {_field_name(k): v for k, v in connection.options.items()}
    form = connection_form(kind, request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        options, secrets = _values(kind, form.cleaned_data)
        try:
            services.connection_update(
                connection=connection,
                name=form.cleaned_data["name"],
                options=options,
                secrets_given=secrets,
                rate_limit=form.cleaned_data["rate_limit"],
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        except Conflict as exc:
            form.add_error("name", exc.detail)
        else:
            messages.success(request, f"“{form.cleaned_data['name']}” was saved.")
            return redirect("web:providers")
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "kind": kind,
        "connection": connection,
        "webhook_url": services.connection_webhook_url(connection),
    }
    return render(request, "web/provider_form.html", context, status=status)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


@project_view
def provider_check(request: HttpRequest, current: Current, connection_id: int) -> HttpResponse:
    if (refused := _post_only(request)) is not None:
        return refused
    current.require(Role.ADMIN)
    connection = get_scoped(ProviderConnection, current.project, pk=connection_id)
    result = services.connection_check(connection=connection)
    level = messages.success if result.ok else messages.warning if result.ok is None else messages.error
    level(request, f"{connection.name}: {result.message}")
    return redirect("web:providers")


@project_view
def provider_webhook_rotate(request: HttpRequest, current: Current, connection_id: int) -> HttpResponse:
    if (refused := _post_only(request)) is not None:
        return refused
    current.require(Role.ADMIN)
    connection = get_scoped(ProviderConnection, current.project, pk=connection_id)
    services.connection_webhook_rotate(connection=connection)
    messages.success(
        request,
        f"“{connection.name}” has a new webhook password: give the new URL to the provider; "
        "the old one is refused from now on.",
    )
    return redirect("web:provider_edit", connection.pk)


@project_view
def provider_default(request: HttpRequest, current: Current, connection_id: int) -> HttpResponse:
    if (refused := _post_only(request)) is not None:
        return refused
    current.require(Role.ADMIN)
    connection = get_scoped(ProviderConnection, current.project, pk=connection_id)
    services.connection_make_default(connection=connection)
    messages.success(request, f"“{connection.name}” is now the default connection.")
    return redirect("web:providers")


@project_view
def provider_delete(request: HttpRequest, current: Current, connection_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    connection = get_scoped(ProviderConnection, current.project, pk=connection_id)
    if request.method != "POST":
        return render(request, "web/provider_delete.html", {"connection": connection})
    services.connection_delete(connection=connection)
    messages.success(request, f"“{connection.name}” was deleted.")
    return redirect("web:providers")
