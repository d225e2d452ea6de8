"""What the API fuzz test stands on: a machine without a network, and a project with some data.

The fuzzer may add an SMTP connection to any host and "check" it, make it the default and send
a design test through it, point drafting at any AI provider, or add any sending domain and
verify it. None of that may leave this machine: only the local stand-ins answer (an SMTP relay
and a DNS server on 127.0.0.1); every other connection is refused at once, and every name but
``localhost`` fails to resolve, as on a host with no network.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.conftest import ApiClient
from tests.sending import factories
from tests.sending.dns_server import DnsServer
from tests.sending.smtp_server import SmtpServer
from tidings.audience.services import suppress
from tidings.core.models import Project
from tidings.tracking.models import Alert, AlertKind

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class StandIns:
    smtp: SmtpServer
    dns: DnsServer


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def offline(settings: Any) -> Iterator[StandIns]:
    """Run the stand-ins and cut every other connection for the duration."""
    with SmtpServer() as smtp, DnsServer() as dns, pytest.MonkeyPatch.context() as patch:
        allowed = {(LOOPBACK, smtp.port), (LOOPBACK, dns.port)}
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo

        def refuse(sock: socket.socket, address: Any) -> bool:
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return False
            return (str(address[0]), int(address[1])) not in allowed

        def connect(sock: socket.socket, address: Any) -> None:
            if refuse(sock, address):
                raise ConnectionRefusedError(errno.ECONNREFUSED, f"offline test: {address[0]} refused")
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if refuse(sock, address):
                return errno.ECONNREFUSED
            return real_connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else str(host or "")
            if name.lower().rstrip(".") == "localhost":
                name = LOOPBACK
            elif not _is_ip(name.strip("[]")):
                raise socket.gaierror(socket.EAI_NONAME, f"offline test: {name} is not resolved")
            return real_getaddrinfo(name, *args, **kwargs)

        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        settings.DNS_RESOLVER = dns.address
        settings.AI_ALLOWED_HOSTS = []
        yield StandIns(smtp=smtp, dns=dns)


def _created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def seed_project(project: Project, api: ApiClient, servers: StandIns) -> dict[str, list[int]]:
    """Give ``project`` one or more of everything the API names by id; returns the ids by path parameter."""
    domain = factories.verified_domain(project)
    connection = factories.smtp_connection(project, servers.smtp)
    tag = _created(api.post("tags", {"name": "Customers"}))
    topic = _created(api.post("topics", {"name": "Product news"}))
    contacts = [
        _created(
            api.post(
                "contacts", {"email": f"person{i}@example.net", "firstName": f"P{i}", "tags": ["Customers"]}
            )
        )
        for i in range(3)
    ]
    segment = _created(
        api.post(
            "segments",
            {
                "name": "Named P",
                "filters": {
                    "match": "all",
                    "conditions": [
                        {"type": "field", "field": "firstName", "operator": "starts_with", "value": "P"}
                    ],
                },
            },
        )
    )
    design = _created(
        api.post(
            "designs",
            {"name": "Newsletter", "format": "mjml", "subject": "News", "body": factories.DESIGN_BODY},
        )
    )
    _created(api.patch(f"designs/{design['id']}", {"subject": "News of the week"}), 200)
    campaign = _created(
        api.post(
            "campaigns",
            {
                "name": "December news",
                "designId": design["id"],
                "from": "news@example.com",
                "fromName": "Acme News",
                "recipientType": "tag",
                "recipientId": tag["id"],
            },
        )
    )
    send = _created(
        api.post(
            "sending",
            {
                "recipientType": "email",
                "recipientEmail": "ann@example.net",
                "from": "hello@example.com",
                "subject": "Your order",
                "template": "<p>Hello {{ firstName | default: 'friend' }}</p>",
            },
        ),
        202,
    )
    draft = _created(api.post("drafts", {"prompt": "A short note about our spring sale"}))
    upload = SimpleUploadedFile("people.csv", b"email,first_name\nzoe@example.net,Zoe\n", "text/csv")
    contact_import = _created(
        Client().post("/api/v1/imports", {"file": upload}, headers={"Authorization": f"Bearer {api.secret}"}),
        202,
    )
    suppression = suppress(project=project, email="gone@example.net", reason="bounced")
    alert = Alert.objects.create(
        project=project,
        kind=AlertKind.SENDER_PROBLEM,
        title="Mail refused for the sender",
        last_seen_at=timezone.now(),
    )
    return {
        "contactId": [c["id"] for c in contacts],
        "tagId": [tag["id"]],
        "topicId": [topic["id"]],
        "segmentId": [segment["id"]],
        "designId": [design["id"]],
        "number": [1, 2],
        "campaignId": [campaign["id"]],
        "batchId": [send["batchId"]],
        "sendId": [send["sendId"]],
        "draftId": [draft["id"]],
        "importId": [contact_import["id"]],
        "connectionId": [connection.pk],
        "domainId": [domain.pk],
        "suppressionId": [suppression.pk],
        "alertId": [alert.pk],
    }
