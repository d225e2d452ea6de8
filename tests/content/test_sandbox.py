"""Hostile templates: nothing of Python or the disk is reachable, every resource is bounded,
and a broken template is refused at save with its line and column."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ApiClient
from tests.content.design_factories import LINKS, PROJECT, context, design, person, text_block
from tests.core.test_api import assert_problem
from tidings.content.models import EmailDesign
from tidings.content.rendering import RenderError, render_full
from tidings.content.templating import MAX_LOOP, MAX_RANGE, check_template, render_context
from tidings.core.errors import FieldError, ValidationError


def render_text(body: str, **extra: object) -> str:
    return render_full(design(text_block(body)), context(person(first_name="Ann"), **extra)).text


def render_error(body: str) -> str:
    with pytest.raises(RenderError) as caught:
        render_full(design(text_block(body)), context())
    return caught.value.detail


def check_error(source: str, path: str = "body") -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        check_template(source, path=path)
    return caught.value.errors


# -- no Python object is reachable ----------------------------------------------------------


def test_python_attributes_of_the_project_are_not_reachable() -> None:
    body = (
        "[{{ project.__class__ }}][{{ project.__class__.__name__ }}]"
        "[{{ project.__dict__ }}][{{ project.items }}]"
    )
    assert render_text(body) == "[][][][]\n"


def test_python_attributes_of_a_value_are_not_reachable() -> None:
    body = (
        "[{{ contact.__dict__ }}][{{ firstName.__class__ }}][{{ firstName.upper }}]"
        "[{{ customFields.__class__.__mro__ }}][{{ createdAt.__class__ }}]"
    )
    assert render_text(body) == "[][][][][]\n"


def test_settings_and_the_environment_are_not_variables() -> None:
    body = "[{{ settings.SECRET_KEY }}][{{ environ.HOME }}][{{ os }}][{{ self }}][{{ request.META }}]"
    assert render_text(body) == "[][][][][]\n"


def test_a_send_variable_cannot_replace_a_reserved_name() -> None:
    extra = {"project": {"name": "Evil"}, "firstName": "X", "unsubscribeUrl": "https://evil.test/"}
    variables = render_context(project=PROJECT, contact=person(first_name="Ann"), links=LINKS, extra=extra)
    rendered = render_full(
        design(text_block("{{ project.name }} {{ firstName }} {{ unsubscribeUrl }}")), variables
    )
    assert rendered.text == f"Acme & Sons Ann {LINKS['unsubscribeUrl']}\n"


# -- include and render are not tags: no file is ever read -------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.liquid"
    path.write_text("TOP-SECRET-CONTENT")
    return path


@pytest.fixture
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the test opens: builtin open(), and Path.open (which read_text/read_bytes use)."""
    opened: list[str] = []
    real_open, real_path_open = builtins.open, Path.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(self))
        return real_path_open(self, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(Path, "open", spy_path_open)
    return opened


@pytest.mark.parametrize("tag", ["include", "render"])
def test_include_and_render_of_an_absolute_path_reach_no_file(
    tag: str, secret_file: Path, opened_files: list[str]
) -> None:
    detail = render_error(f'{{% {tag} "{secret_file}" %}}')
    assert detail == f"the template failed: unexpected tag '{tag}'"
    assert opened_files == []


@pytest.mark.parametrize(
    "name", ["../../../../etc/passwd", "tidings/settings.py", "newsletter", "starters/newsletter.mjml"]
)
def test_include_of_a_relative_path_reaches_no_file(name: str, opened_files: list[str]) -> None:
    assert render_error(f'{{% include "{name}" %}}') == "the template failed: unexpected tag 'include'"
    assert opened_files == []


@pytest.mark.parametrize("tag", ["include", "render"])
def test_include_and_render_are_refused_by_the_check_with_their_place(tag: str, secret_file: Path) -> None:
    source = f'Hi\n  {{% {tag} "{secret_file}" %}}'
    assert check_error(source) == [FieldError("body", f"line 2, column 6: unexpected tag '{tag}'")]


def test_include_is_refused_at_save_and_nothing_is_saved(
    api: ApiClient, secret_file: Path, opened_files: list[str]
) -> None:
    body = text_block(f'Hi {{% include "{secret_file}" %}}')
    problem = assert_problem(api.post("designs", {"name": "Sneaky", "body": body}), 422, "validation_error")
    column = body.index("include") + 1  # the tag's name, on the body's only line
    assert problem["errors"] == [
        {"path": "body", "message": f"line 1, column {column}: unexpected tag 'include'"}
    ]
    assert "TOP-SECRET-CONTENT" not in str(problem)
    assert str(secret_file) not in opened_files
    assert not EmailDesign.objects.exists()


def test_include_at_save_says_that_templates_cannot_be_included(api: ApiClient) -> None:
    body = text_block('{% include "header" %}')
    problem = assert_problem(api.post("designs", {"name": "x", "body": body}), 422, "validation_error")
    assert problem["errors"] == [{"path": "body", "message": "line 1, column 51: unexpected tag 'include'"}]
    assert not EmailDesign.objects.exists()


# -- bounded resources ---------------------------------------------------------------------


def test_a_loop_of_2000_iterations_is_refused() -> None:
    assert render_error("{% for i in (1..2000) %}x{% endfor %}") == (
        "the template failed: loop iteration limit reached"
    )


def test_a_loop_over_a_range_of_100000_numbers_is_refused_for_its_range() -> None:
    assert render_error("{% for i in (1..100000) %}x{% endfor %}") == (
        "the template failed: a range of 100000 numbers is over the limit of 10000"
    )


def test_loops_may_run_up_to_the_limit() -> None:
    assert render_text(f"{{% for i in (1..{MAX_LOOP}) %}}{{% endfor %}}done") == "done\n"


def test_the_loop_limit_counts_the_iterations_of_all_loops() -> None:
    body = "{% for i in (1..40) %}{% for j in (1..40) %}{% endfor %}{% endfor %}"
    assert render_error(body) == "the template failed: loop iteration limit reached"


def test_a_huge_output_is_refused() -> None:
    body = "{% for i in (1..999) %}" + "x" * 2000 + "{% endfor %}"
    assert render_error(body) == "the template failed: output stream limit reached"


def test_a_value_doubling_in_a_loop_is_refused() -> None:
    body = (
        '{% assign s = "x" %}{% for i in (1..60) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}'
    )
    assert render_error(body) == "the template failed: local namespace limit reached"


def test_a_capture_doubling_in_a_loop_is_refused() -> None:
    body = (
        '{% assign s = "x" %}{% for i in (1..60) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}'
    )
    assert render_error(body) == "the template failed: local namespace limit reached"


def test_a_range_far_beyond_the_loop_limit_is_refused() -> None:
    assert render_error("{{ (1..1000000) | reverse | first }}") == (
        "the template failed: a range of 1000000 numbers is over the limit of 10000"
    )


def test_a_range_of_the_limit_is_allowed_outside_a_loop() -> None:
    assert MAX_RANGE == 10_000
    assert (
        render_text(f"{{{{ (1..{MAX_RANGE}) | size }}}} {{{{ (1..{MAX_RANGE}) | last }}}}") == "10000 10000\n"
    )


def test_a_range_one_over_the_limit_is_refused() -> None:
    assert render_error(f"{{{{ (1..{MAX_RANGE + 1}) | size }}}}") == (
        "the template failed: a range of 10001 numbers is over the limit of 10000"
    )


def test_blocks_nested_31_deep_are_refused_with_their_place() -> None:
    source = "{% if true %}" * 31 + "x" + "{% endif %}" * 31
    assert check_error(source) == [FieldError("body", "line 1, column 404: block nesting limit reached")]


def test_blocks_nested_30_deep_are_allowed() -> None:
    assert render_text("{% if true %}" * 30 + "deep" + "{% endif %}" * 30) == "deep\n"


# -- syntax errors with their place ------------------------------------------------------------


def test_an_unclosed_output_is_reported_with_line_and_column() -> None:
    assert check_error("Hi\n  {{ firstName ", "subject") == [
        FieldError("subject", "line 2, column 3: expected '}}', found end of file")
    ]


def test_an_unknown_tag_is_reported_with_line_and_column() -> None:
    assert check_error("<p>a</p>\n<p>b</p>\n {% foo %}") == [
        FieldError("body", "line 3, column 5: unexpected tag 'foo'")
    ]


def test_an_unterminated_string_is_reported_with_line_and_column() -> None:
    assert check_error('a\n  {{ "unterminated }}') == [
        FieldError("body", "line 2, column 6: unexpected '\"'")
    ]


def test_a_valid_template_passes_the_check() -> None:
    check_template(
        '{% if a %}{{ b | default: "x" }}{% endif %}{% for i in list %}{{ i }}{% endfor %}', path="body"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hi\n  {{ firstName | }}", "line 2, column 3: expected word, found end of expression"),
        (
            "Hi\n  {% if x == %}y{% endif %}",
            "line 2, column 3: expected a primitive expression, found end of expression",
        ),
        ("Hi\n  {{ }}", "line 2, column 3: expected a primitive expression, found end of expression"),
        ("Hi\n  {% if x %}y", "line 2, column 3: expected tag endif, found end of expression"),
    ],
)
def test_an_error_at_the_end_of_an_expression_is_placed_on_its_piece(source: str, message: str) -> None:
    assert check_error(source) == [FieldError("body", message)]


