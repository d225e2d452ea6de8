"""/api/v1/imports: upload a CSV file, follow the import, fetch its report; the task in a real worker."""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import ApiClient
from tests.core.test_task_queue import run_worker
from tidings.audience.models import Contact, ContactImport, Tag
from tidings.audience.tasks import contact_import_task
from tidings.core.models import Project

PROBLEM = "application/problem+json"
FILE = (
    "Email Address,First Name,Plan,TAGS\n"
    "ada@example.com,Ada,pro,vip\n"
    "grace@example.com,Grace,,\n"
    "not-an-address,Nope,,\n"
    "ADA@example.com,Again,,\n"
)


@pytest.fixture(autouse=True)
def data_dir(settings: object, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"  # type: ignore[attr-defined]
    return tmp_path / "data"


def upload(api: ApiClient, content: str | bytes = FILE, name: str = "members.csv", **form: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return api.client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **form},
        headers={"Authorization": f"Bearer {api.secret}"},
    )


def test_upload_answers_202_with_the_queued_import_and_enqueues_it_on_commit(
    api: ApiClient, project: Project, data_dir: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(
            api, onConflict="upsert", tags=["spring", "members"], columnMap='{"Plan": "customFields.plan"}'
        )

    assert response.status_code == 202, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "fileName": "members.csv",
        "status": "queued",
        "onConflict": "upsert",
        "columnMap": {"Plan": "customFields.plan"},
        "tags": ["spring", "members"],
        "progress": {"bytesRead": 0, "sizeBytes": len(FILE), "rowsRead": 0},
        "counts": {"created": 0, "updated": 0, "skipped": 0, "rejected": 0},
        "error": "",
        "createdAt": body["createdAt"],
        "startedAt": None,
        "finishedAt": None,
    }
    assert len(callbacks) == 1
    stored = Path(ContactImport.objects.get().stored_path)
    assert stored.parent == data_dir / "imports" / str(project.pk)
    assert stored.read_text() == FILE
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert not Contact.objects.exists()


def test_upload_run_status_and_report(api: ApiClient, project: Project) -> None:
    response = upload(api, tags=["members"])
    import_id = response.json()["id"]

    result = contact_import_task.call(project.pk, import_id)

    assert result == {"importId": import_id, "status": "finished", "rowsRead": 4}
    body = api.get(f"imports/{import_id}").json()
    assert (body["status"], body["error"]) == ("finished", "")
    assert body["progress"] == {"bytesRead": len(FILE), "sizeBytes": len(FILE), "rowsRead": 4}
    assert body["counts"] == {"created": 2, "updated": 0, "skipped": 0, "rejected": 2}
    assert body["startedAt"] is not None
    assert body["finishedAt"] is not None
    ada = Contact.objects.for_project(project).get(email_key="ada@example.com")
    assert (ada.first_name, ada.custom_fields) == ("Ada", {"Plan": "pro"})
    assert sorted(ada.tags.values_list("name", flat=True)) == ["members", "vip"]

    report = api.get(f"imports/{import_id}/report")
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report["Content-Disposition"] == f'attachment; filename="import-{import_id}-rejected.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows == [
        ["line", "reason", "Email Address", "First Name", "Plan", "TAGS"],
        [
            "4",
            "email: is not a valid email address: An email address must have an @-sign.",
            "not-an-address",
            "Nope",
            "",
            "",
        ],
        ["5", "duplicate of line 2", "ADA@example.com", "Again", "", ""],
    ]


def test_a_file_that_is_not_csv_is_422_and_nothing_is_written(api: ApiClient, data_dir: Path) -> None:
    response = upload(api, b"\x00\x01\x02binary", name="photo.jpg")

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"] == [
        {"path": "file", "message": "this is not a CSV file: it holds binary data (NUL bytes)"}
    ]
    assert not ContactImport.objects.exists()
    assert not list(data_dir.rglob("*.csv"))


def test_a_file_without_an_email_column_is_422_naming_the_columns(api: ApiClient) -> None:
    response = upload(api, "name,phone\nAda,123\n")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "path": "file",
            "message": "no email column: the columns found are 'name', 'phone'; "
            "name one 'email' or map it with columnMap",
        }
    ]


@pytest.mark.parametrize(
    ("form", "path", "message"),
    [
        ({"columnMap": "{not json"}, "columnMap", "is not valid JSON"),
        ({"columnMap": "[1, 2]"}, "columnMap", "must be a JSON object of column header: field name"),
        ({"columnMap": '{"First Name": "nickname"}'}, "columnMap.First Name", None),
        ({"onConflict": "merge"}, "onConflict", "must be one of skip, upsert"),
        ({"tags": ["ok", " "]}, "tags.1", "must be 1 to 100 characters"),
    ],
)
def test_bad_options_are_422_with_their_field(
    api: ApiClient, form: dict[str, Any], path: str, message: str | None
) -> None:
    response = upload(api, **form)

    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    assert error["path"] == path
    if message is not None:
        assert error["message"] == message
    assert not ContactImport.objects.exists()


def test_upload_without_a_file_is_422(api: ApiClient) -> None:
    response = api.client.post("/api/v1/imports", {}, headers={"Authorization": f"Bearer {api.secret}"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "file"


def test_imports_are_listed_newest_first(api: ApiClient) -> None:
    first = upload(api).json()["id"]
    second = upload(api, name="second.csv").json()["id"]

    body = api.get("imports?limit=1").json()
    assert [item["id"] for item in body["items"]] == [second]
    assert [item["id"] for item in api.get(f"imports?cursor={body['nextCursor']}").json()["items"]] == [first]


def test_report_of_an_import_not_yet_run_is_a_409(api: ApiClient) -> None:
    import_id = upload(api).json()["id"]

    response = api.get(f"imports/{import_id}/report")
    assert response.status_code == 409
    assert response.json()["detail"] == "the import has not started yet; its report is written as it runs"


def test_another_projects_import_is_404_and_stays_unread(
    api: ApiClient, other_api: ApiClient, other_project: Project
) -> None:
    import_id = upload(other_api).json()["id"]
    contact_import_task.call(other_project.pk, import_id)

    for path in (f"imports/{import_id}", f"imports/{import_id}/report"):
        response = api.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
    assert api.get("imports").json()["items"] == []
    assert other_api.get(f"imports/{import_id}").status_code == 200


def test_the_task_refuses_an_import_id_of_another_project(project: Project, other_api: ApiClient) -> None:
    import_id = upload(other_api).json()["id"]

    with pytest.raises(Exception, match="not found"):
        contact_import_task.call(project.pk, import_id)
    assert ContactImport.objects.get(pk=import_id).status == "queued"
    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_import_task_runs_in_a_worker_subprocess(
    make_project: Callable[..., Project], make_api: Callable[[Project], ApiClient], tmp_path: Path
) -> None:
    project = make_project("Worker Co")
    api = make_api(project)
    Tag.objects.create(project=project, name="vip")
    response = upload(api, tags=["from-worker"])
    assert response.status_code == 202
    import_id = response.json()["id"]
    assert ContactImport.objects.get(pk=import_id).status == "queued"

    worker = run_worker(tmp_path)

    assert worker.returncode == 0, worker.stderr
    done = ContactImport.objects.get(pk=import_id)
    assert (done.status, done.error, done.created_count, done.rejected_count) == ("finished", "", 2, 2)
    ada = Contact.objects.for_project(project).get(email_key="ada@example.com")
    assert sorted(ada.tags.values_list("name", flat=True)) == ["from-worker", "vip"]
    assert api.get(f"imports/{import_id}").json()["counts"] == {
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "rejected": 2,
    }
