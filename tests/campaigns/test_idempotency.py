"""``Idempotency-Key`` on ``POST /api/v1/sending``: a retry is answered, not redone."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import ApiClient
from tests.sending import factories as f
from tests.sending.conftest import smtp_server  # noqa: F401
from tidings.campaigns import sendapi
from tidings.campaigns.idempotency import unseal
from tidings.campaigns.models import Campaign, IdempotentRequest
from tidings.sending.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {
    "recipientType": "email",
    "recipientEmail": "guest@example.net",
    "from": "hello@example.com",
    "subject": "Your receipt",
    "template": "<p>Thanks for order {{ orderNumber }}.</p>",
    "variables": {"orderNumber": "A-1"},
}


def postgres_only(test: Any) -> Any:
    """Two requests racing on one key need a database where writers really run at once."""
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite serialises them)",
    )
    return pytest.mark.postgres(skip(test))


@pytest.fixture
def ready(project: Any, smtp_server: Any) -> Any:  # noqa: F811
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    return smtp_server


def post(api: ApiClient, body: dict[str, Any], key: str | None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post("sending", body, **headers)


def test_the_same_key_and_body_answer_the_same_and_send_once(api, project, ready) -> None:
    first = post(api, BODY, "order-A-1")
    assert first.status_code == 202, first.content
    second = post(api, BODY, "order-A-1")
    assert second.status_code == 202, second.content
    assert second.json() == first.json()
    assert Campaign.objects.count() == 1
    assert Message.objects.count() == 1
    assert Campaign.objects.get().pk == first.json()["batchId"]
    assert IdempotentRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(api, project, ready) -> None:
    first = post(api, BODY, "order-A-1")
    assert first.status_code == 202, first.content
    other = post(api, {**BODY, "variables": {"orderNumber": "A-2"}}, "order-A-1")
    assert other.status_code == 409, other.content
    problem = other.json()
    assert problem["status"] == 409
    assert "Idempotency-Key" in problem["detail"]
    assert "another request body" in problem["detail"]
    assert Campaign.objects.count() == 1
    # The first answer is still the key's answer.
    assert post(api, BODY, "order-A-1").json() == first.json()


def test_without_a_key_each_request_is_a_new_batch(api, project, ready) -> None:
    first = post(api, BODY, None)
    second = post(api, BODY, None)
    assert first.status_code == 202
    assert second.status_code == 202
    assert first.json()["batchId"] != second.json()["batchId"]
    assert Campaign.objects.count() == 2
    assert IdempotentRequest.objects.count() == 0


def test_different_keys_are_different_requests(api, project, ready) -> None:
    first = post(api, BODY, "one")
    second = post(api, BODY, "two")
    assert first.json()["batchId"] != second.json()["batchId"]
    assert Campaign.objects.count() == 2


def test_a_key_is_forgotten_after_24_hours(api, project, ready) -> None:
    first = post(api, BODY, "order-A-1")
    assert first.status_code == 202
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    again = post(api, BODY, "order-A-1")
    assert again.status_code == 202, again.content
    assert again.json()["batchId"] != first.json()["batchId"]
    assert Campaign.objects.count() == 2
    row = IdempotentRequest.objects.get()
    assert unseal(row.response)["batchId"] == again.json()["batchId"]
    assert "batchId" not in json.dumps(row.response)  # stored encrypted
    # Within the 24 hours (just under) the key still holds, also for another body.
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    assert post(api, BODY, "order-A-1").json() == again.json()
    assert post(api, {**BODY, "subject": "Other"}, "order-A-1").status_code == 409
    assert Campaign.objects.count() == 2


@pytest.mark.parametrize("key", ["k" * 256, "k" * 300, "   ", "bad\x01key"])
def test_a_bad_key_is_refused_naming_the_header(api, project, ready, key) -> None:
    response = post(api, BODY, key)
    assert response.status_code == 422, response.content
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == ["Idempotency-Key"]
    assert Campaign.objects.count() == 0
    assert IdempotentRequest.objects.count() == 0


def test_a_key_of_255_characters_is_accepted(api, project, ready) -> None:
    key = "k" * 255
    first = post(api, BODY, key)
    assert first.status_code == 202, first.content
    assert post(api, BODY, key).json() == first.json()
    assert Campaign.objects.count() == 1


def test_the_same_key_in_another_project_is_independent(
    api,
    other_api,
    project,
    other_project,
    ready,
    smtp_server,  # noqa: F811
) -> None:
    f.verified_domain(other_project)
    f.smtp_connection(other_project, smtp_server)
    mine = post(api, BODY, "shared-key")
    theirs = post(other_api, BODY, "shared-key")
    assert mine.status_code == 202, mine.content
    assert theirs.status_code == 202, theirs.content
    assert mine.json()["batchId"] != theirs.json()["batchId"]
    assert Campaign.objects.filter(project=project).count() == 1
    assert Campaign.objects.filter(project=other_project).count() == 1
    # Their body under the key does not conflict with ours either.
    assert post(other_api, {**BODY, "subject": "Other"}, "shared-key").status_code == 409
    assert post(api, BODY, "shared-key").json() == mine.json()


def test_a_refused_request_stores_no_answer(api, project, ready) -> None:
    bad = post(api, {**BODY, "from": "me@gmail.com"}, "order-A-1")
    assert bad.status_code == 422
    assert IdempotentRequest.objects.count() == 0
    assert Campaign.objects.count() == 0


@postgres_only
def test_a_repeat_while_the_first_still_works_waits_for_its_answer(api, project, ready, monkeypatch) -> None:
    """The first request is held inside its work until the second has found the key claimed and
    waits; then the first finishes, and the second answers with its answer, doing nothing."""
    from tidings.campaigns import idempotency

    first_inside = threading.Event()
    second_waiting = threading.Event()
    real_send, real_sleep = sendapi.send, idempotency.time.sleep
    calls: list[int] = []

    def held_send(**kwargs: Any) -> Any:
        calls.append(1)
        first_inside.set()
        assert second_waiting.wait(timeout=10)
        return real_send(**kwargs)

    def noticing_sleep(seconds: float) -> None:
        second_waiting.set()
        real_sleep(seconds)

    monkeypatch.setattr(sendapi, "send", held_send)
    monkeypatch.setattr(idempotency.time, "sleep", noticing_sleep)
    answers: list[Any] = [None, None]
    errors: list[BaseException] = []

    def request(i: int) -> None:
        try:
            if i == 1:
                assert first_inside.wait(timeout=10)
            response = post(ApiClient(api.secret, api.key), BODY, "order-A-1")
            answers[i] = (response.status_code, response.json(), response.get("Idempotent-Replayed"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert answers[0] is not None
    assert answers[1] is not None
    assert answers[0][0] == answers[1][0] == 202, answers
    assert answers[0][1] == answers[1][1]
    assert (answers[0][2], answers[1][2]) == (None, "true")
    assert len(calls) == 1
    assert Campaign.objects.count() == 1
    assert Message.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1
    assert Campaign.objects.get().pk == answers[0][1]["batchId"]


def test_a_claim_without_an_answer_is_in_progress_then_abandoned(api, project, ready, monkeypatch) -> None:
    """A request that died after claiming its key: a repeat waits, then hears it is in progress;
    once the claim is older than ABANDONED the key is taken over."""
    from tidings.campaigns import idempotency

    monkeypatch.setattr(idempotency, "WAIT", 0.2)
    first = post(api, BODY, "order-A-1")
    IdempotentRequest.objects.update(status_code=idempotency.IN_PROGRESS, response={})
    busy = post(api, BODY, "order-A-1")
    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_in_progress"
    assert busy["Retry-After"] == "1"
    IdempotentRequest.objects.update(created_at=timezone.now() - idempotency.ABANDONED - timedelta(seconds=1))
    again = post(api, BODY, "order-A-1")
    assert again.status_code == 202
    assert again.json()["batchId"] != first.json()["batchId"]
