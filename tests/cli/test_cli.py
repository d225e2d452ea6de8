"""The `tidings` command, run as a real process against a fresh data dir."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def tidings(
    data_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DJANGO_"))}
    environ.update({"TIDINGS_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=REPO,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("migrated")
    done = tidings(data_dir, "migrate")
    assert done.returncode == 0, done.stderr
    return data_dir


@pytest.fixture
def data_dir(migrated: Path, tmp_path: Path) -> Path:
    """A migrated data dir of this test's own (a copy: migrating once per module is enough)."""
    copy = tmp_path / "data"
    shutil.copytree(migrated, copy)
    return copy


def test_help_lists_every_command(tmp_path: Path) -> None:
    done = tidings(tmp_path, "--help")
    assert done.returncode == 0
    for command in (
        "serve",
        "worker",
        "migrate",
        "createuser",
        "project",
        "member",
        "apikey",
        "demo",
        "check",
    ):
        assert command in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "worker",
        "migrate",
        "createuser",
        "demo",
        "check",
        "project create",
        "project list",
        "member add",
        "apikey create",
    ],
)
def test_each_command_has_help(tmp_path: Path, command: str) -> None:
    done = tidings(tmp_path, *command.split(), "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: tidings " + command)


def test_unknown_command_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = tidings(tmp_path, "frobnicate")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("tidings: argument COMMAND: invalid choice: 'frobnicate'")


def test_demo_is_idempotent_and_prints_the_login(data_dir: Path) -> None:
    first = tidings(data_dir, "demo")
    second = tidings(data_dir, "demo")
    assert first.returncode == second.returncode == 0
    assert "Demo project: Demo (created)" in first.stdout
    assert "Added 300 demo contacts with tags, topics and activity" in first.stdout
    assert "demo contacts" not in second.stdout
    assert "Demo project: Demo (already there)" in second.stdout
    password_line = next(line for line in first.stdout.splitlines() if "with password" in line)
    assert password_line in second.stdout
    key_line = next(line for line in first.stdout.splitlines() if line.startswith("Demo API key: tdk_"))
    assert key_line in second.stdout
    listing = tidings(data_dir, "project", "list", "--json")
    assert json.loads(listing.stdout) == [{"id": 1, "slug": "demo", "name": "Demo"}]


