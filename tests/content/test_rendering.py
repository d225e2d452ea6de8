"""The render pipeline end to end: Liquid → MJML → CSS inlined → plain text."""

from __future__ import annotations

import re

import pytest

from tests.content.design_factories import (
    LINKS,
    context,
    design,
    mjml,
    person,
    text_block,
)
from tidings.content.rendering import PREHEADER_STYLE, RenderError, body_end, render_full
from tidings.content.services import starter_body
from tidings.content.templating import ProjectInfo
from tidings.core.models import Project

HIDDEN_MJML_PREHEADER = (
    '<div style="display:none;font-size:1px;color:#ffffff;line-height:1px;max-height:0px;'
    'max-width:0px;opacity:0;overflow:hidden;">'
)


def body_of(html: str) -> str:
    """What follows the opening ``<body …>`` tag."""
    return html[re.search(r"<body\b[^>]*>", html).end() :]  # type: ignore[union-attr]


# -- MJML and CSS --------------------------------------------------------------------


def test_mjml_compiles_to_an_html_document() -> None:
    html = render_full(design(text_block("Hello")), context()).html
    assert html.startswith("<!DOCTYPE html><html ")
    assert html.endswith("</body></html>")
    assert "<mj-" not in html


def test_an_inline_mj_style_rule_ends_up_in_the_style_attribute() -> None:
    head = '<mj-style inline="inline">.lead { color: #123456; font-weight: bold }</mj-style>'
    body = mjml('<mj-text><p class="lead">Hi</p></mj-text>', head)
    html = render_full(design(body), context()).html
    assert '<p class="lead" style="display: block;margin: 13px 0;color: #123456;font-weight: bold">' in html
    assert ".lead" not in html


def test_media_queries_are_kept_in_the_head() -> None:
    html = render_full(design(text_block("Hi")), context()).html
    assert "<style>@media only screen and (min-width:480px) { .mj-column-per-100 {" in html


def test_no_web_font_is_fetched_from_google() -> None:
    # mj-text's default font family is Ubuntu, which MJML would load from Google Fonts.
    for body in (text_block("Hi"), starter_body("newsletter")):
        html = render_full(design(body), context()).html
        assert "fonts.googleapis" not in html
        assert "<link" not in html
        assert "@import" not in html


def test_mjml_preheader_is_a_hidden_first_element_of_the_body() -> None:
    html = render_full(design(text_block("Hi"), preheader="Sneak peek"), context()).html
    assert body_of(html).startswith(f"{HIDDEN_MJML_PREHEADER}Sneak peek</div>")


def test_mjml_preheader_is_added_to_an_existing_head() -> None:
    body = mjml("<mj-text>Hi</mj-text>", "<mj-title>Title</mj-title>")
    html = render_full(design(body, preheader="Sneak peek"), context()).html
    assert body_of(html).startswith(f"{HIDDEN_MJML_PREHEADER}Sneak peek</div>")
    assert "<title>Title</title>" in html


def test_an_mj_preview_of_the_body_wins_over_the_preheader_field() -> None:
    body = mjml("<mj-text>Hi</mj-text>", "<mj-preview>Own preview</mj-preview>")
    html = render_full(design(body, preheader="Field preheader"), context()).html
    assert body_of(html).startswith(f"{HIDDEN_MJML_PREHEADER}Own preview</div>")
    assert "Field preheader" not in html


def test_html_design_passes_through_with_the_preheader_hidden_first_in_the_body() -> None:
    body = (
        "<html><head><title>T</title><style>.a { color: red }</style></head>"
        '<body class="b"><p class="a">Hi</p></body></html>'
    )
    html = render_full(design(body, preheader="Sneak & peek", format="html"), context()).html
    assert html == (
        '<html><head><title>T</title></head><body class="b">'
        f'<div style="{PREHEADER_STYLE}">Sneak &amp; peek</div>'
        '<p class="a" style="color: red;">Hi</p></body></html>'
    )


def test_html_fragment_gets_the_preheader_before_its_content() -> None:
    html = render_full(design("<p>Hi</p>", preheader="Sneak", format="html"), context()).html
    assert html == (
        f'<html><head></head><body><div style="{PREHEADER_STYLE}">Sneak</div><p>Hi</p></body></html>'
    )


def test_html_design_without_preheader_gets_no_hidden_element() -> None:
    html = render_full(design("<p>Hi</p>", format="html"), context()).html
    assert html == "<html><head></head><body><p>Hi</p></body></html>"


