"""Segments: saved rule trees over a project's contacts, and who is in them right now.

The rule format is checked in ``segment_rules`` and compiled in
``segment_query``; this module ties them to a project (every tag and topic a
rule names must be the project's own, checked with one query) and holds the
segment services and selectors.

Rules are checked again whenever they are evaluated, saved or not: a rule on a
deleted tag is an error, never silently "nobody" — ``has_none`` of a deleted
"do not mail" tag would otherwise quietly mean everyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Value
from django.utils import timezone

from tidings.audience.models import Contact, Segment, Tag, Topic
from tidings.audience.segment_query import compile_rules
from tidings.audience.segment_rules import Rules, check_rules
from tidings.core.errors import Conflict, FieldError, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import get_scoped, scoped

SAMPLE_MAX = 100
# Conditions evaluated in one statement when counting a page of segments.
COUNT_BATCH_CONDITIONS = 100


# -- rules against a project ----------------------------------------------------------


def _project_references(*, project: Project, rules: Rules) -> dict[int, str]:
    """Every tag and topic id the rules name must be the project's: one query for both.

    Returns each named topic's default subscription; raises ``ValidationError``
    at the path of every id that is not in the project.
    """
    queries = []
    if rules.tag_paths:
        tags = scoped(Tag, project).filter(pk__in=list(rules.tag_paths)).order_by()
        queries.append(
            tags.annotate(kind=Value("tag"), default=Value("")).values_list("kind", "pk", "default")
        )
    if rules.topic_paths:
        topics = scoped(Topic, project).filter(pk__in=list(rules.topic_paths)).order_by()
        queries.append(topics.annotate(kind=Value("topic")).values_list("kind", "pk", "default_subscription"))
    if not queries:
        return {}
    rows = list(queries[0].union(*queries[1:], all=True)) if len(queries) > 1 else list(queries[0])
    found_tags = {pk for kind, pk, _ in rows if kind == "tag"}
    topic_defaults = {pk: default for kind, pk, default in rows if kind == "topic"}
    errors = [
        FieldError(path, f"no tag with id {tag_id} in this project")
        for tag_id, paths in rules.tag_paths.items()
        if tag_id not in found_tags
        for path in paths
    ] + [
        FieldError(path, f"no topic with id {topic_id} in this project")
        for topic_id, paths in rules.topic_paths.items()
        if topic_id not in topic_defaults
        for path in paths
    ]
    if errors:
        raise ValidationError(sorted(errors, key=lambda e: e.path))
    return topic_defaults


def _condition(*, project: Project, filters: Any, now: datetime | None = None) -> tuple[Rules, Q]:
    rules = check_rules(filters)
    topics = _project_references(project=project, rules=rules)
    q = compile_rules(rules.filters, project_id=project.pk, topics=topics, now=now or timezone.now())
    return rules, q


def segment_filters_clean(*, project: Project, filters: Any) -> dict[str, Any]:
    """The normalised rule tree, as stored; ``ValidationError`` with ``filters…`` paths if it is not valid."""
    rules = check_rules(filters)
    _project_references(project=project, rules=rules)
    return rules.filters


def segment_contacts(*, project: Project, filters: Any, now: datetime | None = None) -> QuerySet[Contact]:
    """The project's contacts the rules select, as one lazy query (checked first)."""
    _, q = _condition(project=project, filters=filters, now=now)
    return scoped(Contact, project).filter(q)


def segment_count(*, project: Project, filters: Any) -> int:
    """Contacts the rules select now: one ``COUNT`` (after one id check if they name tags or topics)."""
    return segment_contacts(project=project, filters=filters).count()


def segment_sample(*, project: Project, filters: Any, limit: int = 10) -> list[Contact]:
    """Up to ``limit`` (at most 100) of the selected contacts, newest first."""
    limit = max(1, min(limit, SAMPLE_MAX))
    return list(segment_contacts(project=project, filters=filters).order_by("-pk")[:limit])


def segment_preview(*, project: Project, filters: Any, limit: int = 10) -> tuple[int, list[Contact]]:
    """The live count and a sample for rules being edited (checked once, two queries)."""
    contacts = segment_contacts(project=project, filters=filters)
    limit = max(1, min(limit, SAMPLE_MAX))
    return contacts.count(), list(contacts.order_by("-pk")[:limit])


