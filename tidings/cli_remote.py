"""The ``tidings`` commands that work through the HTTP API, with the Python SDK.

In remote mode (``--url`` and ``--api-key``, their environment variables, or a
profile of the config file) they talk to a Tidings server and never load
Django: no settings, no database. The commands new to the CLI (``contacts
list``, ``tags``, ``segments``, ``drafts new``) are written once, here, and run
in local mode too: :func:`in_process` drives the same SDK calls through
Django's WSGI application in this process, acting for the ``--project``
project without a stored API key (``tidings.api.IN_PROCESS_PROJECT``).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import os
import stat
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidings.cli_output import (
    CAMPAIGN_FLAGS,
    EXIT_CONFIG,
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    CommandError,
    ImportProgress,
    Redrawn,
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
from tidings.client import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    Tidings,
    TidingsError,
    UnexpectedResponseError,
    ValidationError,
)

DEFAULT_CONFIG = "~/.config/tidings/config.toml"
WATCH_EVERY = 1.0  # seconds between two looks at a campaign (`campaigns status --watch`)
IMPORT_POLL = 0.5  # seconds between two looks at an import
STARTABLE = ("draft", "scheduled")


# -- where the commands go --------------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    url: str
    api_key: str
    origin: str  # how remote mode was chosen, for the messages that need to say so


def config_path() -> Path:
    return Path(os.environ.get("TIDINGS_CONFIG") or DEFAULT_CONFIG).expanduser()


def read_config(path: Path) -> dict[str, Any]:
    """The config file's contents ({} when there is none), checked; every problem is exit 2."""
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}", EXIT_CONFIG) from None
    try:
        config = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(f"{path} is not valid TOML: {exc}", EXIT_CONFIG) from None
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise CommandError(f"{path}: 'profiles' must hold tables like [profiles.NAME]", EXIT_CONFIG)
    for name, profile in profiles.items():
        for field in ("url", "api_key"):
            if not isinstance(profile.get(field, ""), str):
                raise CommandError(f"{path}: profiles.{name}.{field} must be a string", EXIT_CONFIG)
    if not isinstance(config.get("default_profile", ""), str):
        raise CommandError(f"{path}: default_profile must be a string", EXIT_CONFIG)
    holds_key = any(p.get("api_key") for p in profiles.values())
    if holds_key and os.name == "posix" and mode & 0o077:
        # Like ssh with a private key: a key others can read is as good as theirs.
        raise CommandError(
            f"{path} holds API keys but other users can open it (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}",
            EXIT_CONFIG,
        )
    return config


def resolve_remote(args: argparse.Namespace) -> Remote | None:
    """Remote mode's server and key, or None for local mode.

    Each of the URL and the key comes from its flag, else from a profile named by
    ``--profile``, else from the environment, else from a profile named by
    ``TIDINGS_PROFILE`` or the file's ``default_profile``: a profile asked for on
    the command line wins over the environment, one chosen by default does not.
    """
    path = config_path()
    config = read_config(path)
    profiles: dict[str, Any] = config.get("profiles", {})
    name = args.profile or os.environ.get("TIDINGS_PROFILE") or config.get("default_profile") or None
    profile: Mapping[str, str] = {}
    if name:
        if name not in profiles:
            where = f"{path}" if path.exists() else f"{path} (there is no such file)"
            raise CommandError(f"no profile named {name!r} in {where}", EXIT_CONFIG)
        profile = profiles[name]
    env_url, env_key = os.environ.get("TIDINGS_URL"), os.environ.get("TIDINGS_API_KEY")
    chosen = args.profile is not None
    url = args.url or (profile.get("url") if chosen else None) or env_url or profile.get("url")
    key = args.api_key or (profile.get("api_key") if chosen else None) or env_key or profile.get("api_key")
    if not (url or key or name):
        return None
    origin = f"profile {name!r}" if name else "--url/--api-key"
    if not url:
        raise CommandError(
            "remote mode needs the server's address: --url, TIDINGS_URL or a profile's url", EXIT_CONFIG
        )
    if not key:
        raise CommandError(
            "remote mode needs an API key: --api-key, TIDINGS_API_KEY or a profile's api_key", EXIT_CONFIG
        )
    return Remote(url=url, api_key=key, origin=origin)


