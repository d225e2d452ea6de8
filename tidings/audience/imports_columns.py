"""Which CSV column feeds which contact field: recognised headers, a user's column map, custom fields.

Headers are recognised case-, space-, underscore-, hyphen- and accent-
insensitively (``First Name``, ``first_name``, ``firstName``, ``PRENOM``
are all ``firstName``), from the exports of Mailchimp, listmonk and Brevo and
from plain files. Every other column becomes a custom field. A column map
(header → field) overrides the recognition column by column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tidings.audience.fields import CUSTOM_KEY_MAX, CUSTOM_PREFIX
from tidings.audience.validation import CUSTOM_KEY
from tidings.core.errors import FieldError, ValidationError

# Where a column's cells can go. "name" is split into first and last name on
# the first space; "attributes" is a JSON object of custom fields (listmonk);
# "unsubscribed" is a yes/no column saying the person opted out (Brevo's
# blocklist). Custom fields are "customFields.<key>".
TARGETS = (
    "email",
    "firstName",
    "lastName",
    "name",
    "company",
    "phone",
    "country",
    "language",
    "status",
    "createdAt",
    "consentAt",
    "consentIp",
    "tags",
    "attributes",
    "unsubscribed",
)

# Recognised headers (normalised: see ``header_key``) → (target, rank). When
# several columns feed one target, the lowest rank wins (Mailchimp's
# CONFIRM_TIME is a better consent time than OPTIN_TIME; OPTIN_TIME is the
# sign-up time only when there is no created column). A ``None`` target means
# the column is known and deliberately left out: another system's record ids
# and change times mean nothing here.
KNOWN_HEADERS: dict[str, tuple[tuple[str | None, int], ...]] = {}


def _known(target: str | None, *headers: str, rank: int = 1) -> None:
    for header in headers:
        KNOWN_HEADERS[header] = (*KNOWN_HEADERS.get(header, ()), (target, rank))


_known("email", "email", "emailaddress", "mail", "courriel")
_known("firstName", "firstname", "first", "givenname", "fname", "prenom", "vorname")
_known("lastName", "lastname", "last", "surname", "familyname", "lname", "nom", "nachname")
_known("name", "name", "fullname")
_known("company", "company", "companyname", "organization", "organisation")
_known("phone", "phone", "phonenumber", "sms", "mobile", "mobilephone", "telephone")
_known("country", "country", "cc", "countrycode")
_known("language", "language", "lang", "locale")
_known("status", "status")
_known("createdAt", "createdat", "created", "signupdate")
_known("createdAt", "optintime", rank=2)
_known("consentAt", "consentat", rank=0)
_known("consentAt", "confirmtime")
_known("consentAt", "optintime", rank=2)
_known("consentIp", "consentip", rank=0)
_known("consentIp", "confirmip")
_known("consentIp", "optinip", rank=2)
_known("tags", "tags", "tag")
_known("attributes", "attributes")
_known("unsubscribed", "emailblacklisted", "blacklisted", "emailblocklisted", "blocklisted")
_known(None, "leid", "euid", "lastchanged", "uuid", "contactid", "updatedat")

EXPLICIT = -1  # the rank of a column map entry: it beats every recognised header
CUSTOM = 3  # the rank of a custom field made from an unknown header

EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def header_key(header: str) -> str:
    """The form headers are compared in: ``First Name`` → ``firstname``."""
    return re.sub(r"[^a-z0-9]", "", _ascii(header).lower())


def custom_key(header: str) -> str:
    """A custom field key for an unknown header; the header itself when it already is one.

    ``Favourite Colour`` → ``Favourite_Colour``, ``2nd email`` → ``_2nd_email``;
    an empty string when nothing usable is left.
    """
    header = header.strip()
    if CUSTOM_KEY.fullmatch(header):
        return header
    key = re.sub(r"[^A-Za-z0-9]+", "_", _ascii(header)).strip("_")
    if key and key[0].isdigit():
        key = "_" + key
    return key[:CUSTOM_KEY_MAX]


@dataclass(frozen=True)
class ColumnPlan:
    """For each field, the columns that feed it, best first: a row takes the first non-empty cell.

    Mailchimp's consent time is CONFIRM_TIME, or OPTIN_TIME for a member who
    never confirmed; OPTIN_TIME is also the sign-up time.
    """

    header: tuple[str, ...]
    sources: dict[str, tuple[int, ...]]

    def describe(self) -> dict[str, list[str]]:
        """Header → fields, for people: what the import does with each column."""
        fed: dict[int, list[str]] = {i: [] for i in range(len(self.header))}
        for target, indexes in self.sources.items():
            for index in indexes:
                fed[index].append(target)
        return {self.header[i]: sorted(targets) for i, targets in fed.items()}


def _explicit_target(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a field name (a string) or null to leave the column out")
    if value in TARGETS:
        return value
    if value.startswith(CUSTOM_PREFIX):
        key = value.removeprefix(CUSTOM_PREFIX)
        if CUSTOM_KEY.fullmatch(key):
            return value
        raise ValueError(
            f"{key!r} is not a custom field key: use letters, digits and _, "
            f"starting with a letter or _ (at most {CUSTOM_KEY_MAX})"
        )
    raise ValueError(f"unknown field {value!r}; use one of {', '.join(TARGETS)} or customFields.<key>")


def _candidates(header: str) -> tuple[tuple[str | None, int], ...]:
    if header.startswith(CUSTOM_PREFIX) and CUSTOM_KEY.fullmatch(header.removeprefix(CUSTOM_PREFIX)):
        return ((header, 0),)  # our own export's spelling of a custom field
    known = KNOWN_HEADERS.get(header_key(header))
    if known:
        return known
    key = custom_key(header)
    return ((CUSTOM_PREFIX + key, CUSTOM),) if key else ()


def plan_columns(header: tuple[str, ...], column_map: dict[str, object] | None = None) -> ColumnPlan:
    """Decide where every column goes, or raise ``ValidationError`` naming what is wrong.

    Refused: a map naming a column the file lacks, two columns of equal rank
    feeding one field, an unknown header with no usable name, and a file
    with no email column.
    """
    column_map = dict(column_map or {})
    errors: list[FieldError] = []
    for name in column_map:
        if name not in header:
            errors.append(
                FieldError(
                    f"columnMap.{name}", f"the file has no column {name!r}; columns: {_listing(header)}"
                )
            )
    candidates: list[tuple[tuple[str | None, int], ...]] = []
    for index, name in enumerate(header):
        if name in column_map:
            try:
                candidates.append(((_explicit_target(column_map[name]), EXPLICIT),))
            except ValueError as exc:
                errors.append(FieldError(f"columnMap.{name}", str(exc)))
                candidates.append(())
        elif not name:
            candidates.append(())  # a column without a header: nothing says what it holds
        else:
            found = _candidates(name)
            if not found:
                errors.append(
                    FieldError(
                        "file",
                        f"column {index + 1} ({name!r}) has no usable name for a custom field; "
                        "name it in columnMap",
                    )
                )
            candidates.append(found)
    if errors:
        raise ValidationError(errors)

    ranked: dict[str, list[tuple[int, int]]] = {}
    for index, options in enumerate(candidates):
        for target, rank in options:
            if target is not None:
                ranked.setdefault(target, []).append((rank, index))
    for target, entries in ranked.items():
        entries.sort()
        tied = [index for rank, index in entries if rank == entries[0][0]]
        if len(tied) > 1:
            names = " and ".join(repr(header[i]) for i in tied)
            errors.append(
                FieldError(
                    "columnMap",
                    f"columns {names} would both become {target}; "
                    "map all but one elsewhere in columnMap (or to null to leave them out)",
                )
            )
    if errors:
        raise ValidationError(errors)
    if "email" not in ranked:
        raise ValidationError(FieldError("file", _no_email_message(header)))
    sources = {target: tuple(index for _, index in entries) for target, entries in ranked.items()}
    return ColumnPlan(tuple(header), sources)


def _listing(header: tuple[str, ...]) -> str:
    shown = ", ".join(repr(name) for name in header[:20])
    return shown + (f" and {len(header) - 20} more" if len(header) > 20 else "")


def _no_email_message(header: tuple[str, ...]) -> str:
    if len(header) == 1 and EMAIL_LIKE.fullmatch(header[0]):
        return (
            f"the first line ({header[0]!r}) looks like an address, not a header; "
            "add a first line naming the columns, such as 'email'"
        )
    return (
        f"no email column: the columns found are {_listing(header)}; "
        "name one 'email' or map it with columnMap"
    )
