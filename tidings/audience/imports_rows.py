"""One CSV record → one clean contact row, or the reason it is rejected.

Everything here is pure Python and runs once per record, so it is kept lean:
the column plan is turned into a few lists up front, and the common shape of
an address takes a fast path proven equal to email-validator (see
``email_normalize_fast`` and its test).
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from tidings.audience import validation
from tidings.audience.fields import CONTACT_FIELDS, CUSTOM_PREFIX
from tidings.audience.imports_columns import ColumnPlan, custom_key
from tidings.audience.models import ContactStatus

CUSTOM_VALUE_MAX = 2000
CUSTOM_KEYS_MAX = 100
TAG_NAME_MAX = 100
# Different tag names one file may bring: bounds what the import remembers of them.
FILE_TAGS_MAX = 1000

# A strict subset of what email-validator accepts, for which its normalised
# form is simply the domain lower-cased: dot-atom local parts of common
# characters, letter-digit-hyphen domain labels and a letters-only TLD.
# Anything else (Unicode, quoting, Punycode, "--", special-use domains,
# role mailboxes email-validator lower-cases) takes the full validator.
_FAST_LOCAL = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*")
_FAST_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_SPECIAL_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_ROLE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def email_normalize_fast(text: str) -> tuple[str, str] | None:
    """(normalised, key) as ``validation.normalize_email`` gives them, or None: ask it instead.

    Never says yes where the full validator says no; ``text`` is already stripped.
    """
    if len(text) > 254:
        return None
    local, _, domain = text.rpartition("@")
    if (
        len(local) > 64
        or len(domain) > 253
        or not _FAST_LOCAL.fullmatch(local)
        or not _FAST_DOMAIN.fullmatch(domain)
        or "--" in domain
    ):
        return None
    domain = domain.lower()
    if domain.rpartition(".")[2] in _SPECIAL_TLDS or local.lower() in _ROLE_MAILBOXES:
        return None
    normalized = f"{local}@{domain}"
    return normalized, normalized.lower()


def email_clean(raw: str) -> tuple[str, str]:
    """(normalised address, key) or ``ValueError`` — the fast path when it applies."""
    text = raw.strip()
    return email_normalize_fast(text) or validation.normalize_email(text)


def _word(text: str) -> str:
    return re.sub(r"[\s_-]", "", text.lower())


# Status words of our own export, Mailchimp, listmonk and plain yes/no files.
STATUS_WORDS: dict[str, str] = {
    **{_word(s): s for s in ContactStatus.values},
    **dict.fromkeys(("optedin", "optin", "confirmed", "enabled", "active", "yes", "true", "1"), "subscribed"),
    **dict.fromkeys(("optedout", "optout", "disabled", "blocklisted", "blacklisted"), "unsubscribed"),
    **dict.fromkeys(
        ("notsubscribed", "pending", "unconfirmed", "transactional", "no", "false", "0"), "non-subscribed"
    ),
    "cleaned": "bounced",
    "spam": "complained",
}
YES = frozenset(("yes", "y", "true", "1", "x"))
NO = frozenset(("no", "n", "false", "0", ""))
TEXT_FIELDS = ("firstName", "lastName", "company", "phone")


class RowRejected(ValueError):
    """The record cannot become a contact; the message is the report's reason."""


@dataclass(slots=True)
class CleanRow:
    line: int
    cells: list[str]
    email: str
    key: str
    # Model column → clean value; only what the record says (empty cells are absent).
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    # What the record says about consent: a status, or None when it says nothing.
    status: str | None = None
    tags: tuple[str, ...] = ()


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return validation.parse_when(text)  # its message says what is wrong
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _tags(text: str) -> tuple[str, ...]:
    # "vip, customer" and Mailchimp's quoted "\"vip\",\"customer\"" alike.
    names = next(csv.reader([text], skipinitialspace=True), [])
    clean = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in clean:
        if len(name) > TAG_NAME_MAX:
            raise ValueError(f"tag {name[:20]!r}… is longer than {TAG_NAME_MAX} characters")
    return clean


