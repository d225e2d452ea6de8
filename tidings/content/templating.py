"""Liquid personalisation: one sandboxed environment, the variables a template may use,
and template checking with line and column.

The sandbox is built in, not bolted on: a template only ever sees plain dicts,
strings, numbers and booleans (``render_context``), so there is no Python object,
setting or environment to reach; ``include``/``render`` find no templates; loops,
output size, nesting and local variables are bounded. Output is HTML-escaped
(autoescape), so a first name of ``<script>`` arrives as text.

At send time a missing value renders its ``default`` or nothing, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liquid import DictLoader, Environment
from liquid.exceptions import LiquidError

from tidings.audience.fields import CONTACT_FIELDS, PERSON_FIELDS
from tidings.core.errors import FieldError, ValidationError

# The contact fields a template may name, as in the API (the person's data and signup date).
CONTACT_VARIABLES = (*PERSON_FIELDS, "createdAt")
# Filled in per message by the sending pipeline, and with placeholders in previews.
LINK_VARIABLES = ("unsubscribeUrl", "preferencesUrl")
PROJECT_VARIABLES = ("name", "postalAddress", "brandColor", "logoUrl")
RESERVED = frozenset({*CONTACT_VARIABLES, *LINK_VARIABLES, "project", "customFields"})

MAX_OUTPUT = 1_000_000  # characters one render may write
MAX_LOOP = 1_000  # iterations of all loops in one render


class SandboxedEnvironment(Environment):
    """python-liquid with every resource bound; no template loader reaches a file."""

    loop_iteration_limit = MAX_LOOP
    output_stream_limit = MAX_OUTPUT
    context_depth_limit = 10
    local_namespace_limit = 10_000
    block_nesting_limit = 30


HTML_ENV = SandboxedEnvironment(autoescape=True, loader=DictLoader({}))
TEXT_ENV = SandboxedEnvironment(autoescape=False, loader=DictLoader({}))


@dataclass(frozen=True)
class ProjectInfo:
    """What ``project.*`` shows: a plain value, so templates never hold a model."""

    name: str
    postal_address: str = ""
    brand_color: str = ""
    logo_url: str = ""

    @classmethod
    def of(cls, project: Any) -> ProjectInfo:
        return cls(
            name=project.name,
            postal_address=project.postal_address,
            brand_color=project.brand_color,
            logo_url=project.logo_url,
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "postalAddress": self.postal_address,
            "brandColor": self.brand_color,
            "logoUrl": self.logo_url,
        }


def _plain(value: Any) -> Any:
    """Only JSON's kinds of value enter a template (custom fields are JSON already)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def render_context(
    *,
    project: ProjectInfo,
    contact: Any | None = None,
    links: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables of one rendering: contact fields, custom fields by key, links, project.

    A custom field whose key is a built-in name is reachable as ``customFields.<key>``
    only; ``extra`` (a send's own ``variables``) fills names the contact does not.
    """
    context: dict[str, Any] = {}
    if extra:
        context.update({str(k): _plain(v) for k, v in extra.items() if k not in RESERVED})
    custom: dict[str, Any] = {}
    if contact is not None:
        custom = _plain(contact.custom_fields or {})
        for key, value in custom.items():
            if key not in RESERVED:
                context[key] = value
        for name in CONTACT_VARIABLES:
            value = getattr(contact, CONTACT_FIELDS[name].column)
            context[name] = value.isoformat() if isinstance(value, datetime) else value
    context["customFields"] = custom
    context.update(links or {})
    context["project"] = project.as_dict()
    return context


# -- checking a template -------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_OUTPUT_NAMES = re.compile(r"\{\{-?\s*(" + _NAME + r"(?:\.(?:" + _NAME + r"))*)")
_TAG_NAMES = re.compile(r"\{%-?\s*(?:if|unless|elsif|case|when)\s+(" + _NAME + r")")
_FOR_NAMES = re.compile(r"\{%-?\s*for\s+" + _NAME + r"\s+in\s+(" + _NAME + r")")


def line_column(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column


def check_template(source: str, *, path: str) -> None:
    """``ValidationError`` at ``path`` with line and column if ``source`` is not valid Liquid."""
    try:
        HTML_ENV.from_string(source)
    except LiquidError as exc:
        token = getattr(exc, "token", None)
        where = ""
        if token is not None and getattr(token, "source", None) is not None:
            line, column = line_column(token.source, token.start_index)
            where = f"line {line}, column {column}: "
        message = str(getattr(exc, "message", None) or exc).splitlines()[0]
        raise ValidationError(FieldError(path, f"{where}{message}")) from exc


def variables_used(source: str) -> set[str]:
    """The top-level variable names a template reads (outputs, conditions, loops), best effort."""
    names = set()
    for pattern in (_OUTPUT_NAMES, _TAG_NAMES, _FOR_NAMES):
        for match in pattern.finditer(source):
            names.add(match.group(1).split(".")[0])
    return names - {"true", "false", "nil", "null", "empty", "blank", "forloop"}
