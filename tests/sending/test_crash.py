"""The pipeline survives its worker being killed: nothing lost, nothing sent twice but what was in flight.

A campaign to 5,000 contacts goes through a real SMTP server on loopback, sent by
a real worker process (the database task queue's worker) that is killed with
SIGKILL at random moments, four times, and started again. Recovery needs
nothing but the message rows: leases run out and the campaign's watch task
starts a new sender.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.core.test_task_queue import REPO, database_url
from tests.sending import factories as f
from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.campaigns.services import campaign_start
from tidings.core.queue import worker_command
from tidings.sending.models import Message, MessageState

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.serial]

RECIPIENTS = int(os.environ.get("CRASH_RECIPIENTS", "5000"))
KILLS = 4
LEASE_SECONDS = 2


def _worker(tmp_path: Path) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "TIDINGS_DATA_DIR": str(tmp_path / "data"),
        "TIDINGS_DATABASE_URL": database_url(),
        "TIDINGS_SECRET_KEY": django_settings.SECRET_KEY,
        "TIDINGS_TASKS_BACKEND": "db",
        "TIDINGS_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "TIDINGS_LOG_LEVEL": "info",
        "PYTHONPATH": str(REPO),
    }
    command = [*worker_command(), "--interval", "0.2"]
    return subprocess.Popen(
        command, cwd=REPO, env=environ, stdout=open(tmp_path / "worker.log", "ab"), stderr=subprocess.STDOUT
    )


def _sent(campaign: Campaign) -> int:
    return Message.objects.filter(campaign=campaign, state=MessageState.SENT).count()


def test_killing_the_worker_loses_nothing_and_repeats_at_most_the_message_in_flight(
    project: Any, smtp_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.SEND_LEASE_SECONDS = LEASE_SECONDS
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    news = f.tag(project)
    people = f.contacts(project, RECIPIENTS, tag=news)
    design = f.design(project, fmt="html", body="<p>Hello {{ firstName }}, this is for {{ email }}.</p>")
    campaign = f.campaign(project, design_obj=design, tag_obj=news)
    campaign_start(campaign=campaign)
    assert Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).count() == RECIPIENTS

    rng = random.Random(os.getpid())
    kills = 0
    worker = _worker(tmp_path)
    try:
        while kills < KILLS:
            # Kill at a random moment once the worker is sending (or, for variety, before it sent much).
            started = time.monotonic()
            target = _sent(campaign) + rng.randint(1, RECIPIENTS // (KILLS + 2))
            while _sent(campaign) < target and time.monotonic() - started < 60:
                campaign.refresh_from_db()
                assert campaign.status == CampaignStatus.SENDING, campaign.error
                time.sleep(rng.uniform(0.01, 0.2))
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            kills += 1
            assert _sent(campaign) < RECIPIENTS, "the campaign finished before the kills were done"
            worker = _worker(tmp_path)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.status != CampaignStatus.SENDING:
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT, campaign.error
    states = Counter(Message.objects.filter(campaign=campaign).values_list("state", flat=True))
    assert states == {MessageState.SENT: RECIPIENTS}
    assert not Message.objects.filter(campaign=campaign).exclude(lease_owner="").exists()
    received = Counter(r.rcpt_tos[0] for r in smtp_server.messages)
    assert set(received) == {p.email for p in people}  # every eligible recipient got it
    twice = {address: n for address, n in received.items() if n > 1}
    # Each worker sends one message at a time: at most one in flight per kill.
    assert len(twice) <= kills, twice
    assert all(n == 2 for n in twice.values())
