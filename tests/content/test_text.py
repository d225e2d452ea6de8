"""html_to_text: the plain-text alternative made from an email's HTML."""

from __future__ import annotations

import pytest

from tidings.content.text import html_to_text, link_suffix

# -- blocks become lines ------------------------------------------------------------------


def test_paragraphs_are_separated_by_a_blank_line() -> None:
    assert html_to_text("<p>One</p><p>Two</p>") == "One\n\nTwo\n"


def test_headings_are_paragraphs() -> None:
    assert html_to_text("<h1>Title</h1>Body") == "Title\n\nBody\n"


def test_a_line_break_starts_a_new_line() -> None:
    assert html_to_text("a<br>b<br/>c") == "a\nb\nc\n"


def test_nested_blocks_each_start_a_line() -> None:
    assert html_to_text("<div>a<div>b</div>c</div>") == "a\nb\nc\n"


def test_table_cells_become_their_own_lines() -> None:
    html = "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
    assert html_to_text(html) == "a\n\nb\n\nc\n"


def test_list_items_start_with_a_dash() -> None:
    assert html_to_text("<ul><li>Tea</li><li>Cake</li></ul>") == "- Tea\n\n- Cake\n"


def test_inline_elements_stay_on_the_line() -> None:
    assert html_to_text("<p>Hi <b>Ann</b>, <i>welcome</i></p>") == "Hi Ann, welcome\n"


def test_empty_blocks_leave_no_blank_runs() -> None:
    assert html_to_text("<p>  a  </p><p></p><p></p><div></div><p>b</p>") == "a\n\nb\n"


def test_empty_html_is_one_empty_line() -> None:
    assert html_to_text("") == "\n"


# -- links --------------------------------------------------------------------------------


def test_a_link_shows_its_address_after_its_label() -> None:
    html = '<p>Read <a href="https://acme.test/docs">the docs</a>.</p>'
    assert html_to_text(html) == "Read the docs (https://acme.test/docs).\n"


def test_a_link_whose_label_is_its_address_shows_it_once() -> None:
    assert html_to_text('<a href="https://acme.test/">https://acme.test/</a>') == "https://acme.test/\n"


def test_a_mailto_link_labelled_with_the_address_shows_it_once() -> None:
    assert html_to_text('<a href="mailto:Ann@Example.org">ann@example.org</a>') == "ann@example.org\n"


def test_a_mailto_link_with_another_label_shows_the_address() -> None:
    assert html_to_text('<a href="mailto:ann@example.org">Write</a>') == "Write (mailto:ann@example.org)\n"


@pytest.mark.parametrize("href", ["#top", "javascript:alert(1)", "JavaScript:x", "data:text/html,x", ""])
def test_a_link_going_nowhere_useful_shows_only_its_label(href: str) -> None:
    assert html_to_text(f'<a href="{href}">Label</a>') == "Label\n"


def test_a_link_without_a_label_shows_its_address() -> None:
    assert html_to_text('<a href="https://acme.test/"></a>') == "https://acme.test/\n"


def test_link_label_whitespace_is_collapsed_before_comparing() -> None:
    assert html_to_text('<a href="https://acme.test/">  https://acme.test/\n </a>') == "https://acme.test/\n"


def test_an_image_link_shows_the_alt_as_its_label() -> None:
    html = '<a href="https://acme.test/"><img src="logo.png" alt="Logo"></a>'
    assert html_to_text(html) == "Logo (https://acme.test/)\n"


def test_an_image_link_with_text_is_labelled_by_both() -> None:
    html = '<p><a href="https://acme.test/"><img src="i.png" alt="Icon"> Shop</a></p>'
    assert html_to_text(html) == "Icon Shop (https://acme.test/)\n"


def test_an_image_link_without_alt_still_shows_its_address_bare() -> None:
    assert html_to_text('<a href="https://acme.test/"><img src="logo.png"></a>') == "https://acme.test/\n"


def test_an_href_wrapped_in_the_source_stays_on_one_line() -> None:
    html = '<p><a href="\n  https://acme.test/a\n   b  ">Go</a> now</p>'
    assert html_to_text(html) == "Go (https://acme.test/a b) now\n"


def test_link_suffix_is_empty_for_an_anchor() -> None:
    assert link_suffix(" #top ", "Top") == ""


def test_link_suffix_is_the_bare_address_without_a_label() -> None:
    assert link_suffix("https://acme.test/", "") == "https://acme.test/"


# -- images -----------------------------------------------------------------------------


def test_an_image_shows_its_alt() -> None:
    assert html_to_text('<p>Before <img src="a.png" alt=" A chart "> after</p>') == "Before A chart after\n"


def test_an_image_without_alt_leaves_nothing() -> None:
    assert html_to_text('<p>Before <img src="a.png"> <img src="b.png" alt=""> after</p>') == (
        "Before after\n"
    )


def test_an_alt_wrapped_in_the_source_stays_on_one_line() -> None:
    html = '<p><img src="a.png" alt="The editor\n    beside a preview"> after</p>'
    assert html_to_text(html) == "The editor beside a preview after\n"


# -- what is left out ----------------------------------------------------------------------


def test_the_head_title_and_styles_are_left_out() -> None:
    html = "<html><head><title>T</title><style>p { color: red }</style></head><body>Body</body></html>"
    assert html_to_text(html) == "Body\n"


def test_scripts_are_left_out() -> None:
    assert html_to_text("<script>alert(1)</script>Shown") == "Shown\n"


@pytest.mark.parametrize(
    "hider",
    [
        'style="display: none"',
        'style="DISPLAY:NONE"',
        'style="mso-hide:all"',
        'style="visibility : hidden"',
        "hidden",
    ],
)
def test_hidden_elements_and_their_children_are_left_out(hider: str) -> None:
    html = f'<div {hider}>Preheader <p>with a <img alt="picture"> inside</p><br></div><p>Shown</p>'
    assert html_to_text(html) == "Shown\n"


def test_text_after_a_hidden_element_with_unclosed_children_is_shown() -> None:
    assert html_to_text('<div style="display:none"><span>Hidden</div><p>Shown</p>') == "Shown\n"


def test_outlook_conditional_comments_are_left_out() -> None:
    assert html_to_text("<!--[if mso]><table><tr><td>Outlook<![endif]-->Everyone") == "Everyone\n"


# -- entities and whitespace ---------------------------------------------------------------


def test_entities_are_decoded() -> None:
    assert (
        html_to_text("<p>&amp; &lt;b&gt; &eacute; &#233; &#x263A; &quot;q&quot;</p>") == '& <b> é é ☺ "q"\n'
    )


def test_runs_of_whitespace_become_one_space() -> None:
    assert html_to_text("a   b\n\n  c\td\r\ne") == "a b c d e\n"


def test_source_line_breaks_never_break_the_text() -> None:
    html = "<p>Here is what we shipped\n          in the last four weeks.</p>"
    assert html_to_text(html) == "Here is what we shipped in the last four weeks.\n"


def test_a_no_break_space_inside_a_line_is_kept() -> None:
    assert html_to_text("<p>10&nbsp;km and&nbsp;&nbsp;more</p>") == "10\xa0km and\xa0\xa0more\n"


def test_a_no_break_space_spacer_cell_leaves_no_line() -> None:
    assert html_to_text("<table><tr><td>&nbsp;</td></tr></table><p>x</p>") == "x\n"
