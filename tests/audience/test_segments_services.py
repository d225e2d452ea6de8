"""Segment services and selectors: names, updates, tenancy."""

from __future__ import annotations

import pytest

from tests.audience.segment_factories import field, make_contact, make_tag, one
from tidings.audience import segments
from tidings.audience.models import Segment
from tidings.core.errors import Conflict, NotFound, ValidationError
from tidings.core.models import Project


def test_create_stores_the_normalised_rules(project: Project) -> None:
    segment = segments.segment_create(
        project=project, name="Recent", filters=one(field("createdAt", "after", "2024-01-01T01:00:00+01:00"))
    )
    segment.refresh_from_db()
    assert segment.filters == one(field("createdAt", "after", "2024-01-01T00:00:00Z"))
    assert (segment.project_id, segment.name, segment.description) == (project.pk, "Recent", "")


def test_names_are_unique_per_project_but_not_across_projects(
    project: Project, other_project: Project
) -> None:
    segments.segment_create(project=project, name="VIPs", filters={})
    with pytest.raises(Conflict):
        segments.segment_create(project=project, name="vips", filters={})
    segments.segment_create(project=other_project, name="VIPs", filters={})
    assert Segment.objects.for_project(project).count() == 1


def test_update_changes_only_what_is_given(project: Project) -> None:
    segment = segments.segment_create(project=project, name="A", description="first", filters={})
    segments.segment_update(segment=segment, filters=one(field("country", "is", "DE")))
    segment.refresh_from_db()
    assert (segment.name, segment.description, segment.filters["conditions"][0]["value"]) == (
        "A",
        "first",
        "DE",
    )


def test_update_may_keep_its_own_name_in_another_case(project: Project) -> None:
    segment = segments.segment_create(project=project, name="vips", filters={})
    assert segments.segment_update(segment=segment, name="VIPs").name == "VIPs"


def test_update_checks_everything_before_writing(project: Project) -> None:
    segment = segments.segment_create(project=project, name="A", filters={})
    with pytest.raises(ValidationError) as caught:
        segments.segment_update(segment=segment, name="B", filters={"match": "none", "conditions": []})
    assert [e.path for e in caught.value.errors] == ["filters.match"]
    segment.refresh_from_db()
    assert segment.name == "A"


def test_update_refuses_unknown_fields(project: Project) -> None:
    segment = segments.segment_create(project=project, name="A", filters={})
    with pytest.raises(TypeError):
        segments.segment_update(segment=segment, project=project)


def test_update_rejects_another_projects_tag(project: Project, other_project: Project) -> None:
    segment = segments.segment_create(project=project, name="A", filters={})
    theirs = make_tag(other_project, "vip")
    with pytest.raises(ValidationError):
        segments.segment_update(
            segment=segment, filters=one({"type": "tag", "operator": "has_any", "value": [theirs.pk]})
        )


def test_get_does_not_reach_another_project(project: Project, other_project: Project) -> None:
    theirs = segments.segment_create(project=other_project, name="Theirs", filters={})
    with pytest.raises(NotFound):
        segments.segment_get(project=project, segment_id=theirs.pk)
    assert segments.segment_get(project=other_project, segment_id=theirs.pk) == theirs


def test_list_holds_only_the_projects_segments(project: Project, other_project: Project) -> None:
    mine = segments.segment_create(project=project, name="Mine", filters={})
    segments.segment_create(project=other_project, name="Theirs", filters={})
    assert list(segments.segment_list(project=project)) == [mine]


def test_delete_removes_the_segment_and_keeps_contacts(project: Project) -> None:
    make_contact(project, "a@example.org")
    segment = segments.segment_create(project=project, name="All", filters={})
    segments.segment_delete(segment=segment)
    assert not Segment.objects.exists()
    assert segments.segment_count(project=project, filters={}) == 1


def test_counts_for_a_page_of_segments(project: Project) -> None:
    make_contact(project, "de@example.org", country="DE")
    make_contact(project, "us@example.org", country="US")
    gone = make_tag(project, "gone")
    made = [
        segments.segment_create(project=project, name="All", filters={}),
        segments.segment_create(project=project, name="DE", filters=one(field("country", "is", "DE"))),
        segments.segment_create(
            project=project,
            name="Gone",
            filters=one({"type": "tag", "operator": "has_none", "value": [gone.pk]}),
        ),
    ]
    gone.delete()
    assert segments.segment_counts(project=project, segments=made) == {
        made[0].pk: 2,
        made[1].pk: 1,
        made[2].pk: None,
    }


def test_counts_split_big_pages_into_several_statements(
    project: Project, django_assert_num_queries: object
) -> None:
    make_contact(project, "de@example.org", country="DE")
    rules = {"match": "all", "conditions": [field("country", "is", "DE")] * 40}
    made = [segments.segment_create(project=project, name=f"s{n}", filters=rules) for n in range(5)]
    with django_assert_num_queries(3):  # 40 conditions each, at most 100 a statement
        counts = segments.segment_counts(project=project, segments=made)
    assert counts == {s.pk: 1 for s in made}