def segment_counts(*, project: Project, segments: Iterable[Segment]) -> dict[int, int | None]:
    """Live counts for a page of segments, several per statement (one scan of the contacts each).

    A segment whose rules no longer hold (a tag it names was deleted) counts as None.
    """
    counts: dict[int, int | None] = {}
    now = timezone.now()
    batch: dict[str, Count] = {}
    weight = 0

    def flush() -> None:
        nonlocal batch, weight
        if batch:
            totals = scoped(Contact, project).aggregate(**batch)
            counts.update({int(alias[1:]): value for alias, value in totals.items()})
        batch, weight = {}, 0

    for segment in segments:
        try:
            rules, q = _condition(project=project, filters=segment.filters, now=now)
        except ValidationError:
            counts[segment.pk] = None
            continue
        if weight + rules.conditions > COUNT_BATCH_CONDITIONS:
            flush()
        batch[f"s{segment.pk}"] = Count("pk", filter=q) if q else Count("pk")
        weight += max(rules.conditions, 1)
    flush()
    return counts


# -- services -----------------------------------------------------------------------


def _clean_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError.field("name", "must not be empty")
    name = raw.strip()
    if len(name) > 200:
        raise ValidationError.field("name", "must be at most 200 characters")
    if "\x00" in name:
        raise ValidationError.field("name", "must not contain NUL characters")
    return name


def _clean_description(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError.field("description", "must be text")
    text = raw.strip()
    if len(text) > 1000:
        raise ValidationError.field("description", "must be at most 1000 characters")
    if "\x00" in text:
        raise ValidationError.field("description", "must not contain NUL characters")
    return text


def _name_taken(project: Project, name: str) -> Conflict:
    return Conflict(f"a segment named {name!r} already exists in this project; choose another name")


def _check_name_free(*, project: Project, name: str, segment: Segment | None = None) -> None:
    # Names are unique ignoring case: "VIPs" and "vips" side by side in a
    # picker would be one mistake away from mailing the wrong people.
    others = scoped(Segment, project).filter(name__iexact=name)
    if segment is not None:
        others = others.exclude(pk=segment.pk)
    if others.exists():
        raise _name_taken(project, name)


def segment_create(*, project: Project, name: str, description: str = "", filters: Any) -> Segment:
    """Save a named rule tree in ``project``; no filters (or ``{}``) means everyone.

    Raises ``ValidationError`` (paths ``name``, ``description``, ``filters…``)
    or ``Conflict`` when the project already has a segment of that name.
    """
    clean_name = _clean_name(name)
    clean_description = _clean_description(description)
    clean_filters = segment_filters_clean(project=project, filters=filters)
    _check_name_free(project=project, name=clean_name)
    try:
        with transaction.atomic():
            return Segment.objects.create(
                project=project, name=clean_name, description=clean_description, filters=clean_filters
            )
    except IntegrityError as exc:  # a concurrent create of the same name
        raise _name_taken(project, clean_name) from exc


SEGMENT_CHANGES = frozenset({"name", "description", "filters"})


def segment_update(*, segment: Segment, **changes: Any) -> Segment:
    """Change a segment's ``name``, ``description`` and/or ``filters``; only the given ones.

    Everything is checked before anything is written.
    """
    unknown = set(changes) - SEGMENT_CHANGES
    if unknown:
        raise TypeError(f"segment_update() got unexpected fields: {', '.join(sorted(unknown))}")
    project = segment.project
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
        _check_name_free(project=project, name=values["name"], segment=segment)
    if "description" in changes:
        values["description"] = _clean_description(changes["description"])
    if "filters" in changes:
        values["filters"] = segment_filters_clean(project=project, filters=changes["filters"])
    if not values:
        return segment
    for attribute, value in values.items():
        setattr(segment, attribute, value)
    try:
        with transaction.atomic():
            segment.save(update_fields=[*values, "updated_at"])
    except IntegrityError as exc:
        segment.refresh_from_db()
        raise _name_taken(project, values.get("name", segment.name)) from exc
    return segment


def segment_delete(*, segment: Segment) -> None:
    """Delete a segment. Contacts are untouched: a segment only describes them."""
    segment.delete()


# -- selectors ----------------------------------------------------------------------


def segment_list(*, project: Project) -> QuerySet[Segment]:
    return scoped(Segment, project)


def segment_get(*, project: Project, segment_id: int) -> Segment:
    """The project's segment with this id; ``NotFound`` for any other id, another project's included."""
    return get_scoped(Segment.objects.select_related("project"), project, pk=segment_id)
