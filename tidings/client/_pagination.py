"""Cursor pages and the iterators that walk them lazily, one request per page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from tidings.client._core import Call
from tidings.client._model import Model
from tidings.client.errors import UnexpectedResponseError

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a list: pass ``next_cursor`` as ``cursor`` for the next; None on the last."""

    items: list[T]
    next_cursor: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def page_of[M: Model](model: type[M]) -> Callable[[Any], Page[M]]:
    """The parser of ``{"items": [...], "nextCursor": …}`` for items of ``model``."""

    def parse(data: Any) -> Page[M]:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise UnexpectedResponseError("expected a page: an object with an items array")
        cursor = data.get("nextCursor")
        return Page([model.from_api(i) for i in data["items"]], cursor or None, data)

    return parse


class _Runs(Protocol):
    def run(self, call: Call[Any]) -> Any: ...


def _next_cursor(page: Page[Any], cursor: str | None) -> str | None:
    if page.next_cursor is not None and page.next_cursor == cursor:
        raise UnexpectedResponseError(f"the server answered cursor {cursor!r} with the same cursor")
    return page.next_cursor


class SyncPager[T]:
    """Iterates every item of a list, fetching the next page only when it is reached.

    ``for contact in client.contacts.list(limit=100)`` walks all pages;
    ``.page()`` fetches one page (from ``cursor``, or the first) with its
    ``next_cursor``; ``.pages()`` walks whole pages.
    """

    def __init__(self, runner: _Runs, call: Call[Page[T]]) -> None:
        self._runner = runner
        self._call = call

    def page(self, cursor: str | None = None) -> Page[T]:
        start = cursor if cursor is not None else (self._call.params or {}).get("cursor")
        page: Page[T] = self._runner.run(self._call.with_params(cursor=start))
        return page

    def pages(self) -> Iterator[Page[T]]:
        cursor = (self._call.params or {}).get("cursor")
        while True:
            page = self.page(cursor)
            yield page
            cursor = _next_cursor(page, cursor)
            if cursor is None:
                return

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPager[T]:
    """The async twin of :class:`SyncPager`: ``async for``, ``await .page()``, ``async for … in .pages()``."""

    def __init__(self, runner: _Runs, call: Call[Page[T]]) -> None:
        self._runner = runner
        self._call = call

    async def page(self, cursor: str | None = None) -> Page[T]:
        start = cursor if cursor is not None else (self._call.params or {}).get("cursor")
        awaitable: Awaitable[Page[T]] = self._runner.run(self._call.with_params(cursor=start))
        return await awaitable

    async def pages(self) -> AsyncIterator[Page[T]]:
        cursor = (self._call.params or {}).get("cursor")
        while True:
            page = await self.page(cursor)
            yield page
            cursor = _next_cursor(page, cursor)
            if cursor is None:
                return

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
