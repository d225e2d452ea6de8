"""Sending webhook deliveries: signed, pinned to the address that was checked, retried with backoff.

Each attempt POSTs the delivery's stored body with

    Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

(a second ``v1`` while a rotated-out secret still overlaps). A 2xx answer is
success; anything else, a timeout or a refused address is a failure, tried
again after ``BACKOFF`` (about two days in all), then left ``failed``.

The receiver's host is resolved once per attempt, every address must be
public (or listed by the operator), and the connection goes to that checked
address with TLS verified for the host's name, so a DNS answer that changes
between the check and the call cannot point the request inside. Redirects are
not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from tidings import __version__
from tidings.core import netguard, secrets
from tidings.hooks.events import TEST_EVENT
from tidings.hooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tidings.hooks.services import ALLOWED_SETTING

# Waits after the 1st, 2nd, … failed attempt; after the last the delivery fails.
BACKOFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 15.0  # seconds for one attempt in all, however the receiver drips its answer
LEASE = timedelta(seconds=60)
KEEP_RESPONSE = 1000
KEEP_LOG = timedelta(days=30)
REREAD = 1.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(endpoint: WebhookEndpoint, timestamp: int, body: bytes, *, now: datetime) -> str:
    keys = [secrets.decrypt(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        keys.append(secrets.decrypt(endpoint.previous_secret))
    return ",".join([f"t={timestamp}", *(f"v1={signature(k, timestamp, body)}" for k in keys)])


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str
    response: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pinned(url: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by a checked address, the Host header and the TLS name."""
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")  # IDNA-encoded, as it goes on the wire
    addresses = netguard.public_addresses(
        host, allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS, setting=ALLOWED_SETTING
    )
    if not addresses:
        raise httpx.ConnectError(f"{host} does not resolve to an address")
    address = addresses[0]
    if target.host == str(address):
        return target, {}, {}
    named = f"[{host}]" if ":" in host else host
    host_header = named if target.port is None else f"{named}:{target.port}"
    return target.copy_with(host=str(address)), {"Host": host_header}, {"sni_hostname": host}


def _read_capped(response: httpx.Response, started: float) -> str:
    """The start of the answer's body: KEEP_RESPONSE bytes at most, within DEADLINE seconds in all,
    so a receiver that sends much, or drips, cannot hold the sender."""
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= KEEP_RESPONSE or time.monotonic() - started > DEADLINE:
            break
    return kept[:KEEP_RESPONSE].decode("utf-8", "replace")


def post(client: httpx.Client, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> Outcome:
    """One attempt. Whatever goes wrong (a refused address, a URL httpx cannot send to, an
    unreadable secret, the network) is a failed attempt, never an exception: one bad delivery must
    not stop the ones behind it."""
    started = time.monotonic()
    try:
        body = delivery.body.encode()
        now = timezone.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"Tidings-Webhooks/{__version__}",
            "Tidings-Event": delivery.event_type,
            "Tidings-Event-Id": delivery.event_id,
            "Tidings-Delivery": str(delivery.pk),
            "Tidings-Attempt": str(delivery.attempts + 1),
            "Tidings-Signature": signature_header(endpoint, int(now.timestamp()), body, now=now),
        }
        url, host, extensions = _pinned(endpoint.url)
        request = client.build_request(
            "POST", url, content=body, headers={**headers, **host}, extensions=extensions
        )
        response = client.send(request, stream=True)
        try:
            text = _read_capped(response, started)
        finally:
            response.close()
    except netguard.BlockedAddress as exc:
        return Outcome(None, f"refused: {exc.detail}", "", 0)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {TIMEOUT.read:.0f} s", "", _since(started))
    except Exception as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], "", _since(started))
    error = "" if response.is_success else f"answered {response.status_code} {response.reason_phrase}"[:500]
    return Outcome(response.status_code, error, text, _since(started))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def record(delivery: WebhookDelivery, outcome: Outcome) -> WebhookDelivery:
    """Log the attempt and move the delivery on: succeeded, due again later, or failed.

    Only while this sender still holds it (its lease unchanged): a sender whose lease ran out and
    whose delivery another took over leaves the outcome to that one.
    """
    now = timezone.now()
    held = delivery.lease_until
    attempts = delivery.attempts + 1
    changes: dict[str, object] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": outcome.error,
        "lease_until": None,
    }
    if outcome.ok:
        changes.update(state=DeliveryState.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif delivery.event_type == TEST_EVENT or attempts >= MAX_ATTEMPTS:
        changes.update(state=DeliveryState.FAILED, next_attempt_at=None)
    else:
        changes.update(
            state=DeliveryState.PENDING, next_attempt_at=now + timedelta(seconds=BACKOFF[attempts - 1])
        )
    with transaction.atomic():
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, lease_until=held).update(**changes)
        if mine:
            WebhookAttempt.objects.create(
                delivery=delivery,
                number=attempts,
                at=now,
                status=outcome.status,
                error=outcome.error,
                response_body=outcome.response,
                duration_ms=outcome.duration_ms,
            )
    if mine:
        for field, value in changes.items():
            setattr(delivery, field, value)
    return delivery


