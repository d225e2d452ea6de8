"""Probes for load balancers: /healthz is the process, /readyz the database and the queue."""

from __future__ import annotations

import json
import logging

from django.test import Client, override_settings

from tidings.core.logging import JsonFormatter


def test_healthz_answers_without_touching_the_database(db: None, django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


def test_readyz_checks_database_and_queue(db: None) -> None:
    response = Client().get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "queue": "ok"}},
    )


@override_settings(TASKS_BACKEND="rq", REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
def test_readyz_is_503_naming_the_queue_without_revealing_its_address(db: None, caplog: object) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "queue": "unavailable"}}
    assert b"hunter2" not in response.content
    logged = caplog.text  # type: ignore[attr-defined]
    assert "Redis at redis://:***@127.0.0.1:1/0: " in logged
    assert "hunter2" not in logged


def test_json_log_lines_carry_the_ids_passed_along() -> None:
    record = logging.makeLogRecord(
        {"name": "tidings.sending", "levelno": 20, "levelname": "INFO", "msg": "sent %d", "args": (3,)}
    )
    record.project_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "sent 3"
    assert (line["level"], line["logger"], line["project_id"]) == ("info", "tidings.sending", 7)
    assert line["time"].endswith("+00:00")
