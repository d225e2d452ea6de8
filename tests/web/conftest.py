"""Signed-in clients for the web UI, one per role."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tidings.audience import services as audience_services
from tidings.audience.models import Contact
from tidings.core import services
from tidings.core.models import Project, Role

PASSWORD = "correct horse battery staple"
SECRET = re.compile(r"tdk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def member_client(make_user: Callable[..., Any]) -> Callable[..., Client]:
    """A client logged in as a new user who has ``role`` in ``project``."""

    def make(project: Project, role: Role = Role.OWNER, username: str | None = None) -> Client:
        user = make_user(username)
        services.membership_set(project=project, user=user, role=role)
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner_client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def make_contact(db: None) -> Callable[..., Contact]:
    """A contact of ``project`` made through the audience service, as the UI would."""

    def make(project: Project, email: str, **values: Any) -> Contact:
        return audience_services.contact_create(project=project, values={"email": email, **values})

    return make
