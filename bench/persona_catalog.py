"""Variable catalog of a tag persona over N contacts, against one bare read of the same cohort.

N is 1,000,000 on PostgreSQL and 100,000 on SQLite unless BENCH_CONTACTS
says otherwise; BENCH_OUTSIDE more contacts (100,000, or N/10 on SQLite)
sit in the same project without the tag. Contacts have the built-in fields
of a real list (first name 90 %, last name 75 %, company 40 %, phone 3 %,
country and language with one dominant value) and six custom fields with
mixed fill rates (plan 95 %, city 60 % and 2 % empty, points 30 % numbers,
vip 10 % booleans, birthday 4 % dates, referrer 0.5 %).

The figure is ``catalog_build`` for the tag in the steady state: on
PostgreSQL the project's registry of custom-field keys is warm, so the catalog
is one grouped statement over the cohort (plus the registry read and a
200-member sample). The first build, which finds the keys with a
``jsonb_each`` discovery pass and registers them, is run once beforehand and
reported on its own (``first_build_ms``). On SQLite every build is the
grouped scan plus the discovery pass. The baseline is one statement that
reads the cohort's rows once (``count(*)`` and the total length of
``custom_fields``) at the server's settings; since the catalog's passes raise
work_mem for themselves, the bare read with the same work_mem is recorded too.
The record also holds the statements the catalog issues, the passes' own
times and EXPLAIN ANALYZE (EXPLAIN QUERY PLAN on SQLite), and on PostgreSQL
what exact per-key type masks (``bit_or`` of ``jsonb_typeof``) would add to
the grouped statement.

Setup uses COPY on PostgreSQL and executemany on SQLite, then (VACUUM)
ANALYZE, and is not timed. On PostgreSQL use a scratch database, e.g.
``createdb -h 127.0.0.1 -U postgres tidings_bench`` and
``TIDINGS_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tidings_bench``
with ``--use-env``; the bench deletes what it loaded at the end unless
BENCH_KEEP=1, and with BENCH_KEEP=1 a later run reuses the data a kept run
loaded (same N and outside count) instead of loading it again.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from bench._load import bulk_insert

GOAL_MS = 1000.0
GOAL_CONTACTS = 1_000_000
PROJECT_NAME = "Catalog bench"
TAG_NAME = "Newsletter readers"
OTHER_TAG_NAME = "Webinar leads"
# What exact per-key types would cost: one type mask per key, as the grouped
# statement could compute them (measured, not used by the catalog).
TYPE_MASK_SQL = (
    "bit_or(CASE jsonb_typeof(c.custom_fields -> '{key}') "
    "WHEN 'string' THEN 1 WHEN 'number' THEN 2 WHEN 'boolean' THEN 4 END)"
)
FIRST = [
    "Anna", "Lukas", "Marie", "Leon", "Sofia", "Jonas", "Emma", "Elias", "Mia", "Noah", "José", "Zoë",
    "Søren", "Łukasz", "Mei", "Priya", "Olu", "Chloé", "Fatima", "Hiroshi", "Ingrid", "Kwame", "Lucía",
]  # fmt: skip
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "García", "Nakamura", "O'Brien", "Okafor", "Singh"]
COMPANIES = [
    "Acme", "Globex", "Initech", "Smith & Sons", "Müller GmbH", "Hooli", "Vandelay Industries",
    "Bits & Bytes Ltd.", "Northwind Traders", "Café Noir", "Stark Industries", "Umbrella",
]  # fmt: skip
# One dominant value, a tail, and some contacts without a value.
COUNTRIES = (
    ["DE"] * 55 + ["AT"] * 8 + ["CH"] * 7 + ["US"] * 6 + ["FR"] * 4 + ["GB"] * 3 + ["NL"] * 2 + [""] * 15
)
LANGUAGES = ["de"] * 60 + ["en"] * 20 + ["fr"] * 5 + ["nl"] * 2 + ["pt-BR"] * 1 + [""] * 12
PLANS = ["free"] * 50 + ["pro"] * 30 + ["team"] * 15 + ["enterprise"] * 5
CITIES = ["Berlin", "Hamburg", "München", "Wien", "Zürich", "Köln", "Lisbon", "New York", "Kraków"]
DOMAINS = ["example.com", "mail.example.org", "example.net", "corp.example.de"]
STATUSES = ["subscribed"] * 85 + ["unsubscribed"] * 10 + ["bounced"] * 3 + ["complained"] * 2

CONTACT_COLUMNS = [
    "project_id", "email", "email_key", "first_name", "last_name", "company", "phone", "country",
    "language", "custom_fields", "status", "source", "created_at", "updated_at", "consent_method",
    "consent_text",
]  # fmt: skip

BASELINE_SQL = {
    "postgresql": (
        "SELECT count(*), sum(length(custom_fields::text)) FROM audience_contact "
        "WHERE id IN (SELECT contact_id FROM audience_contacttag WHERE tag_id = %s)"
    ),
    "sqlite": (
        "SELECT count(*), sum(length(custom_fields)) FROM audience_contact "
        "WHERE id IN (SELECT contact_id FROM audience_contacttag WHERE tag_id = %s)"
    ),
}
SETTINGS = (
    "work_mem", "hash_mem_multiplier", "max_parallel_workers_per_gather", "max_parallel_workers",
    "parallel_setup_cost", "min_parallel_table_scan_size", "shared_buffers", "effective_cache_size",
    "random_page_cost", "jit",
)  # fmt: skip


def custom_fields(rng: random.Random) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if rng.random() < 0.95:
        fields["plan"] = rng.choice(PLANS)
    roll = rng.random()
    if roll < 0.60:
        fields["city"] = rng.choice(CITIES)
    elif roll < 0.62:
        fields["city"] = ""  # an import's empty cell: present, not filled
    if rng.random() < 0.30:
        fields["points"] = rng.randrange(10_000) if rng.random() < 0.8 else round(rng.uniform(0, 500), 1)
    if rng.random() < 0.10:
        fields["vip"] = rng.random() < 0.7
    if rng.random() < 0.04:
        fields["birthday"] = (
            f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        )
    if rng.random() < 0.005:
        fields["referrer"] = rng.choice(["newsletter", "podcast", "partner", "friend"])
    return fields


def build(project_id: int, cohort: int, outside: int, now: datetime) -> tuple[int, int]:
    """Contacts of one project, ``cohort`` of them (spread through the table) tagged; returns tag ids."""
    from django.db import connection, transaction

    from tidings.audience.models import Contact, ContactTag, Tag

    rng = random.Random(42)
    when: Callable[[datetime], Any] = (
        (lambda d: d) if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value
    )
    total = cohort + outside
    # Which rows (in insertion order) are in the cohort: scattered, not one block.
    members = set(rng.sample(range(total), cohort))

    def contact_rows() -> Iterator[tuple[Any, ...]]:
        for n in range(total):
            first = rng.choice(FIRST) if rng.random() < 0.90 else ""
            last = rng.choice(LAST) if rng.random() < 0.75 else ""
            local = ".".join(p for p in (first, last) if p) or "reader"
            email = f"{local}.{n}@{rng.choice(DOMAINS)}"
            created = when(now - timedelta(seconds=rng.randrange(3 * 365 * 86_400)))
            yield (
                project_id,
                email,
                email.lower(),
                first,
                last,
                rng.choice(COMPANIES) if rng.random() < 0.40 else "",
                f"+49 30 {rng.randrange(10**6, 10**7)}" if rng.random() < 0.03 else "",
                rng.choice(COUNTRIES),
                rng.choice(LANGUAGES),
                json.dumps(custom_fields(rng), ensure_ascii=False),
                rng.choice(STATUSES),
                "import",
                created,
                created,
                "",
                "",
            )

    with transaction.atomic():
        bulk_insert(Contact._meta.db_table, CONTACT_COLUMNS, contact_rows())
        tag = Tag.objects.create(project_id=project_id, name=TAG_NAME)
        other = Tag.objects.create(project_id=project_id, name=OTHER_TAG_NAME)
        ids = list(Contact.objects.filter(project_id=project_id).order_by("pk").values_list("pk", flat=True))
        tagged = when(now)
        rows = ((pk, tag.pk if n in members else other.pk, tagged) for n, pk in enumerate(ids))
        bulk_insert(ContactTag._meta.db_table, ["contact_id", "tag_id", "created_at"], rows)
    with connection.cursor() as cursor:
        # A steady state: statistics gathered and, on PostgreSQL, the visibility
        # map set, as autovacuum would have done by the time anyone drafts.
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {Contact._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {ContactTag._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
    return tag.pk, other.pk


def kept(cohort: int, outside: int) -> tuple[int, int, int] | None:
    """The project and tags a BENCH_KEEP=1 run left with the same sizes, if any."""
    from tidings.audience.models import Contact, ContactTag, Tag
    from tidings.core.models import Project

    for project in Project.objects.filter(name=PROJECT_NAME).order_by("-pk"):
        tags = {t.name: t.pk for t in Tag.objects.filter(project=project)}
        if set(tags) != {TAG_NAME, OTHER_TAG_NAME}:
            continue
        if (
            ContactTag.objects.filter(tag_id=tags[TAG_NAME]).count() == cohort
            and Contact.objects.filter(project=project).count() == cohort + outside
        ):
            return project.pk, tags[TAG_NAME], tags[OTHER_TAG_NAME]
    return None


def _discovers(sql: str) -> bool:
    return "jsonb_each(" in sql or "json_each(" in sql


def _median_ms(call: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    call()  # warm the caches: the figure is a steady state, not a cold disk
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        rounds.append((time.perf_counter() - start) * 1000)
    return statistics.median(rounds), [round(r, 1) for r in rounds]


@contextmanager
def _work_mem(value: str | None) -> Iterator[None]:
    """The session's work_mem set to ``value`` (PostgreSQL) inside the block."""
    from django.db import connection

    if value is None:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, false)", [value])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET work_mem")


