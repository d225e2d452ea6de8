"""The only code that differs between the sync and async clients: sending and waiting.

Each runner drives :func:`tidings.client._core.exchange`, which decides
everything else.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar

import httpx

from tidings.client._core import Call, Settings, exchange
from tidings.client._pagination import AsyncPager, Page, SyncPager

T = TypeVar("T")


class SyncRunner:
    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self.settings = settings
        self.http = http

    def run(self, call: Call[T]) -> T:
        steps = exchange(self.settings, self.http, call)
        try:
            step = next(steps)
            while True:
                if isinstance(step, httpx.Request):
                    outcome: Any
                    try:
                        outcome = self.http.send(step)
                    except httpx.TransportError as exc:
                        outcome = exc
                    step = steps.send(outcome)
                else:
                    time.sleep(step)
                    step = steps.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            steps.close()

    def paginate(self, call: Call[Page[T]]) -> SyncPager[T]:
        return SyncPager(self, call)


class AsyncRunner:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    async def run(self, call: Call[T]) -> T:
        steps = exchange(self.settings, self.http, call)
        try:
            step = next(steps)
            while True:
                if isinstance(step, httpx.Request):
                    outcome: Any
                    try:
                        outcome = await self.http.send(step)
                    except httpx.TransportError as exc:
                        outcome = exc
                    step = steps.send(outcome)
                else:
                    await asyncio.sleep(step)
                    step = steps.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            steps.close()

    def paginate(self, call: Call[Page[T]]) -> AsyncPager[T]:
        return AsyncPager(self, call)
