"""Planning a send: seconds to insert one message row per recipient of a tag of N contacts.

``BENCH_CONTACTS`` (default 1,000,000 on PostgreSQL, 100,000 on SQLite)
contacts in one tag — 90 % subscribed, the rest unsubscribed, never
subscribed, bounced or complained — and a marketing campaign to that tag.
The figure is ``plan_campaign`` alone (the statement that inserts every row
with its skip reason, then the counts and the statistics) and the COMMIT,
after the tables were analysed as autovacuum would. The baseline, same run: copying the contacts' id, email
and key into a table of the same width (``CREATE TABLE … AS SELECT``), the
least any plan must do. The issue's goal: ≤ 30 s for 1,000,000 on
PostgreSQL. Run on PostgreSQL with ``--use-env`` and ``TIDINGS_DATABASE_URL``.
"""

from __future__ import annotations

import os
import time


def _contacts(project: object, n: int) -> object:
    from django.db import connection
    from django.utils import timezone

    from tidings.audience.models import Contact, ContactTag, Tag

    tag = Tag.objects.create(project=project, name="everyone")
    statuses = ["subscribed"] * 18 + ["unsubscribed", "non-subscribed"]
    batch = 20_000
    for start in range(0, n, batch):
        Contact.objects.bulk_create(
            Contact(
                project=project,
                email=f"p{i}@example.net",
                email_key=f"p{i}@example.net",
                status="bounced" if i % 97 == 0 else "complained" if i % 211 == 0 else statuses[i % 20],
            )
            for i in range(start, min(n, start + batch))
        )
    contacts, links = Contact._meta.db_table, ContactTag._meta.db_table
    with connection.cursor() as cursor:
        # Table names come from the models; the values are parameters.
        linking = f"INSERT INTO {links} (contact_id, tag_id, created_at) SELECT id, %s, %s FROM {contacts} "  # noqa: S608
        cursor.execute(linking + "WHERE project_id = %s", [tag.pk, timezone.now(), project.pk])  # type: ignore[attr-defined]
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {contacts}")
            cursor.execute(f"ANALYZE {links}")
    return tag


def run(repeat: int = 1) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tidings.audience.models import Contact
    from tidings.campaigns.models import Campaign
    from tidings.core import services
    from tidings.sending.planner import plan_campaign

    call_command("migrate", verbosity=0)
    default = 1_000_000 if connection.vendor == "postgresql" else 100_000
    n = int(os.environ.get("BENCH_CONTACTS", default))
    project = services.project_create(name=f"Plan bench {time.time_ns()}")
    started = time.perf_counter()
    tag = _contacts(project, n)
    setup = time.perf_counter() - started
    campaign = Campaign.objects.create(
        project=project, name="Plan", from_email="news@example.com", recipient_type="tag", recipient_id=tag.pk
    )
    table = Contact._meta.db_table
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            copy = f"CREATE TEMPORARY TABLE plan_baseline AS SELECT id, email, email_key FROM {table} "  # noqa: S608
            cursor.execute(copy + "WHERE project_id = %s", [project.pk])
        baseline = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():  # the COMMIT is timed too: deferred checks would run there
        queued, excluded = plan_campaign(campaign)
    planned = time.perf_counter() - started
    return {
        "figure": f"plan_campaign of a tag of {n:,} contacts, seconds",
        "unit": "s",
        "value": round(planned, 2),
        "baseline": "copying the contacts' id, email and key into a temporary table, same run",
        "results": {
            "contacts": n,
            "queued": queued,
            "excluded": excluded,
            "plan_s": round(planned, 2),
            "baseline_copy_s": round(baseline, 2),
            "plan_over_copy": round(planned / baseline, 2) if baseline else None,
            "setup_s": round(setup, 1),
            "database": connection.vendor,
        },
    }
