"""Resource groups are written once and serve both clients.

A group's method builds a :class:`~tidings.client._core.Call` and does no
I/O. The :func:`operation` and :func:`paginated` descriptors bind it to the
client's runner: on :class:`~tidings.client.Tidings` a method returns its
result, on :class:`~tidings.client.AsyncTidings` an awaitable of it; a list
returns a :class:`SyncPager` or an :class:`AsyncPager`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from tidings.client._core import Call
from tidings.client._model import Model, camel
from tidings.client._pagination import AsyncPager, Page, SyncPager, page_of
from tidings.client._runner import AsyncRunner, SyncRunner

P = ParamSpec("P")
R = TypeVar("R", SyncRunner, AsyncRunner)


class NotGiven:
    """The default of an optional argument: the field is left out of the request (None sends null)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

type Opt[V] = V | NotGiven


def body(**values: Any) -> dict[str, Any]:
    """A JSON body from keyword arguments: snake_case names become camelCase; NOT_GIVEN is left out.

    Only the top-level names change; the values (``custom_fields``' keys, segment
    filters) are sent as given.
    """
    return {camel(name): value for name, value in values.items() if value is not NOT_GIVEN}


def query(**values: Any) -> dict[str, Any]:
    """Query parameters; None and NOT_GIVEN are left out."""
    return {
        camel(name): value for name, value in values.items() if value is not NOT_GIVEN and value is not None
    }


class Group[R: (SyncRunner, AsyncRunner)]:
    """A set of related operations, e.g. ``client.contacts``."""

    def __init__(self, runner: R) -> None:
        self._runner = runner


def _bind(build: Callable[..., Any], obj: Group[Any], finish: Callable[[Any], Any]) -> Callable[..., Any]:
    @functools.wraps(build)
    def bound(*args: Any, **kwargs: Any) -> Any:
        return finish(build(obj, *args, **kwargs))

    signature = inspect.signature(build)
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:], return_annotation=inspect.Signature.empty
    )
    del bound.__wrapped__  # help() shows the bound signature, without self
    return bound


class operation[**P, T]:
    """Marks a method that builds one call; the client runs it."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, obj: Group[SyncRunner], owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: Group[AsyncRunner], owner: type) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: Group[Any] | None, owner: type) -> Any:
        if obj is None:
            return self
        return _bind(self._build, obj, obj._runner.run)


class paginated[**P, T]:
    """Marks a method that builds the call for a list's first page; the client pages through it."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[Page[T]]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> paginated[P, T]: ...
    @overload
    def __get__(self, obj: Group[SyncRunner], owner: type) -> Callable[P, SyncPager[T]]: ...
    @overload
    def __get__(self, obj: Group[AsyncRunner], owner: type) -> Callable[P, AsyncPager[T]]: ...
    def __get__(self, obj: Group[Any] | None, owner: type) -> Any:
        if obj is None:
            return self
        return _bind(self._build, obj, obj._runner.paginate)


# -- building calls ---------------------------------------------------------------------------------


def get[T](path: str, parse: Callable[[Any], T], **params: Any) -> Call[T]:
    return Call("GET", path, parse, params=query(**params))


def listing[M: Model](
    path: str, model: type[M], *, cursor: str | None, limit: int | None, **params: Any
) -> Call[Page[M]]:
    return Call("GET", path, page_of(model), params=query(cursor=cursor, limit=limit, **params))


def send[T](
    method: str,
    path: str,
    parse: Callable[[Any], T],
    json: Any = None,
    *,
    idempotency_key: str | None = None,
    **params: Any,
) -> Call[T]:
    return Call(method, path, parse, params=query(**params), json=json, idempotency_key=idempotency_key)


def delete(path: str) -> Call[None]:
    return Call("DELETE", path, nothing, accept="none")


def nothing(_: Any) -> None:
    return None


def as_dict(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {"value": data}


def text(data: Any) -> str:
    return str(data)
