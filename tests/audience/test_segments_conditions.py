"""Segment conditions on tags, status, topics and activity; groups; one query; tenancy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.audience.segment_factories import (
    NOW,
    act,
    choose,
    field,
    make_contact,
    make_tag,
    make_topic,
    members,
    one,
    tag,
)
from tidings.audience import segments
from tidings.audience.models import ContactStatus
from tidings.core.errors import ValidationError
from tidings.core.models import Project


def tag_rule(operator: str, *tags: Any) -> dict[str, Any]:
    return one({"type": "tag", "operator": operator, "value": [t.pk for t in tags]})


def test_tag_has_any_and_has_none(project: Project) -> None:
    vip, old = make_tag(project, "vip"), make_tag(project, "old")
    tag(make_contact(project, "a@example.org"), vip, old)
    tag(make_contact(project, "b@example.org"), vip)
    tag(make_contact(project, "c@example.org"), old)
    make_contact(project, "d@example.org")
    assert members(project, tag_rule("has_any", vip)) == {"a@example.org", "b@example.org"}
    assert members(project, tag_rule("has_any", vip, old)) == {
        "a@example.org",
        "b@example.org",
        "c@example.org",
    }
    assert members(project, tag_rule("has_none", vip)) == {"c@example.org", "d@example.org"}
    assert members(project, tag_rule("has_none", vip, old)) == {"d@example.org"}


def test_a_contact_with_several_matching_tags_is_counted_once(project: Project) -> None:
    vip, old = make_tag(project, "vip"), make_tag(project, "old")
    tag(make_contact(project, "a@example.org"), vip, old)
    assert segments.segment_count(project=project, filters=tag_rule("has_any", vip, old)) == 1


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("is", "subscribed", {"subscribed"}),
        ("is", ["bounced", "complained"], {"bounced", "complained"}),
        ("is_not", "subscribed", {"unsubscribed", "non-subscribed", "bounced", "complained"}),
        ("is_not", ["subscribed", "unsubscribed", "bounced"], {"non-subscribed", "complained"}),
    ],
)
def test_status_is_and_is_not(project: Project, operator: str, value: Any, expected: set[str]) -> None:
    for status in ContactStatus.values:
        make_contact(project, f"{status}@example.org", status=status)
    rule = one({"type": "status", "operator": operator, "value": value})
    assert members(project, rule) == {f"{s}@example.org" for s in expected}


def topic_rule(operator: str, topic: Any) -> dict[str, Any]:
    return one({"type": "topic", "operator": operator, "value": topic.pk})


def test_opt_out_topic_counts_everyone_who_did_not_say_no(project: Project) -> None:
    news = make_topic(project, "News", "opt_out")
    make_contact(project, "silent@example.org")
    choose(make_contact(project, "no@example.org"), news, subscribed=False)
    choose(make_contact(project, "yes@example.org"), news, subscribed=True)
    assert members(project, topic_rule("subscribed", news)) == {"silent@example.org", "yes@example.org"}
    assert members(project, topic_rule("not_subscribed", news)) == {"no@example.org"}


def test_opt_in_topic_counts_only_who_said_yes(project: Project) -> None:
    offers = make_topic(project, "Offers", "opt_in")
    make_contact(project, "silent@example.org")
    choose(make_contact(project, "no@example.org"), offers, subscribed=False)
    choose(make_contact(project, "yes@example.org"), offers, subscribed=True)
    assert members(project, topic_rule("subscribed", offers)) == {"yes@example.org"}
    assert members(project, topic_rule("not_subscribed", offers)) == {"silent@example.org", "no@example.org"}


def test_a_choice_for_another_topic_does_not_count(project: Project) -> None:
    news, offers = make_topic(project, "News", "opt_out"), make_topic(project, "Offers", "opt_in")
    contact = make_contact(project, "a@example.org")
    choose(contact, offers, subscribed=True)
    choose(contact, news, subscribed=False)
    assert members(project, topic_rule("subscribed", offers)) == {"a@example.org"}
    assert members(project, topic_rule("subscribed", news)) == set()


@pytest.fixture
def engaged(project: Project) -> Project:
    ann, bob, cy = (make_contact(project, f"{n}@example.org") for n in ("ann", "bob", "cy"))
    act(ann, "sent", days_ago=10, campaign_id=1)
    act(ann, "opened", days_ago=10, campaign_id=1)
    act(ann, "opened", days_ago=12, campaign_id=1)
    act(bob, "sent", days_ago=100, campaign_id=2)
    act(bob, "opened", days_ago=100, campaign_id=2)
    act(bob, "clicked", days_ago=99, campaign_id=2)
    act(cy, "sent", days_ago=5, campaign_id=1)
    return project


def activity(
    kind: str, operator: str, days: int | None = None, campaign: int | None = None
) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "activity", "activity": kind, "operator": operator}
    if days is not None:
        condition["days"] = days
    if campaign is not None:
        condition["campaignId"] = campaign
    return one(condition)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (activity("opened", "within", 30), {"ann"}),
        (activity("opened", "not_within", 30), {"bob", "cy"}),
        (activity("opened", "before", 30), {"bob"}),
        (activity("opened", "never"), {"cy"}),
        (activity("sent", "within", 7), {"cy"}),
        (activity("sent", "before", 7), {"ann", "bob"}),
        (activity("clicked", "within", 100), {"bob"}),
        (activity("clicked", "never"), {"ann", "cy"}),
        (activity("opened", "within", 365, campaign=2), {"bob"}),
        (activity("opened", "not_within", 365, campaign=1), {"bob", "cy"}),
        (activity("opened", "before", 11, campaign=1), {"ann"}),
        (activity("sent", "never", campaign=1), {"bob"}),
        (activity("opened", "never", campaign=3), {"ann", "bob", "cy"}),
    ],
)
def test_activity_within_not_within_before_never(
    engaged: Project, rule: dict[str, Any], expected: set[str]
) -> None:
    assert members(engaged, rule) == {f"{n}@example.org" for n in expected}


def test_nested_any_and_all_groups(project: Project) -> None:
    vip = make_tag(project, "vip")
    tag(make_contact(project, "vip-de@example.org", country="DE"), vip)
    tag(make_contact(project, "vip-us@example.org", country="US"), vip)
    make_contact(project, "fr@example.org", country="FR", custom_fields={"age": 70})
    make_contact(project, "fr-young@example.org", country="FR", custom_fields={"age": 20})
    make_contact(project, "us-gone@example.org", country="US", status="unsubscribed")
    rule = {
        "match": "any",
        "conditions": [
            {
                "match": "all",
                "conditions": [
                    {"type": "tag", "operator": "has_any", "value": [vip.pk]},
                    field("country", "is", "DE"),
                ],
            },
            {
                "match": "all",
                "conditions": [
                    {"type": "status", "operator": "is", "value": "subscribed"},
                    {"type": "tag", "operator": "has_none", "value": [vip.pk]},
                    {
                        "match": "any",
                        "conditions": [field("country", "is", "US"), field("customFields.age", "gt", 65)],
                    },
                ],
            },
        ],
    }
    assert members(project, rule) == {"vip-de@example.org", "fr@example.org"}


@pytest.mark.parametrize(
    "filters", [{}, {"match": "all", "conditions": []}, {"match": "any", "conditions": []}]
)
def test_empty_rules_mean_everyone_in_the_project(
    project: Project, other_project: Project, filters: dict[str, Any]
) -> None:
    make_contact(project, "a@example.org", status="unsubscribed")
    make_contact(project, "b@example.org")
    make_contact(other_project, "c@example.org")
    assert members(project, filters) == {"a@example.org", "b@example.org"}


def test_empty_nested_groups_add_no_restriction(project: Project) -> None:
    make_contact(project, "de@example.org", country="DE")
    make_contact(project, "us@example.org", country="US")
    empty = {"match": "all", "conditions": []}
    assert members(project, {"match": "any", "conditions": [empty, field("country", "is", "DE")]}) == {
        "de@example.org"
    }
    assert members(project, {"match": "all", "conditions": [empty, {"match": "any", "conditions": []}]}) == {
        "de@example.org",
        "us@example.org",
    }


def test_contacts_of_other_projects_are_never_counted(project: Project, other_project: Project) -> None:
    vip, their_vip = make_tag(project, "vip"), make_tag(other_project, "vip")
    tag(make_contact(project, "ours@example.org"), vip)
    theirs = make_contact(other_project, "theirs@example.org")
    tag(theirs, their_vip)
    act(theirs, "opened", days_ago=1)
    make_contact(other_project, "untagged@example.org")
    rules = [
        tag_rule("has_none", vip),
        tag_rule("has_any", vip),
        activity("opened", "never"),
        one(field("email", "contains", "@")),
        {},
    ]
    assert [segments.segment_count(project=project, filters=r) for r in rules] == [0, 1, 1, 1, 1]


def test_another_projects_tag_id_is_an_error_at_its_path(project: Project, other_project: Project) -> None:
    ours, theirs = make_tag(project, "vip"), make_tag(other_project, "vip")
    rule = {"match": "all", "conditions": [field("country", "is", "DE"), tag_rule("has_any", ours, theirs)]}
    with pytest.raises(ValidationError) as caught:
        segments.segment_count(project=project, filters=rule)
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("filters.conditions[1].conditions[0].value[1]", f"no tag with id {theirs.pk} in this project")
    ]


def test_another_projects_topic_id_is_an_error_at_its_path(project: Project, other_project: Project) -> None:
    theirs = make_topic(other_project, "News", "opt_out")
    with pytest.raises(ValidationError) as caught:
        segments.segment_count(project=project, filters=topic_rule("subscribed", theirs))
    assert [(e.path, e.message) for e in caught.value.errors] == [
        ("filters.conditions[0].value", f"no topic with id {theirs.pk} in this project")
    ]


def test_a_deleted_tag_makes_the_rules_an_error_not_everyone(project: Project) -> None:
    gone = make_tag(project, "do-not-mail")
    make_contact(project, "a@example.org")
    rule = tag_rule("has_none", gone)
    assert segments.segment_count(project=project, filters=rule) == 1
    gone.delete()
    with pytest.raises(ValidationError):
        segments.segment_count(project=project, filters=rule)


def test_count_is_one_query(project: Project, django_assert_num_queries: Callable[..., Any]) -> None:
    make_contact(project, "a@example.org", custom_fields={"age": 40})
    rule = {
        "match": "any",
        "conditions": [
            field("customFields.age", "between", [30, 50]),
            {"type": "status", "operator": "is", "value": "subscribed"},
            activity("opened", "not_within", 30),
            {"match": "all", "conditions": [field("createdAt", "within_last", 3), field("email", "is_set")]},
        ],
    }
    with django_assert_num_queries(1):
        assert segments.segment_count(project=project, filters=rule) == 1


def test_rules_naming_tags_and_topics_add_one_query_to_check_them(
    project: Project, django_assert_num_queries: Callable[..., Any]
) -> None:
    vip, news = make_tag(project, "vip"), make_topic(project, "News", "opt_out")
    tag(make_contact(project, "a@example.org"), vip)
    rule = {"match": "all", "conditions": [tag_rule("has_any", vip), topic_rule("subscribed", news)]}
    with django_assert_num_queries(2):  # the ids against the project, then the count
        assert segments.segment_count(project=project, filters=rule) == 1


def test_sample_is_newest_first_and_limited(project: Project) -> None:
    for n in range(5):
        make_contact(project, f"c{n}@example.org")
    sample = segments.segment_sample(project=project, filters={}, limit=3)
    assert [c.email for c in sample] == ["c4@example.org", "c3@example.org", "c2@example.org"]


def test_within_last_is_measured_from_the_moment_of_the_query(project: Project) -> None:
    make_contact(project, "a@example.org", created_at=NOW)
    assert members(project, one(field("createdAt", "within_last", 1))) == {"a@example.org"}
