"""Retries, error mapping and idempotency keys against a scripted stand-in server on loopback.

The real server does not answer 429 or 5xx on demand, nor like a proxy's HTML
error page, so these tests run the SDK against ``StubApi`` (stdlib http.server
in a thread) speaking the API's problem+json shape.
"""

from __future__ import annotations

import io
import json
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.client.conftest import FAST, Reply, StubApi, problem, run_async
from tidings.client import (
    APIConnectionError,
    APITimeoutError,
    AsyncTidings,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    Tidings,
    UnexpectedResponseError,
    ValidationError,
)
from tidings.client._core import parse_retry_after

SENT = {"batchId": 7, "status": "sending", "transactional": True, "sendId": 9, "state": "queued"}


def send_one(tidings: Tidings, **extra: object) -> object:
    return tidings.sending.send(
        recipient_type="email",
        recipient_email="ann@example.net",
        from_="hello@example.com",
        subject="Hi",
        template="<p>Hi</p>",
        **extra,
    )


def make(stub: StubApi, **options: object) -> Tidings:
    options.setdefault("retry", FAST)
    return Tidings(api_key="tdk_test", base_url=stub.url, **options)  # type: ignore[arg-type]


def test_rate_limited_answer_is_retried_after_the_servers_retry_after(stub: StubApi) -> None:
    stub.reply(Reply(429, problem(429, "rate_limited", "slow down"), {"Retry-After": "1"}), Reply(202, SENT))
    with make(stub) as tidings:
        result = send_one(tidings)
    assert result.batch_id == 7  # type: ignore[attr-defined]
    assert len(stub.seen) == 2
    assert stub.seen[1].at - stub.seen[0].at >= 0.95


def test_a_key_still_being_worked_on_is_asked_for_again(stub: StubApi) -> None:
    busy = problem(
        409, "idempotency_in_progress", "a request with this Idempotency-Key is still being worked on"
    )
    stub.reply(Reply(409, busy, {"Retry-After": "0"}), Reply(202, SENT))
    with make(stub) as tidings:
        result = send_one(tidings)
    assert result.batch_id == 7  # type: ignore[attr-defined]
    assert stub.seen[0].headers["idempotency-key"] == stub.seen[1].headers["idempotency-key"]


def test_server_errors_are_retried_with_the_same_idempotency_key(stub: StubApi) -> None:
    stub.reply(
        Reply(503, problem(503, "unavailable", "restarting")),
        Reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        Reply(202, SENT),
    )
    with make(stub, max_retries=2) as tidings:
        result = send_one(tidings)
    assert result.send_id == 9  # type: ignore[attr-defined]
    keys = [seen.headers.get("idempotency-key") for seen in stub.seen]
    assert len(keys) == 3
    assert keys[0]
    assert keys == [keys[0]] * 3
    assert len({seen.body for seen in stub.seen}) == 1


def test_each_call_gets_its_own_idempotency_key(stub: StubApi) -> None:
    stub.reply(Reply(202, SENT), Reply(202, SENT))
    with make(stub) as tidings:
        send_one(tidings)
        send_one(tidings)
    first, second = (seen.headers["idempotency-key"] for seen in stub.seen)
    assert first != second


def test_the_callers_idempotency_key_is_sent_on_every_attempt(stub: StubApi) -> None:
    stub.reply(Reply(500, problem(500, "server_error", "oops")), Reply(202, SENT))
    with make(stub) as tidings:
        send_one(tidings, idempotency_key="order-1234")
    assert [seen.headers["idempotency-key"] for seen in stub.seen] == ["order-1234", "order-1234"]


def test_reads_carry_no_idempotency_key(stub: StubApi) -> None:
    stub.reply(Reply(200, {"id": 1, "email": "ann@example.net"}))
    with make(stub) as tidings:
        tidings.contacts.get(1)
    assert "idempotency-key" not in stub.seen[0].headers
    assert stub.seen[0].headers["authorization"] == "Bearer tdk_test"


def test_retries_stop_after_max_retries_with_a_server_error(stub: StubApi) -> None:
    stub.default = Reply(500, problem(500, "server_error", "an unexpected error occurred"))
    with make(stub, max_retries=2) as tidings, pytest.raises(ServerError) as caught:
        tidings.contacts.get(1)
    assert len(stub.seen) == 3
    assert caught.value.status == 500
    assert caught.value.code == "server_error"
    assert caught.value.detail == "an unexpected error occurred"


def test_max_retries_zero_tries_once(stub: StubApi) -> None:
    stub.default = Reply(503, problem(503, "unavailable", "busy"))
    with make(stub, max_retries=0) as tidings, pytest.raises(ServerError):
        tidings.contacts.get(1)
    assert len(stub.seen) == 1


def test_a_retry_after_longer_than_the_policy_allows_is_raised_at_once(stub: StubApi) -> None:
    stub.reply(Reply(429, problem(429, "rate_limited", "slow down"), {"Retry-After": "3600"}))
    with make(stub) as tidings, pytest.raises(RateLimitedError) as caught:
        tidings.contacts.get(1)
    assert len(stub.seen) == 1
    assert caught.value.retry_after == 3600


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "bad_request", ValidationError),
        (401, "unauthenticated", AuthenticationError),
        (404, "not_found", NotFoundError),
        (409, "conflict", ConflictError),
        (422, "validation_error", ValidationError),
    ],
)
def test_client_errors_are_not_retried(stub: StubApi, status: int, code: str, error: type[Exception]) -> None:
    stub.default = Reply(status, problem(status, code, "no"))
    with make(stub) as tidings, pytest.raises(error):
        send_one(tidings)
    assert len(stub.seen) == 1


