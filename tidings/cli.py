"""The ``tidings`` command (docs/cli.md).

Two modes. Locally (the default) a command works on the database of the
settings, for ``--project SLUG``. Remotely (``--url`` and ``--api-key`` before
the command, ``TIDINGS_URL``/``TIDINGS_API_KEY``, or a profile of
``~/.config/tidings/config.toml``) the commands that support it go through the
HTTP API with the SDK, for the API key's project, without loading Django
(tidings.cli_remote). Server commands (serve, worker, migrate, …) are local only.

Every error is one line on stderr (a refusal with several reasons: one line
each) and a non-zero exit: 1 for a refused action (bad input, not found,
conflict, not allowed), 2 for bad configuration or usage (a key the server
refuses included), 3 when a service Tidings needs does not answer (the
database, the queue, or in remote mode the server: unreachable, 5xx,
timeouts), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from tidings import cli_remote
from tidings.cli_output import (
    CAMPAIGN_FLAGS,
    EXIT_CONFIG,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CommandError,
    ImportProgress,
    Redrawn,
    fail,
    import_summary_line,
    print_campaigns,
    print_json,
    print_status,
    print_table,
    progress_line,
    refused,
    skipped,
    when,
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    import django

    from tidings.core.config import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


def _pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _database_check() -> str:
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception as exc:
        raise CommandError(
            f"database unreachable: {str(exc).strip().splitlines()[0]}", EXIT_UNAVAILABLE
        ) from exc
    return f"{connection.vendor} {connection.settings_dict.get('NAME')}"


# -- commands -----------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    _database_check()
    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("database is up to date")


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104 - mapping a wildcard listen address to a URL
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _require_free_address(host: str, port: int) -> None:
    """Fail now, in one line, if nothing can listen on host:port.

    The web server shares ports (SO_REUSEPORT): without this check a second
    Tidings on a taken port would start and split the requests with the first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_UNAVAILABLE) from exc


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own loopback URL
            return response.status == 200
    except (OSError, ValueError):
        return False


def _supervise(
    children: list[tuple[str, list[str]]],
    *,
    until_all_done: bool = False,
    ready: tuple[str, str] | None = None,
) -> int:
    """Run the processes side by side and pass SIGTERM/SIGINT on to them.

    ``ready`` is (url, line): the line is printed once the url answers 200.

    A long-running set (``serve``, ``worker``) stops as a whole when one of its
    processes exits, so a supervisor above us sees the failure; with
    ``until_all_done`` (burst workers) each runs to its end.
    """
    processes = [(name, subprocess.Popen(command)) for name, command in children]
    stopping = False
    waiting_for = ready

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_code = 0
    try:
        while not stopping:
            codes = [(name, process.poll()) for name, process in processes]
            if until_all_done:
                if all(code is not None for _, code in codes):
                    return max(code or 0 for _, code in codes)
            else:
                ended = next(((name, code) for name, code in codes if code is not None), None)
                if ended is not None:
                    print(f"tidings: {ended[0]} exited with status {ended[1]}; stopping", file=sys.stderr)
                    exit_code = ended[1] or 1
                    break
            if waiting_for and _answers(waiting_for[0]):
                print(waiting_for[1], flush=True)
                waiting_for = None
            time.sleep(0.2)
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return exit_code


def cmd_serve(args: argparse.Namespace) -> None:
    from django.conf import settings

    from tidings.core.queue import QueueUnavailable, queue_check, worker_command

    _database_check()
    pending = _pending_migrations()
    if pending:
        raise CommandError(
            f"{len(pending)} migration(s) not applied; run 'tidings migrate' first", EXIT_CONFIG
        )
    try:
        queue_check()
    except QueueUnavailable as exc:
        raise CommandError(f"task queue unreachable: {exc}", EXIT_UNAVAILABLE) from exc
    web = [
        sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", args.host,
        "--port", str(args.port),
        "--workers", str(args.workers),
        "--blocking-threads", str(args.threads),
        "--no-ws",
        "--log-level", "warning",
        "tidings.wsgi:application",
    ]  # fmt: skip
    _require_free_address(args.host, args.port)
    children = [("web server", web)]
    if settings.TASKS_BACKEND != "immediate" and not args.no_worker:
        children += [(f"worker {n + 1}", worker_command()) for n in range(args.task_workers)]
        _watch_sending()
    url = f"http://{_url_host(args.host)}:{args.port}"
    announce = f"Tidings is serving on {url} (links in emails use {settings.BASE_URL})"
    raise SystemExit(_supervise(children, ready=(url + "/healthz", announce)))


def cmd_worker(args: argparse.Namespace) -> None:
    from django.conf import settings

    from tidings.core.queue import QueueUnavailable, queue_check, worker_command

    unknown = sorted(set(args.queue or ()) - set(settings.TASK_QUEUES))
    if unknown:
        raise CommandError(
            f"no queue named {', '.join(unknown)}; queues: {', '.join(settings.TASK_QUEUES)}", EXIT_CONFIG
        )
    _database_check()
    try:
        queue_check()
        command = worker_command(queues=args.queue, burst=args.burst, max_tasks=args.max_tasks)
    except QueueUnavailable as exc:
        raise CommandError(str(exc), EXIT_UNAVAILABLE) from exc
    finite = args.burst or args.max_tasks is not None
    if not finite:
        _watch_sending()
    workers = [(f"worker {n + 1}", command) for n in range(args.processes)]
    raise SystemExit(_supervise(workers, until_all_done=finite))


def _watch_sending() -> None:
    """Campaigns that were sending, and webhook deliveries that were due, when the workers stopped
    go on once they start."""
    from tidings.hooks.tasks import wake_all
    from tidings.sending.tasks import watch_sending

    watch_sending()
    wake_all()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password:
        return args.password
    if not sys.stdin.isatty():
        raise CommandError("no password: pass --password or --password-stdin", EXIT_CONFIG)
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the passwords differ")
    return first


