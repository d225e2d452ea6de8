"""A campaign's per-recipient log as CSV: streamed a page at a time, safe to open in a spreadsheet.

Much of it comes from anyone (an address, a user agent, a bounce's text), so
every cell that a spreadsheet would run as a formula starts with a ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from tidings.audience.exports import safe_cell
from tidings.campaigns.models import Campaign
from tidings.tracking.selectors import campaign_recipient_log_all, check_log_status

# (header, key of a log row)
COLUMNS = (
    ("messageId", "id"),
    ("email", "email"),
    ("contactId", "contact_id"),
    ("state", "state"),
    ("skipReason", "skip_reason"),
    ("error", "error"),
    ("sentAt", "sent_at"),
    ("delivered", "delivered"),
    ("opened", "opened"),
    ("opens", "opens"),
    ("machineOpens", "machine_opens"),
    ("clicked", "clicked"),
    ("clicks", "clicks"),
    ("bounceType", "bounce_type"),
    ("statusCode", "status_code"),
    ("bounceDetail", "bounce_detail"),
    ("complained", "complained"),
    ("unsubscribed", "unsubscribed"),
    ("lastEvent", "last_event"),
    ("lastEventAt", "last_event_at"),
    ("lastUserAgent", "last_user_agent"),
)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, int):
        return str(value)
    return safe_cell(value)


def recipient_log_chunks(*, campaign: Campaign, status: str | None = None) -> Iterator[str]:
    """The CSV text of the campaign's log (only ``status`` when given), one page at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in COLUMNS])
    for page in campaign_recipient_log_all(campaign=campaign, status=status):
        for row in page:
            writer.writerow([_cell(row[key]) for _, key in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def recipient_log_response(*, campaign: Campaign, status: str | None = None) -> StreamingHttpResponse:
    """An HTTP download of the log; a wrong ``status`` is refused before anything is streamed."""
    check_log_status(status)
    name = slugify(campaign.name)[:60] or "campaign"
    suffix = f"-{status}" if status else ""
    filename = f"results-{campaign.pk}-{name}{suffix}-{timezone.now():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        recipient_log_chunks(campaign=campaign, status=status), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
