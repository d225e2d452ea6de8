"""Campaign results over N messages: the figures, links and timeline, and a page of the log.

A campaign of N messages (``BENCH_MESSAGES``, default 100,000), with the
events a real send gathers: a delivery report for 97 %, 2 % bounced (a
quarter of them soft), opens by 30 % (a third of them opening twice), machine
opens for 10 %, clicks on one of 5 links by 6 %, complaints for 0.1 % and
unsubscribes for 0.3 %. The figures: median ms of ``campaign_results`` with
the connection an ESP that reports deliveries, and again as SMTP (delivered
is then sent minus bounces); and of the first page of the per-recipient log
filtered to ``opened``. The baseline is one hand-written ``GROUP BY kind``
over the campaign's events, the least any figure could cost. Setup uses COPY
on PostgreSQL and executemany on SQLite and is not timed.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from bench._load import bulk_insert

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
LINKS = 5
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15"


def build(project: Any, campaign: Any, n: int, now: datetime) -> int:
    """The campaign's messages, links and events; returns the number of events."""
    from django.db import connection, transaction

    from tidings.sending.models import Message
    from tidings.tracking.models import TrackedLink, TrackingEvent

    rng = random.Random(42)
    when: Callable[[datetime], Any] = (
        (lambda d: d) if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value
    )
    sent_at = now - timedelta(days=2)
    with transaction.atomic():
        rows = (
            (project.pk, campaign.pk, f"r{i}@bench.example", f"r{i}@bench.example", "sent", "", 1, "", "", "",
             when(sent_at), when(sent_at), when(sent_at))
            for i in range(n)
        )  # fmt: skip
        columns = [
            "project_id", "campaign_id", "email", "email_key", "state", "skip_reason", "attempts",
            "lease_owner", "provider_message_id", "error", "sent_at", "created_at", "updated_at",
        ]  # fmt: skip
        bulk_insert(Message._meta.db_table, columns, rows)
        links = [
            TrackedLink.objects.create(
                project=project, campaign=campaign, index=i, url=f"https://example.com/{i}",
                url_hash=hashlib.sha256(f"https://example.com/{i}".encode()).hexdigest(),
            ).pk
            for i in range(1, LINKS + 1)
        ]  # fmt: skip
        ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
        count = 0

        def events() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for pk in ids:
                at = sent_at + timedelta(minutes=rng.randrange(2880))
                found: list[tuple[str, Any, bool, str, str]] = []
                roll = rng.random()
                if roll < 0.02:
                    soft = rng.random() < 0.25
                    found.append(
                        ("bounced", None, False, "soft" if soft else "hard", "4.2.2" if soft else "5.1.1")
                    )
                else:
                    found.append(("delivered", None, False, "", ""))
                    if rng.random() < 0.30:
                        found += [("opened", None, False, "", "")] * rng.choice((1, 1, 2))
                    if rng.random() < 0.10:
                        found.append(("opened", None, True, "", ""))
                    if rng.random() < 0.06:
                        found.append(("clicked", rng.choice(links), False, "", ""))
                    if rng.random() < 0.001:
                        found.append(("complained", None, False, "", ""))
                    if rng.random() < 0.003:
                        found.append(("unsubscribed", None, False, "", ""))
                for kind, link, machine, bounce, code in found:
                    count += 1
                    agent = "Mozilla/5.0" if machine else (BROWSER if kind in ("opened", "clicked") else "")
                    yield (project.pk, campaign.pk, pk, kind, link, when(at), agent, machine, "webhook",
                           bounce, code, "", "")  # fmt: skip

        columns = [
            "project_id", "campaign_id", "message_id", "kind", "link_id", "occurred_at", "user_agent",
            "machine", "source", "bounce_type", "status_code", "detail", "event_id",
        ]  # fmt: skip
        bulk_insert(TrackingEvent._meta.db_table, [*columns, "email"], ((*r, "") for r in events()))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return count


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

    from tidings.campaigns.models import Campaign
    from tidings.core import services
    from tidings.sending.models import ProviderConnection
    from tidings.tracking.models import TrackingEvent
    from tidings.tracking.selectors import campaign_recipient_log, campaign_results

    call_command("migrate", verbosity=0)
    project = services.project_create(name=f"Results bench {time.time_ns()}")
    esp = ProviderConnection.objects.create(project=project, name="ESP", kind="postmark", is_default=True)
    campaign = Campaign.objects.create(
        project=project, name="Bench news", status="sent", connection=esp, started_at=timezone.now()
    )
    started = time.perf_counter()
    events = build(project, campaign, MESSAGES, timezone.now())
    setup_seconds = time.perf_counter() - started

    def results() -> dict[str, Any]:
        return campaign_results(campaign)

    def log_page() -> object:
        return campaign_recipient_log(campaign=campaign, status="opened", limit=50)

    def hand() -> list[Any]:
        table = TrackingEvent._meta.db_table
        with connection.cursor() as cursor:
            # The table name comes from the model, never from input.
            sql = f"SELECT kind, COUNT(*) FROM {table} WHERE campaign_id = %s GROUP BY kind"  # noqa: S608
            cursor.execute(sql, [campaign.pk])
            return cursor.fetchall()

    esp_figures = results()
    assert esp_figures["sent"] == MESSAGES
    assert esp_figures["deliveries_reported"] is True
    esp_ms, esp_rounds = _median_ms(results, repeat)
    log_ms, log_rounds = _median_ms(log_page, repeat)
    hand_ms, hand_rounds = _median_ms(hand, repeat)
    ProviderConnection.objects.filter(pk=esp.pk).update(kind="smtp")
    smtp_figures = results()
    assert smtp_figures["deliveries_reported"] is False
    assert smtp_figures["delivered"] == MESSAGES - smtp_figures["bounces"]["total"]
    smtp_ms, smtp_rounds = _median_ms(results, repeat)
    return {
        "figure": f"campaign_results of a campaign of {MESSAGES:,} messages, median ms",
        "unit": "ms",
        "value": round(esp_ms, 1),
        "results": {
            "messages": MESSAGES,
            "events": events,
            "delivered": esp_figures["delivered"],
            "opens_unique": esp_figures["opens"]["unique"],
            "results_esp_ms": round(esp_ms, 1),
            "results_smtp_ms": round(smtp_ms, 1),
            "log_page_opened_ms": round(log_ms, 1),
            "hand_group_by_ms": round(hand_ms, 1),
            "results_over_hand_sql": round(esp_ms / hand_ms, 2),
            "results_esp_rounds_ms": esp_rounds,
            "results_smtp_rounds_ms": smtp_rounds,
            "log_page_rounds_ms": log_rounds,
            "hand_rounds_ms": hand_rounds,
            "setup_seconds": round(setup_seconds, 1),
            "database": connection.vendor,
        },
        "baseline": "one hand-written GROUP BY kind over the campaign's events, same run",
    }