def test_an_unclosed_block_is_placed_on_the_opener_left_open() -> None:
    # The endif closes the inner if; the outer one, on line 1, is the one never closed.
    source = "{% if a %}\n{% if b %}x{% endif %}"
    assert check_error(source) == [
        FieldError("body", "line 1, column 1: expected tag endif, found end of expression")
    ]


# -- save-time errors through the API -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "Hi {{ firstName ", "line 1, column 4: expected '}}', found end of file"),
        ("preheader", "Read {% foo %}", "line 1, column 9: unexpected tag 'foo'"),
        ("body", text_block("Hi\n{{ firstName "), "line 2, column 1: expected '}}', found end of file"),
    ],
)
def test_a_template_error_at_save_is_a_problem_on_its_field(
    api: ApiClient, field: str, value: str, message: str
) -> None:
    payload = {"name": "Broken", "subject": "Hello", "body": text_block("Hi"), field: value}
    problem = assert_problem(api.post("designs", payload), 422, "validation_error")
    assert problem["errors"] == [{"path": field, "message": message}]
    assert not EmailDesign.objects.exists()


def test_template_errors_in_several_fields_are_all_reported(api: ApiClient) -> None:
    payload = {"name": "Broken", "subject": "{{ a ", "preheader": "{% foo %}", "body": text_block("{{ b ")}
    problem = assert_problem(api.post("designs", payload), 422, "validation_error")
    assert [e["path"] for e in problem["errors"]] == ["subject", "preheader", "body"]


