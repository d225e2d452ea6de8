"""“Send a test”: one rendered copy of a design to one address, marked as a test.

Until a project has provider connections, tests are delivered to the outbox:
each message is written as an ``.eml`` file under ``<data dir>/outbox``,
which any mail program opens.
"""

from __future__ import annotations

import secrets
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from email_validator import EmailNotValidError, validate_email

from tidings.content.rendering import Rendered
from tidings.core.errors import ValidationError
from tidings.core.models import Project


def outbox_dir() -> Path:
    path = Path(settings.DATA_DIR) / "outbox"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def build_test_message(*, project: Project, rendered: Rendered, to: str) -> EmailMessage:
    host = urlsplit(settings.BASE_URL).hostname or "localhost"
    message = EmailMessage()
    message["Subject"] = f"[Test] {rendered.subject}"
    message["From"] = formataddr((project.default_from_name or project.name, f"tests@{host}"))
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=host)
    message["X-Tidings-Test"] = "yes"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def send_test(*, project: Project, rendered: Rendered, to: str) -> tuple[str, Path]:
    """Check the address, build the message and put it in the outbox; returns the address and the file."""
    try:
        address = validate_email(to.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError.field("to", str(exc)) from exc
    message = build_test_message(project=project, rendered=rendered, to=address)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = outbox_dir() / f"{stamp}-test-{project.slug}-{secrets.token_hex(4)}.eml"
    path.write_bytes(bytes(message))
    return address, path
