"""The offline composer: a prompt and follow-ups in, a personalised MJML email out (no database needed)."""

from __future__ import annotations

import json
import re

import liquid
import mrml
import pytest

from tidings.drafts.composer import FALLBACK_VARIABLES, Composition, PersonaCues, compose

UNSUBSCRIBE = '<a href="{{ unsubscribeUrl }}">Unsubscribe</a>'
SALE = "Announce our spring sale: 20% off all plans until March 31. Link: https://shop.example.com/sale"
LONG = (
    "Announce our spring sale: 20% off all plans until March 31. Free shipping on every order. "
    "Our support team is available around the clock. Returns are free for 60 days. "
    "Link: https://shop.example.com/sale"
)
PROMPTS = [
    SALE,
    "Write an email to our customers announcing our new mobile app, which lets you book a table in two taps. "
    "It's free on iOS and Android. Download it at https://acme.app/download",
    "Invite them to our product webinar on June 12 at 4 pm CET. We'll show the new reporting features and "
    "answer questions live. Seats are limited. Register at https://acme.io/webinar",
    "Remind them that their trial ends on Friday. Tell them they can upgrade any time at www.acme.io/upgrade",
    "Thank our customers for their support in 2024. We grew to 12 cities and opened our Berlin office.",
    "Write a welcome email. Explain how to set up their first project in 5 minutes: https://acme.io/start",
    "Ask them to fill out our 2-minute survey (https://forms.example.com/s/abc). It helps us decide what to "
    "build next.",
    "Black Friday: 40% off everything from Nov 28 to Dec 1. Use code BF40 at checkout. "
    "https://shop.example.com/black-friday",
    "Apologise for the outage on Tuesday, 3 March. All data is safe and the service is back to normal.",
    "Introduce our new analytics dashboard. It shows revenue per campaign and exports to CSV.\n"
    "- Live charts\n- Weekly reports by email\nKeep it short.",
    "We moved to a new office: Torstraße 1, 10119 Berlin. Come and visit us for coffee!",
]
NO_PERSONA = PersonaCues(type="none")
VIP = PersonaCues(type="tag", name="vip", variables={"firstName": "there", "company": "your team"})
PERSONAS = [
    NO_PERSONA,
    VIP,
    PersonaCues(
        type="segment",
        name="Enterprise accounts",
        variables={"firstName": "there", "company": "your company", "lastName": "", "plan": ""},
        dominant={"language": "de", "country": "DE"},
        cohort_size=120,
    ),
    PersonaCues(
        type="contact",
        name="Anna Schmidt",
        variables={"firstName": "there", "company": "your company", "city": "your city"},
        values={"firstName": "Anna", "company": "Globex", "city": "Lyon"},
    ),
]
_OUTPUT_RE = re.compile(r"\{\{-?\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*((?:\|[^}]*)?)-?\}\}")
_ALWAYS_ALLOWED = {"unsubscribeUrl", "preferencesUrl"}


def outputs(source: str) -> list[tuple[str, str]]:
    """Every Liquid output tag in a template as (variable, filters)."""
    return [(m.group(1), m.group(2).strip()) for m in _OUTPUT_RE.finditer(source)]


def catalog_outputs(source: str) -> list[tuple[str, str]]:
    """The outputs of catalog variables: all but the links and project.* every email has."""
    return [
        (name, f)
        for name, f in outputs(source)
        if name not in _ALWAYS_ALLOWED and name.split(".")[0] != "project"
    ]


def variables_in(result: Composition) -> set[str]:
    return {name for name, _ in catalog_outputs(f"{result.subject}\n{result.preheader}\n{result.body}")}


def write(*prompts: str, persona: PersonaCues = NO_PERSONA, brand_notes: str = "") -> Composition:
    return compose(prompts=list(prompts), persona=persona, project_name="Acme", brand_notes=brand_notes)


