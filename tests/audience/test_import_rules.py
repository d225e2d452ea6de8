"""What an import does with each row: validation, duplicates, suppression, conflicts, tags, failures."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.audience.test_import_support import contact, counts, reasons, report_rows, run_import, tag_names
from tidings.audience import imports, imports_rows, imports_store
from tidings.audience.models import Contact, ContactImport, ContactTag, Suppression, Tag
from tidings.audience.validation import email_hash
from tidings.core.models import Project


@pytest.fixture(autouse=True)
def data_dir(settings: object, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    return tmp_path


def add(project: Project, email: str, **fields: Any) -> Contact:
    return Contact.objects.create(project=project, email=email, email_key=email.lower(), **fields)


def test_invalid_addresses_are_rejected_with_the_validators_reason(project: Project) -> None:
    text = "email,first_name\nada@example.com,Ada\n,Nobody\nbad@@example.com,Bad\nada@localhost,Local\n"
    done = run_import(project, text)

    assert counts(done) == {"read": 4, "created": 1, "updated": 0, "skipped": 0, "rejected": 3}
    assert reasons(done) == {
        3: "email: is required",
        4: "email: is not a valid email address: The part after the @-sign contains invalid characters: '@'.",
        5: "email: is not a valid email address: "
        "The part after the @-sign is not valid. It should have a period.",
    }


def test_report_keeps_the_rejected_row_as_it_was(project: Project) -> None:
    done = run_import(project, "email,first_name,notes\nnot an address,=HYPERLINK(1),plain\n")

    assert report_rows(done) == [
        ["line", "reason", "email", "first_name", "notes"],
        [
            "2",
            "email: is not a valid email address: An email address must have an @-sign.",
            "not an address",
            "'=HYPERLINK(1)",  # a spreadsheet must not run it
            "plain",
        ],
    ]


def test_invalid_fields_reject_the_row_naming_each_field(project: Project) -> None:
    text = "email,country,language,created_at\nada@example.com,Germany,english!,yesterday\n"
    done = run_import(project, text)

    assert reasons(done) == {
        2: "country: must be an ISO 3166 two-letter country code such as DE or US; "
        "language: must be a BCP 47 language tag such as en or pt-BR; "
        "createdAt: must be an ISO 8601 date or date-time, got 'yesterday'"
    }
    assert not Contact.objects.exists()


def test_duplicates_differing_only_in_case_are_rejected_as_duplicates_of_the_first(project: Project) -> None:
    text = "email,first_name\nAda@Example.com,First\nada@example.COM,Second\nADA@EXAMPLE.COM,Third\n"
    done = run_import(project, text)

    assert counts(done) == {"read": 3, "created": 1, "updated": 0, "skipped": 0, "rejected": 2}
    assert reasons(done) == {3: "duplicate of line 2", 4: "duplicate of line 2"}
    ada = contact(project, "ada@example.com")
    assert (ada.email, ada.first_name) == ("Ada@example.com", "First")


def test_duplicates_are_found_across_batches(project: Project) -> None:
    text = "email\na@example.com\nb@example.com\nc@example.com\nA@example.com\nB@example.com\n"
    done = run_import(project, text, batch_size=2)

    assert counts(done) == {"read": 5, "created": 3, "updated": 0, "skipped": 0, "rejected": 2}
    assert reasons(done) == {5: "duplicate of line 2", 6: "duplicate of line 3"}


def test_suppressed_address_is_rejected_and_not_created(project: Project) -> None:
    Suppression.objects.create(
        project=project, email_hash=email_hash(project.pk, "gone@example.com"), reason="erased"
    )
    done = run_import(project, "email\nGone@Example.com\nkept@example.com\n", tag_names=["vip"])

    assert reasons(done) == {2: "suppressed address"}
    assert list(Contact.objects.values_list("email", flat=True)) == ["kept@example.com"]


@pytest.mark.parametrize("on_conflict", ["skip", "upsert"])
@pytest.mark.parametrize("status", ["bounced", "complained"])
def test_bounced_and_complained_contacts_are_never_reactivated_or_changed(
    project: Project, on_conflict: str, status: str
) -> None:
    add(project, "bounce@example.com", status=status, first_name="Old")
    text = "email,first_name,status\nbounce@example.com,New,subscribed\n"
    done = run_import(project, text, on_conflict=on_conflict, tag_names=["vip"])

    assert counts(done) == {"read": 1, "created": 0, "updated": 0, "skipped": 0, "rejected": 1}
    assert reasons(done) == {2: "suppressed address"}
    bounced = contact(project, "bounce@example.com")
    assert (bounced.status, bounced.first_name, tag_names(bounced)) == (status, "Old", [])


def test_skip_leaves_existing_contacts_as_they_are_but_tags_them(project: Project) -> None:
    add(project, "ada@example.com", first_name="Ada", company="Old Co", custom_fields={"plan": "free"})
    text = "email,first_name,company,plan\nada@example.com,Augusta,New Co,pro\nnew@example.com,New,,\n"
    done = run_import(project, text, on_conflict="skip", tag_names=["spring-list"])

    assert counts(done) == {"read": 2, "created": 1, "updated": 0, "skipped": 1, "rejected": 0}
    ada = contact(project, "ada@example.com")
    assert (ada.first_name, ada.company, ada.custom_fields) == ("Ada", "Old Co", {"plan": "free"})
    assert tag_names(ada) == ["spring-list"]


def test_upsert_overwrites_with_non_empty_cells_and_merges_custom_fields(project: Project) -> None:
    add(
        project,
        "ada@example.com",
        first_name="Ada",
        last_name="Byron",
        custom_fields={"plan": "free", "x": 1},
    )
    text = "email,first_name,last_name,plan,city\nada@example.com,Augusta,,pro,London\n"
    done = run_import(project, text, on_conflict="upsert")

    assert counts(done) == {"read": 1, "created": 0, "updated": 1, "skipped": 0, "rejected": 0}
    ada = contact(project, "ada@example.com")
    assert (ada.first_name, ada.last_name) == ("Augusta", "Byron")
    assert ada.custom_fields == {"plan": "pro", "x": 1, "city": "London"}


def test_upsert_with_nothing_new_counts_the_row_as_skipped(project: Project) -> None:
    add(project, "ada@example.com", first_name="Ada")
    done = run_import(project, "email,first_name\nada@example.com,Ada\n", on_conflict="upsert")

    assert counts(done) == {"read": 1, "created": 0, "updated": 0, "skipped": 1, "rejected": 0}


@pytest.mark.parametrize(
    ("before", "file_says", "after"),
    [
        ("subscribed", "unsubscribed", "unsubscribed"),
        ("subscribed", "cleaned", "bounced"),
        ("non-subscribed", "subscribed", "subscribed"),
        ("unsubscribed", "subscribed", "unsubscribed"),  # an import never re-subscribes anyone
        ("subscribed", "pending", "subscribed"),
        ("subscribed", "", "subscribed"),
    ],
)
def test_upsert_changes_status_only_to_withdraw_consent_or_record_a_first_opt_in(
    project: Project, before: str, file_says: str, after: str
) -> None:
    add(project, "ada@example.com", status=before)
    run_import(project, f"email,status\nada@example.com,{file_says}\n", on_conflict="upsert")

    assert contact(project, "ada@example.com").status == after


def test_new_contacts_take_the_status_column_and_an_empty_status_is_not_consent(project: Project) -> None:
    text = (
        "email,status\na@example.com,subscribed\nb@example.com,\n"
        "c@example.com,unsubscribed\nd@example.com,maybe\n"
    )
    done = run_import(project, text)

    statuses = dict(Contact.objects.values_list("email", "status"))
    assert statuses == {
        "a@example.com": "subscribed",
        "b@example.com": "non-subscribed",
        "c@example.com": "unsubscribed",
    }
    assert reasons(done) == {
        5: "status: unknown status 'maybe'; use subscribed, unsubscribed, non-subscribed, bounced, complained"
    }


def test_new_contacts_without_a_status_column_are_subscribed_with_an_import_consent_record(
    project: Project,
) -> None:
    text = "email,created_at,consentAt\nada@example.com,2020-05-01,2020-05-02T08:00:00+02:00\n"
    run_import(project, text)

    ada = contact(project, "ada@example.com")
    assert (ada.status, ada.source, ada.consent_method) == ("subscribed", "import", "import")
    assert ada.created_at == datetime(2020, 5, 1, tzinfo=UTC)
    assert ada.consent_at == datetime(2020, 5, 2, 6, 0, tzinfo=UTC)


def test_tags_of_the_import_and_of_the_tags_column_are_created_and_applied(project: Project) -> None:
    Tag.objects.create(project=project, name="VIP")
    text = (
        'email,tags\na@example.com,"vip, Customer"\nb@example.com,"""Newsletter"",""VIP"""\nc@example.com,\n'
    )
    done = run_import(project, text, tag_names=["spring 2026"])

    assert done.status == "finished"
    assert tag_names(contact(project, "a@example.com")) == ["Customer", "spring 2026", "vip"]
    assert tag_names(contact(project, "b@example.com")) == ["Newsletter", "VIP", "spring 2026"]
    assert tag_names(contact(project, "c@example.com")) == ["spring 2026"]
    assert sorted(Tag.objects.for_project(project).values_list("name", flat=True)) == [
        "Customer",
        "Newsletter",
        "VIP",
        "spring 2026",
        "vip",
    ]


def test_importing_the_same_file_again_is_idempotent(project: Project) -> None:
    text = "email,first_name,plan,tags\nada@example.com,Ada,pro,vip\nbo@example.com,Bo,,\nbad,x,,\n"
    first = run_import(project, text, tag_names=["list"], batch_size=2)
    state = sorted(Contact.objects.values_list("email", "first_name", "custom_fields", "status"))
    links = ContactTag.objects.count()

    for on_conflict in ("skip", "upsert"):
        again = run_import(project, text, tag_names=["list"], on_conflict=on_conflict, batch_size=2)
        assert counts(again) == {"read": 3, "created": 0, "updated": 0, "skipped": 2, "rejected": 1}
    assert counts(first) == {"read": 3, "created": 2, "updated": 0, "skipped": 0, "rejected": 1}
    assert sorted(Contact.objects.values_list("email", "first_name", "custom_fields", "status")) == state
    assert ContactTag.objects.count() == links == 3


def test_an_import_never_touches_another_projects_contacts(project: Project, other_project: Project) -> None:
    theirs = add(other_project, "shared@example.com", first_name="Theirs", status="unsubscribed")
    Tag.objects.create(project=other_project, name="vip")
    text = "email,first_name,status\nshared@example.com,Ours,subscribed\n"
    done = run_import(project, text, on_conflict="upsert", tag_names=["vip"])

    assert counts(done)["created"] == 1
    theirs.refresh_from_db()
    assert (theirs.first_name, theirs.status, tag_names(theirs)) == ("Theirs", "unsubscribed", [])
    ours = contact(project, "shared@example.com")
    assert (ours.first_name, ours.status, tag_names(ours)) == ("Ours", "subscribed", ["vip"])
    assert (
        Tag.objects.for_project(project).get(name="vip").pk != Tag.objects.for_project(other_project).get().pk
    )


def test_a_failure_midway_keeps_whole_batches_and_says_how_far_it_got(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "email,tags\n" + "".join(f"user{n}@example.com,t{n}\n" for n in range(1, 8))
    store = imports_store.store_for(project.pk).__class__
    real_insert = store.insert

    def insert(self: imports_store.ContactStore, rows: list[tuple[Any, ...]]) -> dict[str, int]:
        # A database that breaks mid-import cannot be had for real in a test: the
        # third batch's write fails here, after the first two were committed.
        if any(row[1] == "user5@example.com" for row in rows):
            raise RuntimeError("connection lost")
        return real_insert(self, rows)

    monkeypatch.setattr(store, "insert", insert)
    done = run_import(project, text, batch_size=2)

    assert (done.status, done.error) == ("failed", "unexpected error: RuntimeError: connection lost")
    assert counts(done) == {"read": 4, "created": 4, "updated": 0, "skipped": 0, "rejected": 0}
    assert done.finished_at is not None
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        f"user{n}@example.com" for n in range(1, 5)
    ]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["t1", "t2", "t3", "t4"]
    assert not Path(done.stored_path).exists()

    monkeypatch.setattr(store, "insert", real_insert)
    again = run_import(project, text, batch_size=2)
    assert counts(again) == {"read": 7, "created": 3, "updated": 0, "skipped": 4, "rejected": 0}
    assert Contact.objects.count() == 7


def test_an_import_runs_once_however_often_it_is_started(project: Project) -> None:
    from tidings.audience import imports

    done = run_import(project, "email\nada@example.com\n")
    again = imports.contact_import_run(contact_import=ContactImport.objects.get(pk=done.pk))

    assert (again.status, again.created_count, Contact.objects.count()) == ("finished", 1, 1)


def test_a_file_cannot_bring_more_than_so_many_different_tags(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports_rows, "FILE_TAGS_MAX", 2)
    text = 'email,tags\na@example.com,one\nb@example.com,"one, two"\nc@example.com,three\nd@example.com,two\n'
    done = run_import(project, text)

    assert reasons(done) == {4: "tags: the file names more than 2 different tags"}
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["one", "two"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="ANALYZE refreshes PostgreSQL's planner statistics"
)
@pytest.mark.django_db(transaction=True)  # ANALYZE's statistics are seen once committed
def test_a_large_import_refreshes_the_planners_statistics(project: Project, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "ANALYZE_AFTER", 3)

    def analyzed() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [Contact._meta.db_table]
            )
            return cursor.fetchone()[0]

    before = analyzed()
    run_import(project, "email\na@example.com\nb@example.com\n")  # 2 new: under the threshold
    assert analyzed() == before
    run_import(project, "email\nc@example.com\nd@example.com\ne@example.com\n")
    deadline = time.monotonic() + 5  # the statistics collector reports with a short delay
    while analyzed() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert analyzed() > before
