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
from django.db.models import Q

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
    latest: dict[tuple[str, datetime], set[int]] = {}
    newest: dict[tuple[int, str], datetime] = {}
    for row in rows:
        key = (row.contact_id, row.kind)
        if key not in newest or row.occurred_at > newest[key]:
            newest[key] = row.occurred_at
    for (contact_id, kind), when in newest.items():
        latest.setdefault((kind, when), set()).add(contact_id)
    for (kind, when), contact_ids in latest.items():
        column = LAST_ACTIVITY_COLUMN[ActivityKind(kind)]
        older = Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lt": when})
        scoped(Contact, project_id).filter(older, pk__in=contact_ids).update(**{column: when})
    return len(rows)


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
