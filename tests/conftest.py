"""Shared fixtures: projects, users, API clients, real services, the browser.

With CI=true a missing PostgreSQL, Redis or Chromium is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tidings.core import services
from tidings.core.models import ApiKey, Project, Role
from tidings.tracking.services import forget_links

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(service: str, reason: str) -> None:
    """Skip locally, fail in CI: the suite must never pass in CI by skipping a real peer."""
    message = f"{service} is required: {reason}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _tracking_written_at_once(settings: Any) -> None:
    """Opens and clicks are stored in their request, so a test sees them at once (the batched
    writer has its own tests in tests/tracking/test_recorder.py)."""
    settings.TRACKING_FLUSH_SECONDS = 0
    forget_links()


# -- tenants --------------------------------------------------------------------


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, password: str = "correct horse battery staple") -> Any:
        name = username or f"user{next(counter)}"
        return get_user_model().objects.create_user(
            username=name, email=f"{name}@example.org", password=password
        )

    return make


@pytest.fixture
def make_project(db: None) -> Callable[..., Project]:
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, owner: Any = None, **fields: Any) -> Project:
        return services.project_create(name=name or f"Project {next(counter)}", owner=owner, **fields)

    return make


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project("Acme Mail", postal_address="1 Main St, Springfield")


@pytest.fixture
def other_project(make_project: Callable[..., Project]) -> Project:
    return make_project("Rival Co")


class ApiClient:
    """JSON calls to /api/v1 with one project's key."""

    def __init__(self, secret: str | None, key: ApiKey | None = None) -> None:
        self.client = Client()
        self.secret = secret
        self.key = key

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        if self.secret:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["data"] = json.dumps(body) if not isinstance(body, str | bytes) else body
            kwargs["content_type"] = "application/json"
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **headers: str) -> Any:
        return self.request("get", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("post", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("patch", path, body, **headers)

    def put(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("put", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.request("delete", path, **headers)


@pytest.fixture
def make_api(db: None) -> Callable[[Project], ApiClient]:
    def make(project: Project) -> ApiClient:
        issued = services.api_key_create(project=project, name="test key")
        return ApiClient(issued.secret, issued.api_key)

    return make


@pytest.fixture
def api(project: Project, make_api: Callable[[Project], ApiClient]) -> ApiClient:
    """An API client holding a key of ``project``."""
    return make_api(project)


@pytest.fixture
def other_api(other_project: Project, make_api: Callable[[Project], ApiClient]) -> ApiClient:
    """An API client holding a key of ``other_project``."""
    return make_api(other_project)


@pytest.fixture
def owner(project: Project, make_user: Callable[..., Any]) -> Any:
    user = make_user("olivia")
    services.membership_set(project=project, user=user, role=Role.OWNER)
    return user


# -- real services ------------------------------------------------------------------


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TIDINGS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _reachable(url, 6379):
        need("Redis", f"nothing answers at {url} (set TIDINGS_TEST_REDIS_URL)")
    return url


# -- browser ----------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        need("Chromium", f"no browser at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


# Playwright's sync API runs an event loop in the test thread; the ORM calls
# that browser tests make between page actions are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
