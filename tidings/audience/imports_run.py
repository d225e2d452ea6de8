"""Running one import: read the file, parse its rows, hand them to the writer in batches.

Only one batch of rows is held at a time, so the memory stays flat whatever
the size of the file. (Writing on a second thread while the next batch is
read was tried: the database, not Python, sets the pace, and it gained
nothing measurable.)
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path

from tidings.audience.exports import safe_cell
from tidings.audience.imports_columns import plan_columns
from tidings.audience.imports_csv import CsvRows, RowsFailed, sniff
from tidings.audience.imports_rows import CleanRow, RowParser, RowRejected
from tidings.audience.imports_write import BatchWriter, Rejection
from tidings.audience.models import ContactImport

DEFAULT_BATCH = 5000

Flush = Callable[[list[CleanRow], list[Rejection], int], None]


class ImportRun:
    """One pass over an import's stored file. ``run()`` raises on failure; the caller records it."""

    def __init__(
        self,
        contact_import: ContactImport,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Callable[[ContactImport], None] | None = None,
    ) -> None:
        self.contact_import = contact_import
        self.batch_size = batch_size
        self.progress = progress

    def run(self, report: Path) -> None:
        with Path(self.contact_import.stored_path).open("rb") as binary:
            csv_format = sniff(binary)
            parser = RowParser(plan_columns(csv_format.header, self.contact_import.column_map))
            rows = CsvRows(binary, csv_format)
            with report.open("w", newline="", encoding="utf-8") as report_file:
                report_csv = csv.writer(report_file)
                report_csv.writerow(["line", "reason", *map(safe_cell, csv_format.header)])
                writer = BatchWriter(self.contact_import, report_csv, report_file, self.progress)
                writer.open()
                try:
                    self._read(rows, parser, writer.flush)
                except BaseException:
                    with contextlib.suppress(Exception):  # the first error is the one to tell
                        writer.close()
                    raise
                writer.close()

    def _read(self, rows: CsvRows, parser: RowParser, flush: Flush) -> None:
        batch: list[CleanRow] = []
        rejected: list[Rejection] = []
        try:
            for line, cells in rows:
                try:
                    batch.append(parser.parse(line, cells))
                except RowRejected as exc:
                    rejected.append((line, str(exc), cells))
                if len(batch) + len(rejected) >= self.batch_size:
                    flush(batch, rejected, rows.position)
                    batch, rejected = [], []
        except RowsFailed:
            # What came before the bad line is good: keep it, then stop.
            flush(batch, rejected, rows.position)
            raise
        flush(batch, rejected, self.contact_import.size_bytes)
