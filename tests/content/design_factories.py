"""Small builders for content tests: MJML wrappers, a project's values, unsaved contacts, contexts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tidings.audience.models import Contact
from tidings.content.rendering import DesignSource
from tidings.content.templating import ProjectInfo, render_context

PROJECT = ProjectInfo(name="Acme & Sons", postal_address="1 Main St, Springfield")
LINKS = {
    "unsubscribeUrl": "https://mail.acme.test/u/tok123?c=1&d=2",
    "preferencesUrl": "https://mail.acme.test/p/tok123",
}
SIGNED_UP = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def mjml(inner: str, head: str = "") -> str:
    """A one-column MJML email holding ``inner`` (mj-text, mj-button, mj-image …)."""
    head_part = f"<mj-head>{head}</mj-head>" if head else ""
    return (
        f"<mjml>{head_part}<mj-body><mj-section><mj-column>{inner}</mj-column></mj-section></mj-body></mjml>"
    )


def text_block(inner: str) -> str:
    """An MJML email whose only content is one ``mj-text`` holding ``inner``."""
    return mjml(f"<mj-text>{inner}</mj-text>")


def design(body: str, *, subject: str = "", preheader: str = "", format: str = "mjml") -> DesignSource:
    return DesignSource(format=format, subject=subject, preheader=preheader, body=body)


def person(email: str = "ann@example.org", **fields: Any) -> Contact:
    """An unsaved contact: rendering reads its attributes only."""
    fields.setdefault("created_at", SIGNED_UP)
    return Contact(email=email, email_key=email.lower(), **fields)


def context(
    contact: Contact | None = None,
    *,
    project: ProjectInfo = PROJECT,
    links: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The variables of one rendering, as the send pipeline builds them."""
    return render_context(
        project=project, contact=contact, links=LINKS if links is None else links, extra=extra or None
    )
