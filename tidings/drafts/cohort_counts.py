"""Counting a cohort's fields: the SQL passes behind the variable catalog.

PostgreSQL, in the steady state: one statement over the cohort counts every
built-in field and every custom-field key the project's registry
(``CustomFieldKey``) knows, and also how many members hold a key it does not
know. When that is zero the counts are exact and done; otherwise one discovery
pass (``jsonb_each``) counts every key and the registry learns the new ones.
SQLite: the grouped scan, then the discovery pass, every time.

A value is what a template shows: a number, a boolean, or text that is not
blank by the renderer's own rule (``template_text``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_KEY_MAX
from tidings.audience.models import Contact
from tidings.content.templating import template_text
from tidings.core.models import Project
from tidings.drafts.models import CustomFieldKey

# Low-cardinality fields whose most common value shapes the tone of a draft.
CUE_FIELDS = ("country", "language")
BUILT_IN = ("firstName", "lastName", "email", "company", "phone", "country", "language", "createdAt")
# The built-in fields counted by a FILTER (email and createdAt are always set; the cues are grouped by).
COUNTED = tuple(name for name in BUILT_IN if name not in ("email", "createdAt", *CUE_FIELDS))

# The characters a blank value consists of, by the renderer's own rule (control
# characters dropped, then str.strip()), so the catalog and the renderer agree
# on what is a value. U+3000 is the last character str.isspace() accepts; NUL
# never occurs (PostgreSQL refuses it in text and jsonb).
BLANK_CHARS = "".join(ch for ch in map(chr, range(1, 0x3001)) if template_text(ch) is None)

SAMPLE_SIZE = 200  # members whose values decide the keys' types
# A pass's hash join of the cohort against its tag holds ~50 MB for a million
# members; with PostgreSQL's default 4 MB it spills to disk in batches (~80 ms more).
COHORT_WORK_MEM = "64MB"


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "text"
        return "date" if len(value) >= 10 and value[4] == "-" else "text"
    return "text"


def is_value(value: Any) -> bool:
    """A number, a boolean or a string that is not blank: what a template shows."""
    if isinstance(value, str):
        return template_text(value) is not None
    return isinstance(value, bool | int | float)


@dataclass
class _Counts:
    total: int = 0
    filled: dict[str, int] = field(default_factory=dict)  # built-in field -> members with a value
    cues: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom: dict[str, int] = field(default_factory=dict)  # custom key -> members with a value
    unregistered: int = 0  # members holding a key the registry does not know


# Most values are settled by the first character of their text: printable ASCII
# other than "{" and "[" (which may open an object or a list) makes a value. Only
# the rest (the empty string, blank characters, non-ASCII, whose codes read past
# the array's end as NULL) take the exact test, which would cost twice as much for all.
_SURELY_A_VALUE = ",".join("t" if 32 < code < 127 and chr(code) not in "{[" else "f" for code in range(127))
_FIRST_CHARACTER = f"('[0:126]={{{_SURELY_A_VALUE}}}'::boolean[])"


def _value_condition(json: str, text: str, params: list[Any]) -> tuple[str, list[Any]]:
    """PostgreSQL: true when the jsonb ``json`` is a value (``text`` is its text; both take ``params``)."""
    sql = (
        f"({_FIRST_CHARACTER}[ascii({text})] OR jsonb_typeof({json}) IN ('string', 'number', 'boolean') "
        f"AND btrim({text}, %s) <> '')"
    )
    return sql, [*params, *params, *params, BLANK_CHARS]


def _fetch_cohort(statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run a pass over the cohort; on PostgreSQL with COHORT_WORK_MEM, for this statement only."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('work_mem', %s, true)", [COHORT_WORK_MEM])
        cursor.execute(statement, params)
        rows = cursor.fetchall()
        # A local setting lasts to the end of the transaction: a caller's, if there is one.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [before])
    return rows


def _grouped_scan(cohort: QuerySet[Contact], keys: list[str] | None) -> _Counts:
    """One statement: per (country, language), the members and each counted built-in field's.

    With the registry's ``keys`` (PostgreSQL) also the members holding a key not among
    them, and each key's members with a value.
    """
    columns = [CONTACT_FIELDS[name].column for name in (*CUE_FIELDS, *COUNTED)]
    select = ["count(*)", *(f"count(*) FILTER (WHERE c.{column} <> '')" for column in columns[2:])]
    params: list[Any] = []
    if keys is not None:
        columns.append("custom_fields")
        select.append("count(*) FILTER (WHERE (c.custom_fields - %s::text[]) <> '{}'::jsonb)")
        params.append(keys)
        for key in keys:
            # The cheap key test first: most keys are missing from most members.
            condition, more = _value_condition("c.custom_fields -> %s", "c.custom_fields ->> %s", [key])
            select.append(f"count(*) FILTER (WHERE c.custom_fields ? %s AND {condition})")
            params += [key, *more]
    sql, cohort_params = cohort.order_by().values(*columns).query.sql_with_params()
    # The ORM's own cohort SQL and fixed fragments; keys and values are parameters.
    statement = f"SELECT c.country, c.language, {', '.join(select)} FROM ({sql}) AS c GROUP BY 1, 2"  # noqa: S608
    rows = _fetch_cohort(statement, [*params, *cohort_params])
    counts = _Counts(filled=dict.fromkeys(COUNTED, 0), custom=dict.fromkeys(keys or (), 0))
    tallies: dict[str, dict[str, int]] = {name: {} for name in CUE_FIELDS}
    for country, language, members, *filled in rows:
        built_in, custom = filled[: len(COUNTED)], filled[len(COUNTED) :]
        counts.total += members
        for name, count in zip(COUNTED, built_in, strict=True):
            counts.filled[name] += count
        if keys is not None:
            counts.unregistered += custom[0]
            for key, count in zip(keys, custom[1:], strict=True):
                counts.custom[key] += count
        for name, value in zip(CUE_FIELDS, (country, language), strict=True):
            if value:
                tallies[name][value] = tallies[name].get(value, 0) + members
    counts.filled["email"] = counts.filled["createdAt"] = counts.total
    for name, tally in tallies.items():
        counts.filled[name] = sum(tally.values())
        if tally:
            value, count = max(tally.items(), key=lambda item: (item[1], item[0]))
            counts.cues[name] = {"value": value, "share": count / counts.total}
    return counts


def _discover(cohort: QuerySet[Contact]) -> dict[str, int]:
    """One pass over every member's custom fields: each key any member holds -> members with a value."""
    sql, params = cohort.order_by().values("custom_fields").query.sql_with_params()
    if connection.vendor == "postgresql":
        condition, more = _value_condition("e.value", "(e.value #>> '{}')", [])
        statement = (
            f"SELECT e.key, count(*) FILTER (WHERE {condition}) "  # noqa: S608 (as in _grouped_scan)
            f"FROM ({sql}) AS c CROSS JOIN LATERAL jsonb_each(c.custom_fields) AS e GROUP BY e.key"
        )
    else:
        more = [BLANK_CHARS]
        statement = (
            "SELECT e.key, count(*) FILTER (WHERE e.type IN ('integer', 'real', 'true', 'false') "  # noqa: S608
            "OR e.type = 'text' AND trim(e.value, %s) <> '') "
            f"FROM ({sql}) AS c, json_each(c.custom_fields) AS e GROUP BY e.key"
        )
    return dict(_fetch_cohort(statement, [*more, *params]))


