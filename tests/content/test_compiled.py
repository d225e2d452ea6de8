"""The compiled renderer must send exactly what render_full would, byte for byte, for everyone."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.content.design_factories import LINKS, PROJECT, context, design, mjml, person, text_block
from tidings.audience.models import Contact
from tidings.content import compiled as compiled_module
from tidings.content.compiled import CompiledDesign, compile_design
from tidings.content.rendering import DesignSource, Rendered, RenderError, render_full
from tidings.content.services import starter_body
from tidings.content.templating import render_context

# What every recipient shares, as render_context gives it (a blank project value is nil).
BASE = {"project": render_context(project=PROJECT)["project"]}
SUBJECT = '{{ firstName | default: "Hello" }}, what changed at {{ company | default: "your company" }}'
PREHEADER = 'Three minutes for {{ firstName | default: "you" }} on the {{ plan | default: "free" }} plan'
NEWSLETTER = DesignSource("mjml", SUBJECT, PREHEADER, starter_body("newsletter"))


def as_tuple(rendered: Rendered) -> tuple[str, str, str, str]:
    return (rendered.subject, rendered.preheader, rendered.html, rendered.text)


def same_as_full(compiled: CompiledDesign, variables: dict[str, Any]) -> bool:
    return as_tuple(compiled.render(variables)) == as_tuple(render_full(compiled.source, variables))


@pytest.fixture
def full_renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the recipients the compiled renderer hands to render_full (its slow path)."""
    calls: list[int] = []
    original: Callable[..., Rendered] = compiled_module.render_full

    def counting(source: DesignSource, variables: dict[str, Any]) -> Rendered:
        calls.append(1)
        return original(source, variables)

    monkeypatch.setattr(compiled_module, "render_full", counting)
    return calls


# -- the sample: the starter newsletter for 1,000 varied recipients ----------------------------

FIRST_NAMES = [
    "Ann", "Zoë", "José", "Ørjan", "Siobhán", "O'Neil", "D'Arcy", "Ann-Marie", "Anne  Marie",
    "Łukasz", "Nguyễn Thị", "Jean\nPierre", "", "Ben & Jerry", "Chloé 🌸", "李雷", "Ahmed",
    "Wolfeschlegelsteinhausenbergerdorff" * 3, '"Chip"', "Tim <the enchanter>", "  Padded",
]  # fmt: skip
LAST_NAMES = ["Lee", "Müller", "O'Brien", "", "van der Berg", "Smith-Jones", "Nuñez"]
COMPANIES = [
    "Smith & Sons", "O'Reilly Media", "AT&T", "Müller GmbH", "", "Café «Zoë»", "Acme  Corp",
    "Fish\n& Chips", "🍕 Pizza Co", "C" * 200, "<b>Bold</b> Ltd", "Ben's \"Best\"", "R&amp;D Labs",
]  # fmt: skip
PLANS: list[Any] = [
    "Pro", "Free & Easy", 3, 12.5, True, False, None, "", "Enterprise\nplan", "Team  plus", "🚀",
]  # fmt: skip
CITIES: list[Any] = ["Zürich", "São Paulo", "L'Aquila", "Biel/Bienne", "", 42, "New York  City", "Köln 🏰"]
MISSING = object()


def sample_contact(rng: random.Random, n: int) -> Contact:
    custom: dict[str, Any] = {}
    for key, values in (("plan", PLANS), ("city", CITIES)):
        value = rng.choice([*values, MISSING, MISSING])
        if value is not MISSING:
            custom[key] = value
    if rng.random() < 0.1:
        custom["notes"] = "x" * rng.randint(500, 2000)  # long, and not used by the design
    local = rng.choice(["ann", "o'neil+news", "jose.ramirez", "x"])
    return person(
        f"{local}{n}@example.org",
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        company=rng.choice(COMPANIES),
        custom_fields=custom,
    )


def recipient(contact: Contact, n: int) -> dict[str, Any]:
    links = {
        "unsubscribeUrl": f"https://mail.acme.test/u/{n:05d}-tok?list=news&c=7",
        "preferencesUrl": f"https://mail.acme.test/p/{n:05d}-tok",
    }
    return context(contact, links=links)