def paragraphs(result: Composition) -> list[str]:
    return result.plan["paragraphs"]


def full_context(persona: PersonaCues) -> dict[str, object]:
    context: dict[str, object] = {name: f"Value of {name}" for name in persona.variables}
    return context | {
        "unsubscribeUrl": "https://t.example/u/1",
        "preferencesUrl": "https://t.example/p/1",
        "project": {"name": "Acme", "postalAddress": "1 Main St, Springfield"},
    }


# -- the email compiles, parses and renders ---------------------------------------------------------


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_body_compiles_with_mrml(prompt: str, persona: PersonaCues) -> None:
    html = mrml.to_html(write(prompt, persona=persona).body).content
    assert "<html" in html


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_body_renders_with_liquid_with_an_empty_and_a_full_context(prompt: str, persona: PersonaCues) -> None:
    result = write(prompt, persona=persona)
    template = liquid.Environment().from_string(result.body)
    empty = template.render()
    full = template.render(**full_context(persona))
    assert "{{" not in empty
    assert "https://t.example/u/1" in full
    assert "1 Main St, Springfield" in full
    mrml.to_html(full)


def test_body_has_the_expected_mjml_structure() -> None:
    body = write(SALE, persona=VIP).body
    assert body.startswith(
        "<mjml>\n  <mj-head>\n    <mj-title>Spring sale: 20% off all plans until March 31</mj-title>"
    )
    assert "<mj-preview>Don't wait: the sale ends March 31." in body
    assert '<mj-body background-color="#f4f5f7" width="600px">' in body
    assert '<mj-text font-size="20px" font-weight="700" color="#111827" padding="0">Acme</mj-text>' in body
    assert '<mj-button href="https://shop.example.com/sale">Shop the sale</mj-button>' in body
    assert "<mj-text>Best wishes,<br />The Acme team</mj-text>" in body


@pytest.mark.parametrize("prompt", PROMPTS)
def test_unsubscribe_link_preferences_and_postal_address_in_every_output(prompt: str) -> None:
    for result in (write(prompt), write(prompt, "shorter", "remove the button", "more formal", persona=VIP)):
        assert result.body.count(UNSUBSCRIBE) == 1
        assert '<a href="{{ preferencesUrl }}">Manage preferences</a>' in result.body
        assert "{{ project.postalAddress }}" in result.body


@pytest.mark.parametrize("prompt", PROMPTS)
def test_no_control_flow_tags(prompt: str) -> None:
    assert "{%" not in write(prompt, persona=VIP).body


# -- personalisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_only_persona_variables_appear(prompt: str, persona: PersonaCues) -> None:
    result = write(prompt, "use their company", "mention their city", "use their plan", persona=persona)
    allowed = set(persona.variables) or {"firstName", "lastName", "email", "company"}
    assert variables_in(result) <= allowed


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_every_variable_output_has_a_default_from_the_catalog(prompt: str, persona: PersonaCues) -> None:
    result = write(prompt, "use their company", persona=persona)
    catalog = persona.variables or FALLBACK_VARIABLES
    for name, filters in catalog_outputs(result.body):
        assert filters.startswith("| default: "), name
        if name != "firstName" or not persona.dominant:  # firstName's "there" is translated for German
            assert filters == f'| default: "{catalog[name]}"'


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_variables_field_lists_what_the_email_uses(persona: PersonaCues) -> None:
    result = write(SALE, "use their company", persona=persona)
    assert result.variables == sorted(variables_in(result))
    assert result.plan["variables"] == result.variables


def test_no_persona_uses_the_fallback_first_name_only() -> None:
    result = write(SALE)
    assert result.variables == ["firstName"]
    assert '<mj-text>Hi {{ firstName | default: "there" }},</mj-text>' in result.body


def test_no_persona_uses_their_company_when_asked() -> None:
    result = write(SALE, "use their company")
    assert result.variables == ["company", "firstName"]
    assert (
        result.reply
        == "Added a sentence with their company. Contacts without a company will see a blank there."
    )


