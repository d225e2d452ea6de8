"""Contacts → Import CSV (upload, progress, rejected rows) and Export CSV."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tidings.audience import imports, services
from tidings.audience.models import Contact, ContactImport, Tag
from tidings.core.models import Project, Role

UPLOAD = "/audience/contacts/import/"
EXPORT = "/audience/contacts/export.csv"
CSV = b"email,first name,plan\nada@example.com,Ada,pro\nnot-an-email,Bob,free\ngrace@example.com,Grace,\n"


def _csv(content: bytes = CSV, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _upload(client: Client, content: bytes = CSV, **options: str) -> object:
    return client.post(UPLOAD, {"file": _csv(content), "tags": "", "on_conflict": "skip", **options})


def _imported(project: Project, **values: object) -> ContactImport:
    """An import of ``project``, run to its end in this process."""
    contact_import = imports.contact_import_create(
        project=project, upload=_csv(), file_name="people.csv", enqueue=False, **values
    )
    return imports.contact_import_run(contact_import=contact_import)


def _body(response: object) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.EDITOR])
def test_import_page_renders_for_editors_and_above(
    project: Project, member_client: Callable[..., Client], role: Role
) -> None:
    body = member_client(project, role).get(UPLOAD).content.decode()

    assert '<form method="post" action="/audience/contacts/import/" enctype="multipart/form-data"' in body
    assert 'value="upsert"' in body


def test_upload_stores_the_import_and_shows_its_progress(project: Project, owner_client: Client) -> None:
    response = _upload(owner_client, tags="imported, spring fair", on_conflict="upsert")

    contact_import = ContactImport.objects.for_project(project).get()
    assert (response.status_code, response["Location"]) == (302, f"{UPLOAD}{contact_import.pk}/")
    assert (contact_import.file_name, contact_import.status) == ("people.csv", "queued")
    assert (contact_import.tag_names, contact_import.on_conflict) == (["imported", "spring fair"], "upsert")
    page = owner_client.get(response["Location"]).content.decode()
    assert f'hx-get="{UPLOAD}{contact_import.pk}/" hx-trigger="every 1s"' in page
    assert "Waiting for a worker to start" in page


def test_progress_of_a_finished_import_shows_counts_and_stops_polling(
    project: Project, owner_client: Client
) -> None:
    contact_import = _imported(project)

    response = owner_client.get(
        f"{UPLOAD}{contact_import.pk}/", headers={"HX-Request": "true", "HX-Target": "import-progress"}
    )

    body = response.content.decode()
    assert body.startswith('<section id="import-progress"')
    assert "hx-trigger" not in body
    assert '<dd id="count-created">2</dd>' in body
    assert '<dd id="count-rejected">1</dd>' in body
    assert 'aria-valuenow="100"' in body
    assert f'href="{UPLOAD}{contact_import.pk}/report/" download>Download the 1 rejected row</a>' in body


def test_rejected_rows_report_downloads_with_line_and_reason(project: Project, owner_client: Client) -> None:
    contact_import = _imported(project)

    response = owner_client.get(f"{UPLOAD}{contact_import.pk}/report/")

    assert (
        response["Content-Disposition"] == f'attachment; filename="import-{contact_import.pk}-rejected.csv"'
    )
    lines = _body(response).splitlines()
    assert lines[0] == "line,reason,email,first name,plan"
    assert lines[1].startswith("3,email: is not a valid email address")
    assert lines[1].endswith(",not-an-email,Bob,free")


def test_report_of_a_queued_import_says_it_has_not_started(project: Project, owner_client: Client) -> None:
    contact_import = imports.contact_import_create(
        project=project, upload=_csv(), file_name="people.csv", enqueue=False
    )

    response = owner_client.get(f"{UPLOAD}{contact_import.pk}/report/", follow=True)

    assert "The import has not started yet; its report is written as it runs." in response.content.decode()


def test_upload_without_a_file_says_so(project: Project, owner_client: Client) -> None:
    response = owner_client.post(UPLOAD, {"tags": "", "on_conflict": "skip"})

    assert (
        '<p class="field-error" id="id_file-error">Choose a CSV file to import.</p>'
        in response.content.decode()
    )
    assert not ContactImport.objects.exists()


def test_upload_of_a_file_without_an_email_column_is_refused_on_the_file(
    project: Project, owner_client: Client
) -> None:
    response = _upload(owner_client, b"name,plan\nAda,pro\n")

    assert (
        '<p class="field-error" id="id_file-error">No email column: the columns found are &#x27;name&#x27;, '
        "&#x27;plan&#x27;; name one &#x27;email&#x27; or map it with columnMap</p>"
        in response.content.decode()
    )
    assert not ContactImport.objects.exists()


def test_upload_with_a_too_long_tag_is_refused_on_the_tags(project: Project, owner_client: Client) -> None:
    response = _upload(owner_client, tags="x" * 101)

    assert (
        '<p class="field-error" id="id_tags-error">Must be 1 to 100 characters</p>'
        in response.content.decode()
    )
    assert not ContactImport.objects.exists()


def test_viewer_cannot_import(project: Project, member_client: Callable[..., Client]) -> None:
    client = member_client(project, Role.VIEWER)

    assert client.get(UPLOAD).status_code == 403
    assert _upload(client).status_code == 403
    assert not ContactImport.objects.exists()


def test_viewer_can_follow_an_import(project: Project, member_client: Callable[..., Client]) -> None:
    contact_import = _imported(project)

    response = member_client(project, Role.VIEWER).get(f"{UPLOAD}{contact_import.pk}/")

    assert '<dd id="count-created">2</dd>' in response.content.decode()


def test_another_projects_import_and_report_are_not_found(
    other_project: Project, owner_client: Client
) -> None:
    theirs = _imported(other_project)

    assert owner_client.get(f"{UPLOAD}{theirs.pk}/").status_code == 404
    assert owner_client.get(f"{UPLOAD}{theirs.pk}/report/").status_code == 404


def test_recent_imports_list_only_the_current_projects(
    project: Project, other_project: Project, owner_client: Client
) -> None:
    ours = _imported(project)
    theirs = _imported(other_project)

    body = owner_client.get(UPLOAD).content.decode()

    assert f'href="{UPLOAD}{ours.pk}/"' in body
    assert f'href="{UPLOAD}{theirs.pk}/"' not in body


def test_import_file_names_are_escaped(project: Project, owner_client: Client) -> None:
    contact_import = imports.contact_import_create(
        project=project, upload=_csv(), file_name="<svg onload=alert(1)>.csv", enqueue=False
    )

    body = owner_client.get(f"{UPLOAD}{contact_import.pk}/").content.decode()

    assert "<svg onload=alert(1)>" not in body
    assert "&lt;svg onload=alert(1)&gt;.csv" in body


# -- export -----------------------------------------------------------------------------------


def test_export_downloads_all_contacts_as_csv(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com", first_name="Ada", tags=["vip"])
    make_contact(project, "grace@example.com", first_name="=cmd()")

    response = owner_client.get(EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = _body(response).splitlines()
    assert lines[0].startswith("email,firstName,lastName")
    assert sorted(line.split(",")[:2] for line in lines[1:]) == [
        ["ada@example.com", "Ada"],
        ["grace@example.com", "'=cmd()"],
    ]


def test_export_of_a_tag_holds_only_its_contacts(
    project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com", tags=["vip"])
    make_contact(project, "grace@example.com")
    vip = Tag.objects.get(name="vip")

    lines = _body(owner_client.get(EXPORT, {"tag": vip.pk})).splitlines()

    assert [line.split(",")[0] for line in lines[1:]] == ["ada@example.com"]


def test_export_holds_only_the_current_projects_contacts(
    project: Project, other_project: Project, owner_client: Client, make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ours@example.com")
    make_contact(other_project, "theirs@example.com")
    theirs_tag, _ = services.tag_create(project=other_project, name="vip")

    body = _body(owner_client.get(EXPORT))

    assert "ours@example.com" in body
    assert "theirs@example.com" not in body
    assert owner_client.get(EXPORT, {"tag": theirs_tag.pk}).status_code == 404


def test_viewer_cannot_export(
    project: Project, member_client: Callable[..., Client], make_contact: Callable[..., Contact]
) -> None:
    make_contact(project, "ada@example.com")

    response = member_client(project, Role.VIEWER).get(EXPORT)

    assert response.status_code == 403
    assert b"ada@example.com" not in response.content
