"""The SDK against a live test server: round trips per resource group, pagination, error mapping
and idempotency, with the real API and database behind it."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tidings.client import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Tidings,
    ValidationError,
)
from tidings.client.models import Contact
from tidings.core.models import Project

TEMPLATE = "<html><body><p>Hello {{ firstName | default: 'there' }}, your order shipped.</p></body></html>"


@pytest.fixture
def ready(project: Project) -> Project:
    """The project can send: example.com is verified (DNS cannot be checked here)."""
    f.verified_domain(project)
    return project


def outbox(client: Tidings) -> None:
    client.connections.create("Outbox", "outbox", is_default=True)


def test_send_one_email(client: Tidings, ready: Project) -> None:
    outbox(client)
    sent = client.sending.send(
        recipient_type="email",
        recipient_email="ann@example.net",
        from_="hello@example.com",
        from_name="Acme",
        subject="Your order",
        template=TEMPLATE,
        project_id=ready.pk,
        variables={"orderNumber": "A-1"},
    )
    assert sent.transactional is True
    assert sent.send_id is not None
    message = client.sending.get(sent.send_id)
    assert message.email == "ann@example.net"
    batch = client.sending.batch(sent.batch_id)
    assert batch.batch_id == sent.batch_id
    assert [r.id for r in client.sending.batch_recipients(sent.batch_id)] == [sent.send_id]


def test_send_for_another_project_is_refused(client: Tidings, ready: Project, other_project: Project) -> None:
    outbox(client)
    with pytest.raises(PermissionDeniedError) as caught:
        client.sending.send(
            recipient_type="email",
            recipient_email="ann@example.net",
            from_="hello@example.com",
            subject="Hi",
            template=TEMPLATE,
            project_id=other_project.pk,
        )
    assert caught.value.status == 403
    assert client.campaigns.list().page().items == []


def test_one_idempotency_key_sends_once(client: Tidings, ready: Project) -> None:
    outbox(client)
    args: dict[str, Any] = {
        "recipient_type": "email",
        "recipient_email": "ann@example.net",
        "from_": "hello@example.com",
        "subject": "Your order",
        "template": TEMPLATE,
    }
    first = client.sending.send(**args, idempotency_key="order-77")
    again = client.sending.send(**args, idempotency_key="order-77")
    assert again.batch_id == first.batch_id
    assert again.send_id == first.send_id
    with pytest.raises(ConflictError):
        client.sending.send(**{**args, "subject": "Another"}, idempotency_key="order-77")


def test_contacts_round_trip(client: Tidings) -> None:
    created = client.contacts.create(
        "Ann@Example.net",
        first_name="Ann",
        custom_fields={"plan_name": "pro"},
        tags=["vip"],
        status="subscribed",
    )
    assert isinstance(created, Contact)
    assert created.custom_fields == {"plan_name": "pro"}
    assert [t.name for t in created.tags] == ["vip"]
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    changed = client.contacts.update(created.id, last_name="Smith", company=None)
    assert (changed.first_name, changed.last_name) == ("Ann", "Smith")
    assert client.contacts.get(created.id).last_name == "Smith"
    assert [c.id for c in client.contacts.list(q="smith")] == [created.id]
    assert "ann@example.net" in client.contacts.export_csv().lower()
    assert client.contacts.export(created.id)
    client.contacts.delete(created.id)
    with pytest.raises(NotFoundError):
        client.contacts.get(created.id)


def test_bulk_upsert_and_delete(client: Tidings) -> None:
    result = client.contacts.bulk_upsert(
        [
            {"email": "a@example.net", "firstName": "A"},
            {"email": "b@example.net"},
            {"email": "not an address"},
        ]
    )
    assert (result.created, result.rejected) == (2, 1)
    rejected = next(item for item in result.results if item.result == "rejected")
    assert [e.path for e in rejected.errors] == ["contacts[2].email"]
    gone = client.contacts.bulk_delete(["a@example.net", "zed@example.net"])
    assert gone.deleted == 1
    assert gone.not_found == ["zed@example.net"]


def test_pagination_walks_every_page_lazily(client: Tidings) -> None:
    client.contacts.bulk_upsert([{"email": f"p{i}@example.net"} for i in range(7)])
    pager = client.contacts.list(limit=3)
    first = pager.page()
    assert len(first.items) == 3
    assert first.next_cursor
    second = pager.page(first.next_cursor)
    assert {c.id for c in second.items}.isdisjoint({c.id for c in first.items})
    assert [len(page) for page in pager.pages()] == [3, 3, 1]
    emails = [c.email for c in pager]
    assert sorted(emails) == sorted(f"p{i}@example.net" for i in range(7))
    assert len(set(emails)) == 7
    resumed = client.contacts.list(limit=3, cursor=first.next_cursor)
    assert len(list(resumed)) == 4


def test_tags_topics_and_segments(client: Tidings) -> None:
    ann = client.contacts.create("ann@example.net", status="subscribed", country="NZ")
    client.contacts.create("bob@example.net", status="subscribed", country="FR")
    vip = client.tags.create("VIP", color="#2f5d8a")
    assert client.tags.add_contacts(vip.id, emails=["ann@example.net"]) == 1
    assert client.tags.get(vip.id).contact_count == 1
    assert client.tags.update(vip.id, name="VIPs").name == "VIPs"
    assert client.tags.remove_contacts(vip.id, contact_ids=[ann.id]) == 1

    topic = client.topics.create("Product news", default_subscription="opt_in")
    state = client.topics.subscribe(topic.id, email="ann@example.net")
    assert state.subscribed is True
    choices = {t.topic_id: t.subscribed for t in client.contacts.topics(ann.id)}
    assert choices[topic.id] is True
    assert client.contacts.set_topic(ann.id, topic.id, subscribed=False).subscribed is False

    rules = {
        "match": "all",
        "conditions": [{"type": "field", "field": "country", "operator": "is", "value": "NZ"}],
    }
    segment = client.segments.create("Kiwis", filters=rules)
    assert client.segments.count(segment.id) == 1
    assert [c.email for c in client.segments.sample(segment.id)] == ["ann@example.net"]
    assert client.segments.preview(rules).count == 1
    assert [s.id for s in client.segments.list()] == [segment.id]
    client.segments.delete(segment.id)
    client.tags.delete(vip.id)
    client.topics.delete(topic.id)
    assert list(client.tags.list()) == []


def test_designs_and_campaigns(client: Tidings, ready: Project) -> None:
    outbox(client)
    design = client.designs.create(
        "Receipt", format="html", subject="Hi {{ firstName | default: 'there' }}", body=TEMPLATE
    )
    assert design.body
    assert "Hello" in design.body
    client.designs.update(design.id, subject="Thanks")
    assert [v.number for v in client.designs.versions(design.id)] == [2, 1]
    assert client.designs.version(design.id, 1).subject.startswith("Hi")
    rendered = client.designs.preview(design.id)
    assert "Hello there" in rendered.html
    sample = client.designs.render("<p>Hi {{ firstName | default: 'friend' }}</p>", format="html")
    assert sample.text.strip() == "Hi friend"
    assert "no_subject" in {w.code for w in sample.warnings}
    assert client.designs.starters()

    tag = client.tags.create("news")
    campaign = client.campaigns.create(
        "December news",
        design_id=design.id,
        from_="news@example.com",
        from_name="Acme",
        recipient_type="tag",
        recipient_id=tag.id,
    )
    assert campaign.from_ == "news@example.com"
    assert campaign.status == "draft"
    check = client.campaigns.preflight(campaign.id)
    assert check.ok is False  # the tag has no one yet
    assert check.problems
    renamed = client.campaigns.update(campaign.id, name="January news")
    assert renamed.name == "January news"
    copy = client.campaigns.duplicate(campaign.id)
    assert copy.id != campaign.id
    client.campaigns.archive(copy.id)
    assert [c.id for c in client.campaigns.list(archived=True)] == [copy.id]
    assert client.campaigns.unarchive(copy.id).archived_at is None
    client.campaigns.delete(copy.id)
    assert [c.id for c in client.campaigns.list()] == [campaign.id]


def test_imports_from_a_path_and_a_file_object(client: Tidings, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Email,First name\nann@example.net,Ann\n")
    from_path = client.imports.create(path, tags=["imported"], on_conflict="upsert")
    assert from_path.file_name == "people.csv"
    assert from_path.on_conflict == "upsert"
    assert from_path.tags == ["imported"]
    from_file = client.imports.create(
        io.BytesIO(b"E-mail\nbob@example.net\n"), filename="more.csv", column_map={"E-mail": "email"}
    )
    assert from_file.column_map == {"E-mail": "email"}
    assert client.imports.get(from_file.id).id == from_file.id
    assert {i.id for i in client.imports.list()} == {from_path.id, from_file.id}
    with pytest.raises(ValidationError):
        client.imports.create(io.BytesIO(b"no address column\n1\n"), filename="bad.csv")


def test_drafts_and_personas(client: Tidings) -> None:
    draft = client.drafts.create("A welcome email for new customers")
    assert draft.messages
    revised = client.drafts.reply(draft.id, "shorter")
    assert len(revised.messages) > len(draft.messages)
    assert client.drafts.restore(draft.id, 1).id == draft.id
    assert [d.id for d in client.drafts.list()] == [draft.id]
    assert client.drafts.settings().provider
    assert {v.name for v in client.personas.catalog().variables} >= {"firstName", "email"}
    assert client.personas.menu().contacts == []


def test_project_keys_connections_and_domains(client: Tidings, server: str, project: Project) -> None:
    assert client.project.get().name == "Acme Mail"
    assert client.project.update(default_from_name="Acme").default_from_name == "Acme"
    key = client.api_keys.create("ci")
    assert key.key
    assert key.key.startswith("tdk_")
    with Tidings(api_key=key.key, base_url=server) as other:
        assert other.project.get().id == project.pk
        client.api_keys.revoke(key.id)
        with pytest.raises(AuthenticationError):
            other.project.get()
    assert client.api_keys.get(key.id).revoked_at is not None
    connection = client.connections.create("Outbox", "outbox", is_default=True)
    assert [c.id for c in client.connections.list()] == [connection.id]
    assert client.connections.check(connection.id).ok is True
    domain = client.domains.create("example.org")
    assert {r.purpose for r in domain.records}
    assert client.domains.get(domain.id).verified is False
    client.domains.delete(domain.id)
    assert client.domains.list() == []
    assert list(client.suppressions.list()) == []
    assert list(client.alerts.list(open=True)) == []


def test_a_bad_key_is_an_authentication_error(server: str) -> None:
    with (
        Tidings(api_key="tdk_00000000_nope", base_url=server) as client,
        pytest.raises(AuthenticationError) as e,
    ):
        client.project.get()
    assert e.value.status == 401
    assert e.value.code == "unauthenticated"


def test_another_projects_id_is_not_found(
    client: Tidings, other_project: Project, make_key: Callable[[Project], str], server: str
) -> None:
    with Tidings(api_key=make_key(other_project), base_url=server) as rival:
        theirs = rival.contacts.create("eve@example.net")
    with pytest.raises(NotFoundError) as caught:
        client.contacts.get(theirs.id)
    assert caught.value.code == "not_found"
    with pytest.raises(NotFoundError):
        client.contacts.update(theirs.id, first_name="Mallory")


def test_an_invalid_field_is_a_validation_error_with_its_camelcase_path(client: Tidings) -> None:
    with pytest.raises(ValidationError) as caught:
        client.project.update(brand_color="red")
    assert caught.value.status == 422
    assert [e.path for e in caught.value.errors] == ["brandColor"]
    assert caught.value.messages("brandColor")


def test_a_duplicate_contact_is_a_conflict(client: Tidings) -> None:
    client.contacts.create("ann@example.net")
    with pytest.raises(ConflictError) as caught:
        client.contacts.create("ANN@example.net")
    assert caught.value.status == 409
