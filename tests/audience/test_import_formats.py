"""What files an import reads: exports of other tools, encodings, delimiters, and files it refuses."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tests.audience.test_import_support import contact, counts, create_import, reasons, run_import, tag_names
from tidings.audience import imports
from tidings.audience.models import Contact, ContactImport
from tidings.core.errors import ValidationError
from tidings.core.models import Project


@pytest.fixture(autouse=True)
def data_dir(settings: object, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    return tmp_path


def refusal(project: Project, text: str | bytes, **options: object) -> str:
    with pytest.raises(ValidationError) as caught:
        create_import(project, text, **options)
    assert not ContactImport.objects.exists()
    assert not Contact.objects.exists()
    return caught.value.detail


MAILCHIMP = (
    '"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING","OPTIN_TIME",'
    '"OPTIN_IP","CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF","DSTOFF","TIMEZONE","CC",'
    '"REGION","LANGUAGE","LAST_CHANGED","LEID","EUID","NOTES","TAGS"\n'
    '"ada@example.com","Ada","Lovelace","12 St James Sq  London  SW1Y 4JH UK","+44 20 7946 0000",4,'
    '"2021-03-01 09:15:00","198.51.100.7","2021-03-01 09:20:30","198.51.100.8",51.5,-0.13,0,1,'
    '"Europe/London","GB","ENG","en","2023-01-01 00:00:00",123456,"a1b2c3",,"""Founders"",""VIP"""\n'
    '"grace@example.org","Grace","Hopper",,,2,"2022-06-15 12:00:00",,,,,,,,,"US",,"en_US",'
    '"2023-01-02 00:00:00",123457,"d4e5f6","met at a conference",\n'
)


def test_mailchimp_export_is_recognised_without_a_map(project: Project) -> None:
    done = run_import(project, MAILCHIMP)

    assert (done.status, done.error, counts(done)) == (
        "finished",
        "",
        {"read": 2, "created": 2, "updated": 0, "skipped": 0, "rejected": 0},
    )
    ada = contact(project, "ada@example.com")
    assert (ada.first_name, ada.last_name, ada.phone, ada.country, ada.language) == (
        "Ada",
        "Lovelace",
        "+44 20 7946 0000",
        "GB",
        "en",
    )
    assert (ada.status, ada.source, ada.consent_method, ada.consent_ip) == (
        "subscribed",
        "import",
        "import",
        "198.51.100.8",
    )
    assert ada.consent_at.isoformat() == "2021-03-01T09:20:30+00:00"  # CONFIRM_TIME
    assert ada.created_at.isoformat() == "2021-03-01T09:15:00+00:00"  # OPTIN_TIME
    assert ada.custom_fields == {
        "Address": "12 St James Sq  London  SW1Y 4JH UK",
        "MEMBER_RATING": "4",
        "LATITUDE": "51.5",
        "LONGITUDE": "-0.13",
        "GMTOFF": "0",
        "DSTOFF": "1",
        "TIMEZONE": "Europe/London",
        "REGION": "ENG",
    }
    assert tag_names(ada) == ["Founders", "VIP"]
    grace = contact(project, "grace@example.org")
    # Never confirmed: the opt-in time is the consent time.
    assert grace.consent_at.isoformat() == "2022-06-15T12:00:00+00:00"
    assert (grace.language, grace.custom_fields["NOTES"]) == ("en-US", "met at a conference")
    assert tag_names(grace) == []


def test_listmonk_export_splits_the_name_and_spreads_the_attributes(project: Project) -> None:
    text = (
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        '6b7a,linus@example.com,Linus Benedict Torvalds,"{""city"": ""Portland"", ""projects"": 3, '
        '""stack"": {""languages"": [""c""]}}",enabled,2020-01-02T03:04:05Z,2024-01-01T00:00:00Z\n'
        "9c8d,ken@example.com,Ken,,blocklisted,2020-01-03,\n"
    )
    done = run_import(project, text)

    assert counts(done) == {"read": 2, "created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    linus = contact(project, "linus@example.com")
    assert (linus.first_name, linus.last_name, linus.status) == ("Linus", "Benedict Torvalds", "subscribed")
    assert linus.custom_fields == {"city": "Portland", "projects": 3, "stack": '{"languages": ["c"]}'}
    assert linus.created_at.isoformat() == "2020-01-02T03:04:05+00:00"
    ken = contact(project, "ken@example.com")
    assert (ken.first_name, ken.last_name, ken.status, ken.custom_fields) == ("Ken", "", "unsubscribed", {})


def test_brevo_export_in_french_with_its_blocklist_column(project: Project) -> None:
    text = (
        "CONTACT ID;EMAIL;PRENOM;NOM;SMS;EMAIL_BLACKLISTED\n"
        "17;chloe@example.fr;Chloé;Dubois;+33612345678;No\n"
        "18;marc@example.fr;Marc;Petit;;Yes\n"
    )
    done = run_import(project, text)

    assert counts(done) == {"read": 2, "created": 2, "updated": 0, "skipped": 0, "rejected": 0}
    chloe = contact(project, "chloe@example.fr")
    assert (chloe.first_name, chloe.last_name, chloe.phone, chloe.status, chloe.custom_fields) == (
        "Chloé",
        "Dubois",
        "+33612345678",
        "subscribed",
        {},
    )
    assert contact(project, "marc@example.fr").status == "unsubscribed"


@pytest.mark.parametrize(
    "header",
    [
        "email,first_name,last_name,Favourite Colour",
        "Email,firstName,lastName,Favourite Colour",
        "E-Mail,First Name,LAST_NAME,Favourite Colour",
    ],
)
def test_plain_headers_are_recognised_whatever_their_case_spaces_and_underscores(
    project: Project, header: str
) -> None:
    done = run_import(project, f"{header}\nmargaret@example.com,Margaret,Hamilton,teal\n")

    assert counts(done)["created"] == 1
    margaret = contact(project, "margaret@example.com")
    assert (margaret.first_name, margaret.last_name) == ("Margaret", "Hamilton")
    assert margaret.custom_fields == {"Favourite_Colour": "teal"}


def test_utf8_with_a_byte_order_mark(project: Project) -> None:
    run_import(project, "\ufeffemail,first_name\nzoe@example.com,Zoë\n")

    assert contact(project, "zoe@example.com").first_name == "Zoë"


def test_latin1_file_is_read_as_latin1(project: Project) -> None:
    done = run_import(
        project, "email;first_name;last_name\nrene@example.fr;René;Müller\n", encoding="latin-1"
    )

    assert counts(done)["created"] == 1
    assert (
        contact(project, "rene@example.fr").first_name,
        contact(project, "rene@example.fr").last_name,
    ) == (
        "René",
        "Müller",
    )


def test_windows_1252_quotes_in_a_latin1_file(project: Project) -> None:
    run_import(project, "email,company\nann@example.com,Ann’s Café\n", encoding="cp1252")

    assert contact(project, "ann@example.com").company == "Ann’s Café"


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_delimiters(project: Project, delimiter: str) -> None:
    text = (
        f"email{delimiter}company{delimiter}city\nbo@example.com{delimiter}Smith, Jones & Co{delimiter}Oslo\n"
    )
    done = run_import(project, text)

    assert counts(done)["created"] == 1
    bo = contact(project, "bo@example.com")
    assert (bo.company, bo.custom_fields) == ("Smith, Jones & Co", {"city": "Oslo"})


def test_a_single_column_of_addresses(project: Project) -> None:
    done = run_import(project, "email\none@example.com\ntwo@example.com\n")

    assert counts(done)["created"] == 2


def test_newlines_inside_quoted_cells_and_line_numbers_after_them(project: Project) -> None:
    text = 'email,notes\nann@example.com,"first line\nsecond line\r\nthird"\nnot-an-address,x\n'
    done = run_import(project, text)

    assert contact(project, "ann@example.com").custom_fields == {"notes": "first line\nsecond line\r\nthird"}
    assert reasons(done) == {5: "email: is not a valid email address: An email address must have an @-sign."}


def test_ragged_rows_are_rejected_with_the_cell_counts(project: Project) -> None:
    text = (
        "email,first_name,last_name\nann@example.com,Ann,Lee\nbo@example.com,Bo\ncy@example.com,Cy,Li,extra\n"
    )
    done = run_import(project, text)

    assert counts(done) == {"read": 3, "created": 1, "updated": 0, "skipped": 0, "rejected": 2}
    assert reasons(done) == {
        3: "the line has 2 cells where the header has 3",
        4: "the line has 4 cells where the header has 3",
    }


def test_blank_lines_and_rows_of_empty_cells_are_not_rows(project: Project) -> None:
    done = run_import(project, "email,name\n\nann@example.com,Ann\n,\n \n")

    assert counts(done) == {"read": 1, "created": 1, "updated": 0, "skipped": 0, "rejected": 0}


def test_binary_file_is_refused(project: Project) -> None:
    detail = refusal(project, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    assert detail == "file: this is not a CSV file: it holds binary data (NUL bytes)"


def test_a_spreadsheet_workbook_is_refused_with_the_way_out(project: Project) -> None:
    detail = refusal(project, b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00" * 64)

    assert detail == (
        "file: this is not a CSV file: it looks like a spreadsheet workbook (.xlsx); save it as CSV first"
    )


def test_empty_file_is_refused(project: Project) -> None:
    assert refusal(project, b"") == "file: the file is empty"
    assert refusal(project, b" \n\n") == "file: the file is empty"


def test_header_only_file_is_refused(project: Project) -> None:
    assert refusal(project, "email,first_name\n") == "file: the file has a header line but no contact rows"


def test_file_without_an_email_column_is_refused_naming_its_columns(project: Project) -> None:
    detail = refusal(project, "name,company\nAnn,Acme\n")

    assert detail == (
        "file: no email column: the columns found are 'name', 'company'; "
        "name one 'email' or map it with columnMap"
    )


def test_file_of_addresses_without_a_header_is_refused_saying_so(project: Project) -> None:
    detail = refusal(project, "ann@example.com\nbo@example.com\n")

    assert detail == (
        "file: the first line ('ann@example.com') looks like an address, not a header; "
        "add a first line naming the columns, such as 'email'"
    )


def test_prose_is_not_a_csv_file(project: Project) -> None:
    text = "Dear team, here are the notes.\nWe met, talked, agreed on three points, then left.\nThanks\n"
    detail = refusal(project, text)

    assert detail.startswith("file: this does not look like a CSV file")


def test_a_50_mb_line_without_a_newline_is_refused_reading_only_the_first_chunk(
    project: Project, tmp_path: Path
) -> None:
    big = tmp_path / "one-field.csv"
    with big.open("wb") as out:
        for _ in range(50):
            out.write(b"x" * (1024 * 1024))
    tracemalloc.start()
    try:
        with big.open("rb") as stream, pytest.raises(ValidationError) as caught:
            imports.contact_import_create(project=project, upload=stream, file_name="big.csv", enqueue=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (
        caught.value.detail == "file: this does not look like a CSV file: the first line is longer than 64 KB"
    )
    assert peak < 2 * 1024 * 1024
    assert not ContactImport.objects.exists()


def test_a_50_mb_quoted_cell_stops_the_import_at_its_line_in_flat_memory(
    project: Project, tmp_path: Path
) -> None:
    big = tmp_path / "open-quote.csv"
    with big.open("wb") as out:
        out.write(b'email,notes\nann@example.com,fine\nbo@example.com,"')
        for _ in range(50):
            out.write((b"y" * 1023 + b"\n") * 1024)
    with big.open("rb") as stream:
        contact_import = imports.contact_import_create(
            project=project, upload=stream, file_name="big.csv", enqueue=False
        )
    tracemalloc.start()
    try:
        done = imports.contact_import_run(contact_import=contact_import)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (done.status, done.error) == (
        "failed",
        "line 3: a cell is longer than 128 KB; is a quote left open?",
    )
    assert counts(done) == {"read": 1, "created": 1, "updated": 0, "skipped": 0, "rejected": 0}
    assert peak < 8 * 1024 * 1024
    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@example.com"]


def test_a_50_mb_line_after_the_header_stops_the_import(project: Project, tmp_path: Path) -> None:
    big = tmp_path / "long-line.csv"
    with big.open("wb") as out:
        out.write(b"email,notes\nann@example.com,fine\n")
        for _ in range(50):
            out.write(b"z" * (1024 * 1024))
    with big.open("rb") as stream:
        contact_import = imports.contact_import_create(
            project=project, upload=stream, file_name="big.csv", enqueue=False
        )
    done = imports.contact_import_run(contact_import=contact_import)

    assert (done.status, done.error) == (
        "failed",
        "line 3 is longer than 1 MB; the file is probably not a CSV file or has a broken line",
    )
    assert counts(done)["created"] == 1


def test_column_map_names_columns_and_leaves_some_out(project: Project) -> None:
    text = "Mail,Plan,Secret,Surname\nann@example.com,pro,hunter2,Lee\n"
    column_map = {"Mail": "email", "Plan": "customFields.plan", "Secret": None}
    run_import(project, text, column_map=column_map)

    ann = contact(project, "ann@example.com")
    assert (ann.last_name, ann.custom_fields) == ("Lee", {"plan": "pro"})


def test_column_map_errors_name_each_entry(project: Project) -> None:
    detail = refusal(project, "email,x\nann@example.com,1\n", column_map={"x": "shoeSize", "y": "email"})

    assert detail == (
        "columnMap.y: the file has no column 'y'; columns: 'email', 'x'; "
        "columnMap.x: unknown field 'shoeSize'; use one of email, firstName, lastName, name, company, "
        "phone, country, language, status, createdAt, consentAt, consentIp, tags, attributes, "
        "unsubscribed or customFields.<key>"
    )


def test_two_columns_for_one_field_are_a_clash_to_resolve(project: Project) -> None:
    detail = refusal(project, "email,Plan Type,Plan-Type\nann@example.com,a,b\n")

    assert detail == (
        "columnMap: columns 'Plan Type' and 'Plan-Type' would both become customFields.Plan_Type; "
        "map all but one elsewhere in columnMap (or to null to leave them out)"
    )
