"""The variable catalog of a persona: fill rates, the threshold, contact values, the fallback."""

from __future__ import annotations

from typing import Any

import pytest

from tests.audience.segment_factories import make_contact, make_tag, tag
from tidings.audience.models import Contact, ContactTag, Segment
from tidings.core.errors import NotFound, ValidationError
from tidings.core.models import Project
from tidings.drafts.catalog import FALLBACK, Persona, catalog_build, persona_resolve

pytestmark = pytest.mark.django_db


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


def _rates(catalog: Any) -> dict[str, float | None]:
    return {v.name: v.fill_rate for v in catalog.variables}


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
    assert found["renews"] == ("text", 2)
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


def test_catalog_reads_the_cohort_in_two_queries(
    project: Project, django_assert_max_num_queries: Any
) -> None:
    persona = _cohort(project, 30, company=10, plan=5, city=20, tier=2)
    with django_assert_max_num_queries(2):
        catalog = catalog_build(project=project, persona=persona)
    assert {v.name for v in catalog.variables} >= {"company", "plan", "city", "tier"}
