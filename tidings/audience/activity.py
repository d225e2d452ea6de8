"""Recording what happened between contacts and the project's mail.

The only writer of ``ContactActivity``: every event row also moves the
contact's ``last_<kind>_at`` forward, so segments can answer "opened within
60 days" from the contact row alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from tidings.audience.models import LAST_ACTIVITY_COLUMN, ActivityKind, Contact, ContactActivity
from tidings.core.models import Project
from tidings.core.scoping import scoped


@dataclass(frozen=True)
class Activity:
    contact_id: int
    kind: str
    occurred_at: datetime
    campaign_id: int | None = None


@transaction.atomic
def activity_record(*, project: Project | int, activities: Iterable[Activity]) -> int:
    """Store the events and move each contact's latest-activity times; returns how many were stored.

    Contacts of other projects are ignored.
    """
    project_id = project if isinstance(project, int) else project.pk
    entries = list(activities)
    for entry in entries:
        if entry.kind not in LAST_ACTIVITY_COLUMN:
            raise ValueError(f"unknown activity kind {entry.kind!r}")
    own = set(
        scoped(Contact, project_id)
        .filter(pk__in={e.contact_id for e in entries})
        .values_list("pk", flat=True)
    )
    rows = [
        ContactActivity(
            project_id=project_id,
            contact_id=e.contact_id,
            kind=e.kind,
            campaign_id=e.campaign_id,
            occurred_at=e.occurred_at,
        )
        for e in entries
        if e.contact_id in own
    ]
    ContactActivity.objects.bulk_create(rows, batch_size=1000)
    newest: dict[tuple[int, str], datetime] = {}
    for row in rows:
        key = (row.contact_id, row.kind)
        if key not in newest or row.occurred_at > newest[key]:
            newest[key] = row.occurred_at
    by_kind: dict[str, list[tuple[int, datetime]]] = {}
    for (contact_id, kind), when in newest.items():
        by_kind.setdefault(kind, []).append((contact_id, when))
    for kind, latest in by_kind.items():
        _move_latest(project_id, LAST_ACTIVITY_COLUMN[ActivityKind(kind)], latest)
    return len(rows)


def _move_latest(project_id: int, column: str, latest: list[tuple[int, datetime]]) -> None:
    """Move each contact's ``column`` forward to its time, in one statement per 500 contacts
    (UPDATE … FROM VALUES), never backward."""
    contacts = Contact._meta.db_table
    postgres = connection.vendor == "postgresql"
    cell = "(CAST(%s AS bigint), CAST(%s AS timestamptz))" if postgres else "(%s, %s)"
    with connection.cursor() as cursor:
        for start in range(0, len(latest), 500):
            chunk = latest[start : start + 500]
            params: list[object] = []
            for contact_id, when in chunk:
                params += [contact_id, connection.ops.adapt_datetimefield_value(when)]
            # Names come from the models; the values are parameters.
            cursor.execute(
                f"UPDATE {contacts} SET {column} = latest.at "  # noqa: S608
                f"FROM (SELECT column1 AS contact_id, column2 AS at "
                f"FROM (VALUES {', '.join([cell] * len(chunk))}) AS v) AS latest "
                f"WHERE {contacts}.id = latest.contact_id AND {contacts}.project_id = %s "
                f"AND ({contacts}.{column} IS NULL OR {contacts}.{column} < latest.at)",
                [*params, project_id],
            )


def activity_summary_refresh(*, project: Project | int) -> None:
    """Recompute every contact's latest-activity times from the stored events.

    For rows written in bulk outside ``activity_record`` (benchmarks, restores):
    one grouped pass over the events per kind, joined back to the contacts
    (UPDATE … FROM, on SQLite ≥ 3.33 and PostgreSQL).
    """
    project_id = project if isinstance(project, int) else project.pk
    contacts, events = Contact._meta.db_table, ContactActivity._meta.db_table
    with connection.cursor() as cursor:
        for kind, column in LAST_ACTIVITY_COLUMN.items():
            # Names come from the models; the values are parameters.
            cursor.execute(f"UPDATE {contacts} SET {column} = NULL WHERE project_id = %s", [project_id])  # noqa: S608
            cursor.execute(
                f"UPDATE {contacts} SET {column} = latest.at "  # noqa: S608
                f"FROM (SELECT contact_id, MAX(occurred_at) AS at FROM {events} "
                f"WHERE project_id = %s AND kind = %s GROUP BY contact_id) AS latest "
                f"WHERE {contacts}.id = latest.contact_id AND {contacts}.project_id = %s",
                [project_id, str(kind), project_id],
            )
