"""Writing the composed email as MJML with Liquid personalisation.

Everything the user typed reaches the template through `escape`, which
turns braces into character references: user text can show `{{` but can
never open a Liquid tag, whichever runs first (Liquid on the MJML source,
or mrml and then Liquid on the HTML). The only Liquid in the output is
written here: variable outputs with a default, and the footer's
unsubscribe, preferences and postal address tags.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from tidings.drafts.composer_links import find_links

FONT_STACK = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
DEFAULT_ACCENT = "#2563eb"
TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#6b7280"
PAGE_COLOR = "#f4f5f7"
# A catalog name we can write as a Liquid path: firstName, plan, customFields.favourite-colour.
VARIABLE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$")
HEX_COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclass(frozen=True)
class Var:
    """A catalog variable in running text, with the default every recipient without a value sees."""

    name: str
    default: str


Run = str | Var


@dataclass(frozen=True)
class Doc:
    """An email ready to write out: plain text and variables, nothing escaped yet."""

    project: str
    subject: str
    preheader: str
    greeting: list[Run]
    paragraphs: list[list[Run]]
    buttons: list[tuple[str, str]]  # (label, url)
    buttons_at: int  # the buttons come before this paragraph (len(paragraphs): after all of them)
    sign_off: str
    signature: str
    ps: str
    footer_note: list[Run]
    accent: str


def escape(text: str, *, quote: bool = True) -> str:
    """HTML-escape text and neutralise Liquid: `{` and `}` become character references.

    Quotes are escaped unless `quote` is False (text between tags, where they are harmless and
    `&#x27;` would only make the source harder to read).
    """
    return html.escape(text, quote=quote).replace("{", "&#123;").replace("}", "&#125;")


def _text(text: str) -> str:
    return escape(text, quote=False)


def liquid_output(var: Var) -> str:
    """`{{ name | default: "…" }}` for HTML. The default is escaped, so it holds no quote or brace."""
    return f'{{{{ {var.name} | default: "{escape(var.default)}" }}}}'


def liquid_text(runs: list[Run]) -> str:
    """Runs as template text for the plan: variables as Liquid, text as written."""
    return "".join(liquid_output(run) if isinstance(run, Var) else run for run in runs)


def variables_in(runs: list[Run]) -> list[str]:
    """The catalog variables a list of runs uses."""
    return [run.name for run in runs if isinstance(run, Var)]


def _linkify(text: str, accent: str) -> str:
    """Escaped text with its web and email addresses as links."""
    out: list[str] = []
    last = 0
    for start, end, url, _kind in find_links(text):
        shown = text[start:end]
        out.append(_text(text[last:start]))
        out.append(f'<a href="{escape(url)}" style="color:{accent};">{_text(shown)}</a>')
        last = end
    out.append(_text(text[last:]))
    return "".join(out)


def _runs_html(runs: list[Run], accent: str) -> str:
    return "".join(liquid_output(run) if isinstance(run, Var) else _linkify(run, accent) for run in runs)


def _button_text_colour(accent: str) -> str:
    """White on dark brand colours, near-black on light ones, so the label stays readable."""
    hex_digits = accent.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111827" if luminance > 160 else "#ffffff"


def render(doc: Doc) -> str:
    """The email as MJML source."""
    accent = doc.accent if HEX_COLOUR_RE.match(doc.accent) else DEFAULT_ACCENT
    content = [f"        <mj-text>{_runs_html(doc.greeting, accent)}</mj-text>"]
    buttons = [
        f'        <mj-button href="{escape(url)}">{_text(label)}</mj-button>' for label, url in doc.buttons
    ]
    for index, paragraph in enumerate(doc.paragraphs):
        if index == doc.buttons_at:
            content.extend(buttons)
        content.append(f"        <mj-text>{_runs_html(paragraph, accent)}</mj-text>")
    if doc.buttons_at >= len(doc.paragraphs):
        content.extend(buttons)
    content.append(f"        <mj-text>{_text(doc.sign_off)},<br />{_text(doc.signature)}</mj-text>")
    if doc.ps:
        content.append(f"        <mj-text>{_runs_html(['P.S. ' + doc.ps], accent)}</mj-text>")
    note = f"{_runs_html(doc.footer_note, accent)}<br />" if doc.footer_note else ""
    footer = (
        f"You are receiving this email because you subscribed to updates from {_text(doc.project)}.<br />"
        f"{note}"
        '<a href="{{ preferencesUrl }}">Manage preferences</a> · '
        '<a href="{{ unsubscribeUrl }}">Unsubscribe</a>'
        "<br />{{ project.postalAddress }}"
    )
    return "\n".join(
        [
            "<mjml>",
            "  <mj-head>",
            f"    <mj-title>{_text(doc.subject)}</mj-title>",
            f"    <mj-preview>{_text(doc.preheader)}</mj-preview>",
            "    <mj-attributes>",
            f'      <mj-all font-family="{FONT_STACK}" />',
            f'      <mj-text font-size="16px" line-height="1.6" color="{TEXT_COLOR}" padding="0 0 16px 0" />',
            f'      <mj-button background-color="{accent}" color="{_button_text_colour(accent)}"'
            ' font-size="16px" font-weight="600" border-radius="6px" inner-padding="12px 28px"'
            ' padding="8px 0 24px 0" align="left" />',
            "    </mj-attributes>",
            f"    <mj-style>.footer a {{ color: {MUTED_COLOR}; text-decoration: underline; }}</mj-style>",
            "  </mj-head>",
            f'  <mj-body background-color="{PAGE_COLOR}" width="600px">',
            '    <mj-section padding="32px 24px 16px 24px">',
            "      <mj-column>",
            f'        <mj-text font-size="20px" font-weight="700" color="#111827" padding="0">'
            f"{_text(doc.project)}</mj-text>",
            "      </mj-column>",
            "    </mj-section>",
            '    <mj-section background-color="#ffffff" border-radius="8px" padding="32px 32px 16px 32px">',
            "      <mj-column>",
            *content,
            "      </mj-column>",
            "    </mj-section>",
            '    <mj-section padding="24px 24px 32px 24px">',
            "      <mj-column>",
            f'        <mj-text css-class="footer" font-size="12px" line-height="1.5" color="{MUTED_COLOR}"'
            f' align="center" padding="0">{footer}</mj-text>',
            "      </mj-column>",
            "    </mj-section>",
            "  </mj-body>",
            "</mjml>",
        ]
    )