def _explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [f"{row[0]}<-{row[1]} {row[-1]}" for row in cursor.fetchall()]


def _database_facts(project_id: int) -> dict[str, Any]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", [list(SETTINGS)])
        settings = {
            name: f"{setting}{' ' + unit if unit else ''}" for name, setting, unit in cursor.fetchall()
        }
        cursor.execute("SELECT current_setting('jit')")  # the session's own (the app turns JIT off)
        settings["jit (session)"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size('audience_contact')), "
            "pg_size_pretty(pg_total_relation_size('audience_contact')), "
            "pg_size_pretty(pg_total_relation_size('audience_contacttag')), "
            "(SELECT count(*) FROM audience_contact), "
            "(SELECT avg(pg_column_size(custom_fields))::int FROM audience_contact WHERE project_id = %s)",
            [project_id],
        )
        table, contact_total, tag_total, rows, jsonb = cursor.fetchone()
    return {
        "settings": settings,
        "audience_contact_table": table,
        "audience_contact_with_indexes": contact_total,
        "audience_contacttag_with_indexes": tag_total,
        "audience_contact_rows": rows,
        "custom_fields_avg_bytes": jsonb,
    }


def cleanup(project_id: int, tag_ids: tuple[int, ...]) -> None:
    """Delete what the bench loaded (set-wise: the ORM would collect a million objects)."""
    from django.db import connection, transaction

    from tidings.core.models import Project

    with transaction.atomic(), connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(tag_ids))
        cursor.execute(f"DELETE FROM audience_contacttag WHERE tag_id IN ({marks})", list(tag_ids))  # noqa: S608
        cursor.execute("DELETE FROM audience_contact WHERE project_id = %s", [project_id])
        Project.objects.filter(pk=project_id).delete()
    if connection.vendor == "postgresql":
        # Give the space back (VACUUM truncates the emptied tail), or the next
        # run's rows land after a table's worth of dead pages and scan twice the pages.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM audience_contact, audience_contacttag")


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tidings.core import services
    from tidings.core.models import Project
    from tidings.drafts.catalog import Persona, catalog_build
    from tidings.drafts.cohort_counts import COHORT_WORK_MEM
    from tidings.drafts.models import CustomFieldKey

    call_command("migrate", verbosity=0)
    postgres = connection.vendor == "postgresql"
    cohort = int(os.environ.get("BENCH_CONTACTS", "1000000" if postgres else "100000"))
    outside = int(os.environ.get("BENCH_OUTSIDE", "100000" if postgres else str(cohort // 10)))
    keep = os.environ.get("BENCH_KEEP") == "1"
    reused = kept(cohort, outside) if keep else None
    started = time.perf_counter()
    if reused:
        project = Project.objects.get(pk=reused[0])
        tag_id, other_id = reused[1], reused[2]
    else:
        project = services.project_create(name=PROJECT_NAME)
        tag_id, other_id = build(project.pk, cohort, outside, timezone.now())
    setup_seconds = time.perf_counter() - started
    try:
        persona = Persona(type="tag", id=tag_id, name=TAG_NAME)

        def catalog() -> Any:
            return catalog_build(project=project, persona=persona)

        def bare() -> tuple[int, int]:
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL[connection.vendor], [tag_id])
                return cursor.fetchone()

        # The first build: an empty registry, so the keys are discovered and registered.
        CustomFieldKey.objects.for_project(project).delete()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            first = catalog()
            first_ms = (time.perf_counter() - started) * 1000
        first_statements = [q["sql"] for q in captured.captured_queries]
        registered = sorted(CustomFieldKey.objects.for_project(project).values_list("key", flat=True))
        assert first.cohort_size == cohort, f"the catalog counts {first.cohort_size}, not {cohort}"
        assert bare()[0] == cohort

        with CaptureQueriesContext(connection) as captured:
            result = catalog()
        statements = [q["sql"] for q in captured.captured_queries]
        assert result == first, "the steady state must give the first build's catalog"
        grouped = next(s for s in statements if "GROUP BY" in s and not _discovers(s))
        discovery = next(s for s in first_statements if _discovers(s))

        catalog_ms, catalog_rounds = _median_ms(catalog, repeat)
        bare_ms, bare_rounds = _median_ms(bare, repeat)

        def statement(sql: str) -> Callable[[], object]:
            def call() -> object:
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetchall()

            return call

        extra: dict[str, Any] = {}
        # The catalog's passes run with COHORT_WORK_MEM (PostgreSQL); so do their timings here.
        with _work_mem(COHORT_WORK_MEM if postgres else None):
            grouped_ms, _ = _median_ms(statement(grouped), repeat)
            discovery_ms, _ = _median_ms(statement(discovery), repeat)
            if postgres:
                bare_same_ms, _ = _median_ms(bare, repeat)
                extra["bare_read_with_cohort_work_mem_ms"] = round(bare_same_ms, 1)
                # The grouped statement's select list ends where its cohort subquery begins.
                head, tail = grouped.split(" FROM (", 1)
                masks = ", ".join(TYPE_MASK_SQL.format(key=key) for key in registered)
                masked_ms, _ = _median_ms(statement(f"{head}, {masks} FROM ({tail}"), repeat)
                extra["grouped_with_type_masks_ms"] = round(masked_ms, 1)
                extra["type_masks_cost_ms"] = round(masked_ms - grouped_ms, 1)
            explain = {"grouped_statement": _explain(grouped), "discovery_pass": _explain(discovery)}
        explain["baseline"] = _explain(BASELINE_SQL[connection.vendor].replace("%s", str(tag_id)))
        facts = _database_facts(project.pk)
    finally:
        if not keep:
            cleanup(project.pk, (tag_id, other_id))

    verdict = "met" if catalog_ms <= GOAL_MS else "NOT met"
    if cohort != GOAL_CONTACTS:
        verdict += f" (but the goal is stated for {GOAL_CONTACTS:,} contacts on PostgreSQL)"
    print(f"persona_catalog: goal <= {GOAL_MS:g} ms median; {catalog_ms:.1f} ms for {cohort:,}: {verdict}")
    return {
        "figure": f"catalog_build of a tag persona over {cohort:,} contacts (steady state), median ms",
        "unit": "ms",
        "value": round(catalog_ms, 1),
        "goal": f"<= {GOAL_MS:g} ms median for {GOAL_CONTACTS:,} contacts",
        "goal_met": catalog_ms <= GOAL_MS if cohort == GOAL_CONTACTS else None,
        "results": {
            "contacts_in_cohort": cohort,
            "contacts_outside": outside,
            "catalog_ms": round(catalog_ms, 1),
            "bare_read_ms": round(bare_ms, 1),
            "catalog_over_bare_read": round(catalog_ms / bare_ms, 2),
            "catalog_rounds_ms": catalog_rounds,
            "bare_read_rounds_ms": bare_rounds,
            "first_build_ms": round(first_ms, 1),
            "first_build_queries": len(first_statements),
            "queries": len(statements),
            "grouped_statement_ms": round(grouped_ms, 1),
            "discovery_pass_ms": round(discovery_ms, 1),
            **extra,
            "registered_keys": registered,
            "variables": {v.name: round(v.fill_rate or 0, 4) for v in result.variables},
            "hidden": {v.name: round(v.fill_rate or 0, 4) for v in result.hidden},
            "types": {v.name: v.type for v in [*result.variables, *result.hidden] if v.kind == "custom"},
            "cues": result.cues,
            "setup_seconds": round(setup_seconds, 1),
            "data_reused": bool(reused),
            "database": connection.vendor,
            **facts,
        },
        "statements": statements,
        "first_build_statements": first_statements,
        "explain": explain,
        "baseline": (
            "one statement reading the cohort once: count(*) and sum(length(custom_fields)) "
            "of the tag's contacts, same run"
        ),
    }
