"""``Tidings`` and ``AsyncTidings``: the same resource groups over a blocking or an async httpx client."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx

from tidings.client._core import RetryPolicy, Settings
from tidings.client._runner import AsyncRunner, SyncRunner
from tidings.client.resources import (
    Alerts,
    ApiKeys,
    Campaigns,
    Connections,
    Contacts,
    Designs,
    Domains,
    Drafts,
    Imports,
    Personas,
    ProjectGroup,
    Segments,
    Sending,
    Suppressions,
    Tags,
    Topics,
    Webhooks,
)


class _Groups[R: (SyncRunner, AsyncRunner)]:
    """The resource groups, one per tag of the API's OpenAPI document."""

    project: ProjectGroup[R]
    api_keys: ApiKeys[R]
    contacts: Contacts[R]
    tags: Tags[R]
    topics: Topics[R]
    segments: Segments[R]
    imports: Imports[R]
    designs: Designs[R]
    personas: Personas[R]
    drafts: Drafts[R]
    connections: Connections[R]
    domains: Domains[R]
    campaigns: Campaigns[R]
    sending: Sending[R]
    suppressions: Suppressions[R]
    alerts: Alerts[R]
    webhooks: Webhooks[R]

    def _attach(self, runner: R) -> None:
        self.project = ProjectGroup(runner)
        self.api_keys = ApiKeys(runner)
        self.contacts = Contacts(runner)
        self.tags = Tags(runner)
        self.topics = Topics(runner)
        self.segments = Segments(runner)
        self.imports = Imports(runner)
        self.designs = Designs(runner)
        self.personas = Personas(runner)
        self.drafts = Drafts(runner)
        self.connections = Connections(runner)
        self.domains = Domains(runner)
        self.campaigns = Campaigns(runner)
        self.sending = Sending(runner)
        self.suppressions = Suppressions(runner)
        self.alerts = Alerts(runner)
        self.webhooks = Webhooks(runner)


class Tidings(_Groups[SyncRunner]):
    """A blocking client for one project's API key.

    ``api_key`` defaults to ``$TIDINGS_API_KEY`` and ``base_url`` to
    ``$TIDINGS_URL`` (else ``http://127.0.0.1:8000``; ``/api/v1`` is added
    when missing). ``timeout`` is in seconds (or an ``httpx.Timeout``);
    ``max_retries`` is how many times a failed call is tried again (see
    :class:`RetryPolicy`). Pass ``http_client`` to bring your own
    ``httpx.Client`` (a transport, proxies, certificates); it is then yours to
    close.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._settings = Settings.resolve(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            headers=headers,
        )
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.Client(**self._settings.client_kwargs())
        )
        self._attach(SyncRunner(self._settings, self._http))

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Tidings {self.base_url}>"


class AsyncTidings(_Groups[AsyncRunner]):
    """The async twin of :class:`Tidings` (asyncio): every method is awaited, lists are ``async for``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = Settings.resolve(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            headers=headers,
        )
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else httpx.AsyncClient(**self._settings.client_kwargs())
        )
        self._attach(AsyncRunner(self._settings, self._http))

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncTidings {self.base_url}>"
