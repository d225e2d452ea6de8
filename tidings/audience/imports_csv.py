"""Reading an uploaded CSV file: its encoding, its delimiter, its header, then its rows as a stream.

Only the first chunk is read to decide (``sniff``); the rows are then read line
by line with hard limits, so neither a huge file nor a file that is one
gigantic line can fill the memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# What is read to decide the encoding, the delimiter and the header.
HEAD_BYTES = 64 * 1024
# A physical line longer than this stops the import: no real contact row is
# that long, and a file with no line breaks must not be read into memory.
MAX_LINE_CHARS = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# How many records of the first chunk the delimiter detector looks at.
SNIFF_RECORDS = 50


class CsvRefused(ValueError):
    """The file cannot be read as a CSV file; the message says why, for a person."""


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    # A byte that is not valid in the chosen encoding is read as Windows-1252,
    # or as Latin-1 for the five bytes Windows-1252 leaves undefined. This is
    # what browsers do with "latin-1" text, and it never loses a row.
    assert isinstance(error, UnicodeDecodeError)
    raw = bytes(error.object[error.start : error.end])
    return "".join(_CP1252.get(byte) or chr(byte) for byte in raw), error.end


_CP1252 = {byte: bytes([byte]).decode("cp1252", errors="ignore") for byte in range(0x80, 0x100)}


ERRORS = "tidings-latin1"
codecs.register_error(ERRORS, _latin1_fallback)


@dataclass(frozen=True)
class CsvFormat:
    """How to read one file, as found by ``sniff``."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    # True when the whole file fitted in the first chunk and held only the header.
    header_only: bool = False


def _encoding(head: bytes, at_eof: bool) -> str:
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        encoding = "utf-8"
    if b"\x00" in head:
        if head.startswith(b"PK\x03\x04"):
            raise CsvRefused(
                "this is not a CSV file: it looks like a spreadsheet workbook (.xlsx); save it as CSV first"
            )
        raise CsvRefused("this is not a CSV file: it holds binary data (NUL bytes)")
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=at_eof)
    except UnicodeDecodeError:
        return "cp1252"
    return encoding


def _records(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                records.append(record)
            if len(records) >= SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # a field cut off at the end of the chunk; what came before still counts
    return records


def _delimiter(text: str, complete: bool) -> tuple[str, list[str], int]:
    """The delimiter, the header, and how many data records the chunk holds.

    Each candidate splits the first records; the winner is the one whose rows
    most often have as many cells as its header, then the one with more
    columns. A header of one column is a valid file (a plain list of
    addresses); a split that no row agrees with is not (ragged rows are
    otherwise allowed: each is rejected on its own).
    """
    best: tuple[float, int, str, list[list[str]]] | None = None
    for delimiter in DELIMITERS:
        records = _records(text, delimiter)
        if not records:
            continue
        if not complete and len(records) > 1:
            records = records[:-1]  # the last record may be cut off by the chunk's end
        width = len(records[0])
        rows = records[1:]
        agree = sum(1 for row in rows if len(row) == width) / len(rows) if rows else 1.0
        score = (agree, width, delimiter, records)
        if width > 1 and (best is None or score[:2] > best[:2]):
            best = score
    if best is None:
        records = _records(text, ",")
        if not records:
            raise CsvRefused("the file holds no rows, only blank lines")
        return ",", records[0], len(records) - 1
    agree, _, delimiter, records = best
    if agree == 0:
        raise CsvRefused(
            "this does not look like a CSV file: with no delimiter (comma, semicolon, tab, pipe) "
            "do the rows have as many cells as the header"
        )
    return delimiter, records[0], len(records) - 1


def sniff(stream: BinaryIO) -> CsvFormat:
    """Decide how to read the file from its first chunk; ``CsvRefused`` if it is not a CSV file.

    The stream is read from where it stands and left after the chunk.
    """
    head = stream.read(HEAD_BYTES + 1)
    at_eof = len(head) <= HEAD_BYTES
    head = head[:HEAD_BYTES]
    if not head.strip():
        raise CsvRefused("the file is empty")
    encoding = _encoding(head, at_eof)
    text = codecs.getincrementaldecoder(encoding)(errors=ERRORS).decode(head, final=at_eof)
    if not at_eof:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut < 0:
            raise CsvRefused(
                f"this does not look like a CSV file: the first line is longer than {HEAD_BYTES // 1024} KB"
            )
        text = text[: cut + 1]
    delimiter, header, data_records = _delimiter(text, complete=at_eof)
    header = [cell.strip() for cell in header]
    return CsvFormat(encoding, delimiter, tuple(header), header_only=at_eof and data_records == 0)


class RowsFailed(Exception):
    """Reading stopped: the rest of the file cannot be read as rows."""


@dataclass
class CsvRows:
    """The data rows of an opened file, one record at a time, with the line each starts on.

    ``position`` is how many bytes have been consumed so far (for progress).
    """

    binary: BinaryIO
    format: CsvFormat

    def __post_init__(self) -> None:
        self.binary.seek(0)
        self._text = io.TextIOWrapper(self.binary, encoding=self.format.encoding, errors=ERRORS, newline="")
        self._text._CHUNK_SIZE = 256 * 1024  # type: ignore[attr-defined]  # fewer, larger reads
        self._lines_read = 0

    @property
    def position(self) -> int:
        return self.binary.tell()

    def _lines(self) -> Iterator[str]:
        readline = self._text.readline
        while True:
            line = readline(MAX_LINE_CHARS)
            if not line:
                return
            if len(line) >= MAX_LINE_CHARS and line[-1] not in "\r\n":
                raise RowsFailed(
                    f"line {self._lines_read + 1} is longer than {MAX_LINE_CHARS // (1024 * 1024)} MB; "
                    "the file is probably not a CSV file or has a broken line"
                )
            self._lines_read += 1
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """(line number of the record's first line, cells) for every non-blank record after the header."""
        reader = csv.reader(self._lines(), delimiter=self.format.delimiter)
        previous = 0
        try:
            for cells in reader:  # the header, already known from sniff(), after any blank lines
                if any(cell.strip() for cell in cells):
                    break
            previous = reader.line_num
            for cells in reader:
                start, previous = previous + 1, reader.line_num
                # A record of only empty cells (",,,", as spreadsheets leave) is no row at all.
                if (cells and cells[0].strip()) or any(cell.strip() for cell in cells):
                    yield start, cells
        except csv.Error as exc:
            limit = csv.field_size_limit()
            if "field larger than field limit" in str(exc):
                raise RowsFailed(
                    f"line {previous + 1}: a cell is longer than {limit // 1024} KB; is a quote left open?"
                ) from exc
            raise RowsFailed(f"line {previous + 1}: {exc}") from exc
