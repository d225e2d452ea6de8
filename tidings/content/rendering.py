"""The render pipeline: Liquid → MJML (mrml) → CSS inlined (css-inline) → plain text.

``render_full`` is the definition of what a recipient receives; the compiled
renderer (``compiled.py``) must produce exactly the same, faster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import css_inline
import mrml
from liquid.exceptions import LiquidError
from markupsafe import escape

from tidings.content.templating import HTML_ENV, LIQUID_MARKUP, TEXT_ENV
from tidings.content.text import html_to_text
from tidings.core.errors import TidingsError

MJML = "mjml"
HTML = "html"

# No stylesheet is ever fetched: a design cannot make the server call out.
# Nor does any email make its readers fetch fonts from a third party: MJML's
# default web fonts are left out, the design's own font stack applies.
MJML_OPTIONS = mrml.RenderOptions(fonts={})
INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, keep_link_tags=False)
PREHEADER_STYLE = (
    "display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;max-width:0px;"
    "opacity:0;overflow:hidden;mso-hide:all;"
)
_MJ_HEAD = re.compile(r"<mj-head\b[^>]*>", re.IGNORECASE)
_MJML_OPEN = re.compile(r"<mjml\b[^>]*>", re.IGNORECASE)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


class RenderError(TidingsError):
    """A design that cannot be rendered: broken MJML, or a template that hit a sandbox limit."""

    status = 422
    code = "render_error"
    title = "The email does not render"


@dataclass(frozen=True)
class DesignSource:
    """What is rendered: the parts of one design version."""

    format: str  # "mjml" | "html"
    subject: str
    preheader: str
    body: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str
    text: str


def one_line(text: str) -> str:
    """Subjects and preheaders are one line, whatever the data put in them."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return _SPACES.sub(" ", text).strip()


_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def body_end(html: str) -> int:
    """Where the last ``</body>`` (any case, spaces before ``>``) starts; -1 if there is none.

    Looks from the end for the usual spellings first: a newsletter is tens of kilobytes, and
    this runs for every copy sent."""
    for spelling in ("</body>", "</BODY>"):
        found = html.rfind(spelling)
        if found >= 0 and not _BODY_END.search(html, found + 1):
            return found
    last = -1
    for match in _BODY_END.finditer(html):
        last = match.start()
    return last


def _escape_literal(text: str) -> str:
    """HTML-escape the text of a Liquid source, leaving its tags to Liquid (which escapes values)."""
    parts, position = [], 0
    for match in LIQUID_MARKUP.finditer(text):
        parts += [str(escape(text[position : match.start()])), match.group(0)]
        position = match.end()
    parts.append(str(escape(text[position:])))
    return "".join(parts)


def document_source(source: DesignSource) -> str:
    """The body with the preheader put where mail clients read it (Liquid still in it).

    The preheader is plain text: "Prices < $10" is shown as written, never parsed as markup.
    """
    body, preheader = source.body, _escape_literal(source.preheader)
    if source.format == MJML:
        if not preheader or "<mj-preview" in body.lower():
            return body
        preview = f"<mj-preview>{preheader}</mj-preview>"
        if head := _MJ_HEAD.search(body):
            return body[: head.end()] + preview + body[head.end() :]
        if root := _MJML_OPEN.search(body):
            return body[: root.end()] + f"<mj-head>{preview}</mj-head>" + body[root.end() :]
        return body
    if not preheader:
        return body
    hidden = f'<div style="{PREHEADER_STYLE}">{preheader}</div>'
    if opening := _BODY_OPEN.search(body):
        return body[: opening.end()] + hidden + body[opening.end() :]
    return hidden + body


def compile_markup(markup: str, format: str) -> str:
    """MJML to HTML (HTML passes through), then CSS inlined; ``RenderError`` on broken MJML."""
    if format == MJML:
        try:
            markup = mrml.to_html(markup, render_options=MJML_OPTIONS).content
        except OSError as exc:
            raise RenderError(f"the MJML does not compile: {exc}") from exc
    try:
        return INLINER.inline(markup)
    except ValueError as exc:
        raise RenderError(f"the CSS could not be inlined: {exc}") from exc


def liquid(env: Any, source: str, context: dict[str, Any]) -> str:
    try:
        return env.from_string(source).render(**context)
    except LiquidError as exc:
        message = str(getattr(exc, "message", None) or exc).splitlines()[0]
        raise RenderError(f"the template failed: {message}") from exc
    except (ValueError, TypeError, ArithmeticError) as exc:
        # A filter given data it cannot take (a huge timestamp to `date`): the data's fault,
        # reported like any other render failure, never a crash.
        raise RenderError(f"the template failed on a value: {exc}") from exc


def render_full(source: DesignSource, context: dict[str, Any]) -> Rendered:
    """Render one copy the straightforward way: every step, for this recipient alone."""
    subject = one_line(liquid(TEXT_ENV, source.subject, context))
    preheader = one_line(liquid(TEXT_ENV, source.preheader, context))
    markup = liquid(HTML_ENV, document_source(source), context)
    html = compile_markup(markup, source.format)
    return Rendered(subject=subject, preheader=preheader, html=html, text=html_to_text(html))
