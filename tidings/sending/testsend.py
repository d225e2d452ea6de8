"""“Send a test” of a design through the project's default connection.

Without a connection, or with the outbox as the default, the test is written to
the outbox (``tidings.content.testsend``). Through a real connection it goes
from ``tests@`` a verified sending domain of the project, rendered, assembled
and signed like any campaign message, marked as a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from tidings.content import testsend as outbox_test
from tidings.content.rendering import Rendered
from tidings.core.errors import ValidationError
from tidings.core.models import Project
from tidings.sending import assemble
from tidings.sending.dkim import keys_for_domain, sign
from tidings.sending.models import ConnectionKind, ProviderConnection, SendingDomain
from tidings.sending.transports import DeliveryError, open_transport


@dataclass(frozen=True)
class TestSent:
    to: str
    delivered_to: str  # "outbox", or the connection's kind
    reference: str  # the .eml file's name, or the provider's message id
    connection: str = ""  # the connection's name, when it went out through one


def send_design_test(*, project: Project, rendered: Rendered, to: str) -> TestSent:
    connection = ProviderConnection.objects.for_project(project).filter(is_default=True).first()
    if connection is None or connection.kind == ConnectionKind.OUTBOX:
        address, path = outbox_test.send_test(project=project, rendered=rendered, to=to)
        return TestSent(address, "outbox", path.name, connection.name if connection else "")
    try:
        address = validate_email(to.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError.field("to", str(exc)) from exc
    domain = (
        SendingDomain.objects.for_project(project)
        .filter(verified_at__isnull=False)
        .order_by("domain")
        .first()
    )
    if domain is None:
        raise ValidationError.field(
            "to",
            f"tests go out through {connection.name}, from a verified sending domain: "
            "verify one under Settings → Domains first",
        )
    outgoing = assemble.Outgoing(
        from_email=f"tests@{domain.domain}",
        from_name=project.default_from_name or project.name,
        to=address,
        subject=f"[Test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        headers={"X-Tidings-Test": "yes"},
        message_id=assemble.message_id(domain.domain),
    )
    transport = open_transport(connection)
    try:
        data = sign(assemble.to_bytes(outgoing), keys_for_domain(domain)) if transport.signs else None
        reference = transport.push(outgoing, data)
    except DeliveryError as exc:
        raise ValidationError.field("to", f"{connection.name} did not take the test: {exc.message}") from exc
    finally:
        transport.close()
    return TestSent(address, connection.kind, reference, connection.name)