@contextmanager
def http_client() -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=settings.WEBHOOK_CA_FILE or None)
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, verify=verify, trust_env=False) as client:
        yield client


def send_now(delivery: WebhookDelivery) -> WebhookDelivery:
    """One attempt at once, in the caller (the "send test event" action)."""
    delivery.lease_until = timezone.now() + LEASE
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=delivery.lease_until)
    with http_client() as client:
        return record(delivery, post(client, delivery.endpoint, delivery))


def _due(endpoint: WebhookEndpoint, now: datetime) -> Q:
    return Q(endpoint=endpoint, state=DeliveryState.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def _claim(endpoint: WebhookEndpoint) -> WebhookDelivery | None:
    """The oldest due delivery, taken by a conditional update so two senders never hold the same
    one. One at a time: its lease (LEASE) outlasts one attempt (DEADLINE), not a batch of them."""
    while True:
        now = timezone.now()
        delivery = WebhookDelivery.objects.filter(_due(endpoint, now)).order_by("id").first()
        if delivery is None:
            return None
        lease = now + LEASE
        if WebhookDelivery.objects.filter(_due(endpoint, now), pk=delivery.pk).update(lease_until=lease):
            delivery.lease_until = lease
            return delivery


@dataclass(frozen=True)
class Run:
    sent: int
    failed: int
    next_due: datetime | None


def run_endpoint(endpoint: WebhookEndpoint, *, max_seconds: float = 60.0) -> Run:
    """Send the endpoint's due deliveries for up to ``max_seconds``; when the next one is due.

    The endpoint is read again every REREAD seconds: a change of URL, secret or switch made
    meanwhile holds within a second.
    """
    deadline = time.monotonic() + max_seconds
    sent = failed = 0
    read_at = 0.0
    with http_client() as client:
        while time.monotonic() < deadline:
            if time.monotonic() - read_at > REREAD:
                endpoint.refresh_from_db()
                read_at = time.monotonic()
            if not endpoint.enabled:
                return Run(sent, failed, None)
            delivery = _claim(endpoint)
            if delivery is None:
                break
            outcome = post(client, endpoint, delivery)
            record(delivery, outcome)
            sent += outcome.ok
            failed += not outcome.ok
    _forget_old(endpoint)
    return Run(sent, failed, next_due(endpoint))


def _forget_old(endpoint: WebhookEndpoint) -> None:
    """The delivery log keeps KEEP_LOG of finished deliveries; older ones go, a batch at a time."""
    cutoff = timezone.now() - KEEP_LOG
    old = WebhookDelivery.objects.filter(
        endpoint=endpoint, state__in=[DeliveryState.SUCCEEDED, DeliveryState.FAILED], created_at__lt=cutoff
    )
    pks = list(old.values_list("pk", flat=True)[:1000])
    if pks:
        WebhookDelivery.objects.filter(pk__in=pks).delete()


def next_due(endpoint: WebhookEndpoint) -> datetime | None:
    """When the endpoint has something to send next: the earliest wait that ends, or the earliest
    lease that runs out (its sender may have died)."""
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    found = WebhookDelivery.objects.filter(endpoint=endpoint, state=DeliveryState.PENDING).aggregate(
        waiting=Min("next_attempt_at", filter=free), held=Min("lease_until", filter=~free)
    )
    times = [t for t in found.values() if t is not None]
    return min(times) if times else None
