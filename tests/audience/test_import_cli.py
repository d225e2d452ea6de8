"""`tidings contacts import` and `tidings contacts export`, run as real processes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from tests.cli.test_cli import tidings

MEMBERS = "Email Address,First Name,Plan\nada@example.com,Ada,pro\ngrace@example.com,Grace,\nnope,Nope,\n"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("migrated")
    assert tidings(data_dir, "migrate").returncode == 0
    done = tidings(data_dir, "project", "create", "Shop News", "--json")
    assert json.loads(done.stdout)["slug"] == "shop-news"
    return data_dir


@pytest.fixture
def data_dir(migrated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(migrated, copy)
    return copy


@pytest.fixture
def members(tmp_path: Path) -> Path:
    path = tmp_path / "members.csv"
    path.write_text(MEMBERS)
    return path


def test_import_prints_progress_on_stderr_and_the_counts(data_dir: Path, members: Path) -> None:
    done = tidings(
        data_dir,
        "contacts",
        "import",
        str(members),
        "--project",
        "shop-news",
        "--tag",
        "members",
        "--map",
        "Plan=customFields.plan",
    )

    assert done.returncode == 0, done.stderr
    report = data_dir / "imports" / "1" / "1-rejected.csv"
    assert done.stdout == (
        "imported members.csv: 2 created, 0 updated, 0 skipped, 1 rejected\n"
        f"rejected rows, with their line and reason: {report}\n"
    )
    assert done.stderr == (
        "members.csv [####################] 100% 3 rows: 2 created, 0 updated, 0 skipped, 1 rejected\n"
    )
    assert report.read_text().splitlines()[1] == (
        "4,email: is not a valid email address: An email address must have an @-sign.,nope,Nope,"
    )


def test_import_again_with_upsert_and_json_output(data_dir: Path, members: Path, tmp_path: Path) -> None:
    assert tidings(data_dir, "contacts", "import", str(members), "--project", "shop-news").returncode == 0
    changed = tmp_path / "changed.csv"
    changed.write_text("email,first_name\nada@example.com,Augusta\n")

    done = tidings(
        data_dir,
        "contacts",
        "import",
        str(changed),
        "--project",
        "shop-news",
        "--on-conflict",
        "upsert",
        "--json",
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "id": 2,
        "status": "finished",
        "rowsRead": 1,
        "created": 0,
        "updated": 1,
        "skipped": 0,
        "rejected": 0,
        "report": str(data_dir / "imports" / "1" / "2-rejected.csv"),
    }


def test_a_refused_file_is_one_line_and_exit_1(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name,company\nAda,Acme\n")

    done = tidings(data_dir, "contacts", "import", str(path), "--project", "shop-news")

    assert done.returncode == 1
    assert done.stderr == (
        "tidings: file: no email column: the columns found are 'name', 'company'; "
        "name one 'email' or map it with columnMap\n"
    )
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.csv", "--project", "shop-news"], "tidings: no file at nowhere.csv\n"),
        (["MEMBERS", "--project", "nope"], "tidings: no project with slug 'nope'\n"),
        (
            ["MEMBERS", "--project", "shop-news", "--map", "Plan"],
            "tidings: --map takes 'Column=field' (or 'Column=' to leave it out), got 'Plan'\n",
        ),
    ],
)
def test_bad_arguments_are_one_line_and_exit_1(
    data_dir: Path, members: Path, args: list[str], message: str
) -> None:
    done = tidings(data_dir, "contacts", "import", *[str(members) if a == "MEMBERS" else a for a in args])

    assert (done.returncode, done.stderr) == (1, message)


def test_an_import_that_fails_midway_exits_1_saying_how_far_it_got(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    with path.open("w") as out:
        out.write("email,notes\nada@example.com,fine\nbo@example.com,")
        out.write("x" * (2 * 1024 * 1024))

    done = tidings(data_dir, "contacts", "import", str(path), "--project", "shop-news")

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "tidings: import 1 failed after 1 rows: "
        "line 3 is longer than 1 MB; the file is probably not a CSV file or has a broken line"
    )


def test_export_to_stdout_and_to_a_file_by_tag(data_dir: Path, members: Path, tmp_path: Path) -> None:
    tidings(data_dir, "contacts", "import", str(members), "--project", "shop-news", "--tag", "members")
    tidings(data_dir, "contacts", "import", _one(tmp_path, "=cmd@example.com"), "--project", "shop-news")

    everyone = tidings(data_dir, "contacts", "export", "--project", "shop-news")
    assert everyone.returncode == 0, everyone.stderr
    rows = list(csv.reader(io.StringIO(everyone.stdout)))
    assert [row[0] for row in rows] == ["email", "ada@example.com", "grace@example.com", "'=cmd@example.com"]
    assert rows[0][-2:] == ["tags", "Plan"]

    out = tmp_path / "members-out.csv"
    tagged = tidings(
        data_dir, "contacts", "export", "--project", "shop-news", "--tag", "members", "-o", str(out)
    )
    assert (tagged.returncode, tagged.stdout, tagged.stderr) == (0, "", f"exported 2 contacts to {out}\n")
    assert [row[0] for row in csv.reader(out.open(newline=""))] == [
        "email",
        "ada@example.com",
        "grace@example.com",
    ]


def test_export_of_an_unknown_tag_is_one_line_and_exit_1(data_dir: Path) -> None:
    done = tidings(data_dir, "contacts", "export", "--project", "shop-news", "--tag", "vip")

    assert (done.returncode, done.stderr) == (1, "tidings: no tag named 'vip' in shop-news\n")


def test_contacts_commands_have_help(tmp_path: Path) -> None:
    for command in ("import", "export"):
        done = tidings(tmp_path, "contacts", command, "--help")
        assert done.returncode == 0
        assert done.stdout.startswith(f"usage: tidings contacts {command}")


def _one(tmp_path: Path, address: str) -> str:
    path = tmp_path / "one.csv"
    path.write_text(f"email\n{address}\n")
    return str(path)
