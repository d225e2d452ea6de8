"""Send speed: Tidings' end-to-end campaign rate, beside the limit and django-post-office.

One run on this machine measures three ways of putting the same N messages
(``BENCH_RECIPIENTS``, default 50,000) into Postfix's ``smtp-sink`` on loopback:

- (a) Tidings, end to end: a personalised marketing campaign to a tag of N
  contacts. The design is the 8-9 KB MJML newsletter of ``render_design`` with
  its 6 variables; the campaign rewrites its links for click tracking and adds
  the open pixel, and the unsubscribe footer and ``List-Unsubscribe`` of
  marketing mail; the from domain is a verified sending domain, so each message
  is DKIM-signed with its RSA-2048 key (and its Ed25519 key beside it). The
  campaign goes through an ``smtp`` connection, sent by ``tidings worker
  --processes W`` (``BENCH_WORKERS``, default 2; the campaign gets W senders)
  on the database task queue (``BENCH_TASKS_BACKEND``: ``db``, or ``rq`` with
  Redis). The workers are
  started and idle first; the clock starts at ``campaign_start`` (which plans:
  resolves the recipients and inserts the message rows) and stops at the last
  ``Message.sent_at``. Also reported: the planning time alone, the rate from
  the end of planning, each worker's CPU time and peak RSS.
- (b) the limit: one of those very messages (built and signed by Tidings'
  ``MessageBuilder``, so of the same size) sent N times as it is over W
  persistent SMTP connections, one process each, connected before the clock
  starts, each with the SMTP transaction (a) uses (``send_mail``: pipelined):
  what the client and the sink do on this machine with no other work. The same
  with smtplib's ``sendmail`` is reported beside it (``limit_with_smtplib``).
- (c) the peer: django-post-office (``bench/_post_office_settings.py``: its own
  database, none of Tidings' apps) with the same recipients, queued as a Django
  project queues a newsletter (an ``EmailTemplate`` holding the same rendered
  newsletter as a Django template, ``mail.send_many`` with each recipient's
  context and unsubscribe links, ``render_on_delivery``), then sent by its own
  worker, ``send_queued_mail --processes W``, through Django's SMTP backend,
  with post-office's default batch size (``BENCH_PEER_BATCH_SIZE`` overrides).
  Queueing is not timed. The peer sends without DKIM and without tracking:
  it does less work per message than (a).

On PostgreSQL the tables are analysed after the setup, as autovacuum would
soon after an import (``BENCH_ANALYZE=0`` leaves them without statistics, as a
server with autovacuum off, or a send right after a large import, has them).

Each phase reports the messages the sink counted (``smtp-sink -c``), the CPU
seconds of the senders, of PostgreSQL (when it runs on this machine) and of
the sink, and how busy the machine's cores were, which says what bounded it.
The figure is (a) in messages/s; the baseline is (b); the ratios (a)/(b) and
(a)/(c) are in ``ratios``. One round only (``--repeat`` is ignored): a run of
50,000 takes several minutes.

Needs ``smtp-sink``: ``apt-get install -y postfix`` (choose "No
configuration"), then ``postfix stop`` and ``systemctl disable postfix``, so no
mail server is left listening on port 25. Run on PostgreSQL, e.g.
``TIDINGS_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_send
.venv/bin/python -m bench send_speed --use-env``; the peer's database is that
name with ``_post_office`` appended, made afresh and dropped at the end.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "50000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TASKS_BACKEND = os.environ.get("BENCH_TASKS_BACKEND", "db")
ANALYZE = os.environ.get("BENCH_ANALYZE", "1") != "0"
# Which of (a), (b), (c) to run; the ratios need all three.
PHASES = set(os.environ.get("BENCH_PHASES", "tidings,limit,peer").split(","))
STALL_SECONDS = 120  # no message sent for this long: the run is broken, stop it
PROJECT_NAME = "Send speed bench"
POSTAL_ADDRESS = "Fjord & Finch GmbH, Torstraße 1, 10119 Berlin"
REPO = Path(__file__).resolve().parent.parent
SINK_MISSING = (
    "smtp-sink (from Postfix) is not installed. Install it with\n"
    "  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix   (choose 'No configuration')\n"
    "then stop the mail server it sets up, so nothing listens on port 25:\n"
    "  postfix stop; systemctl disable postfix"
)
TICK = os.sysconf("SC_CLK_TCK")


# -- processes, from /proc ------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 onwards)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, waited_children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its children it has waited for)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if waited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], children_of(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children_of(child)
    return found


def status_mb(pid: int, key: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of a process, in MB; 0 if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def postgres_cpu() -> float | None:
    """CPU seconds of a PostgreSQL server on this machine: the postmaster with the backends it
    has reaped, plus the live ones. None if no server runs here."""
    comms: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                text = (entry / "stat").read_text()
                comms[int(entry.name)] = (
                    text[text.index("(") + 1 : text.rindex(")")],
                    int(text[text.rindex(")") + 2 :].split()[1]),
                )
    masters = [
        pid
        for pid, (comm, ppid) in comms.items()
        if comm == "postgres" and comms.get(ppid, ("",))[0] != "postgres"
    ]
    if not masters:
        return None
    total = 0.0
    for master in masters:
        total += cpu_seconds(master, waited_children=True)
        total += sum(cpu_seconds(pid) for pid, (_, ppid) in comms.items() if ppid == master)
    return total


class Usage:
    """CPU use between two moments: the machine's cores, PostgreSQL, the sink, given processes."""

    def __init__(self, sink_pid: int, pids: list[int] | None = None) -> None:
        self.sink_pid, self.pids = sink_pid, list(pids or [])
        self.wall = time.time()
        self.machine = machine_ticks()
        self.postgres = postgres_cpu()
        self.sink = cpu_seconds(sink_pid)
        self.procs = {pid: cpu_seconds(pid) for pid in self.pids}
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)

    def since(self, before: Usage) -> dict[str, Any]:
        wall = self.wall - before.wall
        busy = self.machine[0] - before.machine[0]
        total = self.machine[1] - before.machine[1]
        result: dict[str, Any] = {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(busy / total * (os.cpu_count() or 1), 2) if total else None,
            "sink_cpu_s": round(self.sink - before.sink, 2),
        }
        if self.postgres is not None and before.postgres is not None:
            result["postgres_cpu_s"] = round(self.postgres - before.postgres, 2)
        return result

    def children_cpu(self, before: Usage) -> float:
        """CPU seconds of this process's children that ended and were waited for in between."""
        a, b = before.children, self.children
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)


