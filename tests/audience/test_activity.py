"""Activity: every event moves the contact's latest-activity time, and segments read it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tidings.audience.activity import Activity, activity_record, activity_summary_refresh
from tidings.audience.models import Contact, ContactActivity
from tidings.audience.segments import segment_contacts
from tidings.core.models import Project

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def contact(project: Project, n: int) -> Contact:
    return Contact.objects.create(project=project, email=f"c{n}@example.com", email_key=f"c{n}@example.com")


def test_latest_activity_only_moves_forward(project: Project) -> None:
    ada = contact(project, 1)
    activity_record(project=project, activities=[Activity(ada.pk, "opened", NOW)])
    activity_record(project=project, activities=[Activity(ada.pk, "opened", NOW - timedelta(days=3))])
    ada.refresh_from_db()
    assert (ada.last_opened_at, ada.last_sent_at, ada.last_clicked_at) == (NOW, None, None)
    assert ContactActivity.objects.filter(contact=ada).count() == 2


def test_another_projects_contact_is_ignored(project: Project, other_project: Project) -> None:
    theirs = contact(other_project, 1)
    stored = activity_record(project=project, activities=[Activity(theirs.pk, "clicked", NOW)])
    theirs.refresh_from_db()
    assert (stored, theirs.last_clicked_at) == (0, None)
    assert not ContactActivity.objects.exists()


def test_unknown_kind_is_refused(project: Project) -> None:
    with pytest.raises(ValueError, match="unknown activity kind 'bounced'"):
        activity_record(project=project, activities=[Activity(contact(project, 1).pk, "bounced", NOW)])


def test_refresh_rebuilds_the_same_times_from_the_events(project: Project) -> None:
    rng = random.Random(7)
    people = [contact(project, n) for n in range(20)]
    events = [
        Activity(p.pk, rng.choice(["sent", "opened", "clicked"]), NOW - timedelta(hours=rng.randint(0, 5000)))
        for p in people
        for _ in range(rng.randint(0, 4))
    ]
    activity_record(project=project, activities=events)
    recorded = list(
        Contact.objects.order_by("pk").values_list("last_sent_at", "last_opened_at", "last_clicked_at")
    )
    Contact.objects.update(last_sent_at=None, last_opened_at=None, last_clicked_at=None)
    activity_summary_refresh(project=project)
    assert list(
        Contact.objects.order_by("pk").values_list("last_sent_at", "last_opened_at", "last_clicked_at")
    ) == (recorded)


@pytest.mark.parametrize("operator", ["within", "not_within", "never"])
@pytest.mark.parametrize("kind", ["sent", "opened", "clicked"])
def test_activity_rules_read_from_the_contact_match_the_events(
    project: Project, operator: str, kind: str
) -> None:
    rng = random.Random(f"{operator}-{kind}")
    people = [contact(project, n) for n in range(60)]
    events = [
        Activity(
            p.pk, rng.choice(["sent", "opened", "clicked"]), NOW - timedelta(hours=rng.randint(0, 24 * 120))
        )
        for p in people
        for _ in range(rng.randint(0, 3))
    ]
    activity_record(project=project, activities=events)
    days = 30
    cutoff = NOW - timedelta(days=days)
    mine = {p.pk: [e.occurred_at for e in events if e.contact_id == p.pk and e.kind == kind] for p in people}
    expected = {
        "within": {pk for pk, times in mine.items() if any(t >= cutoff for t in times)},
        "not_within": {pk for pk, times in mine.items() if not any(t >= cutoff for t in times)},
        "never": {pk for pk, times in mine.items() if not times},
    }[operator]
    condition = {"type": "activity", "activity": kind, "operator": operator}
    if operator != "never":
        condition["days"] = days
    rules = {"match": "all", "conditions": [condition]}
    found = set(segment_contacts(project=project, filters=rules, now=NOW).values_list("pk", flat=True))
    assert found == expected
    assert expected  # the random data exercises the rule
