"""The compiled renderer: the render pipeline run once per design, slots filled per recipient.

``compile_design`` hides every piece of Liquid behind an inert word, runs MJML
and the CSS inliner once, and cuts the result into static chunks and slots.
Filling a slot is a dict lookup, an escape and a ``''.join``; a condition or a
loop is one slot that Liquid renders on its own few lines. The plain text is
compiled the same way, line by line, so a recipient costs no HTML parsing.

A slot escapes its value the way the full pipeline's HTML serializer writes
it where the slot stands (text, attribute, or raw: styles and comments), so
the output is byte for byte that of ``render_full``. Each compile proves it on
probe recipients (empty, hostile values, and any the caller passes); a design
it cannot reproduce exactly is rendered the straightforward way
(``CompiledDesign.fast`` is False) rather than ever sending another email.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import escape

from tidings.content.rendering import (
    MJML,
    DesignSource,
    Rendered,
    RenderError,
    compile_markup,
    document_source,
    one_line,
    render_full,
)
from tidings.content.templating import HTML_ENV, TEXT_ENV, variable_paths
from tidings.content.text import WHITESPACE, TextParser, html_to_text, link_suffix

Slot = Callable[[dict[str, Any]], str]
Part = str | Slot

_MARKUP = re.compile(
    r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}"
    r"|\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}"
    r"|\{\{.*?\}\}|\{%.*?%\}",
    re.DOTALL,
)
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_SIMPLE_OUTPUT = re.compile(
    r"\{\{\s*(" + _NAME + r"(?:\." + _NAME + r")*)\s*"
    r"(\|\s*default\s*:\s*(?:\"[^\"\\]*\"|'[^'\\]*')\s*)?\}\}\Z"
)
_TAG_NAME = re.compile(r"\{%\s*(\w+)")
# Block tags and their closing tags: one slot runs from the opening to the matching end.
_BLOCKS = {
    "if": "endif",
    "unless": "endunless",
    "case": "endcase",
    "for": "endfor",
    "tablerow": "endtablerow",
}
# Names Liquid answers itself on any value (``tags.size``): not a plain lookup.
_SPECIAL = frozenset({"size", "first", "last"})
_MISSING = object()
_BLANK_RUNS = re.compile(r"\n{3,}")
_WORD = "tdgslot{}x"
_WORD_RE = re.compile(r"tdgslot(\d+)x")
_LINK = "\x01{}\x02"
_LINK_RE = re.compile(r"\x01(\d+)\x02")

TEXT, ATTR, RAW = "text", "attr", "raw"


def _escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


def _escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("\xa0", "&nbsp;")


def _escape_raw(value: str) -> str:
    return str(escape(value))


# mrml writes an attribute value holding a backslash, a control or an invisible character
# in its own escaped form; such a recipient is rendered in full.
_MJML_ATTR_REWRITTEN = re.compile(
    r"[\\\x00-\x1f\x7f-\xa0\xad\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff0-\uffff]"
)


class _NeedsFull(Exception):
    """This recipient's values would be rewritten by a pipeline step: render them the long way."""


def _escape_mjml_attr(value: str) -> str:
    if _MJML_ATTR_REWRITTEN.search(value):
        raise _NeedsFull
    return _escape_attr(value)


ESCAPE = {TEXT: _escape_text, ATTR: _escape_attr, RAW: _escape_raw}
# What Liquid's own escaping (markupsafe) must become to read as the serializer writes it.
_REWRITE = {
    TEXT: (("&#34;", '"'), ("&#39;", "'"), ("\xa0", "&nbsp;")),
    ATTR: (("&#34;", "&quot;"), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("\xa0", "&nbsp;")),
    RAW: (),
}


class _Unsupported(Exception):
    """The design uses something the chunked form does not reproduce exactly; render it whole."""


def _protect(source: str) -> tuple[str, list[str]]:
    """Replace every piece of Liquid with an inert word that MJML and the inliner leave alone."""
    if _WORD_RE.search(source):
        raise _Unsupported("the source already holds a slot word")
    pieces: list[str] = []

    def swap(match: re.Match[str]) -> str:
        markup = match.group(0)
        if markup.startswith(("{{-", "{%-")) or markup.endswith(("-}}", "-%}")):
            raise _Unsupported("whitespace control")
        pieces.append(markup)
        return _WORD.format(len(pieces) - 1)

    return _MARKUP.sub(swap, source), pieces