@dataclass(frozen=True)
class Target:
    """The client a command uses, and the words that differ between the modes."""

    api: Tidings
    project: str | None = None  # the --project slug in local mode; remote: the key's project

    @property
    def scope(self) -> str:
        return f" in {self.project}" if self.project else ""

    @property
    def again(self) -> str:
        """The flags to repeat in a suggested command."""
        return f" --project {self.project}" if self.project else ""


def remote_client(remote: Remote) -> Tidings:
    try:
        return Tidings(api_key=remote.api_key, base_url=remote.url, timeout=30)
    except TidingsError as exc:  # a URL that is not http(s)
        raise CommandError(str(exc), EXIT_CONFIG) from None


@contextmanager
def in_process(slug: str) -> Iterator[Tidings]:
    """The SDK over this process's Django application, acting for the project ``slug``.

    The WSGI environ carries the project under a dotted key, which no HTTP
    request can set (headers arrive as ``HTTP_*``); ``ApiKeyAuth`` turns it into
    an unsaved key. Connections are kept open across the calls, as Django's test
    client does: closing them after each request would end an enclosing
    transaction.
    """
    import httpx
    from django.conf import settings
    from django.core import signals
    from django.db import close_old_connections
    from django.http.request import validate_host

    from tidings.api import IN_PROCESS_PROJECT
    from tidings.core.models import Project
    from tidings.wsgi import application

    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project with slug {slug!r}")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].rstrip("/") == "/api/v1/api-keys":
            # A key made by a key is tied to its parent; this one is not stored.
            start_response("403 Forbidden", [("Content-Type", "application/problem+json")])
            return [b'{"status": 403, "code": "forbidden", "detail": "use tidings apikey create"}']
        environ[IN_PROCESS_PROJECT] = project
        return application(environ, start_response)

    base = settings.BASE_URL
    host = base.split("://", 1)[1].split("/", 1)[0]
    if not validate_host(host.split(":")[0], settings.ALLOWED_HOSTS):
        named = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and "*" not in h]
        base = f"http://{named[0] if named else 'localhost'}"
    http = httpx.Client(transport=httpx.WSGITransport(app=app))  # a call in this thread: no timeout
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with Tidings(api_key="in-process", base_url=base, max_retries=0, http_client=http) as api:
            yield api
    finally:
        http.close()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def sdk_failure(exc: TidingsError, where: str) -> CommandError:
    """An SDK exception as the command's one line and exit code (the table in docs/cli.md)."""
    detail = exc.detail or str(exc)
    if isinstance(exc, AuthenticationError):
        return CommandError(f"{where} refused the API key: {detail}", EXIT_CONFIG)
    if isinstance(exc, RateLimitedError):
        after = f"; try again in {exc.retry_after:g} s" if exc.retry_after else ""
        return CommandError(f"{where} is busy: {detail}{after}", EXIT_UNAVAILABLE)
    if isinstance(exc, ServerError | UnexpectedResponseError):
        return CommandError(f"{where} failed: {detail}", EXIT_UNAVAILABLE)
    if isinstance(exc, APIConnectionError):
        return CommandError(f"cannot reach {where}: {str(exc).split(': ', 1)[-1]}", EXIT_UNAVAILABLE)
    if isinstance(exc, APIStatusError):
        return CommandError(detail, EXIT_REFUSED)
    return CommandError(detail, EXIT_CONFIG)


# -- lookups by name ---------------------------------------------------------------------------------


def tag_id(target: Target, name: str) -> int:
    for tag in target.api.tags.list(limit=200):
        if tag.name == name:
            return tag.id
    raise CommandError(f"no tag named {name!r}{target.scope}")


def recipients(args: argparse.Namespace, target: Target) -> tuple[str, int, str]:
    """(recipientType, recipientId, the flag that chose them) from --segment-id, --tag-id or --tag."""
    if args.segment_id is not None:
        return "audience", args.segment_id, "--segment-id"
    if args.tag_id is not None:
        return "tag", args.tag_id, "--tag-id"
    return "tag", tag_id(target, args.tag), "--tag"


def _campaign(target: Target, campaign_id: int) -> Any:
    try:
        return target.api.campaigns.get(campaign_id)
    except NotFoundError:
        raise CommandError(f"no campaign with id {campaign_id}{target.scope}") from None


# -- contacts -------------------------------------------------------------------------------------------


