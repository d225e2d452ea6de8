"""Lint warnings kept on a design when it is saved: shown, never blocking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.content.design_factories import mjml, text_block
from tidings.content.lint import GMAIL_CLIP_BYTES, LintWarning, lint_design
from tidings.content.services import design_check, starter_body
from tidings.core.models import Project

UNSUBSCRIBE = '<a href="{{ unsubscribeUrl }}">Unsubscribe</a>'
NO_UNSUBSCRIBE = LintWarning(
    "no_unsubscribe_link",
    "This marketing email has no {{ unsubscribeUrl }} or {{ preferencesUrl }} link; "
    "one will be added at the bottom with the project's postal address when it is sent.",
)


def warnings_of(project: Project, body: str, **values: Any) -> list[LintWarning]:
    """The warnings of a save: the design rendered for nobody, as the editor checks it."""
    values = {
        "name": "Lint",
        "purpose": "marketing",
        "format": "mjml",
        "subject": "Hi",
        "body": body,
        **values,
    }
    return design_check(project=project, values=values).warnings


def codes(project: Project, body: str, **values: Any) -> list[str]:
    return [w.code for w in warnings_of(project, body, **values)]


def test_a_clean_marketing_design_has_no_warnings(project: Project) -> None:
    assert codes(project, text_block(f"Hi {UNSUBSCRIBE}")) == []


# -- size -----------------------------------------------------------------------------------


def test_html_over_102_kb_is_warned_about() -> None:
    html = "x" * (GMAIL_CLIP_BYTES + 1)
    assert lint_design(html=html, body_source=UNSUBSCRIBE, marketing=True) == [
        LintWarning(
            "body_too_large",
            "The HTML is 102 KB; Gmail clips messages over 102 KB, hiding the rest (and the unsubscribe "
            "link) behind “View entire message”.",
        )
    ]


def test_html_of_exactly_102_kb_is_fine() -> None:
    assert lint_design(html="x" * GMAIL_CLIP_BYTES, body_source=UNSUBSCRIBE, marketing=True) == []


def test_the_size_is_counted_in_bytes_not_characters() -> None:
    html = "é" * (GMAIL_CLIP_BYTES // 2 + 1)  # two bytes each in UTF-8
    assert [w.code for w in lint_design(html=html, body_source=UNSUBSCRIBE, marketing=True)] == [
        "body_too_large"
    ]


def test_a_long_design_is_warned_about_at_save(project: Project) -> None:
    paragraph = "<p>" + "All the news that fits. " * 40 + "</p>"
    body = text_block(paragraph * 120 + UNSUBSCRIBE)
    warning = warnings_of(project, body)[0]
    assert warning.code == "body_too_large"
    assert warning.message.startswith("The HTML is 121 KB; Gmail clips messages over 102 KB")


# -- images ---------------------------------------------------------------------------------


def test_an_image_without_alt_is_warned_about(project: Project) -> None:
    body = mjml(f'<mj-image src="https://acme.test/a.png" /><mj-text>{UNSUBSCRIBE}</mj-text>')
    assert warnings_of(project, body) == [
        LintWarning(
            "image_without_alt",
            "1 image(s) without alt text: “https://acme.test/a.png”. "
            "Readers who block images, and screen readers, see nothing there.",
        )
    ]


def test_an_image_with_an_empty_alt_is_decorative_and_fine(project: Project) -> None:
    body = mjml(f'<mj-image src="https://acme.test/a.png" alt="" /><mj-text>{UNSUBSCRIBE}</mj-text>')
    assert codes(project, body) == []


def test_an_img_tag_without_alt_in_html_is_warned_about(project: Project) -> None:
    body = (
        f'<p><img src="https://acme.test/a.png"><img src="https://acme.test/b.png" alt="B"> {UNSUBSCRIBE}</p>'
    )
    assert codes(project, body, format="html") == ["image_without_alt"]


def test_many_images_without_alt_are_counted_and_a_few_named() -> None:
    html = "".join(f'<img src="https://acme.test/{n}.png">' for n in range(5)) + "<img>"
    [warning] = lint_design(html=html, body_source=UNSUBSCRIBE, marketing=True)
    assert warning.message == (
        "6 image(s) without alt text: “https://acme.test/0.png”, “https://acme.test/1.png”, "
        "“https://acme.test/2.png” and 3 more. "
        "Readers who block images, and screen readers, see nothing there."
    )


# -- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "shown"),
    [
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("/pricing", "/pricing"),
        ("", "(empty)"),
        ("  ", "(empty)"),
    ],
)
def test_a_link_that_is_not_http_is_warned_about(project: Project, href: str, shown: str) -> None:
    body = text_block(f'<a href="{href}">Here</a> {UNSUBSCRIBE}')
    assert warnings_of(project, body) == [
        LintWarning("link_not_http", f"1 link(s) that are not http(s) addresses: “{shown}”.")
    ]


@pytest.mark.parametrize(
    "href",
    [
        "mailto:help@acme.test",
        "tel:+15550100",
        "https://acme.test/",
        "http://acme.test/",
        "HTTPS://ACME.TEST",
    ],
)
def test_web_mail_and_phone_links_are_fine(project: Project, href: str) -> None:
    assert codes(project, text_block(f'<a href="{href}">Here</a> {UNSUBSCRIBE}')) == []


def test_an_mj_button_with_a_javascript_link_is_warned_about(project: Project) -> None:
    body = mjml(f'<mj-button href="javascript:void(0)">Go</mj-button><mj-text>{UNSUBSCRIBE}</mj-text>')
    assert codes(project, body) == ["link_not_http"]


def test_an_anchor_without_href_is_not_a_link() -> None:
    assert lint_design(html='<a name="top">Top</a>', body_source=UNSUBSCRIBE, marketing=True) == []


# -- unsubscribe --------------------------------------------------------------------------------


def test_a_marketing_design_without_an_unsubscribe_link_is_warned_about(project: Project) -> None:
    assert warnings_of(project, text_block("Hi")) == [NO_UNSUBSCRIBE]


def test_a_transactional_design_needs_no_unsubscribe_link(project: Project) -> None:
    assert codes(project, text_block("Your receipt"), purpose="transactional") == []


def test_a_preferences_link_counts_as_an_unsubscribe_link(project: Project) -> None:
    assert codes(project, text_block('<a href="{{ preferencesUrl }}">Preferences</a>')) == []


def test_an_unsubscribe_link_written_without_spaces_counts(project: Project) -> None:
    assert codes(project, text_block('<a href="{{unsubscribeUrl}}">Unsubscribe</a>')) == []


def test_the_starter_newsletter_has_an_unsubscribe_link(project: Project) -> None:
    assert codes(project, starter_body("newsletter")) == []


# -- subject -------------------------------------------------------------------------------------


def test_a_design_without_a_subject_is_warned_about_first(project: Project) -> None:
    assert warnings_of(project, text_block("Hi"), subject="") == [
        LintWarning("no_subject", "The email has no subject yet."),
        NO_UNSUBSCRIBE,
    ]


def test_a_blank_subject_is_no_subject(project: Project) -> None:
    assert codes(project, text_block(UNSUBSCRIBE), subject="   ") == ["no_subject"]


def test_warnings_never_block_a_save(project: Project) -> None:
    body = mjml('<mj-image src="a.png" /><mj-button href="javascript:x">Go</mj-button>')
    assert codes(project, body, subject="") == [
        "no_subject",
        "image_without_alt",
        "link_not_http",
        "no_unsubscribe_link",
    ]
