"""The variable catalog of a persona: fill rates, the threshold, contact values, the fallback."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from liquid import Environment
from liquid.exceptions import LiquidError

from tests.audience.segment_factories import make_contact, make_tag, tag
from tidings.audience.models import Contact, ContactTag, Segment
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Project
from tidings.drafts.catalog import FALLBACK, LIQUID_WORDS, Persona, catalog_build, persona_resolve
from tidings.drafts.models import CustomFieldKey

pytestmark = pytest.mark.django_db


def postgres_only(test: Any) -> Any:
    """The registry of custom-field keys serves PostgreSQL's one-statement catalog."""
    skip = pytest.mark.skipif(connection.vendor != "postgresql", reason="the key registry is PostgreSQL's")
    return pytest.mark.postgres(skip(test))


def _cohort(project: Project, size: int, tag_name: str = "cohort", **filled: int) -> Any:
    """``size`` tagged contacts; ``filled={"company": 49}`` gives the first 49 a company."""
    cohort_tag = make_tag(project, tag_name)
    contacts = [
        Contact(project=project, email=f"p{i}@example.org", email_key=f"p{i}@example.org", custom_fields={})
        for i in range(size)
    ]
    for name, count in filled.items():
        for contact in contacts[:count]:
            if name in ("company", "first_name", "country", "language"):
                setattr(contact, name, "DE" if name == "country" else "x")
            else:
                contact.custom_fields[name] = "x"
    Contact.objects.bulk_create(contacts)
    ContactTag.objects.bulk_create([ContactTag(contact=c, tag=cohort_tag) for c in contacts])
    return Persona(type="tag", id=cohort_tag.pk, name=cohort_tag.name)


def _tagged(project: Project, name: str, *custom_fields: dict[str, Any]) -> Persona:
    """One tagged contact per ``custom_fields``."""
    group = make_tag(project, name)
    for i, custom in enumerate(custom_fields):
        tag(make_contact(project, f"{name}{i}@example.org", custom_fields=custom), group)
    return Persona(type="tag", id=group.pk, name=name)


def _rates(catalog: Any) -> dict[str, float | None]:
    return {v.name: v.fill_rate for v in catalog.variables}


