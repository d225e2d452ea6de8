"""How API objects become frozen dataclasses: camelCase keys to snake_case attributes.

A field the class does not know is ignored (and kept in ``raw``), a field the
server left out keeps its default: a newer server never breaks an older client.
Values inside free-form objects (``customFields``, segment ``filters``) are
left exactly as the server sent them.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, Self

from tidings.client.errors import UnexpectedResponseError


def camel(name: str) -> str:
    """``first_name`` → ``firstName``; ``from_`` → ``from``."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``firstName`` → ``first_name``; ``from`` → ``from_``."""
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return out + "_" if keyword.iskeyword(out) else out


def parse_time(value: Any) -> Any:
    """An ISO 8601 timestamp as an aware ``datetime``; anything else is returned unchanged."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class Model:
    """The base of every result: ``raw`` is the object exactly as the server sent it."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Self:
        if not isinstance(data, Mapping):
            raise UnexpectedResponseError(
                f"expected a JSON object for {cls.__name__}, got {type(data).__name__}"
            )
        values: dict[str, Any] = {}
        for name, key, convert in _plan(cls):
            if key in data:
                value = data[key]
                values[name] = convert(value) if convert is not None and value is not None else value
        return cls(raw=dict(data), **values)

    @classmethod
    def list_from_api(cls, data: Any) -> list[Self]:
        if not isinstance(data, list):
            raise UnexpectedResponseError(
                f"expected a JSON array of {cls.__name__}, got {type(data).__name__}"
            )
        return [cls.from_api(item) for item in data]


@cache
def _plan(cls: type[Model]) -> tuple[tuple[str, str, Callable[[Any], Any] | None], ...]:
    """Per class, once: each attribute, its JSON key and how its value is converted."""
    plan = []
    for f in fields(cls):
        if f.name == "raw":
            continue
        convert = f.metadata.get("convert")
        if convert is None and f.name.endswith("_at"):
            convert = parse_time
        plan.append((f.name, f.metadata.get("key", camel(f.name)), convert))
    return tuple(plan)


def one(model: type[Model]) -> Any:
    """A nested object."""
    return field(default=None, metadata={"convert": model.from_api})


def many(model: type[Model]) -> Any:
    """A list of nested objects."""

    def convert(value: Any) -> Any:
        return [model.from_api(v) for v in value] if isinstance(value, list) else value

    return field(default_factory=list, metadata={"convert": convert})


def as_list() -> Any:
    return field(default_factory=list)


def as_dict() -> Any:
    return field(default_factory=dict)


def time() -> Any:
    """A timestamp whose name does not end in ``_at``."""
    return field(default=None, metadata={"convert": parse_time})


__all__ = ["Model", "as_dict", "as_list", "camel", "many", "one", "parse_time", "snake", "time"]