def test_tag_persona_uses_its_catalog_variables() -> None:
    result = write(SALE, persona=VIP)
    assert result.variables == ["company", "firstName"]
    assert paragraphs(result)[0].endswith(
        'We put this together with {{ company | default: "your team" }} in mind.'
    )


def test_contact_persona_uses_variables_and_never_pastes_its_values() -> None:
    contact = PERSONAS[3]
    result = write(SALE, persona=contact)
    assert "Anna" not in result.body
    assert "Globex" not in result.body
    assert "Lyon" not in result.body
    assert result.variables == ["company", "firstName"]
    # A contact with a company is greeted formally.
    assert result.plan["greeting"] == 'Hello {{ firstName | default: "there" }},'
    assert result.reply.startswith("Drafted an announcement for Anna Schmidt in a formal tone:")


def test_variable_not_in_the_catalog_never_appears_even_when_asked() -> None:
    result = write(f"{SALE} Mention their city and use {{{{ city }}}}.", "use their city", persona=VIP)
    assert "city" not in variables_in(result)
    assert result.reply == "This persona has no city data, so I left it out."
    assert "{{ city" not in result.body


def test_empty_default_is_written_as_an_empty_literal() -> None:
    persona = PersonaCues(type="tag", name="trial", variables={"firstName": "there", "plan": ""})
    result = write(SALE, "mention their plan", persona=persona)
    assert 'You\'re currently on the {{ plan | default: "" }} plan.' in paragraphs(result)[0]
    assert result.reply == "Added a sentence with their plan. Contacts without a plan will see a blank there."


def test_empty_first_name_default_gives_a_neutral_greeting() -> None:
    persona = PersonaCues(type="tag", name="leads", variables={"firstName": ""})
    result = write(SALE, persona=persona)
    assert result.plan["greeting"] == "Hello,"
    assert result.variables == []


def test_defaults_with_quotes_markup_and_braces_are_escaped() -> None:
    persona = PersonaCues(
        type="tag", name="vip", variables={"firstName": 'the "best" <x>', "company": "R&D {{x}}"}
    )
    result = write(SALE, persona=persona)
    assert '{{ firstName | default: "the &quot;best&quot; &lt;x&gt;" }}' in result.body
    assert '{{ company | default: "R&amp;D &#123;&#123;x&#125;&#125;" }}' in result.body
    assert "Hi the &quot;best&quot; &lt;x&gt;," in liquid.Environment().from_string(result.body).render()


def test_catalog_names_liquid_cannot_address_are_never_used() -> None:
    persona = PersonaCues(type="tag", name="vip", variables={"first name": "there", "company": "your team"})
    assert write(SALE, persona=persona).variables == ["company"]


# -- tone ---------------------------------------------------------------------------------------------


def test_vip_tag_gets_valued_customer_wording() -> None:
    result = write(SALE, persona=VIP)
    assert paragraphs(result)[0].startswith(
        "As one of our most valued customers, we wanted to share this with you"
    )
    assert (
        paragraphs(result)[-1]
        == "Make the most of it while it lasts. Thank you for being such a loyal customer."
    )
    assert "in an appreciative tone" in result.reply


def test_lapsed_tag_gets_we_miss_you_wording() -> None:
    result = write(
        SALE, persona=PersonaCues(type="tag", name="win-back Q3", variables={"firstName": "there"})
    )
    assert paragraphs(result)[0].startswith("We miss you — it's been a while.")


def test_new_signups_get_welcoming_wording() -> None:
    result = write(
        SALE, persona=PersonaCues(type="segment", name="Trial signups", variables={"firstName": "there"})
    )
    assert paragraphs(result)[0].startswith(
        "Since you've only just joined us, we wanted to make sure you don't miss"
    )