def test_project_user_and_key_from_the_command_line(data_dir: Path) -> None:
    done = tidings(data_dir, "createuser", "ana", "--password-stdin", stdin="a decent passphrase\n")
    assert done.returncode == 0, done.stderr
    done = tidings(data_dir, "project", "create", "Shop News", "--owner", "ana", "--json")
    assert json.loads(done.stdout)["slug"] == "shop-news"
    done = tidings(data_dir, "createuser", "ben", "--password-stdin", stdin="another decent passphrase\n")
    assert done.returncode == 0, done.stderr
    done = tidings(data_dir, "member", "add", "ben", "--project", "shop-news", "--role", "viewer")
    assert (done.returncode, done.stdout) == (0, "ben is now viewer of shop-news\n")
    done = tidings(data_dir, "apikey", "create", "--project", "shop-news", "--name", "ci")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("tdk_")
    assert "shown once" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("project", "create", "X", "--owner", "ghost"), "tidings: no user named 'ghost'"),
        (("apikey", "create", "--project", "nope", "--name", "k"), "tidings: no project with slug 'nope'"),
        (("member", "add", "ghost", "--project", "demo"), "tidings: no user named 'ghost'"),
        (("project", "create", "X", "--slug", "Not A Slug"), "tidings: slug: use 1–60 lowercase"),
        (("createuser", "bob", "--password", "123"), "tidings: password: "),
    ],
)
def test_refused_actions_are_one_line_and_exit_1(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    done = tidings(data_dir, *args)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(message)


def test_check_reports_each_part(data_dir: Path) -> None:
    done = tidings(data_dir, "check")
    assert done.returncode == 0, done.stdout
    assert "ok   database: sqlite" in done.stdout
    assert "ok   migrations: up to date" in done.stdout
    assert "ok   task queue: database queue" in done.stdout


def test_check_fails_when_redis_does_not_answer(data_dir: Path) -> None:
    done = tidings(data_dir, "check", TIDINGS_TASKS_BACKEND="rq", TIDINGS_REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 3
    assert "FAIL task queue: Redis at redis://127.0.0.1:1/0" in done.stdout


def test_demo_replaces_a_kept_key_that_no_longer_works(data_dir: Path) -> None:
    first = tidings(data_dir, "demo").stdout
    key = next(line for line in first.splitlines() if line.startswith("Demo API key: ")).split(": ")[1]
    prefix = "_".join(key.split("_")[:2])
    revoke = (
        "from tidings.core.models import ApiKey; from django.utils import timezone; "
        f"ApiKey.objects.filter(prefix='{prefix}').update(revoked_at=timezone.now())"
    )
    assert tidings(data_dir, "manage", "shell", "-c", revoke).returncode == 0
    second = tidings(data_dir, "demo").stdout
    new_key = next(line for line in second.splitlines() if line.startswith("Demo API key: ")).split(": ")[1]
    assert new_key != key
    assert tidings(data_dir, "demo").stdout == second


@pytest.mark.parametrize("args", [("project", "list"), ("demo",), ("project", "create", "X")])
def test_commands_on_an_unmigrated_database_say_so_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = tidings(tmp_path, *args)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("tidings: database error: no such table")
    assert done.stderr.strip().endswith("run 'tidings migrate'")


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    done = tidings(tmp_path, "serve", "--port", "1")
    assert done.returncode == 2
    assert "not applied; run 'tidings migrate' first" in done.stderr


def test_unreachable_postgresql_is_one_line_and_exit_3(tmp_path: Path) -> None:
    done = tidings(tmp_path, "migrate", TIDINGS_DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("tidings: database unreachable: ")


# -- serve: what `make run` starts ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    seeded = tidings(data_dir, "demo")
    key = next(line for line in seeded.stdout.splitlines() if line.startswith("Demo API key: ")).split(": ")[
        1
    ]
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DJANGO_"))}
    environ["TIDINGS_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--workers", "1"],
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if fetch(base + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(
            "tidings serve did not answer within 30 s:\n" + (process.stdout.read() if process.stdout else "")
        )
    try:
        yield base, key, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def test_serve_answers_ui_api_and_probes_then_stops_cleanly(
    served: tuple[str, str, subprocess.Popen[str]],
) -> None:
    base, key, process = served
    status, body = fetch(base + "/")
    assert status == 200  # the login page, after the redirect
    assert b"<form" in body
    status, body = fetch(base + "/api/v1/openapi.json")
    assert status == 200
    assert json.loads(body)["info"]["title"] == "Tidings API"
    status, body = fetch(base + "/api/v1/project", {"Authorization": f"Bearer {key}"})
    assert (status, json.loads(body)["slug"]) == (200, "demo")
    status, body = fetch(base + "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "checks": {"database": "ok", "queue": "ok"}})
    status, _ = fetch(base + "/static/django_htmx/htmx-2.min.js")
    assert status == 200

    process.terminate()
    assert process.wait(timeout=30) == 0
    output = process.stdout.read() if process.stdout else ""
    assert "Tidings is serving on" in output
    assert "Traceback" not in output


def test_serve_runs_enqueued_tasks_in_its_worker(
    served: tuple[str, str, subprocess.Popen[str]], data_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    enqueue = (
        f"from tests.core.probe_tasks import write_marker; write_marker.enqueue({str(marker)!r}, 'served')"
    )
    assert tidings(data_dir, "manage", "shell", "-c", enqueue).returncode == 0
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.read_text().startswith("served from pid ")


def test_serve_refuses_a_port_in_use(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = tidings(data_dir, "serve", "--port", str(port))
    assert done.returncode == 3
    assert done.stderr.strip() == f"tidings: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "serving" not in done.stdout


def test_worker_refuses_an_unknown_queue(data_dir: Path) -> None:
    done = tidings(data_dir, "worker", "--queue", "nope")
    assert done.returncode == 2
    assert done.stderr.strip() == "tidings: no queue named nope; queues: default"


def test_burst_workers_exit_zero_when_the_queue_is_empty(data_dir: Path) -> None:
    done = tidings(data_dir, "worker", "--burst", "--processes", "2")
    assert done.returncode == 0, done.stderr
