"""The task queue runs tasks in real worker processes: database backend and Redis backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import TaskResultStatus, task_backends
from django.test import override_settings

from tests.core.probe_tasks import write_marker

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "") + "@" if s.get("USER") else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def run_worker(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "TIDINGS_DATA_DIR": str(tmp_path / "data"),
        "TIDINGS_DATABASE_URL": database_url(),
        "PYTHONPATH": str(REPO),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "tidings", "worker", "--burst"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_database_queue_task_runs_in_a_worker_subprocess(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    result = write_marker.enqueue(str(marker), "hello")
    assert result.status == TaskResultStatus.READY
    assert not marker.exists()

    worker = run_worker(tmp_path)

    assert worker.returncode == 0, worker.stderr
    text = marker.read_text()
    assert text.startswith("hello from pid ")
    assert int(text.rsplit(" ", 1)[1]) != os.getpid()
    finished = task_backends["default"].get_result(result.id)
    assert finished.status == TaskResultStatus.SUCCESSFUL
    assert finished.return_value == {"pid": int(text.rsplit(" ", 1)[1]), "text": "hello"}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_queue_task_runs_in_a_worker_subprocess(tmp_path: Path, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    marker = tmp_path / "marker.txt"
    rq_settings = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": redis_url}},
    }
    with override_settings(**rq_settings):
        result = write_marker.enqueue(str(marker), "over redis")
        assert type(result).__module__.startswith("django_tasks")  # the backport's result class
        assert not marker.exists()

        worker = run_worker(tmp_path, TIDINGS_TASKS_BACKEND="rq", TIDINGS_REDIS_URL=redis_url)

        assert worker.returncode == 0, worker.stderr
        assert marker.read_text().startswith("over redis from pid ")
        result.refresh()
        assert result.status.name == "SUCCESSFUL"
        assert result.return_value == {"pid": int(marker.read_text().rsplit(" ", 1)[1]), "text": "over redis"}


def test_immediate_backend_runs_the_task_in_process(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with override_settings(TASKS=immediate):
        result = write_marker.enqueue(str(marker), "now")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert marker.read_text() == f"now from pid {os.getpid()}"