def test_a_less_than_sign_in_an_mjml_preheader_is_text() -> None:
    rendered = render_full(design(text_block("Hi"), preheader="Prices < $10"), context())
    assert body_of(rendered.html).startswith(f"{HIDDEN_MJML_PREHEADER}Prices &lt; $10</div>")
    assert rendered.preheader == "Prices < $10"


def test_markup_typed_in_an_html_preheader_is_text() -> None:
    html = render_full(design("<p>Hi</p>", preheader="<b>New</b> arrivals", format="html"), context()).html
    assert f'<div style="{PREHEADER_STYLE}">&lt;b&gt;New&lt;/b&gt; arrivals</div>' in html
    assert "<b>" not in html


def test_the_literal_text_of_a_preheader_is_escaped_but_its_values_once_only() -> None:
    source = design("<p>Hi</p>", preheader="<i>For</i> {{ company }} & co", format="html")
    html = render_full(source, context(person(company="A<b>"))).html
    assert f'<div style="{PREHEADER_STYLE}">&lt;i&gt;For&lt;/i&gt; A&lt;b&gt; &amp; co</div>' in html


# -- the plain-text alternative ------------------------------------------------------------


def test_text_shows_links_as_label_then_address() -> None:
    body = text_block('<p>Read <a href="https://acme.test/docs">the docs</a> today.</p>')
    assert render_full(design(body), context()).text == "Read the docs (https://acme.test/docs) today.\n"


def test_text_shows_an_image_by_its_alt() -> None:
    body = mjml('<mj-image src="https://acme.test/logo.png" alt="Acme logo" /><mj-text>Hi</mj-text>')
    assert render_full(design(body), context()).text == "Acme logo\n\nHi\n"


def test_text_leaves_out_the_preheader_title_and_styles() -> None:
    head = "<mj-title>The title</mj-title><mj-style>.x { color: red }</mj-style>"
    body = mjml("<mj-text>Hi</mj-text>", head)
    rendered = render_full(design(body, preheader="Sneak peek"), context())
    assert rendered.text == "Hi\n"


def test_text_of_the_starter_newsletter() -> None:
    contact = person(first_name="Zoë", company="Gärtner & Co", custom_fields={"plan": "Pro"})
    text = render_full(design(starter_body("newsletter")), context(contact)).text
    lines = text.split("\n")
    assert lines[:6] == [
        "Acme & Sons · the monthly letter",
        "",
        "What changed this month",
        "",
        "Hi Zoë,",
        "",
    ]
    assert "Your team at Gärtner & Co is on the Pro plan, so everything below" in text
    assert "Read about imports (https://example.com/blog/faster-imports)" in lines
    assert "The draft editor beside a live preview" in lines
    assert text.endswith(
        "You receive this letter as ann@example.org because you signed up at our website.\n"
        f"Choose what you receive ({LINKS['preferencesUrl']}) · Unsubscribe ({LINKS['unsubscribeUrl']})\n"
        "1 Main St, Springfield\n"
    )


# -- Liquid personalisation --------------------------------------------------------------

GREETING = text_block('Hi {{ firstName | default: "there" }},')


def test_default_is_used_when_the_value_is_missing() -> None:
    assert render_full(design(GREETING), context(person())).text == "Hi there,\n"


def test_default_is_not_used_when_there_is_a_value() -> None:
    assert render_full(design(GREETING), context(person(first_name="Ann"))).text == "Hi Ann,\n"


def test_default_is_used_when_rendering_for_nobody() -> None:
    assert render_full(design(GREETING), context()).text == "Hi there,\n"


COMPANY_GREETING = text_block("{% if company %}Hello {{ company }} team{% else %}Hello friend{% endif %}")


def test_conditionals_see_the_contacts_values() -> None:
    assert render_full(design(COMPANY_GREETING), context(person(company="Initech"))).text == (
        "Hello Initech team\n"
    )


def test_a_condition_on_nobodys_values_takes_the_else_branch() -> None:
    assert render_full(design(COMPANY_GREETING), context()).text == "Hello friend\n"


@pytest.mark.parametrize("company", ["", "   ", "\t\n"])
def test_an_empty_contact_field_is_false_in_a_condition(company: str) -> None:
    assert render_full(design(COMPANY_GREETING), context(person(company=company))).text == "Hello friend\n"


