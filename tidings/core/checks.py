"""The report behind ``tidings check``: configuration and reachability."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection

from tidings.core.queue import QueueUnavailable, queue_check


def run_checks() -> list[tuple[str, bool, str]]:
    """(name, ok, detail) for each thing Tidings needs."""
    results: list[tuple[str, bool, str]] = []
    results.append(("data dir", os.access(settings.DATA_DIR, os.W_OK), str(settings.DATA_DIR)))
    key_source = "TIDINGS_SECRET_KEY" if os.environ.get("TIDINGS_SECRET_KEY") else "kept in the data dir"
    results.append(("secret key", True, key_source))
    results.append(("base URL", True, settings.BASE_URL))
    results.append(("debug", True, "off" if not settings.DEBUG else "on (never in production)"))
    try:
        connection.ensure_connection()
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        detail = f"{connection.vendor} ({settings.DATABASES['default']['NAME']})"
        results.append(("database", True, detail))
        results.append(
            (
                "migrations",
                not pending,
                "up to date" if not pending else f"{len(pending)} not applied: run 'tidings migrate'",
            )
        )
    except Exception as exc:
        results.append(
            (
                "database",
                False,
                str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__,
            )
        )
        return results
    try:
        results.append(("task queue", True, queue_check()))
    except QueueUnavailable as exc:
        results.append(("task queue", False, str(exc)))
    return results
