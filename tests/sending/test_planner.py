"""Planning in one statement gives every recipient the row the rules give them, one by one."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.sending import factories as f
from tidings.audience.models import Contact, ContactStatus, Topic, TopicDefault
from tidings.audience.services import topic_set_subscription
from tidings.campaigns.models import Campaign
from tidings.sending.models import Message
from tidings.sending.planner import eligibility_counts, plan_campaign, skip_reason, topic_opted_out

pytestmark = pytest.mark.django_db

STATUSES = [s.value for s in ContactStatus]


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path


def _everyone(project: Any) -> tuple[Any, list[Contact]]:
    """A contact for every status × topic choice (yes, no, none given)."""
    news = f.tag(project)
    people = []
    for n, (status, _choice) in enumerate(itertools.product(STATUSES, ("yes", "no", "none"))):
        people += f.contacts(project, 1, tag=news, status=status, prefix=f"p{n}-")
    return news, people


@pytest.mark.parametrize("transactional", [False, True])
@pytest.mark.parametrize("default", [TopicDefault.OPT_IN, TopicDefault.OPT_OUT, None])
def test_the_planned_rows_follow_the_rules_for_every_recipient(project, transactional, default) -> None:
    f.outbox_connection(project)
    news, people = _everyone(project)
    topic = None
    if default is not None:
        topic = Topic.objects.create(project=project, name="Offers", default_subscription=default)
        for person, choice in zip(people, itertools.cycle(("yes", "no", "none")), strict=False):
            if choice != "none":
                topic_set_subscription(topic=topic, contact=person, subscribed=choice == "yes")
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    Campaign.objects.filter(pk=campaign.pk).update(transactional=transactional, topic=topic)
    campaign.refresh_from_db()
    opted = set()
    if topic is not None:
        opted = set(
            Contact.objects.filter(topic_opted_out(topic), project=project).values_list("pk", flat=True)
        )

    queued, excluded = plan_campaign(campaign)

    rows = {m.contact_id: m for m in Message.objects.filter(campaign=campaign)}
    assert set(rows) == {p.pk for p in people}
    for person in people:
        expected = skip_reason(
            status=person.status, transactional=transactional, opted_out=person.pk in opted
        )
        row = rows[person.pk]
        assert (row.skip_reason, row.state) == (expected, "skipped" if expected else "queued"), person.email
        assert (row.email, row.email_key, row.project_id) == (person.email, person.email_key, project.pk)
    assert (queued, excluded) == eligibility_counts(campaign)
    assert plan_campaign(campaign) == (queued, excluded)  # planning again adds nothing
    assert Message.objects.filter(campaign=campaign).count() == len(people)
