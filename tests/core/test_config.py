"""TIDINGS_* variables: sane defaults, and a wrong value stops the start with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tidings.core import config
from tidings.core.config import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_bool_accepts_common_words() -> None:
    assert config.env_bool({"X": "Yes"}, "X", False) is True
    assert config.env_bool({"X": "off"}, "X", True) is False
    assert config.env_bool({}, "X", True) is True


def test_bool_rejects_other_words_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^TIDINGS_DEBUG: expected true or false, got 'maybe'$"):
        config.env_bool({"TIDINGS_DEBUG": "maybe"}, "TIDINGS_DEBUG", False)


def test_base_url_must_be_http_or_https() -> None:
    assert config.base_url({"TIDINGS_BASE_URL": "https://mail.example.com/"}) == "https://mail.example.com"
    with pytest.raises(ConfigError, match=r"^TIDINGS_BASE_URL: expected an http"):
        config.base_url({"TIDINGS_BASE_URL": "mail.example.com"})
    with pytest.raises(ConfigError, match="query or fragment"):
        config.base_url({"TIDINGS_BASE_URL": "https://mail.example.com/?a=1"})


def test_tasks_backend_choices() -> None:
    assert config.env_choice({"B": "RQ"}, "B", config.TASK_BACKENDS, "db") == "rq"
    with pytest.raises(ConfigError, match=r"^B: expected one of db, rq, immediate, got 'celery'$"):
        config.env_choice({"B": "celery"}, "B", config.TASK_BACKENDS, "db")


def test_database_defaults_to_sqlite_in_wal_mode_under_the_data_dir(tmp_path: Path) -> None:
    db = config.database({}, tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "tidings.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_for_postgresql(tmp_path: Path) -> None:
    db = config.database({"TIDINGS_DATABASE_URL": "postgres://app:pw@db.internal:6432/mail"}, tmp_path)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == ("mail", "app", "db.internal", 6432)
    assert db["OPTIONS"]["options"] == "-c jit=off"


def test_database_url_with_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^TIDINGS_DATABASE_URL: unsupported scheme 'mysql'"):
        config.database({"TIDINGS_DATABASE_URL": "mysql://root@localhost/x"}, tmp_path)


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = config.secret_key({}, tmp_path)
    assert len(first) >= 32
    assert config.secret_key({}, tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secret_key_from_the_environment_must_be_long_enough(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^TIDINGS_SECRET_KEY: must be at least 32 characters"):
        config.secret_key({"TIDINGS_SECRET_KEY": "short"}, tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_passwords_never_appear_in_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config.database({"TIDINGS_DATABASE_URL": "postgres://app:s3cret@db:port/mail"}, tmp_path)
    assert "s3cret" not in str(caught.value)
    assert "app:***@db:port" in str(caught.value)


def test_redact_url_hides_only_the_password() -> None:
    assert config.redact_url("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert config.redact_url("postgres://app:pw@db/mail") == "postgres://app:***@db/mail"
    assert config.redact_url("redis://h:6379/0") == "redis://h:6379/0"


def test_data_dir_is_created_private(tmp_path: Path) -> None:
    path = config.data_dir({"TIDINGS_DATA_DIR": str(tmp_path / "fresh")})
    assert path.stat().st_mode & 0o777 == 0o700


def test_redis_url_must_be_a_redis_url() -> None:
    with pytest.raises(ConfigError, match=r"^TIDINGS_REDIS_URL: "):
        config.redis_url({"TIDINGS_REDIS_URL": "http://localhost:6379"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIDINGS_DEBUG", "perhaps"),
        ("TIDINGS_TASKS_BACKEND", "celery"),
        ("TIDINGS_DATABASE_URL", "oracle://x/y"),
        ("TIDINGS_BASE_URL", "ftp://example.com"),
        ("TIDINGS_ALLOWED_HOSTS", " , "),
        ("TIDINGS_LOG_FORMAT", "xml"),
        ("TIDINGS_SECRET_KEY", "too-short"),
        ("TIDINGS_REDIS_URL", "redis://127.0.0.1:abc/0"),
        ("TIDINGS_DATABASE_URL", "postgres://app:pw@127.0.0.1:notaport/mail"),
        ("TIDINGS_BASE_URL", "http://example.com:abc"),
        ("TIDINGS_BEHIND_PROXY", "maybe"),
        ("TIDINGS_DATA_DIR", "/proc/tidings-data"),
    ],
)
def test_wrong_value_stops_the_cli_with_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {**os.environ, "TIDINGS_DATA_DIR": str(tmp_path), variable: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "tidings", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"tidings: {variable}: ")