def test_b2b_segment_is_formal() -> None:
    result = write(
        SALE, persona=PersonaCues(type="segment", name="B2B partners", variables={"firstName": "there"})
    )
    assert result.plan["greeting"] == 'Hello {{ firstName | default: "there" }},'
    assert result.plan["signOff"] == "Kind regards"


def test_dominant_german_gives_a_german_greeting_and_sign_off() -> None:
    persona = PersonaCues(
        type="tag",
        name="newsletter",
        variables={"firstName": "there"},
        dominant={"language": "de"},
        cohort_size=40,
    )
    result = write(SALE, persona=persona)
    assert '<mj-text>Hallo {{ firstName | default: "zusammen" }},</mj-text>' in result.body
    assert "<mj-text>Viele Grüße,<br />Ihr Acme-Team</mj-text>" in result.body
    assert "Our spring sale is here: 20% off all plans until March 31." in paragraphs(result)[0]


def test_no_persona_is_neutral() -> None:
    result = write(SALE)
    assert result.plan["tone"] == {
        "register": "neutral",
        "audience": "general",
        "language": "en",
        "noExclamationMarks": False,
    }
    assert paragraphs(result)[0] == "Our spring sale is here: 20% off all plans until March 31."


def test_brand_notes_set_tone_strip_exclamation_marks_and_sign_off() -> None:
    notes = "Friendly and playful, no exclamation marks, sign as The Acme Crew. Brand colour #0f766e."
    result = write(PROMPTS[2], persona=VIP, brand_notes=notes)
    assert result.plan["greeting"] == 'Hey {{ firstName | default: "there" }},'
    assert "!" not in result.body
    assert "!" not in result.subject + result.preheader
    assert "<mj-text>Cheers,<br />The Acme Crew</mj-text>" in result.body
    assert 'background-color="#0f766e"' in result.body


# -- the prompt ---------------------------------------------------------------------------------------


def test_link_in_the_prompt_becomes_the_button_labelled_by_intent() -> None:
    result = write(SALE)
    assert result.plan["buttons"] == [{"label": "Shop the sale", "url": "https://shop.example.com/sale"}]
    assert "Link:" not in result.body
    assert result.reply == "Drafted an announcement: two paragraphs and a “Shop the sale” button."


def test_no_link_means_no_button_and_the_reply_asks_for_one() -> None:
    result = write("Announce our spring sale: 20% off all plans until March 31.")
    assert "<mj-button href" not in result.body
    assert result.reply.endswith("Add a link and I will add a button.")


@pytest.mark.parametrize(
    ("prompt", "sentence"),
    [
        ("Announce our spring sale with 20% off", "Our spring sale is here, with 20% off."),
        ("Invite them to our webinar on May 5", "You're invited to our webinar on May 5."),
        ("Remind them that their trial ends Friday", "A quick reminder: your trial ends Friday."),
        (
            "Remind customers to renew their plan before June 1",
            "A quick reminder to renew your plan before June 1.",
        ),
        ("Thank customers for their support in 2024", "Thank you for your support in 2024."),
        ("Welcome new users to Acme Cloud", "Welcome to Acme Cloud. We're so glad you're here."),
        ("Tell them about our new mobile app", "We'd love to tell you about our new mobile app."),
        ("Let them know that shipping is free this week", "Shipping is free this week."),
        (
            "Promote our annual plan, which saves 2 months",
            "Take a look at our annual plan, which saves 2 months.",
        ),
        ("Introduce our new analytics dashboard", "Meet our new analytics dashboard."),
        ("Ask them to fill out our survey", "Could you take a moment to fill out our survey?"),
        (
            "Please write an email announcing that we moved to Berlin",
            "We're happy to share that we moved to Berlin.",
        ),
    ],
)
def test_instructions_are_rewritten_for_the_reader(prompt: str, sentence: str) -> None:
    assert paragraphs(write(prompt))[0] == sentence