@pytest.mark.parametrize("plan", ["", "  "])
def test_a_blank_custom_field_or_send_variable_is_false_in_a_condition(plan: str) -> None:
    body = text_block("{% if plan %}On {{ plan }}{% else %}No plan{% endif %}")
    assert render_full(design(body), context(person(custom_fields={"plan": plan}))).text == "No plan\n"
    assert render_full(design(body), context(plan=plan)).text == "No plan\n"


def test_loops_run_over_a_sends_list_variables() -> None:
    body = text_block("{% for item in items %}<p>{{ forloop.index }}. {{ item }}</p>{% endfor %}")
    rendered = render_full(design(body), context(items=["Tea", "Cake & jam"]))
    assert rendered.text == "1. Tea\n\n2. Cake & jam\n"


def test_custom_fields_are_reachable_by_key_at_the_top_level() -> None:
    body = text_block("{{ plan }} / {{ seats }} / {{ trial }}")
    contact = person(custom_fields={"plan": "Pro", "seats": 12, "trial": False})
    assert render_full(design(body), context(contact)).text == "Pro / 12 / false\n"


def test_custom_fields_are_reachable_under_custom_fields() -> None:
    body = text_block("{{ customFields.plan }}")
    assert render_full(design(body), context(person(custom_fields={"plan": "Pro"}))).text == "Pro\n"


def test_a_custom_field_named_like_a_contact_field_is_only_under_custom_fields() -> None:
    body = text_block("{{ email }} / {{ customFields.email }}")
    contact = person("ann@example.org", custom_fields={"email": "other@example.org"})
    assert render_full(design(body), context(contact)).text == "ann@example.org / other@example.org\n"


def test_project_values_are_under_project() -> None:
    body = text_block("{{ project.name }} · {{ project.postalAddress }} · {{ project.brandColor }}")
    project = ProjectInfo(name="Acme", postal_address="1 Main St", brand_color="#2f5d8a")
    assert render_full(design(body), context(project=project)).text == "Acme · 1 Main St · #2f5d8a\n"


def test_unsubscribe_url_fills_a_link() -> None:
    body = text_block('<a href="{{ unsubscribeUrl }}">Unsubscribe</a>')
    rendered = render_full(design(body), context())
    assert '<a href="https://mail.acme.test/u/tok123?c=1&amp;d=2">Unsubscribe</a>' in rendered.html
    assert rendered.text == "Unsubscribe (https://mail.acme.test/u/tok123?c=1&d=2)\n"


def test_contact_fields_and_signup_date_are_variables() -> None:
    body = text_block("{{ firstName }} {{ lastName }}, {{ country }}, {{ createdAt }}")
    contact = person(first_name="Ann", last_name="Lee", country="DE")
    assert render_full(design(body), context(contact)).text == "Ann Lee, DE, 2024-05-01T09:30:00+00:00\n"


def test_a_missing_value_renders_empty_never_an_error() -> None:
    body = text_block(
        "[{{ nickname }}][{{ customFields.none }}][{{ customFields.none.deeper }}]"
        "[{{ project.nothing }}][{{ nickname | upcase }}][{{ nickname.first }}]"
    )
    assert render_full(design(body), context(person())).text == "[][][][][][]\n"


def test_a_missing_value_in_a_subject_renders_its_default() -> None:
    rendered = render_full(design(GREETING, subject='{{ firstName | default: "Hello" }}, news'), context())
    assert rendered.subject == "Hello, news"


def test_a_missing_value_in_a_condition_is_false() -> None:
    body = text_block("{% if customFields.vip %}VIP{% else %}Regular{% endif %}")
    assert render_full(design(body), context(person())).text == "Regular\n"


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"first_name": "Ann\x0bMarie"}, "Hi AnnMarie, on free\n"),
        ({"first_name": "Ann\x0cMarie"}, "Hi AnnMarie, on free\n"),
        ({"first_name": "Ann\x7fMarie"}, "Hi AnnMarie, on free\n"),
        ({"first_name": "Ann\x01"}, "Hi Ann, on free\n"),
        ({"first_name": "\x01\x02"}, "Hi there, on free\n"),  # nothing but controls: blank, so nil
        ({"custom_fields": {"plan": "Pro\x00"}}, "Hi there, on Pro\n"),
    ],
)
def test_a_control_character_in_a_value_is_dropped_and_never_stops_the_email(
    fields: dict[str, object], text: str
) -> None:
    body = text_block('Hi {{ firstName | default: "there" }}, on {{ plan | default: "free" }}')
    rendered = render_full(design(body), context(person(**fields)))
    assert rendered.text == text


