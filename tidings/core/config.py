"""Reading TIDINGS_* environment variables.

Settings are read once, at start. A wrong value raises ``ConfigError`` whose
message is one line naming the variable, so ``tidings`` can print it and exit.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
TASK_BACKENDS = ("db", "rq", "immediate")


class ConfigError(ImproperlyConfigured):
    """A TIDINGS_* variable holds a value Tidings cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def env_choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = environ.get(name, default).strip().lower()
    if raw not in choices:
        raise ConfigError(name, f"expected one of {', '.join(choices)}, got {raw!r}")
    return raw


def env_number(environ: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"expected a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"expected at least {minimum:g}, got {raw!r}")
    return value


def env_list(environ: Mapping[str, str], name: str) -> list[str] | None:
    raw = environ.get(name)
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ConfigError(name, "expected a comma-separated list, got nothing")
    return items


def redact_url(url: str) -> str:
    """``url`` without its password, fit for logs, errors and probes."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 - raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return False
    return True


def base_url(environ: Mapping[str, str], name: str = "TIDINGS_BASE_URL") -> str:
    raw = environ.get(name, "http://127.0.0.1:8000").strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(parts):
        raise ConfigError(name, f"expected an http(s) URL such as https://mail.example.com, got {raw!r}")
    if parts.query or parts.fragment:
        raise ConfigError(name, f"must not carry a query or fragment, got {raw!r}")
    return raw.rstrip("/")


def data_dir(environ: Mapping[str, str], name: str = "TIDINGS_DATA_DIR") -> Path:
    path = Path(environ.get(name, "./var")).expanduser().resolve()
    try:
        # The database, the secret key and session data live here: owner only.
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(name, f"cannot create {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK):
        raise ConfigError(name, f"{path} is not writable")
    return path


def secret_key(environ: Mapping[str, str], directory: Path, name: str = "TIDINGS_SECRET_KEY") -> str:
    """The configured key, else one generated on first start and kept in the data dir."""
    raw = environ.get(name)
    if raw is not None:
        if len(raw) < 32:
            raise ConfigError(name, f"must be at least 32 characters long, got {len(raw)}")
        return raw
    path = directory / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(name, f"unset, and the key kept in {path} is too short; delete it")
        return key
    # Two processes starting at once must agree on one key, and neither may
    # read a half-written file: write a private temporary file, then link it
    # into place, which fails if the other process got there first.
    key = secrets.token_urlsafe(48)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".secret_key.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        os.unlink(temporary)
    return key


def database(
    environ: Mapping[str, str], directory: Path, name: str = "TIDINGS_DATABASE_URL"
) -> dict[str, Any]:
    import dj_database_url

    raw = environ.get(name) or f"sqlite:///{directory / 'tidings.sqlite3'}"
    shown = redact_url(raw)
    parts = urlsplit(raw)
    scheme = parts.scheme
    if scheme in ("postgres", "postgresql", "pgsql") and not _port_ok(parts):
        raise ConfigError(name, f"the port is not a number from 1 to 65535 in {shown!r}")
    try:
        config = dj_database_url.parse(raw) if scheme == "sqlite" else None
    except (ValueError, dj_database_url.ParseError) as exc:
        raise ConfigError(name, f"not a database URL Tidings can read: {shown!r}") from exc
    if config is not None:
        if config["NAME"] in ("", ":memory:"):
            raise ConfigError(name, "an SQLite URL needs a file path, e.g. sqlite:////srv/tidings/db.sqlite3")
        config["OPTIONS"] = {
            # Web requests and workers write the same file: take the write
            # lock up front and wait for it instead of failing with "locked".
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
            ),
        }
        config["TEST"] = {"NAME": str(Path(config["NAME"]).with_name("test_" + Path(config["NAME"]).name))}
        return config
    if scheme in ("postgres", "postgresql", "pgsql"):
        try:
            config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
        except (ValueError, dj_database_url.ParseError) as exc:
            raise ConfigError(name, f"not a database URL Tidings can read: {shown!r}") from exc
        if not config.get("NAME"):
            raise ConfigError(name, f"a PostgreSQL URL needs a database name, got {shown!r}")
        # JIT compilation pays off for long analytical queries; Tidings' queries
        # are short, and on a segment count JIT alone cost 100-200 ms.
        config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
        return config
    raise ConfigError(
        name,
        f"unsupported scheme {scheme!r}; use sqlite:///path/to/file or postgres://user@host/db",
    )


def redis_url(environ: Mapping[str, str], name: str = "TIDINGS_REDIS_URL") -> str:
    raw = environ.get(name, "redis://127.0.0.1:6379/0").strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(name, f"expected a redis://, rediss:// or unix:// URL, got {redact_url(raw)!r}")
    if not _port_ok(parts):
        raise ConfigError(name, f"the port is not a number from 1 to 65535 in {redact_url(raw)!r}")
    return raw


_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})+")
MAILBOX_SCHEMES = {"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110}


def domain_name(environ: Mapping[str, str], name: str) -> str:
    """A domain name such as ``bounces.example.com`` (lowercased), or "" when unset."""
    raw = environ.get(name, "").strip().lower().rstrip(".")
    if raw and (len(raw) > 253 or not _DOMAIN.fullmatch(raw)):
        raise ConfigError(name, f"expected a domain name such as bounces.example.com, got {raw!r}")
    return raw


def mailbox_url(environ: Mapping[str, str], name: str = "TIDINGS_BOUNCE_MAILBOX") -> str:
    """A mailbox to read bounces from: ``imaps://user:password@host:993/INBOX`` (or imap://,
    pop3s://, pop3://), or "" when unset. A user name with an ``@`` is written ``%40``."""
    raw = environ.get(name, "").strip()
    if not raw:
        return ""
    shown = redact_url(raw)
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise ConfigError(name, f"not a URL: {shown!r}") from None
    if parts.scheme not in MAILBOX_SCHEMES:
        raise ConfigError(name, f"expected an imaps://, imap://, pop3s:// or pop3:// URL, got {shown!r}")
    if not parts.hostname or not _port_ok(parts):
        raise ConfigError(
            name, f"expected a host and an optional port, e.g. imaps://user:pw@host:993, got {shown!r}"
        )
    if not parts.username or parts.password is None:
        raise ConfigError(name, f"the URL needs a user and a password (user:password@host), got {shown!r}")
    if parts.scheme.startswith("pop3") and parts.path.strip("/"):
        raise ConfigError(name, f"a POP3 mailbox has no folders; leave the path out, got {shown!r}")
    return raw