def contacts_import(args: argparse.Namespace, target: Target) -> None:
    from tidings.cli import _column_map

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"no file at {args.file}")
    started = target.api.imports.create(
        path,
        column_map=_column_map(args.map or []) or None,
        tags=args.tag or [],
        on_conflict=args.on_conflict,
    )
    if args.no_wait:
        if args.json:
            print_json({"id": started.id, "status": started.status, "fileName": path.name})
        else:
            print(f"import {started.id} of {path.name} is {started.status}")
        return
    bar = ImportProgress(path.name)
    done = started
    while True:
        progress, counts = done.progress, done.counts
        finished = done.status in ("finished", "failed")
        if progress is not None and counts is not None:
            bar.show(
                bytes_read=progress.bytes_read,
                size_bytes=progress.size_bytes,
                rows_read=progress.rows_read,
                created=counts.created,
                updated=counts.updated,
                skipped=counts.skipped,
                rejected=counts.rejected,
                done=finished,
            )
        if finished:
            break
        time.sleep(IMPORT_POLL)
        done = target.api.imports.get(started.id)
    rows = progress.rows_read if progress else 0
    if done.status != "finished":
        raise CommandError(f"import {done.id} failed after {rows:,} rows: {done.error}")
    report = f"{target.api.base_url}/imports/{done.id}/report"
    summary = {
        "id": done.id,
        "status": done.status,
        "rowsRead": rows,
        **(done.raw.get("counts") or {}),
        "report": report,
    }
    if args.json:
        print_json(summary)
        return
    print(import_summary_line(path.name, summary))
    if summary["rejected"]:
        print(f"rejected rows, with their line and reason: {report}")


def contacts_export(args: argparse.Namespace, target: Target) -> None:
    tag = tag_id(target, args.tag) if args.tag is not None else None
    text = target.api.contacts.export_csv(tag_id=tag)
    if args.output is None:
        sys.stdout.write(text)
        return
    with open(args.output, "w", newline="", encoding="utf-8") as out:
        out.write(text)
    count = max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)
    print(f"exported {count:,} contacts to {args.output}", file=sys.stderr)


def contacts_list(args: argparse.Namespace, target: Target) -> None:
    tag = tag_id(target, args.tag) if args.tag is not None else None
    pager = target.api.contacts.list(
        status=args.status, tag_id=tag, q=args.search, limit=min(args.limit, 200)
    )
    contacts = list(itertools.islice(pager, args.limit))
    if args.json:
        print_json([c.raw for c in contacts])
        return
    print_table(
        ["id", "email", "name", "status", "tags", "created"],
        [
            [
                c.id,
                c.email,
                f"{c.first_name} {c.last_name}".strip(),
                c.status,
                ", ".join(t.name for t in c.tags),
                c.created_at,
            ]
            for c in contacts
        ],
    )


# -- tags and segments -----------------------------------------------------------------------------------


def tags_list(args: argparse.Namespace, target: Target) -> None:
    tags = list(target.api.tags.list(limit=200))
    if args.json:
        print_json([t.raw for t in tags])
        return
    print_table(
        ["id", "name", "contacts", "description"],
        [[t.id, t.name, t.contact_count, t.description] for t in tags],
    )


def tags_create(args: argparse.Namespace, target: Target) -> None:
    try:
        tag = target.api.tags.create(args.name, description=args.description or None)
    except ValidationError as exc:
        raise refused(exc, {"name": "NAME", "description": "--description"}) from None
    if args.json:
        print_json(tag.raw)
        return
    print(f"created tag {tag.name} (id {tag.id})")
    for warning in tag.warnings:
        print(f"note: {warning}")


def segments_list(args: argparse.Namespace, target: Target) -> None:
    segments = list(target.api.segments.list(limit=200))
    if args.json:
        print_json([s.raw for s in segments])
        return
    print_table(
        ["id", "name", "description", "updated"],
        [[s.id, s.name, s.description, s.updated_at] for s in segments],
    )


def segments_count(args: argparse.Namespace, target: Target) -> None:
    try:
        count = target.api.segments.count(args.id)
    except NotFoundError:
        raise CommandError(f"no segment with id {args.id}{target.scope}") from None
    if args.json:
        print_json({"id": args.id, "count": count})
        return
    print(count)


# -- drafts ------------------------------------------------------------------------------------------------


