"""Background sending of webhook deliveries, one task per endpoint at a time of need.

An event starts its endpoints' senders after commit, one at a time per
endpoint: while one is queued or running (``kicked_at``) a burst of events
queues no other. A sender that leaves deliveries waiting (a retry's backoff, a
lease of a sender that may have died) books one wake-up for the earliest of
them; ``wake_at`` keeps it to one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from tidings.core.queue import can_defer
from tidings.hooks.models import WebhookEndpoint
from tidings.hooks.sender import next_due, run_endpoint

SLICE_SECONDS = 60.0
# A sender queued this long ago and still not done is taken for lost: the next event queues another.
KICK_STALE = timedelta(seconds=5 * SLICE_SECONDS)


def enqueue_send(project_id: int, endpoint_id: int, when: datetime | None = None) -> None:
    """A sender for the endpoint now (unless one is queued or running already), or a wake-up at
    ``when`` (unless one is booked for then or sooner)."""
    now = timezone.now()
    if when is None or when <= now:
        kicked = (
            WebhookEndpoint.objects.filter(project_id=project_id, pk=endpoint_id)
            .filter(Q(kicked_at__isnull=True) | Q(kicked_at__lt=now - KICK_STALE))
            .update(kicked_at=now)
        )
        if kicked:
            webhook_send_task.enqueue(project_id, endpoint_id)
        return
    if not can_defer():
        return  # the immediate queue cannot wait: the next event, or a retry asked for, sends it
    booked = (
        WebhookEndpoint.objects.filter(project_id=project_id, pk=endpoint_id)
        .filter(Q(wake_at__isnull=True) | Q(wake_at__gt=when) | Q(wake_at__lt=timezone.now()))
        .update(wake_at=when)
    )
    if booked:
        webhook_send_task.using(run_after=when).enqueue(project_id, endpoint_id)


@task
def webhook_send_task(project_id: int, endpoint_id: int) -> dict[str, object]:
    endpoint = WebhookEndpoint.objects.filter(project_id=project_id, pk=endpoint_id).first()
    if endpoint is None:
        return {"endpointId": endpoint_id, "gone": True}
    run = run_endpoint(endpoint, max_seconds=SLICE_SECONDS)
    # Let the next event start a sender, then look once more: an event committed after this one's
    # last look, whose start was held back because this one ran, is sent now or booked.
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(kicked_at=None)
    due = next_due(endpoint) if endpoint.enabled else None
    if due is not None:
        enqueue_send(project_id, endpoint_id, due)
    return {"endpointId": endpoint_id, "sent": run.sent, "failed": run.failed}
