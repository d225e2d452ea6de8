"""Bulk loading for benchmark setups: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def bulk_insert(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    # Table and column names come from the models, never from input.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    chunk: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(row)
            if len(chunk) == 50_000:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