def test_starter_newsletter_compiles_to_the_fast_form() -> None:
    compiled = compile_design(NEWSLETTER, base=BASE)
    assert (compiled.fast, compiled.reason) == (True, "")


def test_compiled_output_equals_render_full_for_1000_varied_recipients(full_renders: list[int]) -> None:
    compiled = compile_design(NEWSLETTER, base=BASE)
    assert compiled.fast is True
    rng = random.Random(20240501)
    different = []
    full_renders.clear()
    for n in range(1000):
        variables = recipient(sample_contact(rng, n), n)
        fast = compiled.render(variables)
        if as_tuple(fast) != as_tuple(render_full(NEWSLETTER, variables)):
            different.append(n)
    assert different == []
    # Nobody in the sample holds CR or NUL: every copy came from the compiled form.
    assert len(full_renders) == 0


def test_the_sample_really_varies() -> None:
    rng = random.Random(20240501)
    subjects = {render_full(NEWSLETTER, recipient(sample_contact(rng, n), n)).subject for n in range(100)}
    assert len(subjects) > 50
    assert any(subject.startswith("Hello, what changed at ") for subject in subjects)
    assert any(subject.endswith(" what changed at your company") for subject in subjects)


# -- targeted cases -----------------------------------------------------------------------------


def assert_fast_and_equal(source: DesignSource, *values: dict[str, Any]) -> None:
    compiled = compile_design(source, base=BASE)
    assert (compiled.fast, compiled.reason) == (True, "")
    for each in values:
        assert same_as_full(compiled, context(person(**each)))


HOSTILE_NAMES = [
    {"first_name": "O'Neil & Co"},
    {"first_name": 'Ann "the" <b>Bold</b>'},
    {"first_name": "Zoë  Ünal"},
    {"first_name": "a\nb"},
    {"first_name": ""},
    {"first_name": "😀"},
    {"first_name": "tdgslot0x"},
    {"first_name": "{{ project.name }}"},
]


def test_values_in_href_attributes_are_equal() -> None:
    body = mjml(
        '<mj-button href="https://acme.test/?n={{ firstName }}&amp;c={{ plan }}">Go</mj-button>'
        '<mj-text><a href="https://acme.test/{{ firstName }}">Open {{ firstName }}</a></mj-text>'
        '<mj-image src="https://acme.test/{{ firstName }}.png" alt="{{ firstName }}" />'
    )
    assert_fast_and_equal(design(body), *HOSTILE_NAMES)


def test_values_in_the_title_are_equal() -> None:
    body = mjml("<mj-text>Hi</mj-text>", "<mj-title>{{ firstName }} · {{ project.name }}</mj-title>")
    assert_fast_and_equal(design(body), *HOSTILE_NAMES)


def test_values_in_the_preheader_are_equal() -> None:
    source = design(text_block("Hi"), preheader='Hi {{ firstName | default: "you" }} & welcome')
    assert_fast_and_equal(source, *HOSTILE_NAMES)


def test_values_in_the_subject_are_equal() -> None:
    source = design(text_block("Hi"), subject='{{ firstName | default: "Hello" }}, {{ lastName }}!')
    assert_fast_and_equal(source, *HOSTILE_NAMES, {"first_name": "A", "last_name": "  spaced  out  "})


IF_AROUND_TEXT = text_block(
    "<p>{% if firstName %}Hi {{ firstName }}{% else %}Hello there{% endif %}, welcome.</p>"
    "<p>{% unless plan %}Try Pro!{% endunless %}</p>"
)


def test_a_condition_around_text_stays_fast() -> None:
    compiled = compile_design(design(IF_AROUND_TEXT), base=BASE)
    assert (compiled.fast, compiled.reason) == (True, "")