def cmd_createuser(args: argparse.Namespace) -> None:
    from tidings.core import services
    from tidings.core.models import Project

    password = _read_password(args)
    project = None
    if args.project:
        project = Project.objects.filter(slug=args.project).first()
        if project is None:
            raise CommandError(f"no project with slug {args.project!r}")
    user = services.user_create(
        username=args.username, password=password, email=args.email or "", superuser=args.superuser
    )
    if project is not None:
        services.membership_set(project=project, user=user, role=args.role)
    print(f"created user {user.get_username()}" + (f", {args.role} of {project.slug}" if project else ""))


def cmd_member_add(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model

    from tidings.core import services
    from tidings.core.models import Project

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        raise CommandError(f"no user named {args.username!r}")
    project = Project.objects.filter(slug=args.project).first()
    if project is None:
        raise CommandError(f"no project with slug {args.project!r}")
    services.membership_set(project=project, user=user, role=args.role)
    print(f"{user.get_username()} is now {args.role} of {project.slug}")


def cmd_project_create(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model

    from tidings.core import services

    owner = None
    if args.owner:
        owner = get_user_model().objects.filter(username=args.owner).first()
        if owner is None:
            raise CommandError(f"no user named {args.owner!r}")
    project = services.project_create(
        name=args.name,
        slug=args.slug,
        owner=owner,
        postal_address=args.postal_address or "",
        default_from_name=args.from_name or "",
    )
    if args.json:
        print_json({"id": project.pk, "slug": project.slug, "name": project.name})
    else:
        print(f"created project {project.name} (slug {project.slug}, id {project.pk})")


def cmd_project_list(args: argparse.Namespace) -> None:
    from tidings.core.models import Project

    rows = [{"id": p.pk, "slug": p.slug, "name": p.name} for p in Project.objects.all()]
    if args.json:
        print_json(rows)
        return
    print_table(["id", "slug", "name"], [[r["id"], r["slug"], r["name"]] for r in rows])


def cmd_apikey_create(args: argparse.Namespace) -> None:
    from tidings.core import services
    from tidings.core.models import Project

    project = Project.objects.filter(slug=args.project).first()
    if project is None:
        raise CommandError(f"no project with slug {args.project!r}")
    issued = services.api_key_create(project=project, name=args.name)
    if args.json:
        print_json({"id": issued.api_key.pk, "prefix": issued.api_key.prefix, "key": issued.secret})
        return
    print(issued.secret)
    print(
        f"(key {issued.api_key.prefix}… for {project.slug}; shown once, store it now)",
        file=sys.stderr,
    )


def cmd_demo(args: argparse.Namespace) -> None:
    from tidings.demo import demo_seed

    result = demo_seed()
    print(result.summary())


def cmd_check(args: argparse.Namespace) -> None:
    from tidings.core.checks import run_checks

    results = run_checks()
    failed = False
    for name, ok, detail in results:
        failed = failed or not ok
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {name}: {detail}")
    if failed:
        raise SystemExit(EXIT_UNAVAILABLE)


def cmd_manage(args: argparse.Namespace) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tidings manage", *args.args])


# -- contacts -------------------------------------------------------------------


def _project(slug: str) -> Any:
    from tidings.core.models import Project

    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project with slug {slug!r}")
    return project


def _column_map(items: Sequence[str]) -> dict[str, str | None]:
    column_map: dict[str, str | None] = {}
    for item in items:
        column, sep, field = item.rpartition("=")
        if not sep or not column.strip():
            raise CommandError(f"--map takes 'Column=field' (or 'Column=' to leave it out), got {item!r}")
        column_map[column.strip()] = field.strip() or None
    return column_map


def cmd_contacts_import(args: argparse.Namespace) -> None:
    from pathlib import Path

    from tidings.audience import imports

    project = _project(args.project)
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"no file at {args.file}")
    with path.open("rb") as upload:
        contact_import = imports.contact_import_create(
            project=project,
            upload=upload,
            file_name=path.name,
            column_map=_column_map(args.map or []),
            tag_names=args.tag or [],
            on_conflict=args.on_conflict,
            enqueue=args.no_wait,  # queued for the workers; otherwise run here, now
        )
    if args.no_wait:
        if args.json:
            print_json({"id": contact_import.pk, "status": contact_import.status, "fileName": path.name})
        else:
            print(f"import {contact_import.pk} of {path.name} is {contact_import.status}")
        return
    bar = ImportProgress(path.name)

    def progress(ci: Any) -> None:
        bar.show(
            bytes_read=ci.bytes_read,
            size_bytes=ci.size_bytes,
            rows_read=ci.rows_read,
            created=ci.created_count,
            updated=ci.updated_count,
            skipped=ci.skipped_count,
            rejected=ci.rejected_count,
        )

    done = imports.contact_import_run(contact_import=contact_import, progress=progress)
    if done.status != "finished":
        raise CommandError(f"import {done.pk} failed after {done.rows_read:,} rows: {done.error}")
    summary = {
        "id": done.pk,
        "status": done.status,
        "rowsRead": done.rows_read,
        "created": done.created_count,
        "updated": done.updated_count,
        "skipped": done.skipped_count,
        "rejected": done.rejected_count,
        "report": done.report_path,
    }
    if args.json:
        print_json(summary)
        return
    print(import_summary_line(path.name, summary))
    if done.rejected_count:
        print(f"rejected rows, with their line and reason: {done.report_path}")


def cmd_contacts_export(args: argparse.Namespace) -> None:
    from tidings.audience import exports
    from tidings.audience.models import Contact, Tag
    from tidings.core.scoping import scoped

    project = _project(args.project)
    contacts = scoped(Contact, project)
    if args.tag is not None:
        tag = scoped(Tag, project).filter(name=args.tag).first()
        if tag is None:
            raise CommandError(f"no tag named {args.tag!r} in {project.slug}")
        contacts = contacts.filter(tags=tag)
    if args.output is None:
        exports.contacts_export(project=project, queryset=contacts, out=sys.stdout)
        return
    with open(args.output, "w", newline="", encoding="utf-8") as out:
        exports.contacts_export(project=project, queryset=contacts, out=out)
    print(f"exported {contacts.count():,} contacts to {args.output}", file=sys.stderr)


# -- campaigns and one-off sends --------------------------------------------------

WATCH_EVERY = 1.0  # seconds between two refreshes of `campaigns status --watch`
CONTACT_STATES = ["subscribed", "unsubscribed", "non-subscribed", "bounced", "complained"]
CAMPAIGN_STATES = ["draft", "scheduled", "sending", "paused", "sent", "cancelled", "failed"]


def _campaign(project: Any, campaign_id: int) -> Any:
    from tidings.campaigns import selectors
    from tidings.core.errors import NotFound

    try:
        return selectors.campaign_get(project=project, campaign_id=campaign_id)
    except NotFound:
        raise CommandError(f"no campaign with id {campaign_id} in {project.slug}") from None


def _tag_by_name(project: Any, name: str) -> Any:
    from tidings.audience.models import Tag
    from tidings.core.scoping import scoped

    tag = scoped(Tag, project).filter(name=name).first()
    if tag is None:
        raise CommandError(f"no tag named {name!r} in {project.slug}")
    return tag


def _recipients(args: argparse.Namespace, project: Any) -> tuple[str, int, str]:
    """(recipientType, recipientId, the flag that chose them) from --segment-id, --tag-id or --tag."""
    if args.segment_id is not None:
        return "audience", args.segment_id, "--segment-id"
    if args.tag_id is not None:
        return "tag", args.tag_id, "--tag-id"
    return "tag", _tag_by_name(project, args.tag).pk, "--tag"


def _campaign_json(campaign: Any, progress: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "scheduledAt": campaign.scheduled_at,
        "timezone": campaign.timezone,
        "startedAt": campaign.started_at,
        "finishedAt": campaign.finished_at,
        "error": campaign.error,
        "excluded": campaign.excluded,
        "progress": progress,
    }


def cmd_connections_list(args: argparse.Namespace) -> None:
    from tidings.sending.models import ProviderConnection

    rows = [
        (
            c.pk,
            c.name + (" (default)" if c.is_default else ""),
            c.kind,
            "never" if c.last_check_ok is None else ("ok" if c.last_check_ok else "failed"),
        )
        for c in ProviderConnection.objects.for_project(_project(args.project))
    ]
    print_table(("id", "name", "kind", "last check"), rows)


def cmd_connections_check(args: argparse.Namespace) -> None:
    from tidings.core.scoping import get_scoped
    from tidings.sending import services
    from tidings.sending.models import ProviderConnection

    connection = get_scoped(ProviderConnection, _project(args.project), pk=args.id)
    result = services.connection_check(connection=connection)
    if not result.ok:
        raise CommandError(f"{connection.name}: {result.code}: {result.message}")
    print(f"{connection.name}: ok: {result.message}")


def _domain(args: argparse.Namespace) -> Any:
    from tidings.core.errors import NotFound
    from tidings.sending.models import SendingDomain

    domains = SendingDomain.objects.for_project(_project(args.project))
    found = domains.filter(domain=args.domain.strip().lower().rstrip(".")).first()
    if found is None:
        raise NotFound(f"no sending domain {args.domain} in {args.project}")
    return found


def cmd_domains_list(args: argparse.Namespace) -> None:
    from tidings.sending.models import SendingDomain

    rows = [
        (d.domain, f"verified {d.verified_at:%Y-%m-%d %H:%M}" if d.verified_at else "not verified")
        for d in SendingDomain.objects.for_project(_project(args.project))
    ]
    print_table(("domain", "status"), rows)


def _print_records(domain: Any) -> None:
    from tidings.sending.domains import domain_records

    for record in domain_records(domain):
        print(f"{record.type:5} {record.name}  {record.value}")


def cmd_domains_add(args: argparse.Namespace) -> None:
    from tidings.sending.domains import domain_create

    domain = domain_create(project=_project(args.project), domain=args.domain)
    print(
        f"added {domain.domain}; publish these DNS records, then run: tidings domains verify {domain.domain}"
    )
    _print_records(domain)


def cmd_domains_records(args: argparse.Namespace) -> None:
    _print_records(_domain(args))


def cmd_domains_verify(args: argparse.Namespace) -> None:
    from tidings.sending.domains import domain_verify

    domain = _domain(args)
    results = domain_verify(domain=domain)
    for result in results:
        line = f"{result.get('state', '?'):8} {result.get('type', ''):5} {result.get('name', '')}"
        if result.get("state") == "wrong":
            seen = result.get("seen") or []
            line += "  found: " + (" | ".join(seen) if isinstance(seen, list) else str(seen))
        print(line)
    if domain.verified_at is None:
        raise CommandError(f"{domain.domain} is not verified yet")
    print(f"{domain.domain} is verified")


# -- bounces --------------------------------------------------------------------------


def _stop_on_signal() -> Any:
    """An event set by SIGTERM or SIGINT: how the long-running bounce commands stop."""
    import threading

    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def cmd_bounces_serve(args: argparse.Namespace) -> None:
    from django.conf import settings

    from tidings.tracking.bounce_receiver import BounceServer

    _database_check()
    _require_free_address(args.host, args.port)
    stop = _stop_on_signal()
    server = BounceServer(args.host, args.port)
    try:
        server.start()
    except Exception as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc}", EXIT_UNAVAILABLE) from exc
    print(
        f"Receiving bounces by SMTP on {args.host}:{server.port} "
        f"(messages up to {settings.BOUNCE_MAX_BYTES:,} bytes)",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        server.stop()
    print("stopped", flush=True)


def cmd_bounces_poll(args: argparse.Namespace) -> None:
    from django.conf import settings

    from tidings.tracking.bounce_receiver import Mailbox, MailboxError, mailbox_poll, mailbox_watch

    if not settings.BOUNCE_MAILBOX:
        raise CommandError(
            "TIDINGS_BOUNCE_MAILBOX is not set (e.g. imaps://user:password@mail.example.com:993/INBOX)",
            EXIT_CONFIG,
        )
    box = Mailbox.from_url(settings.BOUNCE_MAILBOX)
    _database_check()
    if args.once:
        try:
            result = mailbox_poll(box)
        except MailboxError as exc:
            raise CommandError(str(exc), EXIT_UNAVAILABLE if exc.unavailable else EXIT_CONFIG) from exc
        print(f"{box}: {result.line()}")
        return
    stop = _stop_on_signal()
    print(f"Reading bounces from {box} every {args.interval:g} s", flush=True)

    def report(outcome: Any) -> None:
        if isinstance(outcome, Exception):
            print(f"tidings: {str(outcome).splitlines()[0]}; trying again in {args.interval:g} s",
                  file=sys.stderr, flush=True)  # fmt: skip
        elif outcome.read or outcome.left:
            print(f"{box}: {outcome.line()}", flush=True)

    mailbox_watch(box, interval=args.interval, stop=stop, report=report)
    print("stopped", flush=True)


def _print_status(campaign: Any, progress: Mapping[str, Any]) -> None:
    print_status(
        campaign_id=campaign.pk,
        name=campaign.name,
        status=campaign.status,
        scheduled_at=campaign.scheduled_at,
        timezone=campaign.timezone,
        error=campaign.error,
        progress=progress,
    )


def cmd_campaigns_list(args: argparse.Namespace) -> None:
    from django.db.models import Count

    from tidings.campaigns import selectors
    from tidings.sending.models import Message

    project = _project(args.project)
    campaigns = list(selectors.campaign_list(project=project, status=args.status, archived=args.archived))
    counts: dict[int, dict[str, int]] = {c.pk: {} for c in campaigns}
    by_state = (
        Message.objects.filter(campaign_id__in=list(counts))
        .values_list("campaign_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for campaign_id, state, n in by_state:
        counts[campaign_id][state] = n
    rows = [
        {
            "id": c.pk,
            "name": c.name,
            "status": c.status,
            "sent": counts[c.pk].get("sent", 0),
            "total": sum(counts[c.pk].values()),
        }
        for c in campaigns
    ]
    print_campaigns(rows, as_json=args.json)


def cmd_campaigns_create(args: argparse.Namespace) -> None:
    from tidings.campaigns import services
    from tidings.core.errors import ValidationError

    project = _project(args.project)
    recipient_type, recipient_id, recipient_flag = _recipients(args, project)
    values: dict[str, Any] = {
        "name": args.name,
        "designId": args.design_id,
        "from": args.sender,
        "recipientType": recipient_type,
        "recipientId": recipient_id,
        "trackOpens": not args.no_track_opens,
        "trackClicks": not args.no_track_clicks,
    }
    optional = {
        "fromName": args.from_name,
        "replyTo": args.reply_to,
        "subject": args.subject,
        "preheader": args.preheader,
        "connectionId": args.connection_id,
        "topicId": args.topic_id,
    }
    values.update({k: v for k, v in optional.items() if v is not None})
    try:
        campaign = services.campaign_create(project=project, values=values)
    except ValidationError as exc:
        raise refused(exc, {**CAMPAIGN_FLAGS, "recipientId": recipient_flag}) from None
    problems, counts = services.campaign_preflight(campaign)
    if args.json:
        print_json(
            {
                "id": campaign.pk,
                "name": campaign.name,
                "status": campaign.status,
                "problems": [p.as_dict() for p in problems],
                "eligible": counts["eligible"],
                "excluded": counts["excluded"],
                "notices": counts.get("notices", []),
            }
        )
        return
    print(f"created campaign {campaign.name} (id {campaign.pk})")
    for problem in problems:
        print(f"problem: {problem.message}")
    for notice in counts.get("notices", []):
        print(f"note: {notice}")
    if counts["eligible"] is not None:
        excluded = services.excluded_summary(counts["excluded"])
        print(
            f"eligible recipients: {counts['eligible']:,}" + (f" (excluded: {excluded})" if excluded else "")
        )
    if not problems:
        print(f"ready: send it with 'tidings campaigns send {campaign.pk} --project {project.slug}'")


def cmd_campaigns_send(args: argparse.Namespace) -> None:
    from tidings.campaigns import selectors, services
    from tidings.core.errors import ValidationError

    project = _project(args.project)
    campaign = _campaign(project, args.id)
    if campaign.status == "sending":
        print(f"campaign {campaign.pk} is already sending")
        return
    if campaign.status not in services.STARTABLE:
        resumable = campaign.status in ("paused", "failed")
        hint = f"; resume it with 'tidings campaigns resume {campaign.pk}'" if resumable else ""
        raise CommandError(
            f"campaign {campaign.pk} is {campaign.status}: only a draft or scheduled one can be sent{hint}"
        )
    try:
        campaign = services.campaign_start(campaign=campaign)
    except ValidationError as exc:
        raise refused(exc, {}, prefix=f"campaign {campaign.pk} cannot start: ") from None
    progress = selectors.campaign_progress(campaign)
    queued = f"{progress['queued']:,} queued{skipped(campaign.excluded)}"
    print(f"campaign {campaign.pk} is {campaign.status}: {queued}")


def cmd_campaigns_schedule(args: argparse.Namespace) -> None:
    from tidings.campaigns import services
    from tidings.core.errors import ValidationError

    project = _project(args.project)
    campaign = _campaign(project, args.id)
    try:
        campaign = services.campaign_schedule(campaign=campaign, scheduled_at=args.at, zone=args.timezone)
    except ValidationError as exc:
        raise refused(exc, CAMPAIGN_FLAGS, prefix=f"campaign {campaign.pk} cannot be scheduled: ") from None
    local = when(campaign.scheduled_at, campaign.timezone)
    utc = when(campaign.scheduled_at, "UTC")
    print(f"campaign {campaign.pk} is scheduled for {local}" + ("" if local == utc else f" ({utc})"))


def cmd_campaigns_pause(args: argparse.Namespace) -> None:
    from tidings.campaigns import selectors, services

    campaign = services.campaign_pause(campaign=_campaign(_project(args.project), args.id))
    progress = selectors.campaign_progress(campaign)
    print(
        f"campaign {campaign.pk} is paused: {progress['sent']:,} of {progress['total']:,} sent, "
        f"{progress['queued']:,} waiting"
    )


def cmd_campaigns_resume(args: argparse.Namespace) -> None:
    from tidings.campaigns import selectors, services

    campaign = services.campaign_resume(campaign=_campaign(_project(args.project), args.id))
    progress = selectors.campaign_progress(campaign)
    print(f"campaign {campaign.pk} is {campaign.status}: {progress['queued']:,} left to send")


def cmd_campaigns_cancel(args: argparse.Namespace) -> None:
    from tidings.campaigns import services

    campaign, unsent = services.campaign_cancel(campaign=_campaign(_project(args.project), args.id))
    messages = "message" if unsent == 1 else "messages"
    print(f"campaign {campaign.pk} is cancelled: {unsent:,} {messages} left unsent")


def cmd_campaigns_status(args: argparse.Namespace) -> None:
    from tidings.campaigns import selectors

    campaign = _campaign(_project(args.project), args.id)
    if args.watch:
        _watch(campaign)
    progress = selectors.campaign_progress(campaign)
    if args.json:
        print_json(_campaign_json(campaign, progress))
        return
    _print_status(campaign, progress)


def _watch(campaign: Any) -> None:
    """A progress line, redrawn in place on a terminal (a new line each time elsewhere), until the
    campaign is no longer sending or Ctrl-C."""
    from tidings.campaigns import selectors

    line = Redrawn(sys.stdout)
    try:
        while True:
            campaign.refresh_from_db()
            line.show(progress_line(selectors.campaign_progress(campaign)))
            if campaign.status != "sending":
                break
            time.sleep(WATCH_EVERY)
    except KeyboardInterrupt:
        pass  # stop watching; the final counts follow
    finally:
        line.end()
    campaign.refresh_from_db()


_SEND_FLAGS = {
    "recipientEmail": "--to",
    "from": "--from",
    "fromName": "--from-name",
    "replyTo": "--reply-to",
    "subject": "--subject",
    "preheader": "--preheader",
    "emailId": "--email-id",
    "providerType": "--provider",
    "topicId": "--topic-id",
    "variables": "--var",
    "transactional": "--transactional",
    "Idempotency-Key": "--idempotency-key",
}


def _variables(items: Sequence[str]) -> dict[str, str]:
    import re

    variables: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise CommandError(
                f"--var takes name=value (a name of letters, digits, '_' or '-'), got {item!r}"
            )
        variables[name] = value
    return variables


def _template(args: argparse.Namespace) -> tuple[str | None, str]:
    """The template HTML (or None with --email-id), and the flag it came from."""
    from pathlib import Path

    if args.html is not None:
        return args.html, "--html"
    if args.template_file is None:
        return None, "--email-id"
    if args.template_file == "-":
        return sys.stdin.read(), "--template-file"
    path = Path(args.template_file)
    if not path.is_file():
        raise CommandError(f"no file at {args.template_file}")
    try:
        return path.read_text(encoding="utf-8"), "--template-file"
    except UnicodeDecodeError:
        raise CommandError(f"{args.template_file} is not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"cannot read {args.template_file}: {exc.strerror}") from None


def cmd_send(args: argparse.Namespace) -> None:
    import json

    from tidings.campaigns import sendapi
    from tidings.campaigns.idempotency import idempotent
    from tidings.core.errors import ValidationError

    project = _project(args.project)
    variables = _variables(args.var or [])
    template, template_flag = _template(args)
    payload: dict[str, Any] = {}
    recipient_flag = "--to"
    if args.to is not None:
        payload.update({"recipientType": "email", "recipientEmail": args.to})
    else:
        recipient_type, recipient_id, recipient_flag = _recipients(args, project)
        payload.update({"recipientType": recipient_type, "recipientId": recipient_id})
    optional = {
        "from": args.sender,
        "fromName": args.from_name,
        "replyTo": args.reply_to,
        "subject": args.subject,
        "preheader": args.preheader,
        "template": template,
        "emailId": args.email_id,
        "providerType": args.provider,
        "transactional": args.transactional,
        "topicId": args.topic_id,
        "variables": variables or None,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def work() -> tuple[int, Any]:
        return 202, sendapi.send(project=project, payload=payload)

    try:
        _, answer, replayed = idempotent(
            project=project, endpoint="sending", key=args.idempotency_key, body=body, work=work
        )
    except ValidationError as exc:
        flags = {**_SEND_FLAGS, "recipientId": recipient_flag, "template": template_flag}
        raise refused(exc, flags) from None
    if replayed:
        print("(sent before with this idempotency key: its answer)", file=sys.stderr)
    if args.json:
        print_json(answer)
        return
    if "sendId" in answer:
        reason = f" ({answer['reason']})" if answer.get("reason") else ""
        print(f"batch {answer['batchId']}: send {answer['sendId']} {answer['state']}{reason}")
    else:
        print(f"batch {answer['batchId']}: {answer['queued']:,} queued{skipped(answer.get('excluded'))}")


# -- parser -------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port up to 65535, got {value}")
    return value


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see '{self.prog} --help')", EXIT_CONFIG)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tidings", description="Self-hosted email marketing and transactional email.")
    parser.add_argument("--version", action="version", version=_version())
    remote = parser.add_argument_group(
        "remote mode", "Work on a Tidings server through its API instead of this machine's database."
    )
    remote.add_argument("--url", help="the server's address, e.g. https://mail.example.com ($TIDINGS_URL)")
    remote.add_argument("--api-key", metavar="KEY", help="an API key of the project ($TIDINGS_API_KEY)")
    remote.add_argument(
        "--profile", metavar="NAME", help=f"a profile of {cli_remote.DEFAULT_CONFIG} ($TIDINGS_PROFILE)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], None], help: str, **kw: Any) -> Parser:
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(handler=handler)
        return p

    cores = min(os.cpu_count() or 1, 4)
    p = add("serve", cmd_serve, "Serve the web UI and API, with a task worker beside it.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    p.add_argument(
        "--workers",
        type=_positive,
        default=cores,
        help=f"web processes (default {cores}: the cores, at most 4)",
    )
    p.add_argument("--threads", type=_positive, default=4, help="threads per web process (default 4)")
    p.add_argument("--task-workers", type=_positive, default=1, help="task worker processes (default 1)")
    p.add_argument("--no-worker", action="store_true", help="serve only; run workers with 'tidings worker'")

    p = add("worker", cmd_worker, "Run task workers alone (scale-out: many processes, many machines).")
    p.add_argument("--processes", type=_positive, default=1, help="worker processes to run (default 1)")
    p.add_argument("--queue", action="append", help="queue to work on (repeatable; default all)")
    p.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    p.add_argument("--max-tasks", type=_positive, help="exit after this many tasks")

    p = add("migrate", cmd_migrate, "Create or upgrade the database tables.")
    p.add_argument("-v", "--verbose", action="store_true")

    p = add("createuser", cmd_createuser, "Create a login for the web UI.")
    p.add_argument("username")
    p.add_argument("--email")
    p.add_argument("--password", help="the password (prefer --password-stdin or the prompt)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--superuser", action="store_true", help="may use /admin/")
    p.add_argument("--project", help="slug of a project to add the user to")
    p.add_argument("--role", default="owner", choices=["owner", "admin", "editor", "viewer"])

    project = add("project", lambda a: None, "Manage projects.")
    project_sub = project.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = project_sub.add_parser("create", help="create a project", description="Create a project.")
    p.set_defaults(handler=cmd_project_create)
    p.add_argument("name")
    p.add_argument("--slug")
    p.add_argument("--owner", help="username of the first owner")
    p.add_argument("--postal-address")
    p.add_argument("--from-name", help="default sender name")
    p.add_argument("--json", action="store_true")
    p = project_sub.add_parser("list", help="list projects", description="List projects.")
    p.set_defaults(handler=cmd_project_list)
    p.add_argument("--json", action="store_true")

    member = add("member", lambda a: None, "Manage who belongs to a project.")
    member_sub = member.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = member_sub.add_parser(
        "add", help="add a login to a project, or change its role", description="Add a member."
    )
    p.set_defaults(handler=cmd_member_add)
    p.add_argument("username")
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--role", default="editor", choices=["owner", "admin", "editor", "viewer"])

    apikey = add("apikey", lambda a: None, "Manage API keys.")
    apikey_sub = apikey.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = apikey_sub.add_parser(
        "create",
        help="create an API key (prints the secret once)",
        description="Create an API key.",
    )
    p.set_defaults(handler=cmd_apikey_create)
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--name", required=True, help="what the key is for")
    p.add_argument("--json", action="store_true")

    contacts = add("contacts", lambda a: None, "List contacts; import and export them as CSV.")
    contacts_sub = contacts.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=Parser
    )
    p = contacts_sub.add_parser(
        "import",
        help="import contacts from a CSV file",
        description="Import contacts from a CSV file (locally in this process, remotely on the server); "
        "progress goes to stderr.",
    )
    p.set_defaults(handler=cmd_contacts_import, sdk=cli_remote.contacts_import)
    p.add_argument("file", help="the CSV file (Mailchimp, listmonk and Brevo exports are recognised)")
    cli_remote.project_flag(p)
    p.add_argument(
        "--tag", action="append", help="tag every imported contact (repeatable; created if missing)"
    )
    p.add_argument(
        "--on-conflict",
        choices=["skip", "upsert"],
        default="skip",
        help="an address the project has: leave it (skip, the default) or update it from the file (upsert)",
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="where a column goes, e.g. 'E-mail=email', 'Plan=customFields.plan', 'Notes=' (repeatable)",
    )
    p.add_argument("--no-wait", action="store_true", help="queue the import for the workers and exit at once")
    p.add_argument("--json", action="store_true")
    p = contacts_sub.add_parser(
        "export", help="export contacts as CSV", description="Export contacts as CSV (to stdout by default)."
    )
    p.set_defaults(handler=cmd_contacts_export, sdk=cli_remote.contacts_export)
    cli_remote.project_flag(p)
    p.add_argument("--tag", help="only contacts with this tag (its exact name)")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p = contacts_sub.add_parser(
        "list", help="list contacts, newest first", description="List contacts, newest first."
    )
    p.set_defaults(handler=None, sdk=cli_remote.contacts_list)
    cli_remote.project_flag(p)
    p.add_argument("--status", choices=CONTACT_STATES, help="only contacts with this status")
    p.add_argument("--tag", metavar="NAME", help="only contacts with this tag (its exact name)")
    p.add_argument("--search", metavar="TEXT", help="only addresses and names containing this")
    p.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true")

    cli_remote.add_commands(add, Parser, _positive)

    _add_campaign_commands(add)
    _add_send_command(add)
    _add_sending_setup_commands(add)
    _add_bounces_commands(add)

    add("demo", cmd_demo, "Seed a demo project and admin login (safe to run again).")
    add("check", cmd_check, "Report configuration and whether the database and queue answer.")
    p = add("manage", cmd_manage, "Run a Django management command.", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _recipient_flags(p: argparse.ArgumentParser, *, to: bool = False) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    if to:
        who.add_argument("--to", metavar="ADDRESS", help="one address (transactional unless --marketing)")
    who.add_argument("--segment-id", type=_positive, metavar="ID", help="everyone in this audience (segment)")
    who.add_argument("--tag-id", type=_positive, metavar="ID", help="everyone with this tag")
    who.add_argument("--tag", metavar="NAME", help="everyone with the tag of this exact name")


def _add_sending_setup_commands(add: Callable[..., Parser]) -> None:
    connections = add("connections", lambda a: None, "List provider connections and test one.")
    sub = connections.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = sub.add_parser("list", help="list the project's provider connections")
    p.set_defaults(handler=cmd_connections_list)
    p.add_argument("--project", required=True, help="project slug")
    p = sub.add_parser("check", help="test a connection: login, TLS, reachability")
    p.set_defaults(handler=cmd_connections_check)
    p.add_argument("id", type=_positive, help="the connection's id")
    p.add_argument("--project", required=True, help="project slug")

    domains = add("domains", lambda a: None, "Sending domains: add one, show its DNS records, verify them.")
    sub = domains.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    for name, handler, help in (
        ("list", cmd_domains_list, "list the project's sending domains"),
        ("add", cmd_domains_add, "add a domain and show the DNS records to publish"),
        ("records", cmd_domains_records, "show the DNS records of a domain"),
        ("verify", cmd_domains_verify, "look the records up in DNS (exit 1 until verified)"),
    ):
        p = sub.add_parser(name, help=help)
        p.set_defaults(handler=handler)
        if name != "list":
            p.add_argument("domain", help="the domain, e.g. mail.example.com")
        if name == "verify":
            p.set_defaults(sdk=cli_remote.domains_verify)
            cli_remote.project_flag(p)
        else:
            p.add_argument("--project", required=True, help="project slug (local mode only)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from exc
    if not value >= 1:
        raise argparse.ArgumentTypeError(f"expected 1 second or more, got {text}")
    return value


def _add_bounces_commands(add: Callable[..., Parser]) -> None:
    bounces = add("bounces", lambda a: None, "Receive the bounces of mail sent over SMTP.")
    sub = bounces.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    p = sub.add_parser(
        "serve",
        help="an SMTP server for the bounce domain (its MX), until SIGTERM",
        description="Receive bounce messages by SMTP: the server the bounce domain's MX points at.",
    )
    p.set_defaults(handler=cmd_bounces_serve)
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    p.add_argument("--port", type=_port, default=25, help="port to listen on (default 25)")
    p = sub.add_parser(
        "poll",
        help="read bounces from the mailbox in TIDINGS_BOUNCE_MAILBOX",
        description="Read bounce messages from the IMAP or POP3 mailbox in TIDINGS_BOUNCE_MAILBOX, "
        "record them, and remove each once recorded.",
    )
    p.set_defaults(handler=cmd_bounces_poll)
    p.add_argument("--once", action="store_true", help="read what is there now, then exit")
    p.add_argument("--interval", type=_seconds, default=60.0, help="seconds between reads (default 60)")


def _add_campaign_commands(add: Callable[..., Parser]) -> None:
    campaigns = add("campaigns", lambda a: None, "Create, send, schedule and follow campaigns.")
    sub = campaigns.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)

    def action(name: str, handler: Callable[[argparse.Namespace], None], help: str) -> Any:
        p = sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        p.set_defaults(handler=handler)
        if name not in ("list", "create"):
            p.add_argument("id", type=_positive, help="the campaign's id")
        remote = {
            "list": cli_remote.campaigns_list,
            "create": cli_remote.campaigns_create,
            "send": cli_remote.campaigns_send,
            "schedule": cli_remote.campaigns_schedule,
            "pause": cli_remote.campaigns_pause,
            "resume": cli_remote.campaigns_resume,
            "cancel": cli_remote.campaigns_cancel,
            "status": cli_remote.campaigns_status,
        }.get(name)
        if remote is None:
            p.add_argument("--project", required=True, help="project slug (local mode only)")
        else:
            p.set_defaults(sdk=remote)
            cli_remote.project_flag(p)
        return p

    p = action("list", cmd_campaigns_list, "list campaigns, newest first")
    p.add_argument("--status", choices=CAMPAIGN_STATES, help="only campaigns in this state")
    p.add_argument("--archived", action="store_true", help="archived campaigns instead of current ones")
    p.add_argument("--json", action="store_true")

    p = action("create", cmd_campaigns_create, "create a draft campaign and check whether it can be sent")
    p.add_argument("--name", required=True)
    p.add_argument(
        "--design-id", type=_positive, required=True, metavar="ID", help="the email design to send"
    )
    p.add_argument("--from", dest="sender", required=True, metavar="ADDRESS", help="the sender address")
    p.add_argument("--from-name", help="the sender name")
    p.add_argument("--reply-to", metavar="ADDRESS")
    p.add_argument("--subject", help="instead of the design's subject")
    p.add_argument("--preheader", help="instead of the design's preheader")
    _recipient_flags(p)
    p.add_argument(
        "--connection-id", type=_positive, metavar="ID", help="provider connection (default: the default one)"
    )
    p.add_argument(
        "--topic-id",
        type=_positive,
        metavar="ID",
        help="send on this topic (opted-out contacts are left out)",
    )
    p.add_argument("--no-track-opens", action="store_true", help="no open tracking")
    p.add_argument("--no-track-clicks", action="store_true", help="no click tracking")
    p.add_argument("--json", action="store_true")

    action("send", cmd_campaigns_send, "start sending a draft or scheduled campaign now")
    p = action("schedule", cmd_campaigns_schedule, "send a campaign later")
    p.add_argument("--at", required=True, metavar="WHEN", help="date and time, e.g. '2026-12-01 09:30'")
    p.add_argument("--timezone", metavar="ZONE", help="how to read --at, e.g. Europe/Berlin (default UTC)")
    action("pause", cmd_campaigns_pause, "stop sending for now (resume goes on where it stopped)")
    action("resume", cmd_campaigns_resume, "go on sending a paused or failed campaign")
    action("cancel", cmd_campaigns_cancel, "stop for good; what is not sent stays unsent")
    p = action("status", cmd_campaigns_status, "a campaign's state and counts")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--watch",
        action="store_true",
        help="a live progress line until the campaign stops sending (or Ctrl-C)",
    )
    how.add_argument("--json", action="store_true")


def _add_send_command(add: Callable[..., Parser]) -> None:
    p = add(
        "send",
        cmd_send,
        "Send one email now, like POST /api/v1/sending: to one address, an audience or a tag.",
    )
    p.set_defaults(sdk=cli_remote.send)
    cli_remote.project_flag(p)
    _recipient_flags(p, to=True)
    p.add_argument("--from", dest="sender", required=True, metavar="ADDRESS", help="the sender address")
    p.add_argument("--from-name", help="the sender name")
    p.add_argument("--reply-to", metavar="ADDRESS")
    p.add_argument("--subject", help="the subject (Liquid); required with a template")
    p.add_argument("--preheader")
    content = p.add_mutually_exclusive_group(required=True)
    content.add_argument(
        "--template-file", metavar="PATH", help="HTML with Liquid, from this file ('-': stdin)"
    )
    content.add_argument("--html", help="HTML with Liquid, given here")
    content.add_argument("--email-id", type=_positive, metavar="ID", help="a saved email design")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--transactional",
        dest="transactional",
        action="store_const",
        const=True,
        help="send whatever the subscription status (the default for --to)",
    )
    kind.add_argument(
        "--marketing",
        dest="transactional",
        action="store_const",
        const=False,
        help="subscribed contacts only, with an unsubscribe link (the default for audiences and tags)",
    )
    p.add_argument(
        "--provider",
        metavar="KIND",
        help="a connection of this kind (smtp, ses, …; default: the default one)",
    )
    p.add_argument("--topic-id", type=_positive, metavar="ID", help="marketing on this topic")
    p.add_argument("--var", action="append", metavar="NAME=VALUE", help="a template variable (repeatable)")
    p.add_argument("--idempotency-key", metavar="KEY", help="the same key and input within 24 h sends once")
    p.add_argument("--json", action="store_true")


def _version() -> str:
    from tidings import __version__

    return f"tidings {__version__}"


def _mode(args: argparse.Namespace) -> cli_remote.Remote | None:
    """Remote mode's server and key, or None to work on this machine's database."""
    sdk = getattr(args, "sdk", None)
    if sdk is None:
        if args.url or args.api_key or args.profile:
            raise CommandError(
                f"'{args.command}' works on this machine's database only: "
                "leave out --url, --api-key and --profile",
                EXIT_CONFIG,
            )
        return None
    remote = cli_remote.resolve_remote(args)
    if remote is not None and args.project is not None:
        raise CommandError(
            f"--project is for local mode; remote mode ({remote.origin}) acts for the API key's project: "
            "leave --project out",
            EXIT_CONFIG,
        )
    if remote is None and args.project is None:
        raise CommandError(
            "--project is required (or work remotely: --url and --api-key, or --profile)", EXIT_CONFIG
        )
    return remote


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except CommandError as exc:
        fail(str(exc), exc.code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        raise SystemExit(0) from None


def main(argv: Sequence[str] | None = None) -> None:
    # Files Tidings writes (the SQLite database, .eml files) are the owner's alone.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    with _one_line_errors():
        remote = _mode(args)
        if remote is not None:  # no Django: remote mode needs no settings and no database
            with cli_remote.remote_client(remote) as api:
                cli_remote.run(args.sdk, args, cli_remote.Target(api))
            return
    setup_django()
    from django.db import DatabaseError

    from tidings.core.errors import TidingsError

    try:
        if args.handler is None:
            with cli_remote.in_process(args.project) as api:
                cli_remote.run(args.sdk, args, cli_remote.Target(api, args.project))
        else:
            args.handler(args)
    except CommandError as exc:
        fail(str(exc), exc.code)
    except TidingsError as exc:
        fail(exc.detail, EXIT_REFUSED)
    except DatabaseError as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = (
            "; run 'tidings migrate'"
            if "no such table" in first_line or "does not exist" in first_line
            else ""
        )
        fail(f"database error: {first_line}{hint}", EXIT_UNAVAILABLE)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        raise SystemExit(0) from None