def test_numbers_dates_and_further_links_are_kept() -> None:
    result = write(f"{SALE} Read the details at https://blog.example.com/spring-2025?ref=mail&x=1.")
    assert "20% off all plans until March 31" in result.body
    link = "https://blog.example.com/spring-2025?ref=mail&amp;x=1"
    assert f'<a href="{link}" style="color:#2563eb;">{link}</a>' in result.body


def test_list_items_become_points() -> None:
    body = write(PROMPTS[9]).body
    assert "It shows revenue per campaign and exports to CSV. Live charts. Weekly reports by email." in body


def test_requests_inside_the_first_prompt_are_applied_not_written() -> None:
    result = write(f'{SALE} Keep it short and add a P.S. saying free returns too. Subject: "Spring is here"')
    assert result.subject == "Spring is here"
    assert result.plan["ps"] == "Free returns too."
    assert result.plan["length"] == -1
    assert "Keep it short" not in result.body


@pytest.mark.parametrize("prompt", [*PROMPTS, "x" * 500, "Announce " + "our great big sale " * 30])
def test_subject_and_preheader_lengths(prompt: str) -> None:
    result = write(prompt, persona=VIP)
    assert 0 < len(result.subject) <= 78
    assert not result.subject.endswith(".")
    assert 0 < len(result.preheader) <= 110
    assert result.preheader != result.subject


def test_subject_and_preheader_for_the_sale() -> None:
    result = write(SALE, persona=VIP)
    assert result.subject == "Spring sale: 20% off all plans until March 31"
    assert result.preheader == (
        "Don't wait: the sale ends March 31. Thank you for being one of our most valued customers."
    )


def test_hostile_prompt_text_is_escaped() -> None:
    hostile = "Announce <script>alert(1)</script> {{ evil }} {% raw %}{{ x }}{% endraw %} {%- if true -%}. "
    result = write(hostile + "Link: https://shop.example.com/sale", persona=VIP)
    assert "<script>" not in result.body
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &#123;&#123; evil &#125;&#125; &#123;% raw %&#125;"
        in result.body
    )
    assert "{%" not in result.body
    assert {name for name, _ in outputs(result.body)} == {
        "firstName",
        "company",
        "unsubscribeUrl",
        "preferencesUrl",
        "project.postalAddress",
    }
    assert not re.search(r"[{}<>]", result.subject + result.preheader)
    rendered = liquid.Environment().from_string(result.body).render(evil="PWNED", x="PWNED")
    assert "PWNED" not in rendered
    html = mrml.to_html(result.body).content
    assert "PWNED" not in liquid.Environment().from_string(html).render(evil="PWNED", x="PWNED")


def test_hostile_follow_up_text_is_escaped() -> None:
    result = write(
        SALE,
        'change the subject to "{{ evil }} <b>"',
        "change the button text to <b>{{x}}</b>",
        "add a P.S. {% raw %}",
    )
    assert result.subject == "evil"
    assert result.plan["buttons"] == [{"label": "x", "url": "https://shop.example.com/sale"}]
    assert "<mj-text>P.S. &#123;% raw %&#125;.</mj-text>" in result.body
    assert "{%" not in result.body
    assert "evil" not in {name for name, _ in outputs(result.body)}


@pytest.mark.parametrize("prompts", [[""], ["   \n\t"], [SALE, " "]])
def test_empty_prompt_raises_a_clear_value_error(prompts: list[str]) -> None:
    with pytest.raises(ValueError, match="is empty: describe the email"):
        compose(prompts=prompts, persona=NO_PERSONA, project_name="Acme")


def test_empty_conversation_raises_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="The conversation is empty"):
        compose(prompts=[], persona=NO_PERSONA, project_name="Acme")


def test_unknown_persona_type_raises() -> None:
    with pytest.raises(ValueError, match="Unknown persona type 'audience'"):
        write(SALE, persona=PersonaCues(type="audience"))