def persona(text: str, target: Target) -> tuple[str | None, int | None]:
    """``tag:NAME``, ``segment:ID``, ``contact:ID`` or ``none`` as the API's persona type and id."""
    kind, _, value = text.partition(":")
    kind = kind.strip().lower()
    if kind == "none" and not value:
        return None, None
    if kind == "tag" and value:
        return "tag", tag_id(target, value)
    if kind in ("segment", "contact") and value.isdigit() and int(value) > 0:
        return kind, int(value)
    raise CommandError(f"--persona takes tag:NAME, segment:ID, contact:ID or none, got {text!r}", EXIT_CONFIG)


def drafts_new(args: argparse.Namespace, target: Target) -> None:
    kind, ident = persona(args.persona, target) if args.persona else (None, None)
    try:
        draft = target.api.drafts.create(args.prompt, persona_type=kind, persona_id=ident)
    except ValidationError as exc:
        raise refused(exc, {"prompt": "PROMPT", "persona": "--persona", "persona.id": "--persona"}) from None
    last = draft.messages[-1] if draft.messages else None
    if last is not None and last.role == "error":
        raise CommandError(f"draft {draft.id}: the AI provider failed: {last.text}")
    if draft.design_id is None:
        raise CommandError(f"draft {draft.id} made no email")
    preview = target.api.designs.preview(draft.design_id)
    if args.json:
        print_json({"draft": draft.raw, "preview": preview.raw})
        return
    who = draft.persona.label if draft.persona else ""
    print(
        f"draft {draft.id}: email {draft.design_id}, version {draft.version}"
        + (f", for {who}" if who else "")
    )
    print(f"Subject: {preview.subject}")
    if preview.preheader:
        print(f"Preheader: {preview.preheader}")
    print()
    lines = preview.text.strip().splitlines()
    print("\n".join(lines if args.full else lines[: args.lines]))
    if not args.full and len(lines) > args.lines:
        print(f"… ({len(lines) - args.lines} more lines: --full shows them)")


# -- campaigns and sending ----------------------------------------------------------------------------------


def campaigns_list(args: argparse.Namespace, target: Target) -> None:
    campaigns = target.api.campaigns.list(status=args.status, archived=args.archived or None, limit=200)
    rows = [
        {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "sent": c.progress.get("sent", 0),
            "total": c.progress.get("total", 0),
        }
        for c in campaigns
    ]
    print_campaigns(rows, as_json=args.json)


def campaigns_create(args: argparse.Namespace, target: Target) -> None:
    recipient_type, recipient_id, recipient_flag = recipients(args, target)
    optional = {
        "from_name": args.from_name,
        "reply_to": args.reply_to,
        "subject": args.subject,
        "preheader": args.preheader,
        "connection_id": args.connection_id,
        "topic_id": args.topic_id,
    }
    try:
        campaign = target.api.campaigns.create(
            args.name,
            design_id=args.design_id,
            from_=args.sender,
            recipient_type=recipient_type,
            recipient_id=recipient_id,
            track_opens=not args.no_track_opens,
            track_clicks=not args.no_track_clicks,
            **{k: v for k, v in optional.items() if v is not None},
        )
    except ValidationError as exc:
        raise refused(exc, {**CAMPAIGN_FLAGS, "recipientId": recipient_flag}) from None
    check = target.api.campaigns.preflight(campaign.id)
    if args.json:
        print_json(
            {
                "id": campaign.id,
                "name": campaign.name,
                "status": campaign.status,
                "problems": check.raw.get("problems", []),
                "eligible": check.eligible,
                "excluded": check.excluded,
                "notices": check.notices,
            }
        )
        return
    from tidings.cli_output import excluded_summary

    print(f"created campaign {campaign.name} (id {campaign.id})")
    for problem in check.problems:
        print(f"problem: {problem.message}")
    for notice in check.notices:
        print(f"note: {notice}")
    if check.eligible is not None:
        excluded = excluded_summary(check.excluded)
        print(f"eligible recipients: {check.eligible:,}" + (f" (excluded: {excluded})" if excluded else ""))
    if not check.problems:
        print(f"ready: send it with 'tidings campaigns send {campaign.id}{target.again}'")