def _restore(text: str, pieces: list[str]) -> str:
    return _WORD_RE.sub(lambda m: pieces[int(m.group(1))], text)


_HTML_REGIONS = re.compile(
    r"<!--.*?-->|<(style|script)\b[^>]*>.*?</\1\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE
)


_ATTRIBUTE_BEFORE = re.compile(r"([\w:-]+)\s*=\s*[\"']?[^\"'=]*$")
# Attributes whose value decides more than its own text: css-inline rewrites `style`,
# and `style`, `class` and `hidden` decide whether the text alternative shows an element.
_DECIDING_ATTRIBUTES = frozenset({"style", "class", "hidden"})


def _contexts(protected_html: str) -> dict[int, str]:
    """Where each slot word stands in the compiled HTML: text, inside a tag, or raw
    (a comment, a style or a script)."""
    spans = []
    for match in _HTML_REGIONS.finditer(protected_html):
        raw = match.group(1) is not None or match.group(0).startswith("<!--")
        spans.append((match.start(), match.end(), RAW if raw else ATTR))
    found: dict[int, str] = {}
    k = 0
    for word in _WORD_RE.finditer(protected_html):
        while k < len(spans) and spans[k][1] <= word.start():
            k += 1
        inside = k < len(spans) and spans[k][0] <= word.start()
        context = spans[k][2] if inside else TEXT
        if context == ATTR:
            attribute = _ATTRIBUTE_BEFORE.search(protected_html, spans[k][0], word.start())
            if attribute is None or attribute.group(1).lower() in _DECIDING_ATTRIBUTES:
                raise _Unsupported("a value in a style, class or hidden attribute, or in a tag's name")
        found[word.start()] = context
    return found


def _output_slot(markup: str, finish: Callable[[str], str], *, html: bool) -> Slot:
    """A slot for one ``{{ … }}``: a lookup for the plain cases, Liquid for the rest.

    ``html``: the slot stands in the email's HTML or its text alternative, where the
    full pipeline has Liquid escape values and an HTML parser decode them again (so a
    default literal's ``&amp;`` reads ``&``); else in a subject or preheader, as is.
    """
    template = (HTML_ENV if html else TEXT_ENV).from_string(markup)
    decode = htmllib.unescape if html else str

    def whole(ctx: dict[str, Any]) -> str:
        value = template.render(**ctx)
        if html and "<" in value:  # markup a filter made (newline_to_br): the HTML parser decides
            raise _NeedsFull
        return finish(decode(value))

    match = _SIMPLE_OUTPUT.match(markup)
    if not match:
        return whole
    path = match.group(1).split(".")
    if _SPECIAL.intersection(path[1:]):
        return whole
    empty = finish(decode(template.render())) if match.group(2) else ""
    head, rest = path[0], tuple(path[1:])

    def slot(ctx: dict[str, Any]) -> str:
        value = ctx.get(head, _MISSING)
        for name in rest:
            value = value.get(name, _MISSING) if type(value) is dict else _MISSING
        if type(value) is str:
            return finish(value) if value else empty
        if value is _MISSING or value is None:
            return empty
        return whole(ctx)

    return slot


def _block_end(markups: list[str], i: int) -> int:
    """The index of the tag closing the block opened at ``markups[i]``."""
    name = _TAG_NAME.match(markups[i]).group(1)  # type: ignore[union-attr]
    end, depth = _BLOCKS[name], 0
    for j in range(i, len(markups)):
        inner = _TAG_NAME.match(markups[j])
        inner_name = inner.group(1) if inner else ""
        depth += (inner_name == name) - (inner_name == end)
        if depth == 0:
            return j
    raise _Unsupported(f"an unclosed {name}")


def _tag_kind(markup: str) -> str:
    if markup.startswith("{{"):
        return "output"
    match = _TAG_NAME.match(markup)
    name = match.group(1) if match else ""
    if name in ("raw", "comment"):
        return "static"
    if name in _BLOCKS:
        return "block"
    raise _Unsupported(f"the {name or 'unknown'} tag")  # assign, capture, include…: state across the email


