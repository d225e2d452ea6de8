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

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liquid import DictLoader, Environment
from liquid.builtin.expressions.primitive import RangeLiteral
from liquid.exceptions import LiquidError

from tidings.audience.fields import CONTACT_FIELDS, PERSON_FIELDS
from tidings.core.errors import FieldError, ValidationError

# The contact fields a template may name, as in the API (the person's data and signup date).
CONTACT_VARIABLES = (*PERSON_FIELDS, "createdAt")
# Filled in per message by the sending pipeline, and with placeholders in previews.
LINK_VARIABLES = ("unsubscribeUrl", "preferencesUrl")
PROJECT_VARIABLES = ("name", "postalAddress", "brandColor", "logoUrl")
RESERVED = frozenset({*CONTACT_VARIABLES, *LINK_VARIABLES, "project", "customFields"})
_NOT_A_SENDS = frozenset({*LINK_VARIABLES, "project", "customFields"})  # whoever the recipient is

MAX_OUTPUT = 1_000_000  # characters one render may write
MAX_LOOP = 1_000  # iterations of all loops in one render


MAX_RANGE = 10_000  # numbers one range literal, (1..n), may hold


class SandboxedEnvironment(Environment):
    """python-liquid with every resource bound; no tag that reads other templates."""

    loop_iteration_limit = MAX_LOOP
    output_stream_limit = MAX_OUTPUT
    context_depth_limit = 10
    local_namespace_limit = 10_000
    block_nesting_limit = 30

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        # An email is one template: `include` and `render` are unknown tags, refused
        # when the design is saved, with their line and column.
        for name in ("include", "render"):
            self.tags.pop(name, None)
        for name, func in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, func)


def _too_long(size: int) -> LiquidError:
    return LiquidError(f"a value of {size} characters is over the limit of {MAX_OUTPUT}", token=None)


def _predicted(name: str, args: tuple[Any, ...]) -> int:
    """The length a growing filter would produce, known before it builds it."""
    if name == "replace" and len(args) >= 3 and all(isinstance(a, str) for a in args[:3]):
        text, old, new = args[:3]
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(len(new) - len(old), 0)
    if name == "join" and args and isinstance(args[0], list | tuple | range):
        separator = args[1] if len(args) > 1 and isinstance(args[1], str) else " "
        items = args[0]
        return sum(len(str(item)) for item in items) + len(separator) * max(len(items) - 1, 0)
    return 0


