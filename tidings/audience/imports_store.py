"""The database side of an import: the few bulk reads and writes a batch needs.

``ContactStore`` works through the ORM (SQLite). ``PostgresStore`` does the
same with binary ``COPY`` into temporary tables and one statement each
(a lookup join, ``INSERT … SELECT … ON CONFLICT``, ``UPDATE … FROM``): a
million rows is then a matter of seconds. Every method runs inside the
caller's batch transaction.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from tidings.audience.models import Contact, ContactTag, Suppression, Tag

# The columns an import writes when it creates a contact, and those it may change on one.
INSERT_COLUMNS = (
    "project_id",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "company",
    "phone",
    "country",
    "language",
    "custom_fields",
    "status",
    "source",
    "created_at",
    "updated_at",
    "consent_at",
    "consent_method",
    "consent_ip",
    "consent_text",
)
UPDATE_COLUMNS = (
    "first_name",
    "last_name",
    "company",
    "phone",
    "country",
    "language",
    "custom_fields",
    "status",
    "created_at",
    "updated_at",
    "consent_at",
    "consent_method",
    "consent_ip",
)
CONSENT_IP = INSERT_COLUMNS.index("consent_ip")
# What an upsert needs to know of an existing contact to merge a row into it.
MERGE_COLUMNS = ("id", "email_key", *(c for c in UPDATE_COLUMNS if c != "updated_at"))
SEEN = "tidings_import_seen"
CHUNK = 5000


def _chunks[T](items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Lookup:
    """What the database knows of a batch's addresses."""

    earlier: dict[str, int] = field(default_factory=dict)  # key → line that gave it in an earlier batch
    suppressed: set[str] = field(default_factory=set)  # keys on the suppression list
    existing: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (contact id, status)


class ContactStore:
    """Bulk reads and writes of one project's contacts, through the ORM."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.contacts = Contact.objects.for_project(project_id)

    # The addresses met earlier in the same file live in a temporary table on
    # the import's connection: memory stays flat however long the file is,
    # and a failed batch's entries roll back with it.

    def open(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {SEEN} "
                "(email_key varchar(254) PRIMARY KEY, line bigint NOT NULL)"
            )
            cursor.execute(f"DELETE FROM {SEEN}")  # noqa: S608 - our own identifier

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SEEN}")

    def begin(self) -> None:
        """Called first in each batch transaction."""

    def lookup(self, entries: list[tuple[str, str, int]]) -> Lookup:
        """For (key, suppression hash, line) entries: what is known; the new keys are recorded as seen."""
        found = Lookup()
        keys = [key for key, _, _ in entries]
        with connection.cursor() as cursor:
            for chunk in _chunks(keys):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT email_key, line FROM {SEEN} WHERE email_key IN ({marks})", chunk)  # noqa: S608
                found.earlier.update(cursor.fetchall())
            fresh = [(key, line) for key, _, line in entries if key not in found.earlier]
            cursor.executemany(f"INSERT INTO {SEEN} (email_key, line) VALUES (%s, %s)", fresh)  # noqa: S608
        by_hash = {digest: key for key, digest, _ in entries}
        for chunk in _chunks(list(by_hash)):
            hashes = Suppression.objects.for_project(self.project_id).filter(email_hash__in=chunk)
            found.suppressed.update(by_hash[h] for h in hashes.values_list("email_hash", flat=True))
        found.existing = self.existing(keys)
        return found

    def existing(self, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
        """The project's contacts with these keys: key → (id, status)."""
        found: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(keys):
            rows = self.contacts.filter(email_key__in=chunk).values_list("email_key", "id", "status")
            found.update((key, (pk, status)) for key, pk, status in rows)
        return found

    def lock(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """These contacts as an upsert merges into them, locked until the batch commits."""
        found: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            rows = self.contacts.filter(pk__in=chunk).select_for_update().values(*MERGE_COLUMNS)
            found.update((row["id"], row) for row in rows)
        return found

    def tag_ids(self, names: Iterable[str]) -> dict[str, int]:
        """The ids of these tags of the project, creating those that do not exist yet."""
        names = set(names)
        tags = Tag.objects.for_project(self.project_id)
        found = dict(tags.filter(name__in=names).values_list("name", "pk"))
        missing = names - found.keys()
        if missing:
            Tag.objects.bulk_create(
                [Tag(project_id=self.project_id, name=name) for name in sorted(missing)],
                ignore_conflicts=True,
            )
            found.update(tags.filter(name__in=missing).values_list("name", "pk"))
        return found

    def insert(self, rows: list[tuple[Any, ...]]) -> dict[str, int]:
        """Create these contacts (values in ``INSERT_COLUMNS`` order); the ids of those created, by key.

        On SQLite the batch transaction holds the write lock from its start,
        so no other writer can have added one of these addresses meanwhile.
        """
        contacts = [Contact(**dict(zip(INSERT_COLUMNS, row, strict=True))) for row in rows]
        created = Contact.objects.bulk_create(contacts, batch_size=1000)
        return {contact.email_key: contact.pk for contact in created}

    def update(self, rows: list[dict[str, Any]]) -> None:
        """Write the merged values of these existing contacts (each row carries its ``id``)."""
        contacts = [Contact(project_id=self.project_id, **row) for row in rows]
        Contact.objects.bulk_update(contacts, UPDATE_COLUMNS, batch_size=500)

    def link(self, pairs: list[tuple[int, int]]) -> None:
        """Tag contacts: (contact id, tag id) pairs; pairs already there are left alone."""
        now = timezone.now()
        links = [ContactTag(contact_id=c, tag_id=t, created_at=now) for c, t in pairs]
        ContactTag.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)