def test_validation_error_lists_field_paths(stub: StubApi) -> None:
    errors = [
        {"path": "customFields.plan", "message": "must be text"},
        {"path": "email", "message": "is required"},
    ]
    stub.reply(Reply(422, problem(422, "validation_error", "two problems", errors=errors)))
    with make(stub) as tidings, pytest.raises(ValidationError) as caught:
        tidings.contacts.create("x")
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("customFields.plan", "must be text"),
        ("email", "is required"),
    ]
    assert caught.value.messages("email") == ["is required"]


def test_a_proxys_html_error_page_maps_to_a_server_error(stub: StubApi) -> None:
    page = "<html><head><title>502</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    stub.default = Reply(502, page)
    with make(stub, max_retries=0) as tidings, pytest.raises(ServerError) as caught:
        tidings.project.get()
    assert caught.value.status == 502
    assert caught.value.code is None
    assert "Bad Gateway" in caught.value.detail
    assert "nginx" in caught.value.detail
    assert "<" not in caught.value.detail


def test_a_success_that_is_not_json_is_an_unexpected_response(stub: StubApi) -> None:
    stub.default = Reply(200, "<html>captive portal</html>")
    with make(stub) as tidings, pytest.raises(UnexpectedResponseError):
        tidings.project.get()


def test_unknown_fields_are_kept_in_raw_and_break_nothing(stub: StubApi) -> None:
    stub.reply(Reply(200, {"id": 3, "email": "ann@example.net", "loyaltyTier": "gold", "tags": []}))
    with make(stub) as tidings:
        contact = tidings.contacts.get(3)
    assert contact.id == 3
    assert contact.raw["loyaltyTier"] == "gold"


def test_request_id_header_is_kept_on_errors(stub: StubApi) -> None:
    stub.reply(Reply(404, problem(404, "not_found", "no such contact"), {"X-Request-Id": "req-42"}))
    with make(stub) as tidings, pytest.raises(NotFoundError) as caught:
        tidings.contacts.get(5)
    assert caught.value.request_id == "req-42"


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    tidings = Tidings(api_key="tdk_x", base_url=f"http://127.0.0.1:{port}", retry=FAST)
    with tidings, pytest.raises(APIConnectionError) as caught:
        tidings.project.get()
    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.status is None


def test_a_hang_times_out_and_is_retried(stub: StubApi) -> None:
    stub.reply(Reply(200, {"id": 1}, delay=1.0), Reply(200, {"id": 1, "name": "Acme"}))
    with make(stub, timeout=0.3) as tidings:
        project = tidings.project.get()
    assert project.name == "Acme"
    assert len(stub.seen) == 2


def test_a_hang_raises_a_timeout_when_retries_run_out(stub: StubApi) -> None:
    stub.default = Reply(200, {"id": 1}, delay=1.0)
    with make(stub, timeout=0.2, max_retries=0) as tidings, pytest.raises(APITimeoutError):
        tidings.project.get()


def test_an_upload_is_sent_whole_again_on_a_retry(stub: StubApi) -> None:
    stub.reply(Reply(503, problem(503, "unavailable", "busy")), Reply(202, {"id": 4, "status": "queued"}))
    csv = io.BytesIO(b"email\nann@example.net\n")
    with make(stub) as tidings:
        created = tidings.imports.create(csv, filename="people.csv", tags=["vip"])
    assert created.id == 4
    first, second = stub.seen
    assert first.body == second.body
    assert b"ann@example.net" in second.body
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_async_client_retries_with_the_same_idempotency_key(stub: StubApi) -> None:
    stub.reply(Reply(503, problem(503, "unavailable", "busy"), {"Retry-After": "0"}), Reply(202, SENT))

    async def run() -> object:
        async with AsyncTidings(api_key="tdk_test", base_url=stub.url, retry=FAST) as tidings:
            return await tidings.sending.send(recipient_type="email", recipient_email="ann@example.net")

    result = run_async(run())
    assert result.batch_id == 7  # type: ignore[attr-defined]
    assert stub.seen[0].headers["idempotency-key"] == stub.seen[1].headers["idempotency-key"]
    assert json.loads(stub.seen[0].body) == {"recipientType": "email", "recipientEmail": "ann@example.net"}


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_and_stays_under_its_cap() -> None:
    policy = RetryPolicy(max_retries=10, backoff=1.0, max_backoff=4.0)
    error = ServerError("x", status=503)
    waits = [policy.delay(n, error, None) for n in range(6)]
    assert 0.5 <= waits[0] <= 1.0  # type: ignore[operator]
    assert 1.0 <= waits[1] <= 2.0  # type: ignore[operator]
    assert all(2.0 <= w <= 4.0 for w in waits[3:])  # type: ignore[operator]
