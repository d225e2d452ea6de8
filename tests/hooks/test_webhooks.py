"""Outgoing webhooks: endpoints over the API, signing, retries, the delivery log, the SSRF guard,
and the events each area emits. Every delivery goes to a real HTTP(S) server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from tests.hooks.receiver import Receiver
from tests.sending.smtp_server import make_certificate
from tidings.hooks import sender
from tidings.hooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tidings.hooks.tasks import webhook_send_task

pytestmark = pytest.mark.django_db


def register(api: Any, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"url": url, **({"events": events} if events is not None else {}), **extra}
    response = api.post("webhooks", body)
    assert response.status_code == 201, response.content
    return response.json()


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


def send_due(endpoint_id: int) -> sender.Run:
    return sender.run_endpoint(WebhookEndpoint.objects.get(pk=endpoint_id), max_seconds=10)


# -- endpoints -----------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_the_endpoint_listed(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"], description="CRM")
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    assert created["events"] == ["contact.created"]
    shown = api.get(f"webhooks/{created['id']}").json()
    assert "secret" not in shown
    assert shown["url"] == receiver.url()
    assert shown["description"] == "CRM"
    assert [w["id"] for w in api.get("webhooks").json()["items"]] == [created["id"]]
    # Stored encrypted, never in the clear.
    assert created["secret"] not in WebhookEndpoint.objects.get().secret


def test_events_default_to_all_and_unknown_ones_are_named(api, receiver) -> None:
    assert register(api, receiver.url())["events"] == ["*"]
    response = api.post("webhooks", {"url": receiver.url(), "events": ["contact.created", "contact.eaten"]})
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["events.1"]
    types = {e["type"] for e in api.get("webhooks/events").json()}
    assert {"contact.created", "message.bounced", "draft.completed"} <= types


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[fd00::1]/hooks",
        "https://0.0.0.0/hooks",
        "https://[::ffff:10.0.0.1]/hooks",  # IPv4-mapped
        "https://[64:ff9b::a9fe:a9fe]/hooks",  # NAT64 of 169.254.169.254
        "https://[2002:a9fe:a9fe::1]/hooks",  # 6to4 of 169.254.169.254
        "https://[::10.0.0.1]/hooks",  # IPv4-compatible
        "https://[64:ff9b:1::a00:1]/hooks",  # local-use NAT64 of 10.0.0.1
        "https://[::ffff:0:a00:1]/hooks",  # SIIT
        "https://[fec0::1]/hooks",  # site-local
    ],
)
def test_loopback_private_and_link_local_addresses_are_refused(api, url) -> None:
    response = api.post("webhooks", {"url": url})
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]
    assert error["path"] == "url"
    assert "TIDINGS_WEBHOOK_ALLOWED_HOSTS" in error["message"]
    assert "(" not in error["message"]  # the address a name resolved to is not echoed back
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hooks", "https"),
        ("ftp://example.com/hooks", "https"),
        ("https:///hooks", "https"),
        ("https://example.com:99999/hooks", "not a valid URL"),
        ("https://example.com/hooks#part", "fragment"),
        ("https://example.com/\x7f", "not a valid URL"),
        ("https://user:pass@example.com/hooks", "user name or password"),
        ("", "required"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(api, url, says) -> None:
    response = api.post("webhooks", {"url": url})
    assert response.status_code == 422, response.content
    assert says in response.json()["detail"]


def test_plain_http_only_for_an_allowed_host(api, settings, receiver) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert api.post("webhooks", {"url": receiver.url()}).status_code == 422
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert api.post("webhooks", {"url": receiver.url()}).status_code == 201


def test_another_projects_endpoints_and_deliveries_are_not_found(api, other_api, receiver) -> None:
    mine = register(api, receiver.url())
    delivery = api.post(f"webhooks/{mine['id']}/test").json()
    for path in (f"webhooks/{mine['id']}", f"webhooks/deliveries/{delivery['id']}"):
        assert other_api.get(path).status_code == 404
    assert other_api.post(f"webhooks/{mine['id']}/test").status_code == 404
    assert other_api.post(f"webhooks/deliveries/{delivery['id']}/retry").status_code == 404
    assert other_api.patch(f"webhooks/{mine['id']}", {"enabled": False}).status_code == 404
    assert other_api.delete(f"webhooks/{mine['id']}").status_code == 404
    assert other_api.get(f"webhooks/{mine['id']}/deliveries").status_code == 404
    assert WebhookEndpoint.objects.get().enabled


def test_a_repeated_create_with_one_idempotency_key_makes_one_endpoint(api, receiver) -> None:
    body = {"url": receiver.url()}
    first = api.post("webhooks", body, **{"Idempotency-Key": "hook-1"})
    again = api.post("webhooks", body, **{"Idempotency-Key": "hook-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1


# -- signing and the test event ------------------------------------------------------------------


def test_the_test_event_is_signed_over_timestamp_and_body(api, receiver) -> None:
    created = register(api, receiver.url("/in"))
    response = api.post(f"webhooks/{created['id']}/test")
    assert response.status_code == 200, response.content
    delivery = response.json()
    assert delivery["state"] == "succeeded"
    assert delivery["attempts"] == 1
    assert delivery["attemptLog"][0]["status"] == 200
    [got] = receiver.received
    assert got.path == "/in"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Tidings-Event"] == "webhook.test"
    assert got.headers["Tidings-Event-Id"] == delivery["eventId"]
    assert verify(created["secret"], got.headers["Tidings-Signature"], got.body)
    assert not verify("whsec_other", got.headers["Tidings-Signature"], got.body)
    assert not verify(created["secret"], got.headers["Tidings-Signature"], got.body + b" ")
    envelope = json.loads(got.body)
    assert envelope["type"] == "webhook.test"
    assert envelope["id"] == delivery["eventId"]
    assert envelope["projectId"] == api.key.project_id
    assert got.body.decode() == delivery["body"]
    timestamp = int(got.headers["Tidings-Signature"].split(",")[0].removeprefix("t="))
    assert abs(timestamp - timezone.now().timestamp()) < 60


def test_a_failing_test_event_shows_what_the_endpoint_answered(api, receiver) -> None:
    created = register(api, receiver.url())
    receiver.answer(500, b"<h1>boom</h1>" + b"x" * 5000)
    delivery = api.post(f"webhooks/{created['id']}/test").json()
    assert delivery["state"] == "failed"  # a test event is not retried
    [attempt] = delivery["attemptLog"]
    assert attempt["status"] == 500
    assert attempt["error"] == "answered 500 Internal Server Error"
    assert attempt["responseBody"].startswith("<h1>boom</h1>")
    assert len(attempt["responseBody"]) == 1000


def test_a_redirect_is_not_followed(api, receiver) -> None:
    created = register(api, receiver.url())
    receiver.answer(302, Location="http://169.254.169.254/latest/meta-data")
    delivery = api.post(f"webhooks/{created['id']}/test").json()
    assert delivery["state"] == "failed"
    assert delivery["lastStatus"] == 302
    assert len(receiver.received) == 1


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day(api, receiver) -> None:
    created = register(api, receiver.url())
    rotated = api.post(f"webhooks/{created['id']}/rotate-secret").json()
    assert rotated["secret"] != created["secret"]
    assert rotated["secretRotatedUntil"]
    api.post(f"webhooks/{created['id']}/test")
    header, body = receiver.received[-1].headers["Tidings-Signature"], receiver.received[-1].body
    assert header.count("v1=") == 2
    assert verify(rotated["secret"], header, body)
    assert verify(created["secret"], header, body)
    WebhookEndpoint.objects.update(previous_secret_until=timezone.now() - timedelta(seconds=1))
    api.post(f"webhooks/{created['id']}/test")
    header, body = receiver.received[-1].headers["Tidings-Signature"], receiver.received[-1].body
    assert header.count("v1=") == 1
    assert verify(rotated["secret"], header, body)
    assert not verify(created["secret"], header, body)


def test_https_goes_to_the_checked_address_with_tls_verified_for_the_name(api, settings, tmp_path) -> None:
    certificate = make_certificate(tmp_path)
    server = Receiver(certificate=certificate)
    try:
        settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
        settings.WEBHOOK_CA_FILE = str(certificate.cert_file)
        created = register(api, server.url(host="localhost"))
        delivery = api.post(f"webhooks/{created['id']}/test").json()
        assert delivery["state"] == "succeeded", delivery
        assert server.received[0].headers["Host"] == f"localhost:{server.port}"
        # Without the operator's CA the certificate is not trusted: no event goes to an impostor.
        settings.WEBHOOK_CA_FILE = ""
        delivery = api.post(f"webhooks/{created['id']}/test").json()
        assert delivery["state"] == "failed"
        assert "CERTIFICATE_VERIFY_FAILED" in delivery["lastError"]
    finally:
        server.close()


def test_an_address_no_longer_allowed_is_refused_at_sending(api, settings, receiver) -> None:
    created = register(api, receiver.url())
    settings.WEBHOOK_ALLOWED_HOSTS = []
    delivery = api.post(f"webhooks/{created['id']}/test").json()
    assert delivery["state"] == "failed"
    assert delivery["lastError"].startswith("refused: 127.0.0.1 is a loopback address")
    assert receiver.received == []


def test_an_endpoint_that_does_not_answer_in_time_fails_the_attempt(api, receiver, monkeypatch) -> None:
    import httpx

    monkeypatch.setattr(sender, "TIMEOUT", httpx.Timeout(0.5))
    receiver.answers.append((200, b"", {}))
    created = register(api, receiver.url())
    # A socket that accepts and never answers.
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        WebhookEndpoint.objects.filter(pk=created["id"]).update(
            url=f"http://127.0.0.1:{silent.getsockname()[1]}/hooks"
        )
        delivery = api.post(f"webhooks/{created['id']}/test").json()
        assert delivery["state"] == "failed"
        assert delivery["lastError"].startswith("no answer within")
    finally:
        silent.close()


# -- events, retries and the log -----------------------------------------------------------------


def test_a_created_contact_reaches_a_listening_endpoint(api, project, receiver) -> None:
    listening = register(api, receiver.url("/crm"), ["contact.created"])
    register(api, receiver.url("/other"), ["contact.updated"])
    assert api.post("contacts", {"email": "ada@example.com", "firstName": "Ada"}).status_code == 201
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == listening["id"]
    assert delivery.state == DeliveryState.PENDING
    run = send_due(listening["id"])
    assert (run.sent, run.failed, run.next_due) == (1, 0, None)
    [got] = receiver.received
    assert got.path == "/crm"
    assert got.headers["Tidings-Event"] == "contact.created"
    event = json.loads(got.body)
    assert event["data"]["email"] == "ada@example.com"
    assert event["data"]["firstName"] == "Ada"
    assert verify(listening["secret"], got.headers["Tidings-Signature"], got.body)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert delivery.delivered_at is not None


def test_a_disabled_endpoint_records_nothing(api, receiver) -> None:
    created = register(api, receiver.url(), enabled=False)
    api.post("contacts", {"email": "ada@example.com"})
    assert WebhookDelivery.objects.count() == 0
    api.patch(f"webhooks/{created['id']}", {"enabled": True})
    api.post("contacts", {"email": "bob@example.com"})
    assert WebhookDelivery.objects.count() == 1


def test_failures_are_retried_with_backoff_then_given_up(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    api.post("contacts", {"email": "ada@example.com"})
    receiver.answer(503, b"busy")
    run = send_due(created["id"])
    assert (run.sent, run.failed) == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert sender.BACKOFF[0] - 5 < wait <= sender.BACKOFF[0]
    assert run.next_due == delivery.next_attempt_at
    # Not due yet: nothing is sent.
    assert send_due(created["id"]).sent == 0
    assert len(receiver.received) == 1
    for attempt in range(2, sender.MAX_ATTEMPTS + 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        receiver.answer(500)
        send_due(created["id"])
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
    assert delivery.state == DeliveryState.FAILED
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == sender.MAX_ATTEMPTS
    # Every attempt sent the same event and body.
    assert len({r.body for r in receiver.received}) == 1
    assert [r.headers["Tidings-Attempt"] for r in receiver.received] == [
        str(n) for n in range(1, sender.MAX_ATTEMPTS + 1)
    ]
    # A retry asked for gets one more attempt.
    response = api.post(f"webhooks/deliveries/{delivery.pk}/retry")
    assert response.status_code == 200
    assert response.json()["state"] == "pending"
    send_due(created["id"])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    log = api.get(f"webhooks/deliveries/{delivery.pk}").json()["attemptLog"]
    assert [a["status"] for a in log] == [503] + [500] * (sender.MAX_ATTEMPTS - 1) + [200]
    assert log[0]["responseBody"] == "busy"


def test_a_sender_that_died_leaves_its_deliveries_to_the_next(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    api.post("contacts", {"email": "ada@example.com"})
    WebhookDelivery.objects.update(lease_until=timezone.now() + timedelta(seconds=30))
    run = send_due(created["id"])
    assert run.sent == 0
    assert run.next_due == WebhookDelivery.objects.get().lease_until
    WebhookDelivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert send_due(created["id"]).sent == 1


def test_the_delivery_log_pages_and_filters(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    for n in range(5):
        api.post("contacts", {"email": f"p{n}@example.com"})
    receiver.answer(500)
    send_due(created["id"])
    path = f"webhooks/{created['id']}/deliveries"
    first = api.get(f"{path}?limit=3").json()
    assert len(first["items"]) == 3
    assert first["nextCursor"]
    rest = api.get(f"{path}?limit=3&cursor={first['nextCursor']}").json()
    assert len(rest["items"]) == 2
    assert rest["nextCursor"] is None
    assert [d["state"] for d in api.get(f"{path}?state=pending").json()["items"]] == ["pending"]
    assert len(api.get(f"{path}?state=succeeded").json()["items"]) == 4
    assert len(api.get(f"{path}?eventType=contact.updated").json()["items"]) == 0
    bad = api.get(f"{path}?state=lost")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "state"


def test_an_event_starts_a_sender_after_commit(api, receiver, django_capture_on_commit_callbacks) -> None:
    from django_tasks_db.models import DBTaskResult

    created = register(api, receiver.url(), ["contact.updated"])
    contact = api.post("contacts", {"email": "ada@example.com"}).json()
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"contacts/{contact['id']}", {"status": "unsubscribed"})
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "tidings.hooks.tasks.webhook_send_task"
    assert queued.args_kwargs["args"][:2] == [api.key.project_id, created["id"]]
    webhook_send_task.call(*queued.args_kwargs["args"])
    assert json.loads(receiver.received[0].body)["data"]["status"] == "unsubscribed"


def test_a_waiting_retry_books_one_wake_up(api, receiver) -> None:
    from django_tasks_db.models import DBTaskResult

    created = register(api, receiver.url(), ["contact.created"])
    for n in range(3):
        api.post("contacts", {"email": f"p{n}@example.com"})
    receiver.answers.extend([(500, b"", {})] * 3)
    DBTaskResult.objects.all().delete()
    webhook_send_task.call(api.key.project_id, created["id"])
    webhook_send_task.call(api.key.project_id, created["id"])
    [booked] = DBTaskResult.objects.filter(task_path="tidings.hooks.tasks.webhook_send_task")
    assert booked.run_after is not None
    assert booked.run_after > timezone.now()
    assert WebhookEndpoint.objects.get().wake_at == booked.run_after


def test_deleting_an_endpoint_deletes_its_log(api, receiver) -> None:
    created = register(api, receiver.url())
    api.post(f"webhooks/{created['id']}/test")
    assert api.delete(f"webhooks/{created['id']}").status_code == 204
    assert WebhookDelivery.objects.count() == 0
    assert WebhookAttempt.objects.count() == 0


def test_the_verification_code_in_the_docs_accepts_a_real_event(api, receiver) -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", doc, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/events.md", "exec"), namespace)  # noqa: S102
    created = register(api, receiver.url())
    api.post(f"webhooks/{created['id']}/test")
    got = receiver.received[0]
    assert namespace["verify"](created["secret"], got.headers["Tidings-Signature"], got.body)
    assert not namespace["verify"](created["secret"], got.headers["Tidings-Signature"], got.body[:-1])
    old = got.headers["Tidings-Signature"].replace("t=", "t=1", 1)
    assert not namespace["verify"](created["secret"], old, got.body)


def test_a_delivery_that_cannot_be_sent_fails_and_the_next_one_goes(api, receiver, monkeypatch) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    api.post("contacts", {"email": "ada@example.com"})
    api.post("contacts", {"email": "bob@example.com"})
    real = sender.signature_header
    calls: list[int] = []

    def fails_first(*args: Any, **kwargs: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("something unforeseen")
        return real(*args, **kwargs)

    monkeypatch.setattr(sender, "signature_header", fails_first)
    run = send_due(created["id"])
    assert (run.sent, run.failed) == (1, 1)
    first = WebhookDelivery.objects.order_by("id").first()
    assert first.state == DeliveryState.PENDING
    assert first.attempts == 1
    assert first.last_error == "RuntimeError: something unforeseen"
    assert len(receiver.received) == 1


def test_an_unreadable_secret_fails_the_attempt_with_the_reason(api, receiver) -> None:
    created = register(api, receiver.url())
    WebhookEndpoint.objects.update(secret="not-a-fernet-token")
    delivery = api.post(f"webhooks/{created['id']}/test").json()
    assert delivery["state"] == "failed"
    assert delivery["lastError"].startswith("SecretUnreadable")
    assert receiver.received == []


def test_a_sender_whose_lease_was_taken_over_records_nothing(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    api.post("contacts", {"email": "ada@example.com"})
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    mine = sender._claim(endpoint)
    # The lease ran out and another sender took the delivery (a new lease).
    WebhookDelivery.objects.filter(pk=mine.pk).update(lease_until=timezone.now() + timedelta(seconds=60))
    sender.record(mine, sender.Outcome(500, "answered 500", "", 3))
    mine.refresh_from_db()
    assert mine.attempts == 0
    assert WebhookAttempt.objects.count() == 0


def test_switching_an_endpoint_on_starts_its_sender(
    api, receiver, django_capture_on_commit_callbacks
) -> None:
    created = register(api, receiver.url(), enabled=False)
    with django_capture_on_commit_callbacks() as started:
        api.patch(f"webhooks/{created['id']}", {"description": "still off"})
    assert started == []
    with django_capture_on_commit_callbacks() as started:
        api.patch(f"webhooks/{created['id']}", {"enabled": True})
    assert len(started) == 1


def test_old_finished_deliveries_leave_the_log(api, receiver) -> None:
    created = register(api, receiver.url(), ["contact.created"])
    api.post("contacts", {"email": "ada@example.com"})
    api.post("contacts", {"email": "bob@example.com"})
    send_due(created["id"])
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.order_by("id").first().pk).update(
        created_at=timezone.now() - sender.KEEP_LOG - timedelta(days=1)
    )
    send_due(created["id"])
    assert WebhookDelivery.objects.count() == 1


def test_a_burst_of_events_queues_one_sender_until_it_ends(
    api, receiver, django_capture_on_commit_callbacks
) -> None:
    from django_tasks_db.models import DBTaskResult

    created = register(api, receiver.url(), ["contact.created"])
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            api.post("contacts", {"email": f"p{n}@example.com"})
    [queued] = DBTaskResult.objects.filter(task_path="tidings.hooks.tasks.webhook_send_task")
    webhook_send_task.call(*queued.args_kwargs["args"])
    assert len(receiver.received) == 3
    assert WebhookEndpoint.objects.get().kicked_at is None
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        api.post("contacts", {"email": "late@example.com"})
    assert DBTaskResult.objects.filter(task_path="tidings.hooks.tasks.webhook_send_task").count() == 1
    assert created["id"] == WebhookEndpoint.objects.get().pk


def test_an_event_held_back_while_a_sender_ran_is_sent_when_it_ends(api, receiver, monkeypatch) -> None:
    """The event commits after the running sender's last look; its start was held back (a sender
    was running), so the sender looks once more after letting go."""
    from tidings.hooks import tasks

    created = register(api, receiver.url(), ["contact.created"])
    kicked = timezone.now()
    WebhookEndpoint.objects.update(kicked_at=kicked)  # this sender was queued and runs
    real = tasks.run_endpoint

    def run_then_an_event_arrives(endpoint: Any, **kwargs: Any) -> Any:
        run = real(endpoint, **kwargs)
        api.post("contacts", {"email": "late@example.com"})  # its on_commit start is held back
        return run

    monkeypatch.setattr(tasks, "run_endpoint", run_then_an_event_arrives)
    started: list[Any] = []
    task = tasks.webhook_send_task
    monkeypatch.setattr(tasks, "webhook_send_task", SimpleNamespace(enqueue=lambda *a: started.append(a)))
    task.call(api.key.project_id, created["id"], kicked.isoformat())
    assert len(started) == 1
    assert started[0][:2] == (api.key.project_id, created["id"])


def test_a_sender_that_fails_lets_go_of_its_start(api, receiver, monkeypatch) -> None:
    from tidings.hooks import tasks

    created = register(api, receiver.url(), ["contact.created"])
    kicked = timezone.now()
    WebhookEndpoint.objects.update(kicked_at=kicked)

    def breaks(endpoint: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(tasks, "run_endpoint", breaks)
    with pytest.raises(RuntimeError):
        webhook_send_task.call(api.key.project_id, created["id"], kicked.isoformat())
    assert WebhookEndpoint.objects.get().kicked_at is None


def test_a_starting_worker_wakes_endpoints_with_due_deliveries(api, receiver) -> None:
    from django_tasks_db.models import DBTaskResult

    from tidings.hooks.tasks import wake_all

    created = register(api, receiver.url(), ["contact.created"])
    register(api, receiver.url("/idle"), ["contact.updated"])
    api.post("contacts", {"email": "ada@example.com"})
    DBTaskResult.objects.all().delete()
    assert wake_all() == 1
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"][:2] == [api.key.project_id, created["id"]]