class PostgresStore(ContactStore):
    """The same through binary COPY into temporary tables (PostgreSQL)."""

    KEYS = "tidings_import_keys"
    NEW = "tidings_import_new"
    CHANGED = "tidings_import_changed"
    LINKS = "tidings_import_links"

    def open(self) -> None:
        contact = Contact._meta.db_table
        new_columns, changed_columns = ", ".join(INSERT_COLUMNS), ", ".join(UPDATE_COLUMNS)
        tables = {
            SEEN: "(email_key text PRIMARY KEY, line bigint NOT NULL)",
            self.KEYS: "(email_key text NOT NULL, email_hash text NOT NULL, line bigint NOT NULL)",
            # The contact table's own column types, so COPY reads each value as the table would.
            self.NEW: f"AS SELECT 0::bigint AS line, {new_columns} FROM {contact} WITH NO DATA",  # noqa: S608
            self.CHANGED: f"AS SELECT id, {changed_columns} FROM {contact} WITH NO DATA",  # noqa: S608
            self.LINKS: "(contact_id bigint NOT NULL, tag_id bigint NOT NULL)",
        }
        self.types: dict[str, list[int]] = {}
        with connection.cursor() as cursor:
            for table, definition in tables.items():
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} {definition}")
                cursor.execute(
                    "SELECT atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                    "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    [f"pg_temp.{table}"],
                )
                self.types[table] = [oid for (oid,) in cursor.fetchall()]
            cursor.execute(f"TRUNCATE {', '.join(tables)}")

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TABLE IF EXISTS {SEEN}, {self.KEYS}, {self.NEW}, {self.CHANGED}, {self.LINKS}"
            )

    def begin(self) -> None:
        # A batch commits without waiting for its WAL to reach the disk. A
        # database crash can then lose the last moments of commits, but never
        # part of a batch: the rows and the progress saying so go together,
        # and importing the file again completes it.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    def _copy(self, cursor: Any, table: str, rows: Iterable[Sequence[Any]]) -> None:
        """Replace the rows of a temporary table (all its columns, in order) by ``rows``."""
        cursor.execute(f"TRUNCATE {table}")
        with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(self.types[table])
            for row in rows:
                copy.write_row(row)

    def lookup(self, entries: list[tuple[str, str, int]]) -> Lookup:
        found = Lookup()
        contact, suppression = Contact._meta.db_table, Suppression._meta.db_table
        with connection.cursor() as cursor:
            self._copy(cursor, self.KEYS, entries)
            cursor.execute(
                f"INSERT INTO {SEEN} (email_key, line) SELECT email_key, line FROM {self.KEYS} "  # noqa: S608
                "ON CONFLICT DO NOTHING RETURNING email_key"
            )
            fresh = {key for (key,) in cursor.fetchall()}
            if len(fresh) < len(entries):
                cursor.execute(
                    f"SELECT email_key, line FROM {SEEN} WHERE email_key = ANY(%s)",  # noqa: S608
                    [[key for key, _, _ in entries if key not in fresh]],
                )
                found.earlier.update(cursor.fetchall())
            # LIMIT 1 keeps each lookup an index probe: without it the planner may
            # join by scanning the project's contacts, judging by stale statistics.
            cursor.execute(
                f"SELECT k.email_key, c.id, c.status FROM {self.KEYS} k "  # noqa: S608
                f"JOIN LATERAL (SELECT id, status FROM {contact} "
                "WHERE project_id = %s AND email_key = k.email_key LIMIT 1) c ON true",
                [self.project_id],
            )
            found.existing.update((key, (pk, status)) for key, pk, status in cursor.fetchall())
            # The first EXISTS is checked once: a project without suppressions costs nothing here.
            cursor.execute(
                f"SELECT k.email_key FROM {self.KEYS} k "  # noqa: S608
                f"WHERE EXISTS (SELECT 1 FROM {suppression} WHERE project_id = %s) "
                f"AND EXISTS (SELECT 1 FROM {suppression} x "
                "WHERE x.project_id = %s AND x.email_hash = k.email_hash)",
                [self.project_id, self.project_id],
            )
            found.suppressed.update(key for (key,) in cursor.fetchall())
        return found

    def lock(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        # The text of the JSON and of the address, as the ORM would give them.
        columns = ", ".join(
            {"custom_fields": "custom_fields::text", "consent_ip": "host(consent_ip)"}.get(c, c)
            for c in MERGE_COLUMNS
        )
        with connection.cursor() as cursor:
            # One primary key probe per id (see lookup() on stale statistics).
            cursor.execute(
                f"SELECT c.* FROM unnest(%s::bigint[]) AS wanted(id) CROSS JOIN LATERAL "  # noqa: S608
                f"(SELECT {columns} FROM {Contact._meta.db_table} "
                "WHERE id = wanted.id AND project_id = %s LIMIT 1 FOR UPDATE) c",
                [list(ids), self.project_id],
            )
            rows = [dict(zip(MERGE_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            row["custom_fields"] = json.loads(row["custom_fields"])
        return {row["id"]: row for row in rows}

    @staticmethod
    def _new(line: int, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if row[CONSENT_IP] is None:
            return (line, *row)
        values = [line, *row]  # binary COPY takes an address, not its text
        values[CONSENT_IP + 1] = ipaddress.ip_address(row[CONSENT_IP])
        return tuple(values)

    @staticmethod
    def _changed(row: dict[str, Any]) -> list[Any]:
        values = [row["id"], *(row[c] for c in UPDATE_COLUMNS)]
        if row["consent_ip"] is not None:
            values[UPDATE_COLUMNS.index("consent_ip") + 1] = ipaddress.ip_address(row["consent_ip"])
        return values

    def insert(self, rows: list[tuple[Any, ...]]) -> dict[str, int]:
        # ON CONFLICT: an address another writer added since lookup() looked is
        # left out here; the caller then treats it as an existing contact.
        columns = ", ".join(INSERT_COLUMNS)
        with connection.cursor() as cursor:
            self._copy(cursor, self.NEW, (self._new(i, r) for i, r in enumerate(rows)))
            cursor.execute(
                f"INSERT INTO {Contact._meta.db_table} ({columns}) "  # noqa: S608
                f"SELECT {columns} FROM {self.NEW} ORDER BY line "
                "ON CONFLICT (project_id, email_key) DO NOTHING RETURNING email_key, id"
            )
            return dict(cursor.fetchall())

    def update(self, rows: list[dict[str, Any]]) -> None:
        assignments = ", ".join(f"{c} = changed.{c}" for c in UPDATE_COLUMNS)
        with connection.cursor() as cursor:
            self._copy(cursor, self.CHANGED, (self._changed(r) for r in rows))
            cursor.execute(
                f"UPDATE {Contact._meta.db_table} AS contact SET {assignments} "  # noqa: S608
                f"FROM {self.CHANGED} AS changed WHERE contact.id = changed.id AND contact.project_id = %s",
                [self.project_id],
            )

    def link(self, pairs: list[tuple[int, int]]) -> None:
        with connection.cursor() as cursor:
            self._copy(cursor, self.LINKS, pairs)
            cursor.execute(
                f"INSERT INTO {ContactTag._meta.db_table} (contact_id, tag_id, created_at) "  # noqa: S608
                f"SELECT contact_id, tag_id, %s FROM {self.LINKS} ON CONFLICT DO NOTHING",
                [timezone.now()],
            )


def store_for(project_id: int) -> ContactStore:
    """The store that suits the database in use."""
    return PostgresStore(project_id) if connection.vendor == "postgresql" else ContactStore(project_id)