@pytest.mark.parametrize(
    "fields",
    [
        {"first_name": "Ann", "custom_fields": {"plan": "Pro"}},
        {"first_name": "", "custom_fields": {}},
        {"first_name": "O'Neil & <b>", "custom_fields": {"plan": False}},
        {"first_name": "Zoë", "custom_fields": {"plan": None}},
        {"first_name": "x", "custom_fields": {"plan": 0}},
    ],
)
def test_a_condition_around_text_is_equal_for_truthy_and_falsy_values(fields: dict[str, Any]) -> None:
    compiled = compile_design(design(IF_AROUND_TEXT), base=BASE)
    assert same_as_full(compiled, context(person(**fields)))


def test_a_condition_on_a_missing_value_is_equal_when_rendering_for_nobody() -> None:
    compiled = compile_design(design(IF_AROUND_TEXT), base=BASE)
    assert same_as_full(compiled, context())


ASSIGN = text_block('{% assign name = firstName | default: "friend" %}<p>Hi {{ name }}!</p>')


def test_assign_falls_back_to_full_rendering() -> None:
    compiled = compile_design(design(ASSIGN), base=BASE)
    assert (compiled.fast, compiled.reason) == (False, "the assign tag")


@pytest.mark.parametrize("first_name", ["Ann", "", "O'Neil & <b>"])
def test_assign_still_renders_equal(first_name: str) -> None:
    compiled = compile_design(design(ASSIGN), base=BASE)
    assert same_as_full(compiled, context(person(first_name=first_name)))


WHITESPACE_CONTROL = text_block("<p>Hi   {{- firstName -}}   !</p>")


def test_whitespace_control_falls_back_to_full_rendering() -> None:
    compiled = compile_design(design(WHITESPACE_CONTROL), base=BASE)
    assert (compiled.fast, compiled.reason) == (False, "whitespace control")


@pytest.mark.parametrize("first_name", ["Ann", "", " a b "])
def test_whitespace_control_still_renders_equal(first_name: str) -> None:
    compiled = compile_design(design(WHITESPACE_CONTROL), base=BASE)
    assert same_as_full(compiled, context(person(first_name=first_name)))


HTML_DESIGN = design(
    "<!doctype html><html><head><title>{{ firstName }} news</title>"
    "<style>h1 { color: #102a43 }</style></head>"
    "<body><h1>Hi {{ firstName | default: 'there' }}</h1><p>{{ company }} &amp; you</p>"
    '<ul><li>{{ plan | default: "free" }}</li></ul>'
    '<p><a href="https://acme.test/">Visit</a></p></body></html>',
    subject="News for {{ firstName }}",
    preheader="{{ company }} inside",
    format="html",
)


def test_an_html_design_stays_fast() -> None:
    compiled = compile_design(HTML_DESIGN, base=BASE)
    assert (compiled.fast, compiled.reason) == (True, "")


def test_an_html_design_renders_equal() -> None:
    assert_fast_and_equal(
        HTML_DESIGN, *HOSTILE_NAMES, {"company": "R&D <Labs>", "custom_fields": {"plan": 5}}
    )


def test_an_html_design_with_a_value_in_a_link_stays_fast() -> None:
    source = design('<p><a href="https://acme.test/?e={{ email }}">Manage</a></p>', format="html")
    compiled = compile_design(source, base=BASE)
    assert (compiled.fast, compiled.reason) == (True, "")
    # A value wrapped over lines reads as one line in the text of both renderers.
    variables = {**BASE, "email": "ann\n  lee&co@example.org"}
    assert compiled.render(variables).text == "Manage (https://acme.test/?e=ann lee&co@example.org)\n"
    assert same_as_full(compiled, variables)


CR_AND_NUL_BODY = mjml(
    "<mj-text>Hi {{ firstName }}</mj-text>"
    '<mj-button href="https://acme.test/?n={{ firstName }}">Go</mj-button>'
)