def campaigns_send(args: argparse.Namespace, target: Target) -> None:
    campaign = _campaign(target, args.id)
    if campaign.status == "sending":
        print(f"campaign {campaign.id} is already sending")
        return
    if campaign.status not in STARTABLE:
        resumable = campaign.status in ("paused", "failed")
        hint = f"; resume it with 'tidings campaigns resume {campaign.id}'" if resumable else ""
        raise CommandError(
            f"campaign {campaign.id} is {campaign.status}: only a draft or scheduled one can be sent{hint}"
        )
    try:
        campaign = target.api.campaigns.send(campaign.id)
    except ValidationError as exc:
        raise refused(exc, {}, prefix=f"campaign {campaign.id} cannot start: ") from None
    queued = f"{campaign.progress.get('queued', 0):,} queued{skipped(campaign.excluded)}"
    print(f"campaign {campaign.id} is {campaign.status}: {queued}")


def campaigns_schedule(args: argparse.Namespace, target: Target) -> None:
    campaign = _campaign(target, args.id)
    try:
        campaign = target.api.campaigns.schedule(campaign.id, args.at, timezone=args.timezone)
    except ValidationError as exc:
        raise refused(exc, CAMPAIGN_FLAGS, prefix=f"campaign {campaign.id} cannot be scheduled: ") from None
    local = when(campaign.scheduled_at, campaign.timezone)
    utc = when(campaign.scheduled_at, "UTC")
    print(f"campaign {campaign.id} is scheduled for {local}" + ("" if local == utc else f" ({utc})"))


def campaigns_pause(args: argparse.Namespace, target: Target) -> None:
    campaign = target.api.campaigns.pause(_campaign(target, args.id).id)
    progress = campaign.progress
    print(
        f"campaign {campaign.id} is paused: {progress.get('sent', 0):,} of {progress.get('total', 0):,} "
        f"sent, {progress.get('queued', 0):,} waiting"
    )


def campaigns_resume(args: argparse.Namespace, target: Target) -> None:
    campaign = target.api.campaigns.resume(_campaign(target, args.id).id)
    print(f"campaign {campaign.id} is {campaign.status}: {campaign.progress.get('queued', 0):,} left to send")


def campaigns_cancel(args: argparse.Namespace, target: Target) -> None:
    result = target.api.campaigns.cancel(_campaign(target, args.id).id)
    messages = "message" if result.unsent == 1 else "messages"
    campaign_id = result.campaign.id if result.campaign else args.id
    print(f"campaign {campaign_id} is cancelled: {result.unsent:,} {messages} left unsent")


def campaigns_status(args: argparse.Namespace, target: Target) -> None:
    campaign = _campaign(target, args.id)
    if args.watch:
        line = Redrawn(sys.stdout)
        try:
            while True:
                line.show(progress_line(campaign.progress))
                if campaign.status != "sending":
                    break
                time.sleep(WATCH_EVERY)
                campaign = target.api.campaigns.get(campaign.id)
        except KeyboardInterrupt:
            pass  # stop watching; the final counts follow
        finally:
            line.end()
        campaign = target.api.campaigns.get(campaign.id)
    if args.json:
        keys = ("id", "name", "status", "scheduledAt", "timezone", "startedAt", "finishedAt", "error")
        print_json(
            {
                **{k: campaign.raw.get(k) for k in keys},
                "excluded": campaign.excluded,
                "progress": campaign.progress,
            }
        )
        return
    print_status(
        campaign_id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        scheduled_at=campaign.scheduled_at,
        timezone=campaign.timezone,
        error=campaign.error,
        progress=campaign.progress,
    )


def send(args: argparse.Namespace, target: Target) -> None:
    from tidings.cli import _SEND_FLAGS, _template, _variables

    variables = _variables(args.var or [])
    template, template_flag = _template(args)
    recipient_flag = "--to"
    values: dict[str, Any] = {}
    if args.to is not None:
        values.update(recipient_type="email", recipient_email=args.to)
    else:
        recipient_type, recipient_id, recipient_flag = recipients(args, target)
        values.update(recipient_type=recipient_type, recipient_id=recipient_id)
    optional = {
        "from_": args.sender,
        "from_name": args.from_name,
        "reply_to": args.reply_to,
        "subject": args.subject,
        "preheader": args.preheader,
        "template": template,
        "email_id": args.email_id,
        "provider_type": args.provider,
        "transactional": args.transactional,
        "topic_id": args.topic_id,
        "variables": variables or None,
    }
    values.update({k: v for k, v in optional.items() if v is not None})
    try:
        answer = target.api.sending.send(idempotency_key=args.idempotency_key, **values).raw
    except ValidationError as exc:
        flags = {**_SEND_FLAGS, "recipientId": recipient_flag, "template": template_flag}
        raise refused(exc, flags) from None
    if args.json:
        print_json(answer)
        return
    if answer.get("sendId") is not None:
        reason = f" ({answer['reason']})" if answer.get("reason") else ""
        print(f"batch {answer['batchId']}: send {answer['sendId']} {answer['state']}{reason}")
    else:
        print(f"batch {answer['batchId']}: {answer['queued']:,} queued{skipped(answer.get('excluded'))}")


