"""Send memory: a sending worker's resident memory as the planned campaign grows.

For each size in ``BENCH_MEMORY_SIZES`` (default 10,000, 100,000 and 1,000,000
messages) the ``send_speed`` campaign (the MJML newsletter, tracked, DKIM-signed)
is planned for that many contacts (the first of the largest size's, made once)
and sent by one ``tidings worker`` process
with one sender, into Postfix's ``smtp-sink``, for ``BENCH_MEMORY_SECONDS``
(default 60) or until it is done; then it is cancelled and the worker stopped.
The worker's resident memory (``VmRSS``) is sampled every half second.

Reported per size: the messages sent in the window, the RSS when the first
message went out and at the end, the peak (``VmHWM``), and the growth per
10,000 messages sent after the first ten seconds (a worker that keeps
something per message grows; a flat one does not). The figure is the largest
peak; the baseline is the worker's RSS while idle, before the first campaign.
Sending a whole 1,000,000-message campaign takes about half an hour here: the
window shows the worker's memory does not depend on the campaign's size, and
what it sends is claimed from the full million rows.

Needs ``smtp-sink`` (see ``send_speed``) and PostgreSQL (``TIDINGS_DATABASE_URL``,
``--use-env``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.send_speed import REPO, Sink, _campaign, _stop, _tail, children_of, status_mb

SIZES = [int(n) for n in os.environ.get("BENCH_MEMORY_SIZES", "10000,100000,1000000").split(",")]
SECONDS = float(os.environ.get("BENCH_MEMORY_SECONDS", "60"))


def _worker(workdir: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    log = workdir / "worker.log"
    env = {**os.environ, "TIDINGS_SEND_SENDERS": "1"}
    with log.open("ab") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "tidings", "worker", "--processes", "1"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise RuntimeError(f"tidings worker exited:\n{_tail(log)}")
        children = children_of(supervisor.pid)
        if children and status_mb(children[0], "VmRSS") > 0:
            time.sleep(3)  # let it finish importing and settle
            return supervisor, children[0], log
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not start:\n{_tail(log)}")


def _campaign_for(first: Any, n: int) -> Any:
    """A campaign like ``first`` (to its tag of the most contacts) to the first ``n`` of them."""
    from django.db import connection
    from django.utils import timezone

    from tidings.audience.models import ContactTag, Tag
    from tidings.campaigns.services import campaign_create

    if n == max(SIZES):
        return first
    tag = Tag.objects.create(project_id=first.project_id, name=f"first {n}")
    table = ContactTag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (contact_id, tag_id, created_at) "  # noqa: S608 - the model's table
            f"SELECT contact_id, %s, %s FROM {table} WHERE tag_id = %s ORDER BY contact_id LIMIT %s",
            [tag.pk, timezone.now(), first.recipient_id, n],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    return campaign_create(
        project=first.project,
        values={
            "name": f"Monthly news to {n:,}",
            "designId": first.design_id,
            "from": first.from_email,
            "fromName": first.from_name,
            "recipientType": "tag",
            "recipientId": tag.pk,
            "connectionId": first.connection_id,
            "trackOpens": True,
            "trackClicks": True,
        },
    )


def _measure(campaign: Any, n: int, workdir: Path) -> dict[str, Any]:
    from tidings.campaigns.models import Campaign
    from tidings.campaigns.services import campaign_cancel, campaign_start
    from tidings.core.errors import Conflict
    from tidings.sending.models import Message, MessageState

    supervisor, worker, log = _worker(workdir)
    samples: list[tuple[float, int, float]] = []  # (seconds since the first message, sent, RSS MB)
    try:
        idle_mb = status_mb(worker, "VmRSS")
        planning = time.time()
        campaign_start(campaign=Campaign.objects.get(pk=campaign.pk))
        planning_s = time.time() - planning
        sent = Message.objects.filter(campaign_id=campaign.pk, state=MessageState.SENT)
        first = None
        while True:
            time.sleep(0.5)
            if supervisor.poll() is not None:
                raise RuntimeError(f"tidings worker exited:\n{_tail(log)}")
            count = sent.count()
            if first is None and count:
                first = time.monotonic()
            if first is not None:
                samples.append((time.monotonic() - first, count, status_mb(worker, "VmRSS")))
                if time.monotonic() - first >= SECONDS or count >= n:
                    break
        peak = status_mb(worker, "VmHWM")
        with contextlib.suppress(Conflict):  # it may have been sent in full
            campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk))
    finally:
        _stop(supervisor)
    later = [s for s in samples if s[0] >= 10] or samples
    grown = (later[-1][2] - later[0][2]) / max(1, later[-1][1] - later[0][1]) * 10_000
    return {
        "planned": n,
        "planning_s": round(planning_s, 1),
        "sent_in_window": samples[-1][1],
        "window_s": round(samples[-1][0], 1),
        "idle_rss_mb": round(idle_mb, 1),
        "rss_at_first_message_mb": round(samples[0][2], 1),
        "rss_at_end_mb": round(samples[-1][2], 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb_per_10k_sent_after_10s": round(grown, 2),
        "rss_timeline_mb": [round(s[2], 1) for s in samples[:: max(1, len(samples) // 12)]],
    }


def run(repeat: int = 1) -> dict[str, object]:
    from bench.send_speed import _ensure_database

    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    workdir = Path(tempfile.mkdtemp(prefix="tidings-send-memory-"))
    sink = Sink(workdir)
    try:
        made = time.time()
        largest = _campaign(max(SIZES), sink.port)  # the contacts of every size, made once
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would after the contacts came in
        setup_s = time.time() - made
        sizes = [_measure(_campaign_for(largest, n), n, workdir) for n in sorted(SIZES)]
    finally:
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "figure": "peak resident memory of a sending worker, largest campaign",
        "unit": "MB",
        "value": max(s["peak_rss_mb"] for s in sizes),
        "baseline": sizes[0]["idle_rss_mb"],
        "baseline_unit": "MB: the same worker idle, before its first campaign",
        "seconds_per_size": SECONDS,
        "setup_s": round(setup_s, 1),
        "sizes": sizes,
    }