def _attributes(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError("is not a JSON object") from exc
    if not isinstance(data, dict):
        raise ValueError("is not a JSON object")
    out: dict[str, Any] = {}
    for key, value in data.items():
        clean_key = custom_key(str(key))
        if not clean_key:
            raise ValueError(f"key {key!r} has no usable name for a custom field")
        # Nested values (listmonk allows them) are kept as their JSON text.
        is_scalar = value is None or isinstance(value, str | int | float | bool)
        out[clean_key] = value if is_scalar else json.dumps(value, ensure_ascii=False)
    return validation.clean_custom_fields(out)


class RowParser:
    """Turns records of one file into ``CleanRow``s, following its column plan."""

    def __init__(self, plan: ColumnPlan) -> None:
        sources = plan.sources
        self.width = len(plan.header)
        self.sources = sources
        # Per field: (where it goes, its first column, the columns to try when that one is empty, ...).
        self.email = (sources["email"][0], sources["email"][1:])
        self.texts = [
            (CONTACT_FIELDS[name].column, *_split(sources[name]), CONTACT_FIELDS[name].max_length or 0)
            for name in TEXT_FIELDS
            if name in sources
        ]
        self.checked = [
            (target, column, *_split(sources[target]), clean)
            for target, column, clean in CHECKED_FIELDS
            if target in sources
        ]
        self.custom = [
            (target.removeprefix(CUSTOM_PREFIX), *_split(indexes))
            for target, indexes in sources.items()
            if target.startswith(CUSTOM_PREFIX)
        ]
        self.special = bool(sources.keys() & _SPECIAL)
        self.tag_names: set[str] = set()

    def _count_tags(self, names: tuple[str, ...]) -> None:
        new = set(names) - self.tag_names
        if new and len(self.tag_names) + len(new) > FILE_TAGS_MAX:
            raise ValueError(f"the file names more than {FILE_TAGS_MAX} different tags")
        self.tag_names |= new

    @staticmethod
    def _first(cells: list[str], indexes: tuple[int, ...]) -> str:
        for index in indexes:
            text = cells[index].strip()
            if text:
                return text
        return ""

    def parse(self, line: int, cells: list[str]) -> CleanRow:
        """The clean row of one record; ``RowRejected`` says why it cannot be one."""
        if len(cells) != self.width:
            raise RowRejected(f"the line has {len(cells)} cells where the header has {self.width}")
        if "\x00" in "".join(cells):
            # No database stores a NUL in text; it only ever comes from a damaged file.
            raise RowRejected("the line holds a NUL character")
        first = self._first
        index, more = self.email
        raw_email = cells[index].strip() or (more and first(cells, more))
        if not raw_email:
            raise RowRejected("email: is required")
        try:
            email, key = email_clean(raw_email)
        except ValueError as exc:
            raise RowRejected(f"email: {exc}") from None
        row = CleanRow(line, cells, email, key)
        errors: list[str] = []
        values = row.values
        for column, index, more, max_length in self.texts:
            text = cells[index].strip() or (more and first(cells, more))
            if text:
                if len(text) > max_length:
                    errors.append(f"{column}: must be at most {max_length} characters")
                else:
                    values[column] = text
        for target, column, index, more, clean in self.checked:
            text = cells[index].strip() or (more and first(cells, more))
            if text:
                try:
                    values[column] = clean(text)
                except ValueError as exc:
                    errors.append(f"{target}: {exc}")
        if self.special:
            self._special(row, cells, errors)
        custom = row.custom
        for key_name, index, more in self.custom:
            text = cells[index].strip() or (more and first(cells, more))
            if text:
                if len(text) > CUSTOM_VALUE_MAX:
                    errors.append(f"customFields.{key_name}: must be at most {CUSTOM_VALUE_MAX} characters")
                custom[key_name] = text
        if len(custom) > CUSTOM_KEYS_MAX:
            errors.append(f"customFields: must have at most {CUSTOM_KEYS_MAX} keys")
        if errors:
            raise RowRejected("; ".join(errors))
        return row

    def _special(self, row: CleanRow, cells: list[str], errors: list[str]) -> None:
        """The fields that are more than one value each: name, attributes, tags, status."""
        sources, first, values = self.sources, self._first, row.values
        if "name" in sources and (text := first(cells, sources["name"])):
            given, _, family = text.partition(" ")
            family = family.strip()
            if max(len(given), len(family)) > 200:
                errors.append("name: each of first and last name must be at most 200 characters")
            elif "first_name" not in values and "last_name" not in values:
                values["first_name"] = given
                if family:
                    values["last_name"] = family
        if "attributes" in sources and (text := first(cells, sources["attributes"])):
            try:
                row.custom.update(_attributes(text))
            except ValueError as exc:
                errors.append(f"attributes: {exc}")
        if "tags" in sources and (text := first(cells, sources["tags"])):
            try:
                row.tags = _tags(text)
                self._count_tags(row.tags)
            except ValueError as exc:
                errors.append(f"tags: {exc}")
        self._status(row, cells, errors)

    def _status(self, row: CleanRow, cells: list[str], errors: list[str]) -> None:
        if "status" in self.sources:
            text = self._first(cells, self.sources["status"])
            # A status column that says nothing does not say the person opted in.
            status = STATUS_WORDS.get(_word(text)) if text else ContactStatus.NON_SUBSCRIBED.value
            if status is None:
                errors.append(f"status: unknown status {text[:40]!r}; use {', '.join(ContactStatus.values)}")
            row.status = status
        if "unsubscribed" in self.sources:
            text = self._first(cells, self.sources["unsubscribed"]).lower()
            if text in YES:
                row.status = ContactStatus.UNSUBSCRIBED.value
            elif text not in NO:
                errors.append(f"unsubscribed: {text[:40]!r} is neither yes nor no")


def _split(indexes: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    return indexes[0], indexes[1:]


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("is not an IP address") from None


# Fields whose text a cleaner checks: (target, model column, cleaner raising ValueError).
CHECKED_FIELDS = (
    ("country", "country", validation.clean_country),
    ("language", "language", validation.clean_language),
    ("createdAt", "created_at", _when),
    ("consentAt", "consent_at", _when),
    ("consentIp", "consent_ip", _ip),
)
# Fields ``parse`` leaves to ``_special``.
_SPECIAL = frozenset(("name", "attributes", "tags", "status", "unsubscribed"))