class TreeSampler(threading.Thread):
    """Peak resident memory of a process and its descendants, sampled every 0.1 s."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_total_mb = 0.0
        self.peak_process_mb = 0.0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            pids = [self.root, *descendants(self.root)]
            self.peak_total_mb = max(self.peak_total_mb, sum(status_mb(p, "VmRSS") for p in pids))
            self.peak_process_mb = max(self.peak_process_mb, *(status_mb(p, "VmHWM") for p in pids))
            self.halt.wait(0.1)

    def stop(self) -> None:
        self.halt.set()
        self.join()


# -- the sink ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """``smtp-sink -c`` on a free loopback port; its running counter is read from its output."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("smtp-sink") or (
            "/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else ""
        )
        if not exe:
            raise SystemExit(SINK_MISSING)
        self.port = free_port()
        self.output = workdir / "smtp-sink.out"
        command = [exe, "-c", f"127.0.0.1:{self.port}", "1000"]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]  # it refuses to run as root without a user to switch to
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"smtp-sink exited at once: {self.output.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"smtp-sink does not answer on 127.0.0.1:{self.port}") from None
                time.sleep(0.05)

    def count(self) -> int:
        """Messages received so far (the counter is written on each "." received, unbuffered)."""
        time.sleep(0.2)  # the last replies are on their way
        with self.output.open("rb") as out:
            out.seek(max(0, self.output.stat().st_size - 200))
            counts = re.findall(rb"mesg=(\d+)", out.read())
        return int(counts[-1]) if counts else 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the campaign -----------------------------------------------------------------------------