@pytest.mark.parametrize("first_name", ["Ann\rLee", "Ann\r\nLee", "A\rB", "Ann\r", "\rAnn"])
def test_a_value_with_a_carriage_return_is_rendered_in_full_and_equal(
    first_name: str, full_renders: list[int]
) -> None:
    compiled = compile_design(design(CR_AND_NUL_BODY, subject="Hi {{ firstName }}"), base=BASE)
    assert compiled.fast is True
    full_renders.clear()
    assert same_as_full(compiled, context(person(first_name=first_name)))
    assert len(full_renders) == 1  # the compiled renderer handed this recipient to render_full


def test_a_value_of_only_a_carriage_return_is_nil_and_rendered_fast(full_renders: list[int]) -> None:
    compiled = compile_design(design(CR_AND_NUL_BODY, subject="Hi {{ firstName }}"), base=BASE)
    assert compiled.fast is True
    variables = context(person(first_name="\r"))
    assert variables["firstName"] is None
    full_renders.clear()
    assert as_tuple(compiled.render(variables)) == as_tuple(render_full(compiled.source, context(person())))
    assert len(full_renders) == 0


NUL_HTML = design('<p>Hi {{ plan }}</p><a href="https://acme.test/{{ plan }}">x</a>', format="html")


def test_a_nul_in_a_contact_value_is_dropped_and_rendered_fast(full_renders: list[int]) -> None:
    compiled = compile_design(NUL_HTML, base=BASE)
    assert compiled.fast is True
    variables = context(person(custom_fields={"plan": "Pro\x00Plus"}))
    assert variables["plan"] == "ProPlus"
    full_renders.clear()
    rendered = compiled.render(variables)
    assert len(full_renders) == 0
    assert as_tuple(rendered) == as_tuple(render_full(NUL_HTML, variables))
    assert "\x00" not in rendered.html + rendered.text
    assert '<p>Hi ProPlus</p><a href="https://acme.test/ProPlus">x</a>' in rendered.html


def test_a_value_with_nul_given_directly_in_an_html_design_is_rendered_in_full_and_equal(
    full_renders: list[int],
) -> None:
    # Not through render_context: the compiled renderer's own check hands NUL to render_full.
    compiled = compile_design(NUL_HTML, base=BASE)
    assert compiled.fast is True
    full_renders.clear()
    assert same_as_full(compiled, {**BASE, "plan": "Pro\x00Plus"})
    assert len(full_renders) == 1


@pytest.mark.parametrize("value", ["A\xa0B", "A\\B", "C:\\new\\table", "\\", "a\xa0\xa0b"])
def test_a_no_break_space_or_backslash_in_an_mjml_href_is_equal(value: str) -> None:
    body = mjml(
        '<mj-button href="https://acme.test/?n={{ plan }}">Go</mj-button>'
        '<mj-text><a href="https://acme.test/{{ plan }}">{{ plan }}</a></mj-text>'
    )
    compiled = compile_design(design(body), base=BASE)
    assert compiled.fast is True
    assert same_as_full(compiled, context(person(custom_fields={"plan": value})))


def test_numbers_and_booleans_render_equal() -> None:
    body = text_block("<p>{{ seats }} seats, {{ price }} each, trial: {{ trial }}, {{ seats | plus: 1 }}</p>")
    compiled = compile_design(design(body, subject="{{ seats }} seats"), base=BASE)
    assert compiled.fast is True
    for custom in (
        {"seats": 3, "price": 12.5, "trial": True},
        {"seats": 0, "price": -0.0, "trial": False},
        {},
    ):
        assert same_as_full(compiled, context(person(custom_fields=custom)))


def test_a_value_holding_liquid_is_not_run() -> None:
    compiled = compile_design(design(text_block("Hi {{ firstName }}")), base=BASE)
    rendered = compiled.render(context(person(first_name="{{ project.name }}{% raw %}")))
    assert rendered.text == "Hi {{ project.name }}{% raw %}\n"
    assert same_as_full(compiled, context(person(first_name="{{ project.name }}{% raw %}")))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{% include "x" %}', "the template failed: unexpected tag 'include'"),
        (
            "{{ (1..20000) | size }}",
            "the template failed: a range of 20000 numbers is over the limit of 10000",
        ),
        ("{% for i in (1..2000) %}{% endfor %}", "the template failed: loop iteration limit reached"),
    ],
)
def test_compile_raises_for_a_design_that_does_not_render(body: str, message: str) -> None:
    with pytest.raises(RenderError) as caught:
        compile_design(design(text_block(body)), base=BASE)
    assert caught.value.detail == message


