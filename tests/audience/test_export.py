"""CSV export of contacts: columns, formula safety, the tag filter, tenancy, streaming, and a round trip."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.audience.test_import_support import run_import
from tests.conftest import ApiClient
from tidings.audience import exports
from tidings.audience.models import Contact, ContactTag, Tag
from tidings.core.models import Project

PROBLEM = "application/problem+json"


def add(project: Project, email: str, *, tags: tuple[str, ...] = (), **fields: Any) -> Contact:
    fields.setdefault("created_at", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    contact = Contact.objects.create(project=project, email=email, email_key=email.lower(), **fields)
    for name in tags:
        tag, _ = Tag.objects.get_or_create(project=project, name=name)
        ContactTag.objects.create(contact=contact, tag=tag)
    return contact


def download(api: ApiClient, query: str = "") -> list[list[str]]:
    response = api.get(f"contacts/export.csv{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-acme-mail-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_has_the_contact_fields_tags_and_a_column_per_custom_field(
    api: ApiClient, project: Project
) -> None:
    add(
        project,
        "ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        phone="020 7946 0000",
        country="GB",
        language="en",
        custom_fields={"plan": "pro", "seats": 3, "beta": True},
        tags=("vip", "Founders, Early"),
        source="api",
    )
    add(project, "bo@example.com", status="unsubscribed", custom_fields={"city": "Oslo"})

    assert download(api) == [
        [
            "email",
            "firstName",
            "lastName",
            "company",
            "phone",
            "country",
            "language",
            "status",
            "source",
            "createdAt",
            "tags",
            "beta",
            "city",
            "plan",
            "seats",
        ],
        [
            "ada@example.com",
            "Ada",
            "Lovelace",
            "Analytical Engines",
            "020 7946 0000",
            "GB",
            "en",
            "subscribed",
            "api",
            "2025-01-02T03:04:05+00:00",
            '"Founders, Early", vip',
            "true",
            "",
            "pro",
            "3",
        ],
        [
            "bo@example.com",
            "",
            "",
            "",
            "",
            "",
            "",
            "unsubscribed",
            "",
            "2025-01-02T03:04:05+00:00",
            "",
            "",
            "Oslo",
            "",
            "",
        ],
    ]


@pytest.mark.parametrize(
    ("name", "exported"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+SUM(1,2)", "'+SUM(1,2)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Plain = fine", "Plain = fine"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_a_leading_quote(
    api: ApiClient, project: Project, name: str, exported: str
) -> None:
    add(project, "ada@example.com", first_name=name, custom_fields={"note": name}, tags=(name,))

    row = download(api)[1]
    assert (row[1], row[11]) == (exported, exported)
    assert row[10] in (
        exported,
        f'"{name.replace(chr(34), chr(34) * 2)}"',
    )  # a tag name with quotes is quoted
    assert row[10][0] not in exports.FORMULA_START


def test_export_by_tag_lists_only_its_contacts(api: ApiClient, project: Project) -> None:
    add(project, "ada@example.com", tags=("vip",))
    add(project, "bo@example.com", tags=("VIP",))
    add(project, "cy@example.com")
    vip = Tag.objects.for_project(project).get(name="vip")

    rows = download(api, f"?tagId={vip.pk}")
    assert [row[0] for row in rows[1:]] == ["ada@example.com"]


def test_a_tag_of_another_project_is_404(api: ApiClient, other_project: Project) -> None:
    theirs = add(other_project, "x@example.com", tags=("vip",))
    tag = Tag.objects.for_project(other_project).get()

    response = api.get(f"contacts/export.csv?tagId={tag.pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert theirs.email == "x@example.com"


def test_contacts_of_another_project_are_never_exported(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    add(project, "ours@example.com", custom_fields={"plan": "pro"})
    add(other_project, "theirs@example.com", custom_fields={"secret": "x"})

    rows = download(api)
    assert [row[0] for row in rows[1:]] == ["ours@example.com"]
    assert "secret" not in rows[0]


def test_export_is_written_page_by_page(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "PAGE", 2)
    for n in range(5):
        add(project, f"user{n}@example.com")

    chunks = list(exports.contacts_export_chunks(project=project, queryset=Contact.objects.all()))

    # The header with the first page, two more pages, then what is left (nothing).
    assert [chunk.count("\n") for chunk in chunks] == [3, 2, 1, 0]


def test_contacts_export_writes_a_file(project: Project, tmp_path: Path) -> None:
    add(project, "ada@example.com", first_name="Ada")
    target = tmp_path / "out.csv"

    with target.open("w", newline="", encoding="utf-8") as out:
        exports.contacts_export(project=project, queryset=Contact.objects.all(), out=out)

    rows = list(csv.reader(target.open(newline="", encoding="utf-8")))
    assert [row[:2] for row in rows] == [["email", "firstName"], ["ada@example.com", "Ada"]]


def test_an_export_imports_back_as_the_same_contacts(
    project: Project, other_project: Project, settings: object, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    add(
        project,
        "ada@example.com",
        first_name="Ada",
        country="GB",
        language="pt-BR",
        status="unsubscribed",
        custom_fields={"plan": "pro", "email": "old@example.com", "Favourite_Colour": "teal"},
        tags=("vip", "Founders, Early"),
    )
    out = io.StringIO()
    exports.contacts_export(project=project, queryset=Contact.objects.all(), out=out)

    done = run_import(other_project, out.getvalue())

    assert (done.status, done.created_count, done.rejected_count) == ("finished", 1, 0)
    copy = Contact.objects.for_project(other_project).get()
    assert (copy.email, copy.first_name, copy.country, copy.language, copy.status) == (
        "ada@example.com",
        "Ada",
        "GB",
        "pt-BR",
        "unsubscribed",
    )
    assert copy.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    # The key "email" went out as the column customFields.email, so it came back as a custom field.
    assert copy.custom_fields == {"plan": "pro", "email": "old@example.com", "Favourite_Colour": "teal"}
    assert sorted(copy.tags.values_list("name", flat=True)) == ["Founders, Early", "vip"]
