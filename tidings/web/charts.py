"""Charts drawn on the server as SVG: no script, nothing fetched from elsewhere, readable without
colour (each line has its own dash) and by a screen reader (a title, a description, and the same
figures as a table beside the chart)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 40
# Past this many hours the timeline is drawn by the day.
HOURLY_LIMIT = 72
X_LABELS = 6


@dataclass(frozen=True)
class Bucket:
    start: datetime
    opens: int
    clicks: int


@dataclass(frozen=True)
class Timeline:
    unit: str  # hour or day
    buckets: list[Bucket]
    svg: SafeString

    @property
    def empty(self) -> bool:
        return not self.buckets

    def label(self, bucket: Bucket) -> str:
        return _label(bucket.start, self.unit, full=True)


def _floor(moment: datetime, unit: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if unit == "day" else moment


def _label(moment: datetime, unit: str, full: bool = False) -> str:
    if unit == "day":
        return f"{moment:%Y-%m-%d}" if full else f"{moment:%b} {moment.day}"
    return f"{moment:%Y-%m-%d %H:00}" if full else f"{moment:%b} {moment.day} {moment:%H}h"


def _nice_top(value: int) -> int:
    """The top of the y axis: four equal whole-number steps of 1, 2, 2.5 or 5 × 10ⁿ reaching ``value``."""
    wanted = max(value, 1) / 4
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power // 2, 5 * power):
            if step >= wanted and step == int(step):
                return int(step) * 4
        power *= 10


def buckets(points: list[dict[str, Any]], start: datetime | None = None) -> tuple[str, list[Bucket]]:
    """Hourly points (``hour``, ``kind``, ``count``) as a gapless run of hours, or of days when they
    span more than three days. ``start`` (the campaign's start) opens the run when it is earlier."""
    if not points:
        return "hour", []
    first = min(p["hour"] for p in points)
    last = max(p["hour"] for p in points)
    if start is not None and start < first:
        first = start
    unit = "day" if (last - first) > timedelta(hours=HOURLY_LIMIT) else "hour"
    step = timedelta(days=1) if unit == "day" else timedelta(hours=1)
    counts: dict[datetime, dict[str, int]] = {}
    for point in points:
        slot = counts.setdefault(_floor(point["hour"], unit), {"opened": 0, "clicked": 0})
        slot[point["kind"]] = slot.get(point["kind"], 0) + point["count"]
    out, moment, end = [], _floor(first, unit), _floor(last, unit)
    while moment <= end:
        slot = counts.get(moment, {})
        out.append(Bucket(moment, slot.get("opened", 0), slot.get("clicked", 0)))
        moment += step
    return unit, out


def timeline(points: list[dict[str, Any]], *, title: str, start: datetime | None = None) -> Timeline:
    """Opens and clicks over time as an SVG line chart with axes, labels and a legend."""
    unit, rows = buckets(points, start)
    if not rows:
        return Timeline(unit, [], mark_safe(""))
    top = _nice_top(max(max(b.opens, b.clicks) for b in rows))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(rows) - 1) if len(rows) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    per = "per day" if unit == "day" else "per hour"
    opens, clicks = sum(b.opens for b in rows), sum(b.clicks for b in rows)
    span = f"{_label(rows[0].start, unit, True)} to {_label(rows[-1].start, unit, True)} UTC"
    description = (
        f"Opens and clicks by people {per}, {span}: {opens} open{'s' if opens != 1 else ''} and "
        f"{clicks} click{'s' if clicks != 1 else ''} in all; at most {max(b.opens for b in rows)} opens "
        f"and {max(b.clicks for b in rows)} clicks in one {unit}."
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="timeline-title timeline-desc" data-unit="{unit}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="timeline-title">{escape(title)} ({per})</title>',
        f'<desc id="timeline-desc">{escape(description)}</desc>',
    ]
    for tick in range(5):  # the y axis: 0, ¼, ½, ¾ and the top
        value = top * tick / 4
        ty = y(value)
        text = f"{value:g}"
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{text}</text>'
        )
    base = y(0)
    parts.append(
        f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base:.1f}" y2="{base:.1f}"/>'
    )
    every = max(1, math.ceil(len(rows) / X_LABELS))
    for i in range(0, len(rows), every):
        anchor = "start" if i == 0 and len(rows) > 1 else "middle"
        if i == len(rows) - 1 and len(rows) > 1:
            anchor = "end"
        parts.append(
            f'<text class="chart-tick" x="{x(i):.1f}" y="{base + 18:.1f}" text-anchor="{anchor}">'
            f"{escape(_label(rows[i].start, unit))}</text>"
        )
    parts.append(
        f'<text class="chart-axis-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{'Day' if unit == 'day' else 'Hour'} (UTC)</text>"
    )
    for series, key, label, legend_x in (
        ("opens", "opens", "Opens", LEFT),
        ("clicks", "clicks", "Clicks", LEFT + 110),
    ):
        coords = " ".join(f"{x(i):.1f},{y(getattr(b, key)):.1f}" for i, b in enumerate(rows))
        parts.append(f'<polyline class="chart-line chart-{series}" points="{coords}" fill="none"/>')
        if len(rows) <= 48:
            for i, b in enumerate(rows):
                value = getattr(b, key)
                parts.append(
                    f'<circle class="chart-dot chart-{series}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3">'
                    f"<title>{escape(_label(b.start, unit, True))}: {value} {label.lower()}</title></circle>"
                )
        parts.append(
            f'<line class="chart-line chart-{series}" x1="{legend_x}" x2="{legend_x + 24}" y1="14" y2="14"/>'
            f'<text class="chart-legend" x="{legend_x + 30}" y="18">{label}</text>'
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(); the numbers are ours.
    return Timeline(unit, rows, mark_safe("".join(parts)))  # noqa: S308