def _bounded_filter(name: str, func: Any) -> Any:
    """The output limit counts what is written, not the values built on the way there:
    ``replace`` three times over turns 100 characters into 10⁸. Filters take and make
    values of at most MAX_OUTPUT characters, checked before the big ones are built."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str) and len(args[0]) > MAX_OUTPUT:
            raise _too_long(len(args[0]))
        if (size := _predicted(name, args)) > MAX_OUTPUT:
            raise _too_long(size)
        result = func(*args, **kwargs)
        if isinstance(result, str) and len(result) > MAX_OUTPUT:
            raise _too_long(len(result))
        return result

    return bounded


_make_range = RangeLiteral._make_range


def _bounded_range(self: RangeLiteral, start: Any, stop: Any) -> range:
    """A range literal is built whole by filters such as ``join`` before any loop limit
    applies: ``(1..100000000) | join`` would run for minutes. Bound its length."""
    numbers = _make_range(self, start, stop)
    if len(numbers) > MAX_RANGE:
        raise LiquidError(
            f"a range of {len(numbers)} numbers is over the limit of {MAX_RANGE}", token=self.token
        )
    return numbers


# python-liquid builds ranges in one place, shared by every environment; Tidings is its only user here.
RangeLiteral._make_range = _bounded_range  # type: ignore[method-assign]


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

    def as_dict(self) -> dict[str, str | None]:
        """``project`` as templates see it (a blank value is nil, as for contacts)."""
        return {
            "name": template_text(self.name),
            "postalAddress": template_text(self.postal_address),
            "brandColor": template_text(self.brand_color),
            "logoUrl": template_text(self.logo_url),
        }


# Control characters other than tab, newline and carriage return: spreadsheet
# exports carry them, and MJML refuses a document that holds one.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def template_text(value: str) -> str | None:
    """A blank value is nil, so ``{% if company %}`` is false for someone without one."""
    if not value.isprintable():
        value = _CONTROL.sub("", value)
    return value if value.strip() else None


def _plain(value: Any) -> Any:
    """Only JSON's kinds of value enter a template (custom fields are JSON already)."""
    if isinstance(value, str):
        return template_text(value)
    if value is None or isinstance(value, int | float | bool):
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
    only; ``extra`` (a send's own ``variables``) fills names the contact does not, and the
    contact fields of a recipient who is no contact.
    """
    context: dict[str, Any] = {}
    if extra:
        # A send's variables may name a contact field (``firstName`` for someone who is no
        # contact); a contact's own value wins. Links, project and custom fields are never theirs.
        taken = _NOT_A_SENDS if contact is None else RESERVED
        context.update({str(k): _plain(v) for k, v in extra.items() if k not in taken})
    custom: dict[str, Any] = {}
    if contact is not None:
        custom = _plain(contact.custom_fields or {})
        for key, value in custom.items():
            if key not in RESERVED:
                context[key] = value
        for name in CONTACT_VARIABLES:
            value = getattr(contact, CONTACT_FIELDS[name].column)
            context[name] = _plain(value)
    context["customFields"] = custom
    context.update(links or {})
    context["project"] = project.as_dict()
    return context


# -- checking a template -------------------------------------------------------------


def line_column(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column


# One piece of Liquid: an output {{ … }} or a tag {% … %}.
LIQUID_MARKUP = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_TAG = re.compile(r"\{%-?\s*(\w+)")
_BLOCK_ENDS = {
    "if": "endif",
    "unless": "endunless",
    "case": "endcase",
    "for": "endfor",
    "tablerow": "endtablerow",
    "capture": "endcapture",
    "comment": "endcomment",
    "raw": "endraw",
}


def _failing_piece(source: str) -> int | None:
    """Where the error is when the parser could not say: the first piece that fails alone,
    else the block opened and never closed."""
    opened: list[tuple[str, int]] = []
    for match in LIQUID_MARKUP.finditer(source):
        markup = match.group(0)
        tag = _TAG.match(markup)
        name = tag.group(1) if tag else ""
        if name in _BLOCK_ENDS:
            opened.append((name, match.start()))
            markup += "{% " + _BLOCK_ENDS[name] + " %}"
        elif opened and name == _BLOCK_ENDS[opened[-1][0]]:
            opened.pop()
            continue
        elif name.startswith("end") or name in ("else", "elsif", "when"):
            continue
        try:
            HTML_ENV.from_string(markup)
        except LiquidError:
            return match.start()
    return opened[-1][1] if opened else None


def check_template(source: str, *, path: str) -> None:
    """``ValidationError`` at ``path`` with line and column if ``source`` is not valid Liquid."""
    try:
        analysis = HTML_ENV.from_string(source).analyze()
    except LiquidError as exc:
        token = getattr(exc, "token", None)
        index = getattr(token, "start_index", -1) if getattr(token, "source", None) == source else -1
        if index <= 0:  # the end of an expression or of the template: no place of its own
            index = _failing_piece(source) or max(index, 0)
        line, column = line_column(source, index)
        message = str(getattr(exc, "message", None) or exc).splitlines()[0]
        raise ValidationError(FieldError(path, f"line {line}, column {column}: {message}")) from exc
    for name, spans in analysis.filters.items():
        if name not in HTML_ENV.filters:
            line, column = line_column(source, max(spans[0].index, 0))
            raise ValidationError(FieldError(path, f"line {line}, column {column}: unknown filter '{name}'"))


def variable_paths(source: str) -> set[str]:
    """Every variable a template reads from outside, as dotted paths (``customFields.plan``).

    Found by Liquid's own analysis, so filter arguments, conditions and assigned
    values count too; a template that does not parse reads nothing (it is refused).
    """
    try:
        analysis = HTML_ENV.from_string(source).analyze()
    except LiquidError:
        return set()
    paths = set()
    for name, uses in analysis.globals.items():
        for use in uses:
            segments = [s for s in use.segments if isinstance(s, str)]
            paths.add(".".join(segments[:2]) if name in ("customFields", "project") else name)
    return paths


def variables_used(source: str) -> set[str]:
    """The top-level variable names a template reads."""
    return {path.split(".")[0] for path in variable_paths(source)}
