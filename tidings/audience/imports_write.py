"""Writing one batch of clean rows: one short transaction with the import's progress in it.

A batch is written whole or not at all, together with the counters recorded
on the import, so a run that stops (an error, a killed worker) leaves
contacts and counters consistent up to its last batch, and the same file can
be imported again safely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from tidings.audience.exports import safe_cell
from tidings.audience.imports_rows import CUSTOM_KEYS_MAX, CleanRow
from tidings.audience.imports_store import ContactStore, store_for
from tidings.audience.models import SUPPRESSED_STATUSES, ContactImport, ContactStatus, OnConflict
from tidings.audience.validation import email_hash

SUPPRESSED = "suppressed address"
# A row's say on consent changes an existing contact only to withdraw it, or
# to record an opt-in where there was none: an import never re-subscribes
# someone who unsubscribed.
WITHDRAWN = frozenset({ContactStatus.UNSUBSCRIBED, ContactStatus.BOUNCED, ContactStatus.COMPLAINED})

Rejection = tuple[int, str, list[str]]


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0

    def plus(self, other: Counts) -> Counts:
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def status_after(current: str, said: str | None) -> str:
    """The status of an existing contact after an upsert row that says ``said`` (None: nothing)."""
    if said in WITHDRAWN:
        return said
    if said == ContactStatus.SUBSCRIBED and current == ContactStatus.NON_SUBSCRIBED:
        return said
    return current


class BatchWriter:
    """Writes an import's batches, reports their rejected rows, and keeps its counters.

    ``open()`` and ``close()`` bracket the batches, on the connection that writes them.
    """

    def __init__(
        self,
        contact_import: ContactImport,
        report: Any,
        report_file: TextIO,
        progress: Callable[[ContactImport], None] | None = None,
    ) -> None:
        self.contact_import = contact_import
        self.project_id = contact_import.project_id
        self.report, self.report_file = report, report_file
        self.progress = progress
        self.upsert = contact_import.on_conflict == OnConflict.UPSERT
        self.import_tags = tuple(contact_import.tag_names)
        self.counts = Counts()
        self.store: ContactStore = store_for(self.project_id)
        self.tag_ids: dict[str, int] = {}

    def open(self) -> None:
        self.store.open()

    def close(self) -> None:
        self.store.close()

    def flush(self, batch: list[CleanRow], rejected: list[Rejection], position: int) -> None:
        """Write one batch (``position``: the bytes of the file read so far) and record the progress."""
        counts = Counts(read=len(batch) + len(rejected))
        with transaction.atomic():
            self.store.begin()
            self._write(batch, rejected, counts)  # adds the rows the database turns away to `rejected`
            counts.rejected = len(rejected)
            total = self.counts.plus(counts)
            ContactImport.objects.filter(pk=self.contact_import.pk).update(
                bytes_read=position,
                rows_read=total.read,
                created_count=total.created,
                updated_count=total.updated,
                skipped_count=total.skipped,
                rejected_count=total.rejected,
            )
        # Committed: only now do the counters and the report say so.
        self.counts = total
        for line, reason, cells in sorted(rejected, key=lambda r: r[0]):
            self.report.writerow([line, reason, *map(safe_cell, cells)])
        self.report_file.flush()
        ci, c = self.contact_import, self.counts
        ci.bytes_read, ci.rows_read = position, c.read
        ci.created_count, ci.updated_count = c.created, c.updated
        ci.skipped_count, ci.rejected_count = c.skipped, c.rejected
        if self.progress is not None:
            self.progress(ci)

    def _write(self, batch: list[CleanRow], rejected: list[Rejection], counts: Counts) -> None:
        """The batch's rows, inside its transaction: created, merged, skipped or rejected."""
        unique = self._unique(batch, rejected)
        if not unique:
            return
        now = timezone.now()
        found = self.store.lookup(
            [(row.key, email_hash(self.project_id, row.key), row.line) for row in unique]
        )
        new: list[CleanRow] = []
        matched: list[tuple[CleanRow, int]] = []
        for row in unique:
            existing = found.existing.get(row.key)
            if row.key in found.earlier:
                rejected.append((row.line, f"duplicate of line {found.earlier[row.key]}", row.cells))
            elif row.key in found.suppressed or (existing and existing[1] in SUPPRESSED_STATUSES):
                rejected.append((row.line, SUPPRESSED, row.cells))
            elif existing is None:
                new.append(row)
            else:
                matched.append((row, existing[0]))
        links: list[tuple[int, tuple[str, ...]]] = []
        if new:
            ids = self.store.insert([self._new_values(row, now) for row in new])
            for row in new:
                if row.key in ids:
                    counts.created += 1
                    links.append((ids[row.key], row.tags))
            lost = [row for row in new if row.key not in ids]
            if lost:
                # Added by another writer since the lookup: an existing contact after all.
                again = self.store.existing([row.key for row in lost])
                for row in lost:
                    if row.key in again and again[row.key][1] not in SUPPRESSED_STATUSES:
                        matched.append((row, again[row.key][0]))
                    else:
                        rejected.append((row.line, "changed by someone else during the import", row.cells))
        self._matched(matched, now, counts, links, rejected)
        self._link(links)

    def _unique(self, batch: list[CleanRow], rejected: list[Rejection]) -> list[CleanRow]:
        """The rows whose address the batch has not given before; the others are rejected."""
        first_lines: dict[str, int] = {}
        unique: list[CleanRow] = []
        for row in batch:
            if row.key in first_lines:
                rejected.append((row.line, f"duplicate of line {first_lines[row.key]}", row.cells))
            else:
                first_lines[row.key] = row.line
                unique.append(row)
        return unique

    def _matched(
        self,
        matched: list[tuple[CleanRow, int]],
        now: datetime,
        counts: Counts,
        links: list[tuple[int, tuple[str, ...]]],
        rejected: list[Rejection],
    ) -> None:
        """Rows whose address the project has: skipped, or merged into the contact (upsert).

        Either way the import's tags (and the row's) are applied, as Mailchimp does.
        """
        if not matched:
            return
        if not self.upsert:
            counts.skipped += len(matched)
            links.extend((contact_id, row.tags) for row, contact_id in matched)
            return
        # Locked, and read again: what the contact is now decides, not what the lookup saw.
        current = self.store.lock([contact_id for _, contact_id in matched])
        updates: list[dict[str, Any]] = []
        for row, contact_id in matched:
            found = current.get(contact_id)
            if found is None or found["status"] in SUPPRESSED_STATUSES:
                reason = SUPPRESSED if found else "changed by someone else during the import"
                rejected.append((row.line, reason, row.cells))
                continue
            merged = self._merge(found, row)
            if merged is None:
                rejected.append(
                    (row.line, f"customFields: would have more than {CUSTOM_KEYS_MAX} keys", row.cells)
                )
                continue
            if merged == found:
                counts.skipped += 1  # nothing to change
            else:
                merged["updated_at"] = now
                updates.append(merged)
                counts.updated += 1
            links.append((contact_id, row.tags))
        if updates:
            self.store.update(updates)

    @staticmethod
    def _merge(found: dict[str, Any], row: CleanRow) -> dict[str, Any] | None:
        """The existing contact with the row's non-empty cells over it; None if it cannot take them."""
        merged = {**found, **row.values}
        if "consent_at" in row.values:
            merged["consent_method"] = "import"
        if row.custom:
            custom = {**found["custom_fields"], **row.custom}
            if len(custom) > CUSTOM_KEYS_MAX:
                return None
            merged["custom_fields"] = custom
        merged["status"] = status_after(found["status"], row.status)
        return merged

    def _new_values(self, row: CleanRow, now: datetime) -> tuple[Any, ...]:
        """A new contact's values, in ``INSERT_COLUMNS`` order."""
        get = row.values.get
        return (
            self.project_id,
            row.email,
            row.key,
            get("first_name", ""),
            get("last_name", ""),
            get("company", ""),
            get("phone", ""),
            get("country", ""),
            get("language", ""),
            row.custom,
            # No status column: the file is a list of subscribers (as each of
            # Mailchimp's exports is); a status column decides row by row.
            row.status or ContactStatus.SUBSCRIBED.value,
            "import",  # source
            get("created_at", now),
            now,  # updated_at
            get("consent_at"),
            "import",  # consent_method
            get("consent_ip"),
            "",  # consent_text
        )

    def _link(self, links: list[tuple[int, tuple[str, ...]]]) -> None:
        if not self.import_tags and not any(tags for _, tags in links):
            return
        wanted = set(self.import_tags).union(*(tags for _, tags in links))
        missing = wanted - self.tag_ids.keys()
        if missing:
            self.tag_ids.update(self.store.tag_ids(missing))
        pairs = {
            (contact_id, self.tag_ids[name])
            for contact_id, tags in links
            for name in (*self.import_tags, *tags)
        }
        self.store.link(sorted(pairs))