def _cohort_scans(queries: CaptureQueriesContext) -> list[str]:
    """The statements that read the whole cohort: not the registry, not the 200-member sample."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if "audience_contact" in q["sql"] and "LIMIT" not in q["sql"]
    ]


def test_field_below_five_percent_is_hidden(project: Project) -> None:
    persona = _cohort(project, 1000, company=49, plan=49)
    catalog = catalog_build(project=project, persona=persona)
    assert "company" not in _rates(catalog)
    assert "plan" not in _rates(catalog)
    assert {v.name: v.fill_rate for v in catalog.hidden}["company"] == pytest.approx(0.049)
    assert {v.name: v.fill_rate for v in catalog.hidden}["plan"] == pytest.approx(0.049)


def test_field_at_exactly_five_percent_is_shown(project: Project) -> None:
    persona = _cohort(project, 1000, company=50, plan=50)
    catalog = catalog_build(project=project, persona=persona)
    assert _rates(catalog)["company"] == pytest.approx(0.05)
    assert _rates(catalog)["plan"] == pytest.approx(0.05)


def test_field_filled_for_everyone_is_shown_at_full_rate(project: Project) -> None:
    persona = _cohort(project, 40, first_name=40, plan=40)
    catalog = catalog_build(project=project, persona=persona)
    assert _rates(catalog)["firstName"] == 1.0
    assert _rates(catalog)["plan"] == 1.0
    assert _rates(catalog)["email"] == 1.0
    assert catalog.cohort_size == 40


def test_threshold_is_per_project(project: Project) -> None:
    persona = _cohort(project, 100, company=3)
    assert "company" not in _rates(catalog_build(project=project, persona=persona))
    assert "company" in _rates(catalog_build(project=project, persona=persona, threshold_bp=200))


def test_empty_cohort_offers_no_variables(project: Project) -> None:
    empty = make_tag(project, "nobody")
    catalog = catalog_build(project=project, persona=Persona(type="tag", id=empty.pk, name="nobody"))
    assert catalog.cohort_size == 0
    assert catalog.variables == []
    assert {v.fill_rate for v in catalog.hidden} == {0.0}


def test_custom_field_keys_of_mixed_types(project: Project) -> None:
    vip = make_tag(project, "vip")
    values = [
        {"points": 10, "plan": "pro", "active": True, "renews": "2025-01-31"},
        {"points": "ten", "plan": "free", "active": False, "renews": "2025-02-01"},
        {"points": 2.5, "plan": "", "nested": {"a": 1}, "list": [1, 2], "gone": None},
        {},
    ]
    for i, custom in enumerate(values):
        tag(make_contact(project, f"m{i}@example.org", custom_fields=custom), vip)
    catalog = catalog_build(project=project, persona=Persona(type="tag", id=vip.pk, name="vip"))
    found = {v.name: (v.type, v.filled) for v in catalog.variables}
    assert found["points"] == ("mixed", 3)
    assert found["plan"] == ("text", 2)  # the empty string is not a value
    assert found["active"] == ("boolean", 2)
    assert found["renews"] == ("date", 2)
    assert "nested" not in found
    assert "list" not in found
    assert "gone" not in found
    assert "gone" not in {v.name for v in catalog.hidden}


def test_segment_persona_counts_the_segment_as_it_is_now(project: Project) -> None:
    for i in range(10):
        make_contact(
            project, f"s{i}@example.org", country="DE" if i < 7 else "FR", company="Acme" if i < 4 else ""
        )
    segment = Segment.objects.create(
        project=project,
        name="Germany",
        filters={
            "match": "all",
            "conditions": [{"type": "field", "field": "country", "operator": "is", "value": "DE"}],
        },
    )
    persona = persona_resolve(project=project, type="audience", id=segment.pk)
    catalog = catalog_build(project=project, persona=persona)
    assert catalog.cohort_size == 7
    assert _rates(catalog)["company"] == pytest.approx(4 / 7)
    assert catalog.cues["country"] == {"value": "DE", "share": 1.0}


def test_dominant_language_is_a_tone_cue(project: Project) -> None:
    group = make_tag(project, "kunden")
    for i in range(4):
        tag(make_contact(project, f"k{i}@example.org", language="de" if i else "en"), group)
    catalog = catalog_build(project=project, persona=Persona(type="tag", id=group.pk, name="kunden"))
    assert catalog.cues["language"] == {"value": "de", "share": 0.75}


def test_contact_persona_holds_the_contacts_real_values(project: Project) -> None:
    ada = make_contact(
        project, "ada@example.org", first_name="Ada", company="", custom_fields={"plan": "pro", "x": ""}
    )
    catalog = catalog_build(
        project=project, persona=persona_resolve(project=project, type="contact", id=ada.pk)
    )
    values = {v.name: v.value for v in catalog.variables}
    assert values["firstName"] == "Ada"
    assert values["email"] == "ada@example.org"
    assert values["plan"] == "pro"
    assert "company" not in values
    assert "x" not in values
    assert all(v.fill_rate is None for v in catalog.variables)


def test_no_persona_offers_the_fallback_variables(project: Project) -> None:
    catalog = catalog_build(project=project, persona=persona_resolve(project=project, type="none", id=None))
    assert catalog.names == list(FALLBACK) == ["firstName", "lastName", "email", "company"]
    assert catalog.defaults()["firstName"] == "there"


def test_another_projects_tag_is_not_found(project: Project, other_project: Project) -> None:
    theirs = make_tag(other_project, "theirs")
    with pytest.raises(NotFound):
        persona_resolve(project=project, type="tag", id=theirs.pk)


def test_unknown_persona_type_is_a_clear_error(project: Project) -> None:
    with pytest.raises(ValidationError) as caught:
        persona_resolve(project=project, type="team", id=1)
    assert caught.value.errors[0].path == "type"


def test_catalog_reads_the_cohort_in_at_most_two_passes(project: Project) -> None:
    persona = _cohort(project, 30, company=10, plan=5, city=20, tier=2)
    with CaptureQueriesContext(connection) as queries:
        catalog = catalog_build(project=project, persona=persona)
    assert len(_cohort_scans(queries)) == 2  # the grouped scan and the discovery pass, never one per key
    assert {v.name for v in catalog.variables} >= {"company", "plan", "city", "tier"}


def test_whitespace_only_values_are_not_counted(project: Project) -> None:
    persona = _tagged(
        project,
        "blanks",
        {"note": "hello"},
        {"note": " hi "},
        {"note": ""},
        {"note": "   "},
        {"note": "\t\n"},
        {"note": "\u00a0\u3000"},
        {"note": None},
        {"note": 0},
        {"note": "Łódź"},
    )
    catalog = catalog_build(project=project, persona=persona)
    assert {v.name: v.filled for v in catalog.variables}["note"] == 4


def test_threshold_zero_hides_fields_nobody_has(project: Project) -> None:
    persona = _cohort(project, 20, company=1, plan=1)
    catalog = catalog_build(project=project, persona=persona, threshold_bp=0)
    assert {"company", "plan"} <= set(catalog.names)
    assert "phone" not in catalog.names
    assert {v.name: v.filled for v in catalog.hidden}["phone"] == 0


def test_keys_liquid_cannot_name_are_offered_under_custom_fields(project: Project) -> None:
    persona = _tagged(
        project,
        "words",
        {
            "in": "x",
            "nil": "x",
            "email": "x",
            "customFields": "x",
            "plan": "x",
            "first name": "x",
            "a.b": "x",
        },
    )
    catalog = catalog_build(project=project, persona=persona)
    custom = {v.name: v.label for v in catalog.variables if v.kind == "custom"}
    assert custom == {
        "customFields.customFields": "customFields",
        "customFields.email": "email",
        "customFields.in": "in",
        "customFields.nil": "nil",
        "plan": "plan",
    }
    assert [v.name for v in catalog.hidden if v.kind == "custom"] == []


def test_contact_persona_offers_keyword_keys_under_custom_fields(project: Project) -> None:
    ada = make_contact(project, "ada@example.org", custom_fields={"with": "x", "my key": "x", "note": " "})
    catalog = catalog_build(
        project=project, persona=persona_resolve(project=project, type="contact", id=ada.pk)
    )
    assert {v.name: v.value for v in catalog.variables if v.kind == "custom"} == {"customFields.with": "x"}


def test_liquid_words_cannot_be_top_level_variables() -> None:
    env = Environment()
    for word in LIQUID_WORDS - {"forloop"}:
        try:
            shown = env.from_string(f"{{{{ {word} }}}}").render(**{word: "value"})
        except LiquidError:
            shown = ""
        assert shown != "value", word


def test_custom_keys_holding_iso_dates_are_dates(project: Project) -> None:
    persona = _tagged(
        project,
        "dates",
        {"renews": "2025-01-31", "seen": "2024-06-30T12:00:00+00:00", "code": "2025-01-31"},
        {"renews": "2025-02-28", "seen": "2024-07-01", "code": "A-17"},
        {"renews": "", "seen": None},
    )
    catalog = catalog_build(project=project, persona=persona)
    types = {v.name: v.type for v in catalog.variables}
    assert (types["renews"], types["seen"], types["code"]) == ("date", "date", "text")


@postgres_only
def test_first_catalog_registers_the_cohorts_keys(project: Project) -> None:
    persona = _tagged(project, "first", {"plan": "pro", "gone": None}, {"plan": "", "nested": {"a": 1}})
    assert not CustomFieldKey.objects.for_project(project).exists()
    catalog = catalog_build(project=project, persona=persona)
    registered = CustomFieldKey.objects.for_project(project).values_list("key", flat=True)
    assert sorted(registered) == ["gone", "nested", "plan"]  # every key held, value or not
    assert [(v.name, v.filled) for v in catalog.variables if v.kind == "custom"] == [("plan", 1)]


@postgres_only
def test_registered_keys_are_counted_in_one_cohort_statement(project: Project) -> None:
    persona = _tagged(
        project,
        "steady",
        {"plan": "pro", "points": 3, "renews": "2025-01-31", "gone": None, "city": "Łódź"},
        {"plan": "free", "points": "ten", "nested": {"a": 1}, "city": " x "},
        {"plan": " ", "vip": True, "city": "\u00a0"},
    )
    first = catalog_build(project=project, persona=persona)
    with CaptureQueriesContext(connection) as queries:
        second = catalog_build(project=project, persona=persona)
    reads = [q["sql"] for q in queries.captured_queries if "audience_contact" in q["sql"]]
    assert len(reads) == 2
    assert "GROUP BY" in reads[0]
    assert "jsonb_each" not in reads[0]
    assert reads[1].endswith("LIMIT 200")  # the sample the keys' types are judged from
    assert second == first


@postgres_only
def test_key_added_after_registration_is_still_found(project: Project) -> None:
    persona = _tagged(project, "later", {"plan": "pro"})
    catalog_build(project=project, persona=persona)
    newcomer = make_contact(project, "new@example.org", custom_fields={"plan": "team", "tier": "gold"})
    ContactTag.objects.create(contact=newcomer, tag_id=persona.id)
    catalog = catalog_build(project=project, persona=persona)
    assert {v.name: v.filled for v in catalog.variables if v.kind == "custom"} == {"plan": 2, "tier": 1}
    assert "tier" in CustomFieldKey.objects.for_project(project).values_list("key", flat=True)
