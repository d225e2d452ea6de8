"""Send control: the rate limit's accuracy and how soon a pause stops new sends.

A campaign of N contacts (``BENCH_RECIPIENTS``, default 600) goes to the
``outbox`` connection, sent by ``run_campaign`` in this process:

- unthrottled first (the baseline: how fast this machine sends here at all),
- then with the connection limited to ``BENCH_RATE`` messages a second
  (default 100, well under the baseline): the figure is the achieved rate
  (messages after the first / seconds from the first to the last ``sent_at``)
  as a share of the limit — the issue asks for within 5 %;
- then unthrottled again, paused from another thread after a quarter of the
  messages: the pause latency is the time from the pause to the worker's last
  send, and to the worker letting go (``run_campaign`` returning). Goal < 2 s.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "600"))
RATE = int(os.environ.get("BENCH_RATE", "100"))


def _campaign(project: Any, connection: Any, n: int, label: str) -> Any:
    from tidings.audience.models import Contact, Tag
    from tidings.campaigns.services import campaign_create, campaign_start
    from tidings.content.services import design_create

    tag = Tag.objects.create(project=project, name=label)
    contacts = Contact.objects.bulk_create(
        Contact(
            project=project,
            email=f"{label}{i}@example.net",
            email_key=f"{label}{i}@example.net",
            first_name=f"P{i}",
        )
        for i in range(n)
    )
    tag.contacts.add(*Contact.objects.filter(project=project, email_key__startswith=label))
    design = design_create(
        project=project,
        values={
            "name": label,
            "format": "html",
            "subject": "Hi {{ firstName }}",
            "body": "<p>Hello {{ firstName }}</p>",
        },
    )
    campaign = campaign_create(
        project=project,
        values={
            "name": label,
            "designId": design.pk,
            "from": "news@example.com",
            "recipientType": "tag",
            "recipientId": tag.pk,
            "connectionId": connection.pk,
        },
    )
    del contacts
    return campaign_start(campaign=campaign)


def _sent_times(campaign: Any) -> list[float]:
    from tidings.sending.models import Message

    return sorted(
        t.timestamp()
        for t in Message.objects.filter(campaign=campaign, state="sent").values_list("sent_at", flat=True)
    )


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command

    from tidings.campaigns.models import Campaign
    from tidings.campaigns.services import campaign_pause
    from tidings.core import services
    from tidings.sending.pipeline import run_campaign
    from tidings.sending.services import connection_create

    call_command("migrate", verbosity=0)
    project = services.project_create(name="Send control bench", postal_address="1 Main St")
    fast = connection_create(project=project, name="fast", kind="outbox", is_default=True)
    limited = connection_create(project=project, name="limited", kind="outbox", rate_limit=RATE)

    baselines, rates, stops, releases = [], [], [], []
    for round_ in range(repeat):
        campaign = _campaign(project, fast, RECIPIENTS, f"base{round_}-")
        started = time.perf_counter()
        run_campaign(Campaign.objects.get(pk=campaign.pk))
        baselines.append(RECIPIENTS / (time.perf_counter() - started))

        campaign = _campaign(project, limited, RECIPIENTS, f"rate{round_}-")
        run_campaign(Campaign.objects.get(pk=campaign.pk))
        times = _sent_times(campaign)
        rates.append((len(times) - 1) / (times[-1] - times[0]))

        campaign = _campaign(project, fast, RECIPIENTS * 4, f"pause{round_}-")
        paused_at: list[float] = []

        def pause(campaign: Any = campaign, paused_at: list[float] = paused_at) -> None:
            from django.db import connections

            from tidings.sending.models import Message

            while Message.objects.filter(campaign=campaign, state="sent").count() < RECIPIENTS:
                time.sleep(0.01)
            paused_at.append(time.time())
            campaign_pause(campaign=Campaign.objects.get(pk=campaign.pk))
            connections.close_all()

        thread = threading.Thread(target=pause)
        thread.start()
        run_campaign(Campaign.objects.get(pk=campaign.pk))
        returned = time.time()
        thread.join()
        last = _sent_times(campaign)[-1]
        stops.append(max(0.0, last - paused_at[0]))
        releases.append(returned - paused_at[0])

    achieved = statistics.median(rates)
    return {
        "figure": "achieved rate / configured limit (outbox, one worker)",
        "unit": "ratio",
        "value": round(achieved / RATE, 4),
        "baseline": round(statistics.median(baselines), 1),
        "baseline_unit": "messages/s unthrottled, same run",
        "rate_limit": RATE,
        "achieved_rates": [round(r, 2) for r in rates],
        "pause_last_send_after_s": [round(s, 3) for s in stops],
        "pause_worker_released_after_s": [round(r, 3) for r in releases],
        "recipients": RECIPIENTS,
    }
