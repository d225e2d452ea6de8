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
from tidings.hooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tidings.hooks.sender import next_due, run_endpoint

SLICE_SECONDS = 60.0
# A sender queued this long ago and still not done is taken for lost: the next event queues another.
KICK_STALE = timedelta(seconds=5 * SLICE_SECONDS)


def enqueue_send(project_id: int, endpoint_id: int, when: datetime | None = None) -> None:
    """A sender for the endpoint now (unless one is queued or running already), or a wake-up at
    ``when`` (unless one is booked for then or sooner)."""
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.filter(project_id=project_id, pk=endpoint_id)
    if when is None or when <= now:
        if endpoint.filter(Q(kicked_at__isnull=True) | Q(kicked_at__lt=now - KICK_STALE)).update(
            kicked_at=now
        ):
            try:
                webhook_send_task.enqueue(project_id, endpoint_id, now.isoformat())
            except Exception:
                endpoint.filter(kicked_at=now).update(kicked_at=None)  # none is queued after all
                raise
        return
    if not can_defer():
        return  # the immediate queue cannot wait: the next event, or a retry asked for, sends it
    if endpoint.filter(Q(wake_at__isnull=True) | Q(wake_at__gt=when) | Q(wake_at__lt=now)).update(
        wake_at=when
    ):
        webhook_send_task.using(run_after=when).enqueue(project_id, endpoint_id)


@task
def webhook_send_task(project_id: int, endpoint_id: int, kicked: str | None = None) -> dict[str, object]:
    """Send what is due. ``kicked`` is the ``kicked_at`` of the start that queued this sender (a
    wake-up has none): the sender lets go of that start when it ends, however it ends."""
    endpoint = WebhookEndpoint.objects.filter(project_id=project_id, pk=endpoint_id).first()
    if endpoint is None:
        return {"endpointId": endpoint_id, "gone": True}
    try:
        run = run_endpoint(endpoint, max_seconds=SLICE_SECONDS)
    finally:
        if kicked is not None:
            # Let the next event start a sender (unless a later start holds it already).
            WebhookEndpoint.objects.filter(pk=endpoint_id, kicked_at=datetime.fromisoformat(kicked)).update(
                kicked_at=None
            )
    # Then look once more: an event committed after this sender's last look, whose start was held
    # back because this one ran, is sent now or booked. The immediate queue would run the sender
    # again inside this one: it leaves that to the next event or retry.
    due = next_due(endpoint) if endpoint.enabled and can_defer() else None
    if due is not None:
        enqueue_send(project_id, endpoint_id, due)
    return {"endpointId": endpoint_id, "sent": run.sent, "failed": run.failed}


def wake_all() -> int:
    """Start a sender for every endpoint with deliveries due and no live sender (a worker starting
    up calls this): deliveries whose sender died with its worker go on."""
    if not can_defer():
        return 0
    now = timezone.now()
    due = (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .values_list("project_id", "endpoint_id")
        .distinct()
    )
    started = 0
    for project_id, endpoint_id in due:
        enqueue_send(project_id, endpoint_id)
        started += 1
    return started