def _slotted(
    text: str,
    pieces: list[str],
    *,
    env: Any,
    html: bool,
    finish_for: Callable[[int], Callable[[str], str]],
    block_finish_for: Callable[[int, int], Callable[[str], str]],
) -> list[Part]:
    """Cut ``text`` (holding slot words) into static chunks and slots, in order."""
    words = list(_WORD_RE.finditer(text))
    markups = [pieces[int(w.group(1))] for w in words]
    parts: list[Part] = []
    position, i = 0, 0
    while i < len(words):
        word = words[i]
        parts.append(text[position : word.start()])
        kind = _tag_kind(markups[i])
        if kind == "output":
            parts.append(_output_slot(markups[i], finish_for(word.start()), html=html))
            position, i = word.end(), i + 1
        elif kind == "static":
            parts.append(env.from_string(markups[i]).render())
            position, i = word.end(), i + 1
        else:
            j = _block_end(markups, i)
            block = env.from_string(_restore(text[word.start() : words[j].end()], pieces))
            finish = block_finish_for(word.start(), words[j].start())
            parts.append(lambda ctx, block=block, finish=finish: finish(block.render(**ctx)))
            position, i = words[j].end(), j + 1
    parts.append(text[position:])
    return _merge(parts)


def _merge(parts: Iterable[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return merged


def _fill(parts: list[Part], ctx: dict[str, Any]) -> str:
    return "".join([p if type(p) is str else p(ctx) for p in parts])  # type: ignore[operator]


def _rewrite(pairs: tuple[tuple[str, str], ...]) -> Callable[[str], str]:
    def finish(value: str) -> str:
        for old, new in pairs:
            value = value.replace(old, new)
        return value

    return finish


def _html_parts(protected_html: str, pieces: list[str], format: str) -> list[Part]:
    contexts = _contexts(protected_html)
    escapers = {**ESCAPE, ATTR: _escape_mjml_attr} if format == MJML else ESCAPE

    def block_finish_for(start: int, end: int) -> Callable[[str], str]:
        inside = {c for at, c in contexts.items() if start <= at <= end}
        if len(inside) != 1:
            raise _Unsupported("a block that spans text and attributes")
        return _rewrite(_REWRITE[inside.pop()])

    return _slotted(
        protected_html,
        pieces,
        env=HTML_ENV,
        html=True,
        finish_for=lambda at: escapers[contexts[at]],
        block_finish_for=block_finish_for,
    )


def _decoded(value: str) -> str:
    """A block rendered with Liquid's HTML escaping, read as the text alternative reads it."""
    return _collapse(htmllib.unescape(value))


def _collapse(value: str) -> str:
    """Whitespace runs become one space, as the text of the full pipeline has them."""
    if value.isprintable() and "  " not in value:  # the common case, without a regex
        return value
    return WHITESPACE.sub(" ", value)


def _plain_parts(source: str) -> list[Part]:
    """Subject and preheader: Liquid without HTML, made one line afterwards."""
    protected, pieces = _protect(source)
    return _slotted(
        protected,
        pieces,
        env=TEXT_ENV,
        html=False,
        finish_for=lambda at: str,
        block_finish_for=lambda a, b: str,
    )


class _LinkMarkingParser(TextParser):
    """Text of the compiled HTML: a link whose address holds a slot is decided per recipient."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[tuple[str, str]] = []

    def link_suffix(self, href: str, label: str) -> str:
        if _WORD_RE.search(href) or _WORD_RE.search(label):
            self.marked.append((href, label))
            return _LINK.format(len(self.marked) - 1)
        return link_suffix(href, label)


def _line(parts: list[Part]) -> Slot:
    """One line of the text that holds slots: filled, then tidied if a value untidied it."""

    def fill(ctx: dict[str, Any]) -> str:
        line = "".join([p if type(p) is str else p(ctx) for p in parts])  # type: ignore[operator]
        if "  " in line or line != line.strip():
            return WHITESPACE.sub(" ", line).strip()
        return line

    return fill


@dataclass
class _Text:
    """The plain text: runs of static lines, and lines with slots that tidy themselves.

    A line that a recipient's values leave empty can make a run of blank lines,
    which the full pipeline folds to one; only then is the whole text folded.
    """

    parts: list[Part]

    def render(self, ctx: dict[str, Any]) -> str:
        text = "".join([p if type(p) is str else p(ctx) for p in self.parts])  # type: ignore[operator]
        if "\n\n\n" in text or text[:1] == "\n" or text.endswith("\n\n"):
            return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
        return text


def _text_template(protected_html: str, pieces: list[str]) -> _Text:
    parser = _LinkMarkingParser()
    plain = html_to_text(protected_html, parser)

    def text_parts(text: str) -> list[Part]:
        return _slotted(
            text,
            pieces,
            env=HTML_ENV,
            html=True,
            finish_for=lambda at: _collapse,
            block_finish_for=lambda a, b: _decoded,
        )

    links = []
    for href, label in parser.marked:
        href_parts, label_parts = text_parts(href), text_parts(label)
        links.append(
            lambda ctx, h=href_parts, lab=label_parts: link_suffix(
                _collapse(_fill(h, ctx)), _collapse(_fill(lab, ctx)).strip()
            )
        )
    parts: list[Part] = []
    for line in plain.split("\n"):
        if not (_WORD_RE.search(line) or _LINK_RE.search(line)):
            parts.append(line + "\n")
            continue
        chunks: list[Part] = []
        position = 0
        for mark in _LINK_RE.finditer(line):
            chunks.extend(text_parts(line[position : mark.start()]))
            chunks.append(links[int(mark.group(1))])
            position = mark.end()
        chunks.extend(text_parts(line[position:]))
        parts += [_line(_merge(chunks)), "\n"]
    # plain ends with a newline: the split's last item is the empty tail, not a line.
    parts = parts[:-1] if parts and parts[-1] == "\n" else parts
    return _Text(parts=_merge(parts))


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _names_in_markup(source: str) -> frozenset[str]:
    """Every name the Liquid of ``source`` could read (more than it does: filter names too)."""
    names: set[str] = set()
    for markup in _MARKUP.findall(source):
        names.update(_WORDS.findall(_QUOTED.sub("", markup)))
    return frozenset(names)


def _needs_full(ctx: dict[str, Any], names: Iterable[str] | None = None) -> bool:
    """Values the HTML parser would rewrite on its own (CR, NUL) are rendered the long way.

    ``names``: the only variables the design reads (all of ``ctx`` if None).
    """
    values = ctx.values() if names is None else [ctx.get(name) for name in names]
    for value in values:
        if type(value) is str:
            # render_context makes blank values nil; a whitespace-only one given directly
            # may be dropped by MJML where it stands alone, so it takes the long way too.
            if "\r" in value or "\x00" in value or value.isspace():
                return True
        elif (type(value) is dict and _needs_full(value)) or type(value) is list:
            return True
    return False


@dataclass
class CompiledDesign:
    """One design, ready to render for any number of recipients."""

    source: DesignSource
    fast: bool
    reason: str = ""
    variables: frozenset[str] = frozenset()
    _subject: list[Part] = field(default_factory=list)
    _preheader: list[Part] = field(default_factory=list)
    _html: list[Part] = field(default_factory=list)
    _text: _Text | None = None
    _names: frozenset[str] = frozenset()
    _project: dict[str, Any] | None = None

    def _fills(self, ctx: dict[str, Any]) -> bool:
        """Whether this recipient's copy can be the compiled parts filled in."""
        project = ctx.get("project")
        return (
            self.fast
            and self._text is not None
            and (project is self._project or project == self._project)
            and not _needs_full(ctx, self._names)
        )

    def render(self, ctx: dict[str, Any]) -> Rendered:
        made = self.render_pieces(ctx)
        if made is None:
            return render_full(self.source, ctx)
        rendered, pieces = made
        return replace(rendered, html="".join(pieces))

    @property
    def html_template(self) -> list[Part] | None:
        """The HTML as compiled: static chunks (``str``) and slots; None if no copy is made from it."""
        return self._html if self.fast and self._text is not None else None

    def render_pieces(self, ctx: dict[str, Any]) -> tuple[Rendered, list[str]] | None:
        """``render`` with the HTML kept in its pieces, one per part of ``html_template`` (the
        chunk itself, or the slot's value), and ``Rendered.html`` left empty; None where
        ``render`` would make this copy otherwise (in full)."""
        if not self._fills(ctx):
            return None
        try:
            pieces = [p if type(p) is str else p(ctx) for p in self._html]  # type: ignore[operator]
            return Rendered(
                subject=one_line(_fill(self._subject, ctx)),
                preheader=one_line(_fill(self._preheader, ctx)),
                html="",
                text=self._text.render(ctx),  # type: ignore[union-attr]
            ), pieces
        except Exception:
            # Values a step would rewrite (_NeedsFull), or that make Liquid fail: the full
            # render gives the same copy, or the same clear RenderError.
            return None


HOSTILE = '  Ann & <b>Bo</b> "O\'Neil"\xa0\n {{ x }} \\ ; display:none '


def _probes(variables: Iterable[str], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Recipients that exercise defaults, escaping and whitespace in every slot."""
    names = [n for n in variables if "." not in n and n not in ("project", "customFields")]
    custom = [n.partition(".")[2] for n in variables if n.startswith("customFields.")]
    project = base.get("project", {})

    def everyone(value: str) -> dict[str, Any]:
        return {**base, **dict.fromkeys(names, value), "customFields": dict.fromkeys(custom, value)}

    return [{"project": project}, everyone(HOSTILE), everyone(""), everyone("A")]


_PROJECT_OUTPUT = re.compile(
    r"\{\{\s*project\.[A-Za-z_]\w*\s*(?:\|\s*default\s*:\s*(?:\"[^\"]*\"|'[^']*')\s*)?\}\}"
)


def _with_project(source: DesignSource, project: dict[str, Any] | None) -> DesignSource:
    """The source with ``{{ project.name }}`` and the like filled in as Liquid would fill them:
    the same for every recipient, so no slot is spent on them."""
    if project is None:
        return source

    def fill(env: Any) -> Callable[[re.Match[str]], str]:
        return lambda match: env.from_string(match.group(0)).render(project=project)

    return DesignSource(
        format=source.format,
        subject=_PROJECT_OUTPUT.sub(fill(TEXT_ENV), source.subject),
        preheader=_PROJECT_OUTPUT.sub(fill(TEXT_ENV), source.preheader),
        body=_PROJECT_OUTPUT.sub(fill(HTML_ENV), source.body),
    )


def compile_design(
    source: DesignSource, *, probes: Iterable[dict[str, Any]] = (), base: dict[str, Any] | None = None
) -> CompiledDesign:
    """Compile once and prove the result equal to ``render_full`` on probe recipients.

    ``base`` holds what every recipient shares; its ``project`` is written into
    the compiled form (a recipient with another project is rendered in full).
    ``probes`` adds real recipients to check. A design that cannot be reproduced exactly
    is returned with ``fast=False`` and renders whole. Raises ``RenderError``
    only if the design does not render at all.
    """
    base = base or {}
    variables = frozenset(variable_paths(f"{source.subject}\n{source.preheader}\n{source.body}"))
    compiled = CompiledDesign(source=source, fast=True, variables=variables)
    compiled._names = _names_in_markup(f"{source.subject}\n{source.preheader}\n{source.body}")
    compiled._project = base.get("project")
    try:
        fixed = _with_project(source, compiled._project)
        protected, pieces = _protect(document_source(fixed))
        protected_html = compile_markup(protected, source.format)
        compiled._subject = _plain_parts(fixed.subject)
        compiled._preheader = _plain_parts(fixed.preheader)
        compiled._html = _html_parts(protected_html, pieces, source.format)
        compiled._text = _text_template(protected_html, pieces)
    except RenderError:
        compiled.fast, compiled.reason = False, "the design renders only with values filled in"
    except _Unsupported as exc:
        compiled.fast, compiled.reason = False, str(exc)
    except Exception as exc:  # a Liquid error in a cut-out piece: the whole design decides below
        compiled.fast, compiled.reason = False, f"a piece failed to compile: {exc}"
    if not compiled.fast:
        render_full(source, base)  # must render at all
        return compiled
    for ctx in [*_probes(variables, base), *probes]:
        expected = render_full(source, ctx)
        try:
            same = compiled.render(ctx) == expected
        except Exception as exc:
            same, compiled.reason = False, f"a slot failed: {exc}"
        if not same:
            compiled.fast = False
            compiled.reason = compiled.reason or "the compiled form differs from a full render"
            break
    return compiled
