"""The plain-text alternative of an email, made from its HTML.

Readable rather than faithful: paragraphs and table rows become lines, links
show their address after the label, images their ``alt``; the head, styles,
Outlook-only comments and hidden elements (the preheader) are left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    "address article aside blockquote body center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody td tfoot th "
    "thead tr ul".split()
)
_SKIP = frozenset({"head", "style", "script", "title", "template", "noscript"})
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_HIDDEN = re.compile(r"display\s*:\s*none|mso-hide\s*:\s*all|visibility\s*:\s*hidden", re.IGNORECASE)
# ASCII whitespace only, as HTML defines it: a no-break space is kept.
WHITESPACE = re.compile(r"[ \t\r\f\v\n]+")
_SPACES = WHITESPACE
_BLANK_RUNS = re.compile(r"\n{3,}")
_NO_SHOW = ("javascript:", "data:", "vbscript:")


def link_suffix(href: str, label: str) -> str:
    """What follows a link's label in the text: its address, unless that adds nothing."""
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_NO_SHOW):
        return ""
    if href == label or href.lower() == f"mailto:{label}".lower():
        return ""
    return f" ({href})" if label else href


class TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden: list[str] = []  # open elements that hide everything inside them
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def link_suffix(self, href: str, label: str) -> str:
        return link_suffix(href, label)

    def _break(self, lines: int = 1) -> None:
        self.out.append("\n" * lines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self.hidden:
            if tag not in _VOID:
                self.hidden.append(tag)
            return
        if tag in _SKIP or _HIDDEN.search(values.get("style") or "") or "hidden" in values:
            if tag not in _VOID:
                self.hidden.append(tag)
            return
        if tag == "br":
            self._break()
        elif tag == "img":
            alt = _SPACES.sub(" ", values.get("alt") or "").strip()
            if alt:
                self.out.append(f" {alt} ")
                if self.link_text:  # an image link is labelled by its image
                    self.link_text[-1] += f" {alt} "
        elif tag == "a":
            self.links.append(values.get("href"))
            self.link_text.append("")
        elif tag == "li":
            self._break()
            self.out.append("- ")
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"):
            self._break(2)
        elif tag in _BLOCKS:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            if self.hidden[-1] == tag:
                self.hidden.pop()
            elif tag in self.hidden:  # tolerate unclosed children
                del self.hidden[self.hidden.index(tag) :]
            return
        if tag == "a" and self.links:
            href = _SPACES.sub(" ", self.links.pop() or "").strip()
            label = _SPACES.sub(" ", self.link_text.pop()).strip()
            self.out.append(self.link_suffix(href, label))
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"):
            self._break(2)
        elif tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        # Line breaks come from the markup's blocks, never from how its source was wrapped.
        data = _SPACES.sub(" ", data)
        self.out.append(data)
        if self.link_text:
            self.link_text[-1] += data


def html_to_text(html: str, parser: TextParser | None = None) -> str:
    """Plain text for an HTML email: one paragraph per block, links as ``label (url)``."""
    parser = parser or TextParser()
    parser.feed(html)
    parser.close()
    return tidy_lines("".join(parser.out))


def tidy_lines(raw: str) -> str:
    """One space between words, no blank runs: the last step of every text alternative."""
    lines = [_SPACES.sub(" ", line).strip() for line in raw.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"
