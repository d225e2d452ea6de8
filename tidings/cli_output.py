"""What the ``tidings`` command prints, and how it fails, in both of its modes.

Nothing here imports Django: remote mode (``tidings.cli_remote``) runs on a
machine without the server's settings or database.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from tidings.campaigns.words import excluded_summary

EXIT_REFUSED = 1
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3

# A campaign's fields (as the API names them) → the flags that set them, so a refusal names the
# flag the user typed.
CAMPAIGN_FLAGS = {
    "name": "--name",
    "designId": "--design-id",
    "subject": "--subject",
    "preheader": "--preheader",
    "from": "--from",
    "fromName": "--from-name",
    "replyTo": "--reply-to",
    "connectionId": "--connection-id",
    "topicId": "--topic-id",
    "scheduledAt": "--at",
    "timezone": "--timezone",
}

# A table cell longer than this is cut, with "…" at the end: one long subject or
# description must not push every other column off the screen.
MAX_CELL = 48


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        self.code = code
        super().__init__(message)


def fail(message: str, code: int) -> NoReturn:
    for line in message.splitlines() or [""]:
        print(f"tidings: {line}", file=sys.stderr)
    raise SystemExit(code)


def refused(exc: Any, flags: Mapping[str, str], prefix: str = "") -> CommandError:
    """A validation error (the server's or the SDK's: both have ``errors`` of path and message, and
    ``detail``) as one line per reason, naming the command's flags instead of API fields."""
    default = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in exc.errors)
    if not exc.errors:
        lines = [exc.detail]
    elif exc.detail != default:  # a refusal in its own words (the campaign cannot start): the reasons
        lines = [e.message for e in exc.errors]
    else:
        lines = [f"{flags.get(e.path, e.path)}: {e.message}" if e.path else e.message for e in exc.errors]
    return CommandError("\n".join(prefix + line for line in lines))


# -- JSON and tables ----------------------------------------------------------------------------------


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    text = " ".join(str(value).split())  # a newline in a cell would break the row
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def print_campaigns(rows: list[dict[str, Any]], *, as_json: bool) -> None:
    """``campaigns list``, locally and remotely: id, name, status and sent/total of each."""
    if as_json:
        print_json(rows)
        return
    print_table(
        ["id", "name", "status", "sent/total"],
        [[r["id"], r["name"], r["status"], f"{r['sent']:,}/{r['total']:,}"] for r in rows],
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Aligned columns under a header row; long cells are cut (``--json`` has them whole)."""
    cells = [[str(h) for h in headers], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# -- campaigns ------------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    return "-:--:--" if seconds is None else str(timedelta(seconds=round(seconds)))


def counts_line(progress: Mapping[str, Any]) -> str:
    line = (
        f"{progress['total']:,} messages: {progress['sent']:,} sent, {progress['failed']:,} failed, "
        f"{progress['skipped']:,} skipped, {progress['cancelled']:,} cancelled, {progress['queued']:,} queued"
    )
    reasons = excluded_summary(progress.get("skippedReasons") or {})
    return line + (f" (skipped: {reasons})" if reasons else "")


def skipped(excluded: Mapping[str, int] | None) -> str:
    """The recipients left out when planned, as ', 2 skipped (1 unsubscribed, 1 bounced)'."""
    n = sum((excluded or {}).values())
    return f", {n:,} skipped ({excluded_summary(excluded or {})})" if n else ""


def progress_line(progress: Mapping[str, Any]) -> str:
    bar = "#" * int(progress["percent"] / 100 * 20)
    return (
        f"[{bar:.<20}] {progress['percent']:5.1f}%  {progress['sent']:,}/{progress['total']:,} sent  "
        f"{progress['failed']:,} failed  {progress['skipped']:,} skipped  {progress['rate']:.1f} msg/s  "
        f"ETA {duration(progress['etaSeconds'])}"
    )


def when(moment: datetime, zone: str) -> str:
    import zoneinfo

    try:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local, zone = moment, "UTC"
    return f"{local:%Y-%m-%d %H:%M} {zone or 'UTC'}"


def print_status(
    *,
    campaign_id: int,
    name: str,
    status: str,
    scheduled_at: datetime | None,
    timezone: str,
    error: str,
    progress: Mapping[str, Any],
) -> None:
    print(f"campaign {campaign_id} ({name}): {status}")
    if status == "scheduled" and scheduled_at:
        print(f"scheduled for {when(scheduled_at, timezone)}")
    print(counts_line(progress))
    if status == "sending":
        eta = duration(progress["etaSeconds"])
        print(f"{progress['rate']:.1f} msg/s, {progress['percent']:.1f}% done, ETA {eta}")
    if error:
        print(f"error: {error}")


class Redrawn:
    """One line redrawn in place on a terminal; elsewhere (a pipe, a log) a new line each time."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = 0

    def show(self, line: str) -> None:
        if self.tty:
            print("\r" + line.ljust(self.shown), end="", file=self.stream, flush=True)
            self.shown = len(line)
        else:
            print(line, file=self.stream, flush=True)

    def end(self) -> None:
        if self.shown:
            print(file=self.stream, flush=True)
            self.shown = 0


# -- imports -----------------------------------------------------------------------------------------------


class ImportProgress:
    """A progress bar on a terminal; elsewhere (a pipe, a log) a line now and then."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tty = sys.stderr.isatty()
        self.shown_at = 0.0

    def show(
        self,
        *,
        bytes_read: int,
        size_bytes: int,
        rows_read: int,
        created: int,
        updated: int,
        skipped: int,
        rejected: int,
        done: bool = False,
    ) -> None:
        done = done or bytes_read >= size_bytes
        now = time.monotonic()
        if not done and now - self.shown_at < (0.2 if self.tty else 2.0):
            return
        self.shown_at = now
        share = min(bytes_read / size_bytes, 1.0) if size_bytes else 1.0
        bar = "#" * int(share * 20)
        line = (
            f"{self.name} [{bar:20}] {share:4.0%} {rows_read:,} rows: {created:,} created, "
            f"{updated:,} updated, {skipped:,} skipped, {rejected:,} rejected"
        )
        if self.tty:
            print(f"\r{line}", end="\n" if done else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def import_summary_line(name: str, counts: Mapping[str, int]) -> str:
    return (
        f"imported {name}: {counts['created']:,} created, {counts['updated']:,} updated, "
        f"{counts['skipped']:,} skipped, {counts['rejected']:,} rejected"
    )