def _register(project: Project, keys: list[str]) -> None:
    """Remember the keys a discovery pass found, and when."""
    # A longer key can't be stored, so each catalog of its holders runs the discovery
    # pass: slower, still exact. Validation never lets one in.
    CustomFieldKey.objects.bulk_create(
        [CustomFieldKey(project=project, key=key) for key in keys if len(key) <= CUSTOM_KEY_MAX],
        update_conflicts=True,
        unique_fields=["project", "key"],
        update_fields=["updated_at"],
    )


def cohort_counts(project: Project, cohort: QuerySet[Contact]) -> _Counts:
    """The built-in and custom-field counts of a cohort (see the module's docstring)."""
    if connection.vendor != "postgresql":
        counts = _grouped_scan(cohort, None)
        if counts.total:
            counts.custom = _discover(cohort)
        return counts
    registered = sorted(CustomFieldKey.objects.for_project(project).values_list("key", flat=True))
    counts = _grouped_scan(cohort, registered)
    if counts.unregistered:
        counts.custom = _discover(cohort)
        _register(project, sorted(counts.custom))
    return counts


def sampled_types(cohort: QuerySet[Contact], keys: list[str]) -> dict[str, str]:
    """Each key's type by its values among the first SAMPLE_SIZE members ("text" if they hold none)."""
    seen: dict[str, set[str]] = {key: set() for key in keys}
    for custom in cohort.order_by().values_list("custom_fields", flat=True)[:SAMPLE_SIZE]:
        for key, value in (custom or {}).items():
            if key in seen and is_value(value):
                seen[key].add(json_type(value))
    types = {}
    for key, kinds in seen.items():
        if kinds == {"text", "date"}:
            kinds = {"text"}  # a date is text too
        types[key] = kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "text"
    return types