# -- edge cases the probes do not cover ---------------------------------------------------------


@pytest.mark.parametrize("plan", ["\xa0Pro", "Pro\xa0", "Pro\u2028"])
def test_a_no_break_space_at_the_edge_of_a_text_line_is_equal(plan: str, full_renders: list[int]) -> None:
    compiled = compile_design(design(text_block("<p>{{ plan }}</p><p>Plan: {{ plan }}</p>")), base=BASE)
    assert compiled.fast is True
    full_renders.clear()
    assert same_as_full(compiled, context(person(custom_fields={"plan": plan})))
    assert len(full_renders) == 0  # the copy came from the compiled form


@pytest.mark.parametrize("vip", [False, None, ""])
def test_a_false_value_with_a_default_holding_an_entity_is_equal(vip: Any) -> None:
    compiled = compile_design(design(text_block('{{ vip | default: "R&amp;D" }}')), base=BASE)
    assert compiled.fast is True
    rendered = compiled.render(context(person(custom_fields={"vip": vip})))
    assert rendered.text == "R&D\n"
    assert same_as_full(compiled, context(person(custom_fields={"vip": vip})))


def test_a_newline_value_from_a_contact_is_nil_and_equal() -> None:
    compiled = compile_design(design(text_block("{{ note }}")), base=BASE)
    assert compiled.fast is True
    variables = context(person(custom_fields={"note": "\n"}))
    assert variables["note"] is None
    assert same_as_full(compiled, variables)


@pytest.mark.parametrize("note", ["\n", " ", "\t", "  \n "])
def test_a_whitespace_only_value_given_directly_is_rendered_in_full_and_equal(
    note: str, full_renders: list[int]
) -> None:
    # mrml drops a text node that is only whitespace; the compiled html would keep it.
    compiled = compile_design(design(text_block("{{ note }}")), base=BASE)
    assert compiled.fast is True
    full_renders.clear()
    assert same_as_full(compiled, {**BASE, "note": note})
    assert len(full_renders) == 1  # the compiled renderer handed this recipient to render_full


def test_links_of_the_preview_render_equal() -> None:
    compiled = compile_design(NEWSLETTER, base=BASE)
    assert same_as_full(compiled, context(person(first_name="Ann"), links=LINKS))


@pytest.mark.parametrize("nick", ["O'Neil", 'a"b', "R&D", "x\\y"])
def test_a_custom_field_in_an_inline_element_attribute_is_equal(nick: str) -> None:
    source = design(text_block('Hi <span title="{{ customFields.nick }}">you</span>'))
    compiled = compile_design(source, base=BASE)
    assert compiled.fast is True
    assert same_as_full(compiled, context(person(custom_fields={"nick": nick})))


def test_a_value_in_a_style_attribute_is_rendered_whole() -> None:
    source = design(
        mjml('<mj-section background-color="{{ customFields.c }}"><mj-column></mj-column></mj-section>')
    )
    compiled = compile_design(source, base=BASE)
    assert compiled.fast is False
    for colour in ("R&D", " pad ", "red; font-size: 40px"):
        assert same_as_full(compiled, context(person(custom_fields={"c": colour})))


def test_a_value_that_can_hide_an_element_is_rendered_whole() -> None:
    source = design('<div style="{{ s }}">Secret</div><p>x</p>', format="html")
    compiled = compile_design(source, base=BASE)
    assert compiled.fast is False
    rendered = compiled.render(context(s="display:none"))
    assert rendered.text == "x\n"


def test_markup_made_by_a_filter_is_equal() -> None:
    source = design(text_block("{{ customFields.note | newline_to_br }}"))
    compiled = compile_design(source, base=BASE)
    assert compiled.fast is True
    assert same_as_full(compiled, context(person(custom_fields={"note": "a\nb"})))
