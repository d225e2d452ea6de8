"""Warnings shown when a design is saved: things that hurt delivery or readers, not errors."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from tidings.content.templating import LINK_VARIABLES, variables_used

GMAIL_CLIP_BYTES = 102 * 1024
# Links a mail client handles itself; everything else must be a web address.
_OTHER_SCHEMES = ("mailto:", "tel:", "sms:")


@dataclass(frozen=True)
class LintWarning:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images_without_alt: list[str] = []
        self.bad_links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("alt") is None:
            self.images_without_alt.append(values.get("src") or "(no src)")
        elif tag == "a" and "href" in values:
            href = (values.get("href") or "").strip()
            if not href.lower().startswith(("http://", "https://", *_OTHER_SCHEMES)):
                self.bad_links.append(href or "(empty)")


def _some(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"“{item[:80]}”" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def lint_design(*, html: str, body_source: str, marketing: bool) -> list[LintWarning]:
    """Warnings for a rendered design (``html`` rendered for a sample recipient)."""
    warnings: list[LintWarning] = []
    size = len(html.encode())
    if size > GMAIL_CLIP_BYTES:
        warnings.append(
            LintWarning(
                "body_too_large",
                f"The HTML is {size / 1024:.0f} KB; Gmail clips messages over 102 KB, "
                "hiding the rest (and the unsubscribe link) behind “View entire message”.",
            )
        )
    scan = _Scan()
    scan.feed(html)
    scan.close()
    if scan.images_without_alt:
        warnings.append(
            LintWarning(
                "image_without_alt",
                f"{len(scan.images_without_alt)} image(s) without alt text: "
                f"{_some(scan.images_without_alt)}. "
                "Readers who block images, and screen readers, see nothing there.",
            )
        )
    if scan.bad_links:
        warnings.append(
            LintWarning(
                "link_not_http",
                f"{len(scan.bad_links)} link(s) that are not http(s) addresses: {_some(scan.bad_links)}.",
            )
        )
    if marketing and not set(LINK_VARIABLES) & variables_used(body_source):
        warnings.append(
            LintWarning(
                "no_unsubscribe_link",
                "This marketing email has no {{ unsubscribeUrl }} or {{ preferencesUrl }} link; "
                "one will be added at the bottom with the project's postal address when it is sent.",
            )
        )
    return warnings