def test_a_prompt_without_content_gets_a_placeholder_and_says_so() -> None:
    result = write("Keep it short.")
    assert paragraphs(result)[0] == "Here's the latest from Acme."
    assert "The offline composer couldn't tell what the email should say" in result.reply


# -- determinism ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.type)
def test_same_input_gives_identical_output(persona: PersonaCues) -> None:
    conversation = [
        LONG,
        "shorter and more formal",
        "add a button to the pricing page",
        "add a P.S. that it ends soon",
    ]
    first, second = write(*conversation, persona=persona), write(*conversation, persona=persona)
    assert first == second
    assert json.dumps(first.plan, sort_keys=True) == json.dumps(second.plan, sort_keys=True)


# -- follow-ups -------------------------------------------------------------------------------------------


def test_shorter_reduces_paragraphs() -> None:
    before = write(LONG, persona=VIP)
    after = write(LONG, "Make it shorter", persona=VIP)
    assert len(paragraphs(before)) == 4
    assert len(paragraphs(after)) == 2
    assert after.reply == "Made it shorter (two paragraphs)."
    # The user's points all survive.
    for point in (
        "20% off all plans until March 31",
        "Free shipping on every order",
        "Returns are free for 60 days",
    ):
        assert point in after.body


def test_shorter_at_the_minimum_says_so_and_keeps_the_email() -> None:
    at_minimum = write(LONG, "shorter", "shorter")
    again = write(LONG, "shorter", "shorter", "more concise")
    assert len(paragraphs(at_minimum)) == 1
    assert again.body == at_minimum.body
    assert again.reply == "It's already as short as I can make it without dropping your points."


def test_longer_adds_a_paragraph() -> None:
    before, after = write(SALE), write(SALE, "longer")
    assert len(paragraphs(after)) == len(paragraphs(before)) + 1
    assert after.reply.startswith("Made it longer (three paragraphs)")


def test_more_formal_changes_greeting_and_sign_off() -> None:
    result = write(SALE, "more formal", persona=VIP)
    assert '<mj-text>Hello {{ firstName | default: "there" }},</mj-text>' in result.body
    assert result.plan["signOff"] == "Kind regards"
    assert result.reply == "Made the tone more formal."


def test_more_casual_changes_greeting() -> None:
    result = write(SALE, "friendlier please", persona=VIP)
    assert result.plan["greeting"] == 'Hey {{ firstName | default: "there" }},'
    assert result.reply == "Made the tone friendlier."


def test_follow_ups_apply_in_order() -> None:
    result = write(SALE, "more formal", "more casual", persona=VIP)
    assert result.plan["greeting"] == 'Hi {{ firstName | default: "there" }},'
    assert result.reply == "Made the tone less formal."


def test_add_a_button_to_a_page_uses_the_origin_of_a_known_link() -> None:
    result = write(SALE, "add a button to the pricing page")
    assert result.plan["buttons"][1] == {"label": "See pricing", "url": "https://shop.example.com/pricing"}
    assert '<mj-button href="https://shop.example.com/pricing">See pricing</mj-button>' in result.body
    assert result.reply == "Added a “See pricing” button linking to https://shop.example.com/pricing."


def test_add_a_button_without_a_known_origin_asks_for_the_address() -> None:
    before = write("Announce our spring sale: 20% off all plans until March 31.")
    result = write(
        "Announce our spring sale: 20% off all plans until March 31.", "add a button to the pricing page"
    )
    assert result.body == before.body
    assert result.reply == (
        "Tell me the address of the pricing page (e.g. “add a button to https://…/pricing”) "
        "and I will add it."
    )


def test_add_a_button_with_its_address() -> None:
    result = write(SALE, "remove the button", "add a button to our contact page https://acme.io/contact-us")
    assert result.plan["buttons"] == [{"label": "Contact us", "url": "https://acme.io/contact-us"}]


