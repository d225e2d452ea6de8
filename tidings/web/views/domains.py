"""Settings → Domains: the domains a project sends from, the DNS records to publish, and “Verify”."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from tidings.core.errors import Conflict, ValidationError
from tidings.core.models import Role
from tidings.core.scoping import get_scoped, scoped
from tidings.sending import domains
from tidings.sending.models import SendingDomain
from tidings.web.access import Current, project_view
from tidings.web.forms import text_input

# What each record is for, in the words of the page; the first three verify the domain.
PURPOSES = {
    "ownership": ("Ownership", "Proves this project may send from the domain."),
    "dkim-rsa": ("DKIM (RSA)", "Signs each message; every receiver checks RSA keys."),
    "dkim-ed25519": ("DKIM (Ed25519)", "A second, modern signature next to the RSA one."),
    "spf": ("SPF", "Names the servers allowed to send for the domain. Only one SPF record per name."),
    "dmarc": ("DMARC", "Tells receivers what to do with mail that fails the checks."),
    "return-path": ("Return path", "Where bounces come back, so they can be counted."),
}
REQUIRED = ("ownership", "dkim-rsa", "dkim-ed25519")


class DomainForm(forms.Form):
    domain = forms.CharField(
        required=False,
        widget=text_input(maxlength=253, placeholder="mail.example.com", autocomplete="off", required=True),
        help_text="A domain whose DNS you manage; a subdomain such as mail.example.com is fine.",
    )


def _show_errors(form: forms.Form, raw: str, exc: ValidationError) -> None:
    """The service's reasons on the domain field, as sentences; domain names keep their case."""
    for error in exc.errors:
        message = error.message
        if message.startswith("is "):
            message = f"“{raw.strip()}” {message}"
        elif message.startswith("must "):
            message = message[:1].upper() + message[1:]
        form.add_error("domain", message.rstrip(".") + ".")


def _is_value(purpose: str, seen: str) -> bool:
    """Whether a wrong record's ``seen`` is what DNS answered, not a sentence about it."""
    if purpose == "spf":
        return seen.lower().startswith("v=spf1")
    return bool(seen) and seen != "no DMARC record"


def _records(domain: SendingDomain) -> list[dict[str, Any]]:
    """The records to publish, each with the outcome of the last check (state and seen, or None)."""
    checked = {r.get("purpose"): r for r in domain.last_results or []}
    rows = []
    for record in domains.domain_records(domain):
        label, why = PURPOSES.get(record.purpose, (record.purpose, ""))
        last = checked.get(record.purpose, {})
        seen = last.get("seen") or ""
        rows.append(
            {
                **record.as_dict(),
                "label": label,
                "why": why,
                "required": record.purpose in REQUIRED,
                "state": last.get("state"),
                "seen": seen,
                "seen_is_value": _is_value(record.purpose, seen),
            }
        )
    return rows


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


@project_view
def domain_list(request: HttpRequest, current: Current) -> HttpResponse:
    form = DomainForm(request.POST or None)
    if request.method == "POST":
        current.require(Role.ADMIN)
        if form.is_valid():
            raw = form.cleaned_data["domain"]
            try:
                # A savepoint: a duplicate fails its INSERT, and the page is still rendered after it.
                with transaction.atomic():
                    domain = domains.domain_create(project=current.project, domain=raw)
            except ValidationError as exc:
                _show_errors(form, raw, exc)
            except Conflict as exc:
                form.add_error("domain", exc.detail.rstrip(".") + ".")
            else:
                messages.success(
                    request, f"{domain.domain} was added. Publish these records, then verify the domain."
                )
                return redirect("web:domain_detail", domain.pk)
    context = {"form": form, "domains": scoped(SendingDomain, current.project)}
    status = 422 if request.method == "POST" else 200
    return render(request, "web/domains.html", context, status=status)


@project_view
def domain_detail(request: HttpRequest, current: Current, domain_id: int) -> HttpResponse:
    domain = get_scoped(SendingDomain, current.project, pk=domain_id)
    records = _records(domain)
    context = {
        "domain": domain,
        "records": records,
        "checked": domain.last_checked_at is not None,
        "problems": [r for r in records if r["state"] in ("missing", "wrong")],
    }
    return render(request, "web/domain_detail.html", context)


@project_view
def domain_verify(request: HttpRequest, current: Current, domain_id: int) -> HttpResponse:
    if (refused := _post_only(request)) is not None:
        return refused
    current.require(Role.ADMIN)
    domain = get_scoped(SendingDomain, current.project, pk=domain_id)
    results = domains.domain_verify(domain=domain)
    problems = [PURPOSES.get(r["purpose"], (r["purpose"], ""))[0] for r in results if r["state"] != "found"]
    if domain.verified_at is None:
        messages.warning(
            request,
            f"{domain.domain} is not verified yet: the ownership and both DKIM records must be found. "
            "New records can take a while to be seen.",
        )
    elif problems:
        messages.success(request, f"{domain.domain} is verified. Still to fix: {', '.join(problems)}.")
    else:
        messages.success(request, f"{domain.domain} is verified; every record was found.")
    return redirect("web:domain_detail", domain.pk)


@project_view
def domain_delete(request: HttpRequest, current: Current, domain_id: int) -> HttpResponse:
    current.require(Role.ADMIN)
    domain = get_scoped(SendingDomain, current.project, pk=domain_id)
    if request.method != "POST":
        return render(request, "web/domain_delete.html", {"domain": domain})
    domain.delete()
    messages.success(request, f"{domain.domain} was deleted, with its DKIM keys.")
    return redirect("web:domains")