def test_a_template_error_in_a_patch_is_a_problem_and_changes_nothing(api: ApiClient) -> None:
    created = api.post("designs", {"name": "Fine", "subject": "Hello", "body": text_block("Hi")}).json()
    response = api.patch(f"designs/{created['id']}", {"subject": "Hi {% if %}"})
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == [{"path": "subject", "message": "line 1, column 7: missing expression"}]
    stored = EmailDesign.objects.get(pk=created["id"])
    assert (stored.subject, stored.version, stored.versions.count()) == ("Hello", 1, 1)


def test_broken_mjml_at_save_is_a_problem_on_the_body(api: ApiClient) -> None:
    problem = assert_problem(
        api.post("designs", {"name": "Broken", "body": "<mjml><mj-body><mj-section>"}),
        422,
        "validation_error",
    )
    assert problem["errors"] == [
        {"path": "body", "message": "the MJML does not compile: unexpected end of stream in root template"}
    ]
    assert not EmailDesign.objects.exists()


def test_a_loop_over_the_limit_at_save_is_a_problem_on_the_body(api: ApiClient) -> None:
    body = text_block("{% for i in (1..2000) %}x{% endfor %}")
    problem = assert_problem(api.post("designs", {"name": "Loop", "body": body}), 422, "validation_error")
    assert problem["errors"] == [
        {"path": "body", "message": "the template failed: loop iteration limit reached"}
    ]
    assert not EmailDesign.objects.exists()


def test_a_range_over_the_limit_at_save_is_a_problem_on_the_body(api: ApiClient) -> None:
    body = text_block("{% for i in (1..100000) %}x{% endfor %}")
    problem = assert_problem(api.post("designs", {"name": "Range", "body": body}), 422, "validation_error")
    assert problem["errors"] == [
        {
            "path": "body",
            "message": "the template failed: a range of 100000 numbers is over the limit of 10000",
        }
    ]
    assert not EmailDesign.objects.exists()


def test_a_huge_output_at_save_is_a_problem_on_the_body(api: ApiClient) -> None:
    body = text_block("{% for i in (1..999) %}" + "x" * 2000 + "{% endfor %}")
    problem = assert_problem(api.post("designs", {"name": "Huge", "body": body}), 422, "validation_error")
    assert problem["errors"] == [
        {"path": "body", "message": "the template failed: output stream limit reached"}
    ]


def test_unsaved_source_with_a_loop_over_the_limit_is_a_problem(api: ApiClient) -> None:
    body = text_block("{% for i in (1..2000) %}x{% endfor %}")
    problem = assert_problem(api.post("designs/render", {"body": body}), 422, "validation_error")
    assert problem["errors"] == [
        {"path": "body", "message": "the template failed: loop iteration limit reached"}
    ]
