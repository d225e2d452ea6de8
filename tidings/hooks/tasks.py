"""Background sending of webhook deliveries, one task per endpoint at a time of need.

An event enqueues its endpoints' senders after commit. A sender that leaves
deliveries waiting (a retry's backoff, a lease of a sender that may have died)
books one wake-up for the earliest of them; ``wake_at`` keeps a burst of events
from booking a wake-up each.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from tidings.core.queue import can_defer
from tidings.hooks.models import WebhookEndpoint
from tidings.hooks.sender import run_endpoint

SLICE_SECONDS = 60.0


def enqueue_send(project_id: int, endpoint_id: int, when: datetime | None = None) -> None:
    if when is None or when <= timezone.now():
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
    if run.next_due is not None:
        enqueue_send(project_id, endpoint_id, run.next_due)
    return {"endpointId": endpoint_id, "sent": run.sent, "failed": run.failed}
