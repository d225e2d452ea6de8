"""Tracking throughput: open pixel and click redirect requests a second over HTTP, and no event lost.

The real server (granian, ``BENCH_WORKERS`` processes of ``BENCH_THREADS``
threads, default 2 × 4, as ``tidings serve`` runs it) on loopback, loaded by ``wrk`` (Debian package
``wrk``) with ``BENCH_CONNECTIONS`` connections (default 32) for
``BENCH_SECONDS`` (default 10) per endpoint. Each request names a different
message: the paths cycle through ``BENCH_MESSAGES`` (default 5,000) sent
messages of one campaign, so nothing is answered from a cache of one token.

- the baseline: ``/healthz`` (Django's whole stack, no database);
- the pixel ``/o/<token>.gif``; a click ``/c/<token>`` (a redirect).

After each run the server's buffered events are flushed (the server is
stopped the way ``tidings serve`` stops it), and the stored events are
counted against the successful responses wrk saw: the figure ``lost`` must
be 0. Goal: ≥ 1,000 requests a second for the pixel and for the click.
Run on PostgreSQL with ``--use-env`` and ``TIDINGS_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))  # per worker, as ``tidings serve`` runs it
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "5000"))

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  local agent = {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}
  return wrk.format("GET", paths[(n %% #paths) + 1], agent)
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup() -> tuple[Any, list[str], list[str]]:
    from django.core.management import call_command
    from django.utils import timezone

    from tidings.audience.models import Contact
    from tidings.campaigns.models import Campaign, CampaignStatus
    from tidings.core import services
    from tidings.sending.models import Message, MessageState
    from tidings.tracking.models import TrackedLink
    from tidings.tracking.tokens import message_token

    call_command("migrate", verbosity=0)
    project = services.project_create(name=f"Tracking bench {time.time_ns()}")
    campaign = Campaign.objects.create(
        project=project, name="Load", status=CampaignStatus.SENT, from_email="news@example.com"
    )
    contacts = Contact.objects.bulk_create(
        Contact(project=project, email=f"p{i}@example.net", email_key=f"p{i}@example.net")
        for i in range(MESSAGES)
    )
    sent = timezone.now() - timezone.timedelta(hours=1)
    messages = Message.objects.bulk_create(
        Message(
            project=project,
            campaign=campaign,
            contact=c,
            email=c.email,
            email_key=c.email_key,
            state=MessageState.SENT,
            sent_at=sent,
        )
        for c in Contact.objects.filter(project=project).order_by("id")
    )
    del contacts
    TrackedLink.objects.create(
        project=project, campaign=campaign, index=1, url="https://example.com/a", url_hash="a" * 64
    )
    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    del messages
    pixels = [
        f"/o/{message_token(project_id=project.pk, message_id=m, campaign_id=campaign.pk)}.gif" for m in ids
    ]
    clicks = [
        f"/c/{message_token(project_id=project.pk, message_id=m, campaign_id=campaign.pk, link=1)}"
        for m in ids
    ]
    return campaign, pixels, clicks


def _serve(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TIDINGS_BASE_URL": f"http://127.0.0.1:{port}"}
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(WORKERS), "--blocking-threads", str(THREADS), "--no-ws", "--log-level", "warning",
        "tidings.wsgi:application",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wrk(url: str, paths: list[str], folder: Path) -> dict[str, float]:
    listing = folder / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = folder / "cycle.lua"
    script.write_text(LUA % listing)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", str(script), "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "requests": total,
        "rps": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1),  # type: ignore[union-attr]
        "non2xx3xx": int(bad.group(1)) if bad else 0,
        "socketErrors": sum(int(x) for x in errors.groups()) if errors else 0,
        "p99ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else None,
    }


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from tidings.tracking.models import TrackingEvent

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    campaign, pixels, clicks = _setup()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, paths, kind in (
            ("healthz", ["/healthz"], None),
            ("pixel", pixels, "opened"),
            ("click", clicks, "clicked"),
        ):
            port = _free_port()
            server = _serve(port)
            try:
                figures = _wrk(f"http://127.0.0.1:{port}", paths, Path(folder))
            finally:
                _stop(server)
            if kind is not None:
                stored = TrackingEvent.objects.filter(campaign=campaign, kind=kind).count()
                answered = figures["requests"] - figures["non2xx3xx"]
                # wrk counts the requests whose answer it read; one in flight per connection may have
                # been answered (and stored) as wrk stopped reading.
                figures["stored"] = stored
                figures["lost"] = max(0, answered - stored)
                figures["extra"] = max(0, stored - answered)
            results[name] = figures
    return {
        "figure": "requests a second through the real server on loopback (wrk), and events lost (must be 0)",
        "workers": WORKERS,
        "threadsPerWorker": THREADS,
        "connections": CONNECTIONS,
        "secondsPerRun": SECONDS,
        "messages": MESSAGES,
        **results,
        "pixelVsHealthz": round(results["pixel"]["rps"] / results["healthz"]["rps"], 3),
        "clickVsHealthz": round(results["click"]["rps"] / results["healthz"]["rps"], 3),
    }