def test_a_link_sent_after_the_request_becomes_the_button() -> None:
    result = write("Announce our spring sale.", "here's the link: https://shop.example.com/spring")
    assert result.plan["buttons"] == [{"label": "Shop the sale", "url": "https://shop.example.com/spring"}]


def test_remove_the_button() -> None:
    result = write(SALE, "remove the button")
    assert "<mj-button href" not in result.body
    assert result.plan["buttons"] == []
    assert result.reply == "Removed the button."


def test_change_the_button_text() -> None:
    result = write(SALE, "change the button text to Save 20% now")
    assert '<mj-button href="https://shop.example.com/sale">Save 20% now</mj-button>' in result.body


@pytest.mark.parametrize(
    "follow_up",
    ["change the subject to Big news inside", "Subject: Big news inside", 'subject line: "Big news inside"'],
)
def test_change_the_subject(follow_up: str) -> None:
    result = write(SALE, follow_up)
    assert result.subject == "Big news inside"
    assert "<mj-title>Big news inside</mj-title>" in result.body
    assert result.reply == "Changed the subject to “Big news inside”."


def test_add_a_ps() -> None:
    result = write(SALE, "add a P.S. that the offer ends soon")
    assert "<mj-text>P.S. The offer ends soon.</mj-text>" in result.body
    assert result.reply == "Added a P.S."


def test_several_requests_in_one_follow_up() -> None:
    result = write(
        LONG, "Make it shorter and more formal, and add a P.S. saying free returns too", persona=VIP
    )
    assert result.reply == "Made it shorter (two paragraphs), made the tone more formal and added a P.S."
    assert result.plan["greeting"] == 'Hello {{ firstName | default: "there" }},'
    assert result.plan["ps"] == "Free returns too."


def test_content_follow_ups_add_and_remove_points() -> None:
    added = write(LONG, "mention that we ship to all EU countries")
    removed = write(LONG, "remove the part about shipping")
    assert "We ship to all EU countries." in added.body
    assert added.reply == "Added “We ship to all EU countries”."
    assert "Free shipping" not in removed.body
    assert removed.reply == "Removed the part about “shipping”."


def test_unknown_follow_up_leaves_the_email_unchanged_and_says_so() -> None:
    before, after = write(SALE, persona=VIP), write(SALE, "rhyme it like Dr. Seuss", persona=VIP)
    assert after.body == before.body
    assert after.reply.startswith("The offline composer didn't understand “rhyme it like Dr. Seuss”")


def test_partly_understood_follow_up_does_what_it_understood() -> None:
    result = write(LONG, "make it shorter and sing it")
    assert len(paragraphs(result)) == 2
    assert result.reply == (
        "Made it shorter (two paragraphs). The offline composer understood only part of that: "
        "I didn't act on “sing”."
    )


@pytest.mark.parametrize(
    "follow_up",
    [
        "shorter",
        "more formal",
        "add a button to the pricing page",
        "remove the button",
        "subject: Hi",
        "add a P.S. hi",
    ],
)
def test_the_reply_names_the_offline_composer_only_when_declining(follow_up: str) -> None:
    assert "offline composer" not in write(SALE, follow_up).reply


def test_greeting_language_follow_up_declines_translating_the_body() -> None:
    result = write(SALE, "in German")
    assert result.plan["greeting"] == 'Hallo {{ firstName | default: "zusammen" }},'
    assert result.reply == (
        "Switched the greeting and sign-off to German. "
        "The offline composer can't translate the body, so it stays as written."
    )


def test_plan_is_json_serialisable_structured_state() -> None:
    plan = write(SALE, "add a P.S. hi", persona=VIP).plan
    assert json.loads(json.dumps(plan)) == plan
    assert plan["intent"] == "announce"
    assert plan["buttons"] == [{"label": "Shop the sale", "url": "https://shop.example.com/sale"}]
    assert plan["ideas"][0]["slot"] == "Our spring sale is here: 20% off all plans until March 31."
