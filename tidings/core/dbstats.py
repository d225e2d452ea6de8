"""Refreshing PostgreSQL's planner statistics right after a large write.

Autovacuum analyses a table some time after it changed a lot; until then the
planner plans queries over the new rows as if the table were as it was. After
an import of tens of thousands of contacts a send was planned with a nested loop
(54 s instead of 4 s); after a million messages were planned, claiming a batch
of them took a bitmap scan and a sort of the whole campaign (700 ms a claim).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

LARGE_WRITE = 10_000  # rows written at once, from which the statistics are refreshed


def analyze(*models: type[Model]) -> None:
    """``ANALYZE`` the models' tables on PostgreSQL (it may run inside a transaction, and then
    counts that transaction's own new rows); nothing elsewhere."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