# -- domains -------------------------------------------------------------------------------------------


def domains_verify(args: argparse.Namespace, target: Target) -> None:
    wanted = args.domain.strip().lower().rstrip(".")
    found = next((d for d in target.api.domains.list() if d.domain == wanted), None)
    if found is None:
        raise CommandError(f"no sending domain {args.domain}{target.scope}")
    domain = target.api.domains.verify(found.id)
    for record in domain.raw.get("records", []):
        line = f"{record.get('state') or '?':8} {record.get('type', ''):5} {record.get('name', '')}"
        if record.get("state") == "wrong":
            seen = record.get("seen") or []
            line += "  found: " + (" | ".join(seen) if isinstance(seen, list) else str(seen))
        print(line)
    if not domain.verified:
        raise CommandError(f"{domain.domain} is not verified yet")
    print(f"{domain.domain} is verified")


# -- the parser ---------------------------------------------------------------------------------------


def project_flag(p: argparse.ArgumentParser) -> None:
    """--project for a command that also works remotely, where the API key names the project."""
    p.add_argument("--project", help="project slug (local mode; remote mode acts for the API key's project)")


def add_commands(add: Callable[..., Any], parser_class: type, positive: Callable[[str], int]) -> None:
    """Commands written once against the API (tidings.cli_remote), run remotely or in this process."""
    tags = add("tags", lambda a: None, "List and create tags.")
    sub = tags.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=parser_class)
    p = sub.add_parser("list", help="list tags with their number of contacts", description="List tags.")
    p.set_defaults(handler=None, sdk=tags_list)
    project_flag(p)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("create", help="create a tag", description="Create a tag.")
    p.set_defaults(handler=None, sdk=tags_create)
    p.add_argument("name", help="the tag's name")
    p.add_argument("--description")
    project_flag(p)
    p.add_argument("--json", action="store_true")

    segments = add("segments", lambda a: None, "List segments (audiences) and count their members.")
    sub = segments.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=parser_class)
    p = sub.add_parser("list", help="list segments", description="List segments.")
    p.set_defaults(handler=None, sdk=segments_list)
    project_flag(p)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser(
        "count", help="how many contacts a segment has now", description="Count a segment's contacts now."
    )
    p.set_defaults(handler=None, sdk=segments_count)
    p.add_argument("id", type=positive, help="the segment's id")
    project_flag(p)
    p.add_argument("--json", action="store_true")

    drafts = add("drafts", lambda a: None, "Draft an email with the project's AI provider.")
    sub = drafts.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=parser_class)
    p = sub.add_parser(
        "new",
        help="draft an email from a prompt; prints its subject and a text preview",
        description="Draft an email from a prompt (a new email design); prints its subject and the "
        "start of its plain text.",
    )
    p.set_defaults(handler=None, sdk=drafts_new)
    p.add_argument("prompt", help='what to write, e.g. "Announce our spring sale: 20%% off until May"')
    p.add_argument(
        "--persona",
        metavar="WHO",
        help="write for tag:NAME, segment:ID, contact:ID or none (the default)",
    )
    p.add_argument("--lines", type=positive, default=20, help="lines of text to show (default 20)")
    p.add_argument("--full", action="store_true", help="show the whole text")
    project_flag(p)
    p.add_argument("--json", action="store_true")


def run(
    handler: Callable[[argparse.Namespace, Target], None], args: argparse.Namespace, target: Target
) -> None:
    """Run a command, with the SDK's exceptions as one line and an exit code."""
    try:
        handler(args, target)
    except TidingsError as exc:
        where = "Tidings" if target.project else target.api.base_url.removesuffix("/api/v1")
        raise sdk_failure(exc, where) from None
