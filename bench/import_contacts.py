"""CSV import of N contacts end to end through the service, against a bare load of the same file.

N is 100,000 unless BENCH_ROWS says otherwise. The file has the columns of a
real export (names, company, phone, country, language, sign-up time, two
custom fields, and a tags column on a quarter of the rows). Each round
imports it into a fresh project (the figure), then imports it again with
upsert and a tag for every contact (every row matches an existing contact).
The baseline is what the database alone needs for the file: COPY into a
plain table on PostgreSQL, executemany into a plain table on SQLite.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay Industries", ""]
COUNTRIES = ["DE", "US", "FR", "GB", "BR", "IN", "JP", ""]
LANGUAGES = ["en", "de", "fr", "pt-BR", "ja", ""]
PLANS = ["free", "pro", "team", ""]
HEADER = [
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "country",
    "language",
    "created_at",
    "plan",
    "city",
    "tags",
]


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow(
                [
                    f"{first}.{last}.{n}@example{n % 97}.com".lower(),
                    first,
                    last,
                    rng.choice(COMPANIES),
                    f"+49 30 {rng.randrange(10**6, 10**7)}" if n % 3 == 0 else "",
                    rng.choice(COUNTRIES),
                    rng.choice(LANGUAGES),
                    f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
                    rng.choice(PLANS),
                    rng.choice(["Berlin", "Lisbon", "Osaka", "Austin", ""]),
                    "customer, newsletter" if n % 4 == 0 else "",
                ]
            )


def baseline_load(path: Path) -> float:
    """Seconds to load the file as it is into a plain table, with no checks."""
    from django.db import connection

    columns = ", ".join(f"{name} text" for name in HEADER)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_contacts")
        cursor.execute(f"CREATE TABLE bench_plain_contacts ({columns})")
        start = time.perf_counter()
        if connection.vendor == "postgresql":
            with (
                path.open("rb") as source,
                cursor.cursor.copy(
                    "COPY bench_plain_contacts FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy,
            ):
                while chunk := source.read(1024 * 1024):
                    copy.write(chunk)
        else:
            with path.open(newline="", encoding="utf-8") as source:
                reader = csv.reader(source)
                next(reader)
                marks = ", ".join(["%s"] * len(HEADER))
                while chunk := list(itertools.islice(reader, 10000)):
                    cursor.executemany(f"INSERT INTO bench_plain_contacts VALUES ({marks})", chunk)  # noqa: S608
        elapsed = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_plain_contacts")
    return elapsed


def import_file(path: Path, project: Any, on_conflict: str, tags: list[str]) -> tuple[float, Any]:
    from tidings.audience import imports

    start = time.perf_counter()
    with path.open("rb") as upload:
        contact_import = imports.contact_import_create(
            project=project,
            upload=upload,
            file_name=path.name,
            tag_names=tags,
            on_conflict=on_conflict,
            enqueue=False,
        )
    done = imports.contact_import_run(contact_import=contact_import)
    elapsed = time.perf_counter() - start
    if done.status != "finished":
        raise RuntimeError(f"the import failed: {done.error}")
    return elapsed, done


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tidings.core import services

    call_command("migrate", verbosity=0)
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    workdir = Path(tempfile.mkdtemp(prefix="tidings-bench-import-"))
    path = workdir / "contacts.csv"
    write_file(path, rows)
    size = path.stat().st_size

    imported, upserted, baseline = [], [], []
    outcome: Any = None
    peak_rss_mb = 0
    for round_number in range(repeat):
        project = services.project_create(name=f"Import bench {time.time_ns()}-{round_number}")
        seconds, outcome = import_file(path, project, "skip", [])
        imported.append(seconds)
        # The process's peak so far: the import's own memory, before the baseline runs.
        peak_rss_mb = peak_rss_mb or round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        seconds, rerun = import_file(path, project, "upsert", ["imported-again"])
        upserted.append(seconds)
        baseline.append(baseline_load(path))
    path.unlink()
    workdir.rmdir()

    median = statistics.median(imported)
    base = statistics.median(baseline)
    return {
        "figure": f"CSV import of {rows:,} contacts end to end through the service, seconds (median)",
        "unit": "s",
        "value": round(median, 2),
        "results": {
            "rows": rows,
            "file_mb": round(size / 1e6, 1),
            "database": connection.vendor,
            "import_s": [round(s, 2) for s in imported],
            "rows_per_s": round(rows / median),
            "rerun_upsert_with_tag_s": [round(s, 2) for s in upserted],
            "baseline_load_s": [round(s, 2) for s in baseline],
            "import_over_baseline": round(median / base, 1),
            "created": outcome.created_count,
            "tagged_from_file": rows // 4,
            "rerun_skipped_unchanged": rerun.skipped_count,
            "import_peak_rss_mb": peak_rss_mb,
        },
        "baseline": (
            "the same file loaded as it is into a plain table, same run: COPY on PostgreSQL, "
            "executemany on SQLite"
        ),
    }
