"""Building blocks for send tests: a project ready to send, contacts, a design, a campaign."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tidings.audience.models import Contact, ContactStatus, Tag
from tidings.audience.services import tags_get_or_create
from tidings.campaigns.models import Campaign
from tidings.campaigns.services import campaign_create
from tidings.content.services import design_create
from tidings.core.models import Project
from tidings.sending.domains import domain_create
from tidings.sending.models import ProviderConnection, SendingDomain
from tidings.sending.services import connection_create

DESIGN_BODY = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ firstName | default: "friend" }},</mj-text>
<mj-text>Our news for {{ company | default: "you" }}.</mj-text>
</mj-column></mj-section></mj-body></mjml>"""


def verified_domain(project: Project, domain: str = "example.com") -> SendingDomain:
    sending_domain = domain_create(project=project, domain=domain)
    sending_domain.verified_at = timezone.now()
    sending_domain.save(update_fields=["verified_at"])
    return sending_domain


def smtp_connection(project: Project, server: Any, **fields: Any) -> ProviderConnection:
    return connection_create(
        project=project,
        name=fields.pop("name", "Relay"),
        kind="smtp",
        options={"host": server.host, "port": server.port, "security": "none", **fields.pop("options", {})},
        is_default=fields.pop("is_default", True),
        **fields,
    )


def outbox_connection(project: Project) -> ProviderConnection:
    return connection_create(project=project, name="Outbox", kind="outbox", is_default=True)


def contacts(
    project: Project,
    n: int,
    *,
    tag: Tag | None = None,
    status: str = ContactStatus.SUBSCRIBED,
    prefix: str = "person",
) -> list[Contact]:
    made = Contact.objects.bulk_create(
        Contact(
            project=project,
            email=f"{prefix}{i}@example.net",
            email_key=f"{prefix}{i}@example.net",
            first_name=f"First{i}",
            status=status,
        )
        for i in range(n)
    )
    made = list(Contact.objects.for_project(project).filter(email_key__startswith=prefix).order_by("id"))
    if tag is not None:
        tag.contacts.add(*made)
    return made


def tag(project: Project, name: str = "news") -> Tag:
    return tags_get_or_create(project=project, names=[name])[0]


def design(
    project: Project,
    *,
    body: str = DESIGN_BODY,
    subject: str = "News for {{ firstName | default: 'you' }}",
    fmt: str = "mjml",
) -> Any:
    return design_create(
        project=project, values={"name": "Newsletter", "format": fmt, "subject": subject, "body": body}
    )


def campaign(project: Project, *, design_obj: Any, tag_obj: Tag, **values: Any) -> Campaign:
    return campaign_create(
        project=project,
        values={
            "name": "December news",
            "designId": design_obj.pk,
            "from": "news@example.com",
            "fromName": "Acme News",
            "recipientType": "tag",
            "recipientId": tag_obj.pk,
            **values,
        },
    )
