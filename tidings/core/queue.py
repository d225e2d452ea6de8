"""The task queue as configured (TIDINGS_TASKS_BACKEND): reachability and workers.

Tasks themselves are plain ``django.tasks.task`` functions in each app's
``tasks.py``. With the ``rq`` backend they run through the ``django_tasks``
backport, so code must not depend on the result or signal classes of either.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import DatabaseError, connection

from tidings.core.config import redact_url


class QueueUnavailable(Exception):
    pass


def queue_check() -> str:
    """A short description of the reachable queue; raises QueueUnavailable otherwise."""
    backend = settings.TASKS_BACKEND
    if backend == "db":
        from django_tasks_db.models import DBTaskResult

        try:
            # One indexed row at most: a probe must not slow down as the queue grows.
            list(DBTaskResult.objects.values_list("pk", flat=True)[:1])
        except DatabaseError as exc:
            raise QueueUnavailable(f"database queue: {exc}".splitlines()[0]) from exc
        return f"database queue ({connection.vendor})"
    if backend == "rq":
        import redis

        shown = redact_url(settings.REDIS_URL)
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
        except (redis.RedisError, ValueError, OSError) as exc:
            raise QueueUnavailable(f"Redis at {shown}: {type(exc).__name__}: {exc}") from exc
        return f"Redis queue at {shown}"
    return "immediate (tasks run inside the request; no worker)"


def worker_command(
    *, queues: list[str] | None = None, burst: bool = False, max_tasks: int | None = None
) -> list[str]:
    """The command line of one worker process for the configured backend."""
    queues = queues or list(settings.TASK_QUEUES)
    base = [sys.executable, "-m", "tidings", "manage"]
    if settings.TASKS_BACKEND == "db":
        command = [
            *base,
            "db_worker",
            "--queue-name",
            ",".join(queues),
            "--no-reload",
            "--no-startup-delay",
        ]
        if burst:
            command.append("--batch")
        if max_tasks:
            command += ["--max-tasks", str(max_tasks)]
        return command
    if settings.TASKS_BACKEND == "rq":
        command = [*base, "rqworker", "--job-class", "django_tasks_rq.Job", "--with-scheduler"]
        if burst:
            command.append("--burst")
        if max_tasks:
            command += ["--max-jobs", str(max_tasks)]
        return [*command, *queues]
    raise QueueUnavailable("the immediate backend runs tasks in-process; it has no worker")


def can_defer() -> bool:
    """Whether the configured queue can run a task later (``run_after``); the immediate one cannot."""
    from django.tasks import default_task_backend

    return bool(getattr(default_task_backend, "supports_defer", False))