def test_tab_newline_and_carriage_return_are_kept_in_a_value() -> None:
    variables = context(person(first_name="A\x00\tB\x1f\r\nC"))
    assert variables["firstName"] == "A\tB\r\nC"


def test_a_value_a_filter_cannot_read_is_a_render_error_at_worst() -> None:
    body = text_block('Last order: {{ lastOrder | date: "%b %d, %Y" }}')
    contact = person(custom_fields={"lastOrder": 1714555800000})
    with pytest.raises(RenderError) as caught:
        render_full(design(body), context(contact))
    assert caught.value.detail == "the template failed on a value: year 56302 is out of range"


# -- escaping --------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_a_first_name_holding_markup_arrives_as_text_in_the_html() -> None:
    rendered = render_full(design(text_block("Hi {{ firstName }}")), context(person(first_name=SCRIPT)))
    assert "<script>" not in rendered.html
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;</div>" in rendered.html


def test_a_first_name_holding_markup_arrives_as_is_in_the_text() -> None:
    rendered = render_full(design(text_block("Hi {{ firstName }}")), context(person(first_name=SCRIPT)))
    assert rendered.text == f"Hi {SCRIPT}\n"


def test_a_value_cannot_break_out_of_an_attribute() -> None:
    body = text_block('<a href="https://acme.test/?n={{ firstName }}">x</a>')
    rendered = render_full(design(body), context(person(first_name='"><img src=x onerror=alert(1)>')))
    # The serializer writes < and > as they are inside a quoted value: still one attribute.
    assert '<a href="https://acme.test/?n=&quot;><img src=x onerror=alert(1)>">x</a>' in rendered.html
    assert rendered.html.count("<img") == 1


def test_subject_and_preheader_are_not_html_escaped() -> None:
    rendered = render_full(
        design(GREETING, subject="For {{ company }}", preheader="{{ company }} news"),
        context(person(company="Ben & Jerry's")),
    )
    assert (rendered.subject, rendered.preheader) == ("For Ben & Jerry's", "Ben & Jerry's news")


def test_the_preheader_is_escaped_where_it_stands_in_the_html() -> None:
    rendered = render_full(design(GREETING, preheader="{{ company }}"), context(person(company="A<b>&")))
    assert f"{HIDDEN_MJML_PREHEADER}A&lt;b&gt;&amp;</div>" in rendered.html


# -- one line -------------------------------------------------------------------------


def test_subject_becomes_one_line_whatever_the_values() -> None:
    contact = person(first_name="Ann\nMarie", custom_fields={"plan": "  Pro\t plan \r\n"})
    rendered = render_full(design(GREETING, subject="Hi {{ firstName }}: {{ plan }} "), context(contact))
    assert rendered.subject == "Hi Ann Marie: Pro plan"


def test_preheader_becomes_one_line_whatever_the_values() -> None:
    contact = person(custom_fields={"note": "line one\n\nline  two\u2028three"})
    rendered = render_full(design(GREETING, preheader=" {{ note }} "), context(contact))
    assert rendered.preheader == "line one line two three"


def test_a_plain_subject_is_left_as_it_is() -> None:
    assert render_full(design(GREETING, subject="Spring · 20% off"), context()).subject == "Spring · 20% off"


def test_templates_see_the_projects_values_as_plain_strings(project: Project) -> None:
    assert context(project=ProjectInfo.of(project))["project"] == {
        "name": "Acme Mail",
        "postalAddress": "1 Main St, Springfield",
        "brandColor": "#2f5d8a",
        "logoUrl": None,  # blank: nil, so {% if project.logoUrl %} is false
    }


def test_a_projects_blank_values_are_nil() -> None:
    project = ProjectInfo(name="Acme", postal_address="  \n", logo_url="")
    assert context(project=project)["project"] == {
        "name": "Acme",
        "postalAddress": None,
        "brandColor": None,
        "logoUrl": None,
    }
    body = text_block("{% if project.logoUrl %}logo{% else %}no logo{% endif %}")
    assert render_full(design(body), context(project=project)).text == "no logo\n"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><body>x</body></html>", 13),
        ("<BODY>x</BODY></HTML>", 7),
        ("<body>x</Body ></html>", 7),
        ("<p>no body</p>", -1),
        ("<body>a</body>b</body>c", 15),  # the last one
        ("<body>a</body>b</BODY\n>", 15),  # a later one in another spelling wins
    ],
)
def test_body_end_finds_the_last_closing_body_tag(html: str, expected: int) -> None:
    assert body_end(html) == expected
