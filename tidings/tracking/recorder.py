"""Opens and clicks, written in batches: the pixel and the redirect answer without waiting on a write.

A request reads its signed token (no database for the pixel; one indexed
query for a click's stored URL) and hands a ``Hit`` to this process's
``Recorder``. Every ``TIDINGS_TRACKING_FLUSH_SECONDS`` a thread writes what
has gathered in one transaction: the messages named are read in one query,
hits for messages that no longer exist (or of another project) are dropped,
machines are told from people, and each person's first open or click of a
message also becomes the contact's activity (for segments).

Hits wait in memory at most one interval: a graceful stop (the server's
SIGTERM or SIGINT, the interpreter's exit) writes them; a hard kill of the process loses at
most that last interval of opens and clicks, never a message. If the
database is unreachable, hits are kept (up to ``MAX_PENDING``) and written
once it answers. With the interval at 0 each hit is written in its request.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction

from tidings.hooks import events as hook_events
from tidings.hooks import services as hooks

log = logging.getLogger(__name__)

MAX_PENDING = 200_000  # beyond this, while the database does not answer, the oldest hits are dropped


@dataclass(frozen=True, slots=True)
class Hit:
    project_id: int
    message_id: int
    kind: str  # opened or clicked
    link_id: int | None
    at: datetime
    user_agent: str
    ip: str | None
    method: str


@dataclass(frozen=True, slots=True)
class Engagement:
    """A person's open or click of a message, as a contact's activity may count it."""

    project_id: int
    message_id: int
    contact_id: int
    campaign_id: int | None
    kind: str
    at: datetime


def engagement_activity(engagements: list[Engagement], *, exclude_event: int | None = None) -> int:
    """A person's first open and first click of each message become the contact's activity (what
    segments ask about); later ones, and those of machines, do not. Checks the stored events
    (but ``exclude_event``, the one just stored) and the list itself; returns how many counted."""
    from tidings.audience.activity import Activity, activity_record
    from tidings.tracking.models import TrackingEvent

    if not engagements:
        return 0
    earlier = TrackingEvent.objects.filter(
        message_id__in={e.message_id for e in engagements},
        kind__in={e.kind for e in engagements},
        machine=False,
    )
    if exclude_event is not None:
        earlier = earlier.exclude(pk=exclude_event)
    seen = set(earlier.values_list("message_id", "kind").distinct())
    firsts: dict[int, list[Activity]] = defaultdict(list)
    for e in engagements:
        if (e.message_id, e.kind) not in seen:
            seen.add((e.message_id, e.kind))
            firsts[e.project_id].append(Activity(e.contact_id, e.kind, e.at, campaign_id=e.campaign_id))
    for project_id, activities in firsts.items():
        activity_record(project=project_id, activities=activities)
    return sum(len(a) for a in firsts.values())


def _database_down(exc: Exception) -> bool:
    """The database (or the way to it) failed, rather than this row: keep the hit for later."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError | OSError)


def write_hits(hits: list[Hit]) -> int:
    """Store the hits in one transaction; returns how many were stored."""
    from tidings.sending.models import Message
    from tidings.tracking.machines import is_machine
    from tidings.tracking.models import TrackingEvent

    if not hits:
        return 0
    known = {
        row[0]: row
        for row in Message.objects.filter(pk__in={h.message_id for h in hits}).values_list(
            "pk", "project_id", "campaign_id", "contact_id", "sent_at", "project__store_ip", "email"
        )
    }
    events: list[TrackingEvent] = []
    people: list[Engagement] = []
    for hit in hits:
        row = known.get(hit.message_id)
        if row is None or row[1] != hit.project_id:
            continue  # the message was deleted (or the token is of another project's message)
        _, project_id, campaign_id, contact_id, sent_at, store_ip, _ = row
        machine = is_machine(
            user_agent=hit.user_agent, kind=hit.kind, method=hit.method, sent_at=sent_at, now=hit.at
        )
        events.append(
            TrackingEvent(
                project_id=project_id,
                campaign_id=campaign_id,
                message_id=hit.message_id,
                contact_id=contact_id,
                kind=hit.kind,
                link_id=hit.link_id,
                occurred_at=hit.at,
                user_agent=hit.user_agent,
                ip=hit.ip if store_ip else None,
                machine=machine,
            )
        )
        if not machine and contact_id is not None:
            people.append(Engagement(project_id, hit.message_id, contact_id, campaign_id, hit.kind, hit.at))
    with transaction.atomic():
        engagement_activity(people)  # before the batch is stored: it looks at earlier events
        TrackingEvent.objects.bulk_create(events, batch_size=1000)
        _emit(events, {pk: row[6] for pk, row in known.items()})
    return len(events)


def _emit(stored: list[Any], emails: dict[int, str]) -> None:
    """message.opened / message.clicked for the endpoints that listen (one query per project and
    kind when none does)."""
    from tidings.tracking.models import TrackedLink

    groups: dict[tuple[int, str], list[Any]] = {}
    for event in stored:
        event.email = emails.get(event.message_id, "")
        groups.setdefault((event.project_id, event.kind), []).append(event)
    for (project_id, kind), found in groups.items():
        event_type = hook_events.MESSAGE_EVENTS[kind]
        endpoints = hooks.listeners(project_id, event_type)
        if not endpoints:
            continue
        urls = dict(
            TrackedLink.objects.filter(pk__in={e.link_id for e in found if e.link_id}).values_list(
                "pk", "url"
            )
        )
        data = [hook_events.tracking_data(e, url=urls.get(e.link_id, "")) for e in found]
        hooks.emit_many(project_id, event_type, data, endpoints=endpoints)


class Recorder:
    """This process's queue of hits and the thread that writes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards the list
        self._writing = threading.Lock()  # one batch written at a time: the last flush waits for it
        self._pending: list[Hit] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, hit: Hit) -> None:
        interval = settings.TRACKING_FLUSH_SECONDS
        if interval <= 0:
            write_hits([hit])
            return
        with self._lock:
            self._pending.append(hit)
            if len(self._pending) > MAX_PENDING:
                dropped = len(self._pending) - MAX_PENDING
                del self._pending[:dropped]
                log.error("tracking: %s hits dropped: the database has not taken any for too long", dropped)
            if self._thread is None or self._pid != os.getpid():
                self._start()

    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write what is pending now (also called at exit); returns how many were stored."""
        with self._writing:
            with self._lock:
                hits, self._pending = self._pending, []
            if not hits:
                return 0
            try:
                return write_hits(hits)
            except Exception:
                log.exception("tracking: writing %s hits failed; trying them one by one", len(hits))
            stored, kept = 0, []
            for hit in hits:
                try:
                    stored += write_hits([hit])
                except Exception as exc:
                    if _database_down(exc):
                        kept.append(hit)
                    else:
                        log.warning("tracking: a hit could not be stored and is dropped: %s", exc)
            if kept:
                log.error(
                    "tracking: %s hits kept for the next attempt: the database does not answer", len(kept)
                )
                with self._lock:
                    self._pending[:0] = kept
            return stored

    def _start(self) -> None:
        # Called with the lock held; a forked worker starts its own thread.
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="tracking-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.flush)
        # A server's worker processes (multiprocessing children) end without atexit; their
        # finalizers run on a graceful stop.
        multiprocessing.util.Finalize(None, self.flush, exitpriority=10)

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.TRACKING_FLUSH_SECONDS)
            self._wake.clear()
            close_old_connections()
            started = time.monotonic()
            stored = self.flush()
            if stored:
                log.debug("tracking: %s hits stored in %.1f ms", stored, (time.monotonic() - started) * 1000)


recorder = Recorder()
