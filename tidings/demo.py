"""The demo seed behind ``tidings demo`` and ``make run``: safe to run again.

The first run creates the ``demo`` project with a few hundred contacts, an
``admin`` login and an API key,
and keeps the generated password and key in ``<data dir>/demo-credentials``
(mode 0600) so later runs can print them again.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from tidings.content import services as content
from tidings.content.models import EmailDesign
from tidings.core import selectors, services
from tidings.core.models import Project, Role
from tidings.demo_audience import seed_audience
from tidings.sending import services as sending

DEMO_SLUG = "demo"
DEMO_USERNAME = "admin"


@dataclass(frozen=True)
class DemoResult:
    project: Project
    contacts_added: int
    username: str
    password: str | None
    api_key: str | None
    created: bool

    def summary(self) -> str:
        lines = [
            f"Demo project: {self.project.name} ({'created' if self.created else 'already there'})",
            f"Log in at {settings.BASE_URL}/login/ as {self.username!r}"
            + (
                f" with password {self.password!r}" if self.password else " (password changed since the seed)"
            ),
        ]
        if self.contacts_added:
            lines.append(f"Added {self.contacts_added} demo contacts with tags, topics and activity")
        if self.api_key:
            lines.append(f"Demo API key: {self.api_key}")
        return "\n".join(lines)


def _credentials_path() -> os.PathLike[str]:
    return settings.DATA_DIR / "demo-credentials"


def _load_credentials() -> dict[str, str]:
    path = _credentials_path()
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_credentials(data: dict[str, str]) -> None:
    path = _credentials_path()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


@transaction.atomic
def _demo_campaign(project: Project) -> None:
    """A draft to the newsletter tag, ready to send to the outbox (which takes any from domain)."""
    from tidings.audience.models import Tag
    from tidings.campaigns.models import Campaign
    from tidings.campaigns.services import campaign_create

    if Campaign.objects.for_project(project).exists():
        return
    design = EmailDesign.objects.for_project(project).order_by("id").first()
    tag = Tag.objects.for_project(project).filter(name="newsletter").first()
    if design is None or tag is None:
        return
    campaign_create(
        project=project,
        values={
            "name": "Monthly newsletter",
            "designId": design.pk,
            "from": "news@demo.tidings.example",
            "fromName": "Tidings Demo",
            "recipientType": "tag",
            "recipientId": tag.pk,
        },
    )


def demo_seed() -> DemoResult:
    """Create what is missing of the demo; report the login either way."""
    User = get_user_model()
    credentials = _load_credentials()
    created = False

    project = Project.objects.filter(slug=DEMO_SLUG).first()
    if project is None:
        project = services.project_create(
            name="Demo",
            slug=DEMO_SLUG,
            postal_address="Tidings Demo Ltd\n1 Harbour Street\nPortsmouth PO1 2AB\nUnited Kingdom",
            default_from_name="Tidings Demo",
        )
        created = True

    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = services.user_create(username=DEMO_USERNAME, password=password, superuser=True)
        credentials["password"] = password
        created = True
    services.membership_set(project=project, user=user, role=Role.OWNER)
    contacts_added = seed_audience(project)
    sending.outbox_connection_ensure(project=project)
    if not EmailDesign.objects.for_project(project).exists():
        content.design_create_from_starter(project=project, starter="newsletter", user=user)
    _demo_campaign(project)

    # A kept key may be gone (a new database) or revoked: print only one that works.
    kept = selectors.api_key_get_active(raw=credentials.get("api_key", ""))
    if kept is None or kept.project_id != project.pk:
        issued = services.api_key_create(project=project, name="Demo key", created_by=user)
        credentials["api_key"] = issued.secret
    transaction.on_commit(lambda: _save_credentials(credentials))

    password = credentials.get("password")
    if password and not user.check_password(password):
        # Changed since the seed (or another database's seed): not ours to print.
        password = None
    return DemoResult(
        contacts_added=contacts_added,
        project=project,
        username=DEMO_USERNAME,
        password=password,
        api_key=credentials["api_key"],
        created=created,
    )
