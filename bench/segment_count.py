"""Live count of a segment over N contacts with activity, against hand-written SQL for the same set.

The segment: (tag vip AND createdAt within the last 30 days) OR (status
subscribed AND NOT opened within 60 days). N is 100,000 unless
BENCH_CONTACTS says otherwise; each contact has about 5 activity rows, 5 %
are tagged vip, signups spread over two years. The figure is
``segment_count`` as the API calls it (rule check, tag id check, compile,
COUNT); the baseline is one hand-written SQL statement for the same set.
Setup uses COPY on PostgreSQL and executemany on SQLite and is not timed.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from bench._load import bulk_insert

ACTIVITY_PER_CONTACT = 5
STATUSES = (
    ["subscribed"] * 70
    + ["unsubscribed"] * 15
    + ["non-subscribed"] * 10
    + ["bounced"] * 3
    + ["complained"] * 2
)
KINDS = ["sent"] * 6 + ["opened"] * 3 + ["clicked"]


def build(project_id: int, contacts: int, now: datetime) -> tuple[int, int]:
    """Contacts, vip tags and activity for one project; returns (vip tag id, activity rows)."""
    from django.db import connection, transaction

    from tidings.audience.activity import activity_summary_refresh
    from tidings.audience.models import Contact, ContactActivity, ContactTag, Tag

    rng = random.Random(42)
    when: Callable[[datetime], Any] = (
        (lambda d: d) if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value
    )

    def contact_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(contacts):
            created = when(now - timedelta(seconds=rng.randrange(730 * 86_400)))
            email = f"c{n}@bench.example"
            yield (
                project_id,
                email,
                email,
                "",
                "",
                "",
                "",
                "",
                "",
                "{}",
                rng.choice(STATUSES),
                "",
                created,
                created,
                "",
            )

    columns = [
        "project_id", "email", "email_key", "first_name", "last_name", "company", "phone", "country",
        "language", "custom_fields", "status", "source", "created_at", "updated_at", "consent_method",
    ]  # fmt: skip
    with transaction.atomic():
        bulk_insert(Contact._meta.db_table, [*columns, "consent_text"], ((*r, "") for r in contact_rows()))
        vip = Tag.objects.create(project_id=project_id, name="vip")
        ids = list(Contact.objects.filter(project_id=project_id).values_list("pk", flat=True))
        tagged = ((pk, vip.pk, when(now)) for pk in ids if rng.random() < 0.05)
        bulk_insert(ContactTag._meta.db_table, ["contact_id", "tag_id", "created_at"], tagged)

        def activity_rows() -> Iterator[tuple[Any, ...]]:
            for pk in ids:
                for _ in range(rng.randint(ACTIVITY_PER_CONTACT - 2, ACTIVITY_PER_CONTACT + 2)):
                    occurred = when(now - timedelta(seconds=rng.randrange(365 * 86_400)))
                    yield (project_id, pk, rng.choice(KINDS), rng.randint(1, 50), occurred)

        table = ContactActivity._meta.db_table
        bulk_insert(
            table, ["project_id", "contact_id", "kind", "campaign_id", "occurred_at"], activity_rows()
        )
        activity_summary_refresh(project=project_id)
    with connection.cursor() as cursor:
        # A steady state: statistics gathered, and on PostgreSQL the visibility
        # map set, as autovacuum would have done by the time anyone segments.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return vip.pk, cursor.fetchone()[0]


def rule(vip: int) -> dict[str, Any]:
    return {
        "match": "any",
        "conditions": [
            {
                "match": "all",
                "conditions": [
                    {"type": "tag", "operator": "has_any", "value": [vip]},
                    {"type": "field", "field": "createdAt", "operator": "within_last", "value": 30},
                ],
            },
            {
                "match": "all",
                "conditions": [
                    {"type": "status", "operator": "is", "value": "subscribed"},
                    {"type": "activity", "activity": "opened", "operator": "not_within", "days": 60},
                ],
            },
        ],
    }


HAND_SQL = """
SELECT COUNT(*) FROM audience_contact c
WHERE c.project_id = %(project)s AND (
    (EXISTS (SELECT 1 FROM audience_contacttag t WHERE t.contact_id = c.id AND t.tag_id = %(vip)s)
     AND c.created_at >= %(since30)s AND c.created_at <= %(now)s)
    OR (c.status = 'subscribed' AND NOT EXISTS (
        SELECT 1 FROM audience_contactactivity a
        WHERE a.contact_id = c.id AND a.kind = 'opened' AND a.occurred_at >= %(since60)s))
)
"""


def _median_ms(call: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    call()  # warm the caches: the figure is a steady state, not a cold disk
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        rounds.append((time.perf_counter() - start) * 1000)
    return statistics.median(rounds), [round(r, 1) for r in rounds]


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tidings.audience import segments
    from tidings.core import services

    call_command("migrate", verbosity=0)
    contacts = int(os.environ.get("BENCH_CONTACTS", "100000"))
    project = services.project_create(name="Segment bench")
    now = timezone.now()
    started = time.perf_counter()
    vip, activity_rows = build(project.pk, contacts, now)
    setup_seconds = time.perf_counter() - started

    filters = rule(vip)
    when = connection.ops.adapt_datetimefield_value

    def orm() -> int:
        return segments.segment_count(project=project, filters=filters)

    def hand() -> int:
        at = timezone.now()
        params = {
            "project": project.pk,
            "vip": vip,
            "now": when(at),
            "since30": when(at - timedelta(days=30)),
            "since60": when(at - timedelta(days=60)),
        }
        with connection.cursor() as cursor:
            cursor.execute(HAND_SQL, params)
            return cursor.fetchone()[0]

    assert orm() == hand(), "the segment and the hand-written SQL disagree"
    matched = orm()
    orm_ms, orm_rounds = _median_ms(orm, repeat)
    hand_ms, hand_rounds = _median_ms(hand, repeat)
    return {
        "figure": f"segment_count of a 4-condition segment over {contacts:,} contacts, median ms",
        "unit": "ms",
        "value": round(orm_ms, 1),
        "results": {
            "contacts": contacts,
            "activity_rows": activity_rows,
            "matched": matched,
            "segment_count_ms": round(orm_ms, 1),
            "hand_sql_ms": round(hand_ms, 1),
            "segment_over_hand_sql": round(orm_ms / hand_ms, 2),
            "segment_count_rounds_ms": orm_rounds,
            "hand_sql_rounds_ms": hand_rounds,
            "setup_seconds": round(setup_seconds, 1),
            "database": connection.vendor,
        },
        "baseline": "one hand-written SQL statement (EXISTS subqueries) for the same set, same run",
    }