def _contacts(project: Any, tag: Any, n: int) -> None:
    """N contacts with every field the design reads filled, varied, all tagged."""
    from bench.render_design import CITIES, COMPANIES, DOMAINS, FIRST, LAST, PLANS
    from tidings.audience.models import Contact, ContactTag

    rng = random.Random(7)
    for start in range(0, n, 5000):
        batch = []
        for i in range(start, min(n, start + 5000)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
            local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
            email = f"{local}.{i}@{rng.choice(DOMAINS)}"
            batch.append(
                Contact(
                    project=project,
                    email=email,
                    email_key=email.lower(),
                    first_name=first,
                    last_name=last,
                    company=rng.choice(COMPANIES),
                    custom_fields={"plan": rng.choice(PLANS), "city": rng.choice(CITIES)},
                )
            )
        made = Contact.objects.bulk_create(batch)
        ContactTag.objects.bulk_create(ContactTag(contact=c, tag=tag) for c in made)


def _campaign(n: int, port: int) -> Any:
    from django.utils import timezone

    from bench.render_design import PREHEADER, STARTER, STATIC_LINKS, SUBJECT, VARIABLES, design_source
    from tidings.audience.models import Tag
    from tidings.campaigns.models import Campaign, CampaignStatus
    from tidings.campaigns.services import campaign_create
    from tidings.content.services import design_create
    from tidings.content.templating import variables_used
    from tidings.core import services
    from tidings.sending.domains import domain_create
    from tidings.sending.services import connection_create

    # A campaign of an earlier run stopped midway would be picked up by these workers too.
    Campaign.objects.filter(project__name=PROJECT_NAME, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.CANCELLED
    )
    project = services.project_create(name=PROJECT_NAME, postal_address=POSTAL_ADDRESS)
    domain = domain_create(project=project, domain="example.com")
    domain.verified_at = timezone.now()
    domain.save(update_fields=["verified_at"])
    connection = connection_create(
        project=project,
        name="smtp-sink",
        kind="smtp",
        options={"host": "127.0.0.1", "port": port, "security": "none"},
        is_default=True,
    )
    tag = Tag.objects.create(project=project, name="newsletter")
    _contacts(project, tag, n)
    body, _added = design_source(STARTER.read_text(encoding="utf-8"))
    for markup, url in STATIC_LINKS.items():
        body = body.replace(markup, url)
    used = variables_used(f"{SUBJECT}\n{PREHEADER}\n{body}")
    assert used == VARIABLES, f"the design reads {sorted(used)}, not the 6 variables {sorted(VARIABLES)}"
    design = design_create(
        project=project,
        values={
            "name": "Newsletter",
            "format": "mjml",
            "subject": SUBJECT,
            "preheader": PREHEADER,
            "body": body,
        },
    )
    return campaign_create(
        project=project,
        values={
            "name": "Monthly news",
            "designId": design.pk,
            "from": "news@example.com",
            "fromName": "Fjord & Finch",
            "recipientType": "tag",
            "recipientId": tag.pk,
            "connectionId": connection.pk,
            "trackOpens": True,
            "trackClicks": True,
        },
    )


# -- (a) Tidings -------------------------------------------------------------------------------


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _idle_workers(supervisor: subprocess.Popen[bytes], log: Path) -> list[int]:
    """The worker processes once all W have started and sit idle polling the queue."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise RuntimeError(f"tidings worker exited with {supervisor.returncode}:\n{_tail(log)}")
        workers = children_of(supervisor.pid)
        if len(workers) == WORKERS:
            before = [cpu_seconds(p) for p in workers]
            time.sleep(1.0)
            after = [cpu_seconds(p) for p in workers]
            if all(b - a < 0.1 for a, b in zip(before, after, strict=True)):
                return workers
        else:
            time.sleep(0.2)
    raise RuntimeError(f"the {WORKERS} workers did not settle within 90 s:\n{_tail(log)}")


def _wait_sent(campaign: Any, supervisor: subprocess.Popen[bytes], log: Path) -> str:
    from tidings.campaigns.models import Campaign, CampaignStatus
    from tidings.sending.models import Message, MessageState

    queued_before, changed_at, looked_at = -1, time.monotonic(), 0.0
    while True:
        time.sleep(0.25)
        if supervisor.poll() is not None:
            raise RuntimeError(f"tidings worker exited with {supervisor.returncode}:\n{_tail(log)}")
        status, error = Campaign.objects.values_list("status", "error").get(pk=campaign.pk)
        if status != CampaignStatus.SENDING:
            if status != CampaignStatus.SENT:
                raise RuntimeError(f"the campaign ended {status}: {error}\n{_tail(log)}")
            return status
        if time.monotonic() - looked_at > 5:
            looked_at = time.monotonic()
            queued = Message.objects.filter(campaign_id=campaign.pk, state=MessageState.QUEUED).count()
            if queued != queued_before:
                queued_before, changed_at = queued, time.monotonic()
            elif time.monotonic() - changed_at > STALL_SECONDS:
                raise RuntimeError(
                    f"no message sent for {STALL_SECONDS} s ({queued} still queued)\n{_tail(log)}"
                )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure_tidings(campaign: Any, n: int, sink: Sink, workdir: Path) -> dict[str, Any]:
    from django.db.models import Count, Max, Min

    from tidings.campaigns.models import Campaign
    from tidings.campaigns.services import campaign_start
    from tidings.sending.models import Message, MessageState

    log = workdir / "workers.log"
    env = {**os.environ, "TIDINGS_TASKS_BACKEND": TASKS_BACKEND}
    with log.open("wb") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "tidings", "worker", "--processes", str(WORKERS)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        workers = _idle_workers(supervisor, log)
        sink_before = sink.count()
        before = Usage(sink.process.pid, workers)
        started = time.time()
        campaign_start(campaign=Campaign.objects.get(pk=campaign.pk))
        planned = time.time()
        _wait_sent(campaign, supervisor, log)
        after = Usage(sink.process.pid, workers)
        sink_after = sink.count()
        rss = [round(status_mb(p, "VmHWM"), 1) for p in workers]
    finally:
        _stop(supervisor)

    messages = Message.objects.filter(campaign_id=campaign.pk)
    states = dict(messages.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    times = messages.filter(state=MessageState.SENT).aggregate(first=Min("sent_at"), last=Max("sent_at"))
    sent = states.get(MessageState.SENT, 0)
    last = times["last"].timestamp()
    worker_cpu = [round(after.procs[p] - before.procs[p], 2) for p in workers]
    return {
        "messages_per_s": round(sent / (last - started), 1),
        "messages_per_s_after_planning": round(sent / (last - planned), 1),
        "planning_s": round(planned - started, 2),
        "first_sent_after_s": round(times["first"].timestamp() - started, 2),
        "seconds": round(last - started, 2),
        "states": states,
        "sink_messages": sink_after - sink_before,
        "workers": WORKERS,
        "tasks_backend": TASKS_BACKEND,
        "worker_cpu_s": worker_cpu,
        "worker_peak_rss_mb": rss,
        **after.since(before),
    }


# -- (b) the limit --------------------------------------------------------------------------------


def one_message(campaign: Any) -> tuple[bytes, str, str]:
    """One of the campaign's messages as Tidings builds and signs it: (bytes, envelope from, to)."""
    from tidings.audience.models import Contact
    from tidings.campaigns.models import Campaign
    from tidings.sending.copies import MessageBuilder
    from tidings.sending.models import Message

    campaign = Campaign.objects.select_related("project", "connection").get(pk=campaign.pk)
    builder = MessageBuilder(campaign, signs=True, verp=True)
    assert builder.keys, "the sending domain gave no DKIM key"
    message = Message.objects.filter(campaign=campaign).order_by("id").first()
    contact = Contact.objects.get(pk=message.contact_id)
    outgoing, data = builder.build(message, contact, signed=True)
    assert data is not None
    assert b"DKIM-Signature:" in data, "the message is not DKIM-signed"
    assert b"a=rsa-sha256" in data, "the message has no RSA signature"
    return data, outgoing.return_path, outgoing.to


def _blast(
    port: int, count: int, data: bytes, sender: str, to: str, ready: Any, results: Any, lean: bool
) -> None:
    from tidings.sending.transports import send_mail

    client = smtplib.SMTP("127.0.0.1", port, timeout=60)
    client.ehlo()
    ready.wait()
    started, cpu = time.time(), time.process_time()
    for _ in range(count):
        if lean:
            send_mail(client, sender, to, data)
        else:
            client.sendmail(sender, [to], data)
    results.put((started, time.time(), time.process_time() - cpu))
    client.quit()


def measure_limit(
    data: bytes, sender: str, to: str, n: int, sink: Sink, *, lean: bool = True
) -> dict[str, Any]:
    """``lean``: each connection sends with Tidings' own SMTP transaction (``send_mail``:
    pipelined), as (a) does; else with smtplib's ``sendmail``."""
    from django.db import connections

    connections.close_all()  # forked children must not share the database connection
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(WORKERS + 1), context.Queue()
    shares = [n // WORKERS + (1 if i < n % WORKERS else 0) for i in range(WORKERS)]
    sink_before = sink.count()
    processes = [
        context.Process(target=_blast, args=(sink.port, share, data, sender, to, ready, results, lean))
        for share in shares
    ]
    for process in processes:
        process.start()
    before = Usage(sink.process.pid)
    ready.wait(timeout=30)
    done = [results.get(timeout=3600) for _ in processes]
    after = Usage(sink.process.pid)
    for process in processes:
        process.join()
    started, finished = min(d[0] for d in done), max(d[1] for d in done)
    return {
        "messages_per_s": round(n / (finished - started), 1),
        "seconds": round(finished - started, 2),
        "connections": WORKERS,
        "client": "send_mail (pipelined)" if lean else "smtplib sendmail",
        "message_bytes": len(data),
        "sender_cpu_s": [round(d[2], 2) for d in done],
        "sink_messages": sink.count() - sink_before,
        **after.since(before),
    }


# -- (c) the peer ---------------------------------------------------------------------------------


def _postgres_admin(url: str, name: str, statement: str) -> None:
    """Run ``statement`` (``{}`` standing for the database ``name``) on the server of ``url``."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    admin = urlunsplit(urlsplit(url)._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def _ensure_database() -> None:
    """Make the scratch PostgreSQL database named by TIDINGS_DATABASE_URL if it is not there yet."""
    from urllib.parse import urlsplit

    import psycopg

    url = os.environ.get("TIDINGS_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return
    try:
        psycopg.connect(urlsplit(url)._replace(scheme="postgresql").geturl()).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        _postgres_admin(url, urlsplit(url).path.lstrip("/"), "CREATE DATABASE {}")


def _peer_database(workdir: Path) -> tuple[str, Any]:
    """A fresh database for post-office: beside Tidings' on PostgreSQL, else an SQLite file."""
    from urllib.parse import urlsplit, urlunsplit

    url = os.environ.get("TIDINGS_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return f"sqlite:///{workdir / 'post_office.sqlite3'}", lambda: None
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_post_office"
    _postgres_admin(url, name, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
    _postgres_admin(url, name, "CREATE DATABASE {}")
    return urlunsplit(parts._replace(path="/" + name)), lambda: _postgres_admin(
        url, name, "DROP DATABASE IF EXISTS {} WITH (FORCE)"
    )


_TOKENS = {
    "QQfirstQQ": "first_name",
    "QQcompanyQQ": "company",
    "QQplanQQ": "plan",
    "QQcityQQ": "city",
    "qqemailqq@example.net": "email",
    "https://example.com/QQprefQQ": "preferences_url",
    "https://example.com/QQunsubQQ": "unsubscribe_url",
}


def _as_django_template(text: str, *, escape: bool) -> str:
    if any(mark in text for mark in ("{{", "{%", "{#")):
        raise RuntimeError(
            "the rendered newsletter holds template markup: it cannot become a Django template"
        )
    for token, name in _TOKENS.items():
        text = re.sub(re.escape(token), "{{ " + name + " }}", text, flags=re.IGNORECASE)
    if re.search("qq[a-z]+qq", text, re.IGNORECASE):
        raise RuntimeError("a variable of the newsletter was changed beyond recognition in its rendering")
    return text if escape else "{% autoescape off %}" + text + "{% endautoescape %}"


def peer_mail(campaign: Any, workdir: Path) -> tuple[Path, Path]:
    """The peer's template (Tidings' rendering of the campaign with marked values, turned into a
    Django template) and each recipient's context, as files for the peer's own process."""
    from tidings.audience.models import Contact
    from tidings.campaigns.models import Campaign
    from tidings.sending.copies import MessageBuilder
    from tidings.sending.models import Message
    from tidings.tracking.tokens import preferences_url, recipient_token, unsubscribe_url

    campaign = Campaign.objects.select_related("project").get(pk=campaign.pk)
    builder = MessageBuilder(campaign, signs=False)
    marked = Contact(
        project=campaign.project,
        email="qqemailqq@example.net",
        first_name="QQfirstQQ",
        company="QQcompanyQQ",
        custom_fields={"plan": "QQplanQQ", "city": "QQcityQQ"},
    )
    links = {
        "unsubscribeUrl": "https://example.com/QQunsubQQ",
        "preferencesUrl": "https://example.com/QQprefQQ",
    }
    rendered = builder.render(marked, links)
    template = workdir / "post_office_template.json"
    template.write_text(
        json.dumps(
            {
                "from": f'"{campaign.from_name}" <{campaign.from_email}>',
                "subject": _as_django_template(rendered.subject, escape=False),
                "text": _as_django_template(rendered.text, escape=False),
                "html": _as_django_template(rendered.html, escape=True),
            }
        )
    )
    recipients = workdir / "post_office_recipients.jsonl"
    ids = Message.objects.filter(campaign=campaign).values_list("contact_id", flat=True)
    with recipients.open("w", encoding="utf-8") as out:
        for contact in Contact.objects.filter(pk__in=ids).order_by("id").iterator(chunk_size=5000):
            token = recipient_token(
                project_id=campaign.project_id, contact_id=contact.pk, campaign_id=campaign.pk
            )
            unsubscribe = unsubscribe_url(token)
            context = {
                "first_name": contact.first_name,
                "company": contact.company,
                "plan": contact.custom_fields.get("plan", ""),
                "city": contact.custom_fields.get("city", ""),
                "email": contact.email,
                "unsubscribe_url": unsubscribe,
                "preferences_url": preferences_url(token),
            }
            headers = {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            out.write(json.dumps({"email": contact.email, "context": context, "headers": headers}) + "\n")
    return template, recipients


def _peer(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench._post_office_peer", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(
            f"the post-office peer failed ({' '.join(args[:1])}):\n{done.stdout}\n{done.stderr}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_peer(campaign: Any, n: int, sink: Sink, workdir: Path) -> dict[str, Any]:
    template, recipients = peer_mail(campaign, workdir)
    url, drop = _peer_database(workdir)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TIDINGS_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench._post_office_settings",
        BENCH_PEER_DATABASE_URL=url,
        BENCH_SINK_PORT=str(sink.port),
    )
    try:
        queued = _peer(["queue", str(template), str(recipients)], env)
        log = workdir / "post_office.log"
        sink_before = sink.count()
        before = Usage(sink.process.pid)
        with log.open("wb") as out:
            started = time.time()
            sender = subprocess.Popen(
                [
                    sys.executable, "-m", "django", "send_queued_mail",
                    "--processes", str(WORKERS),
                    "--lockfile", str(workdir / "post_office"),
                ],
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            sampler = TreeSampler(sender.pid)
            sampler.start()
            code = sender.wait()
            finished = time.time()
            sampler.stop()
        after = Usage(sink.process.pid)
        if code:
            raise RuntimeError(f"send_queued_mail exited with {code}:\n{_tail(log)}")
        states = _peer(["count"], env)
    finally:
        drop()
    sent = states.get("sent", 0)
    return {
        "messages_per_s": round(sent / (finished - started), 1),
        "seconds": round(finished - started, 2),
        "states": states,
        "sink_messages": sink.count() - sink_before,
        "processes": WORKERS,
        "batch_size": int(os.environ.get("BENCH_PEER_BATCH_SIZE") or 100),
        "queued": queued["queued"],
        "queue_s": queued["seconds"],
        "sender_cpu_s": round(after.children_cpu(before), 2),
        "peak_rss_mb": round(sampler.peak_process_mb, 1),
        "peak_rss_all_processes_mb": round(sampler.peak_total_mb, 1),
        **after.since(before),
    }


# -- the run --------------------------------------------------------------------------------------


def run(repeat: int = 1) -> dict[str, object]:
    if RECIPIENTS < 1 or WORKERS < 1:
        raise SystemExit("BENCH_RECIPIENTS and BENCH_WORKERS must be 1 or more")
    os.environ["TIDINGS_TASKS_BACKEND"] = TASKS_BACKEND  # before Django reads its settings
    os.environ.setdefault("TIDINGS_SEND_SENDERS", str(WORKERS))  # a sender for each worker process
    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    workdir = Path(tempfile.mkdtemp(prefix="tidings-send-speed-"))
    sink = Sink(workdir)
    try:
        prepared = time.time()
        campaign = _campaign(RECIPIENTS, sink.port)
        analyzed = ANALYZE and connection.vendor == "postgresql"
        if analyzed:
            # What autovacuum does soon after a bulk import (and what a server with it off, like a
            # test server, never does): without statistics the planner's query can be planned badly.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        setup_s = time.time() - prepared
        skipped = {"messages_per_s": None, "skipped": "not in BENCH_PHASES"}
        tidings = measure_tidings(campaign, RECIPIENTS, sink, workdir) if "tidings" in PHASES else skipped
        if "limit" in PHASES:
            data, sender, to = one_message(campaign)
            limit = measure_limit(data, sender, to, RECIPIENTS, sink)
            limit_smtplib = measure_limit(data, sender, to, RECIPIENTS, sink, lean=False)
        else:
            limit = limit_smtplib = skipped
        peer = measure_peer(campaign, RECIPIENTS, sink, workdir) if "peer" in PHASES else skipped
    finally:
        sink.stop()
    shutil.rmtree(workdir, ignore_errors=True)

    def ratio(a: float | None, b: float | None, digits: int) -> float | None:
        return round(a / b, digits) if a and b else None

    return {
        "figure": "Tidings end-to-end send rate (campaign_start to the last message sent)",
        "unit": "messages/s",
        "value": tidings["messages_per_s"],
        "baseline": limit["messages_per_s"],
        "baseline_unit": "messages/s: one pre-built signed message sent over the same number of connections",
        "ratios": {
            "tidings_over_limit": ratio(tidings["messages_per_s"], limit["messages_per_s"], 3),
            "tidings_over_post_office": ratio(tidings["messages_per_s"], peer["messages_per_s"], 2),
        },
        "recipients": RECIPIENTS,
        "workers": WORKERS,
        "setup_s": round(setup_s, 1),
        "analyzed_before_start": analyzed,
        "tidings": tidings,
        "limit": limit,
        "limit_with_smtplib": limit_smtplib,
        "post_office": peer,
    }
