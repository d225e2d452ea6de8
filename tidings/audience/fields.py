"""The contact fields the product speaks of, by their API (camelCase) names.

One table serves the API, segment rules, CSV column mapping and (later) the
variable catalog, so a field is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "date", "status"]


@dataclass(frozen=True)
class ContactField:
    name: str  # camelCase, as in the API and in rules
    column: str  # the model field
    type: FieldType
    max_length: int | None = None


CONTACT_FIELDS: dict[str, ContactField] = {
    f.name: f
    for f in (
        ContactField("email", "email", "text", 254),
        ContactField("firstName", "first_name", "text", 200),
        ContactField("lastName", "last_name", "text", 200),
        ContactField("company", "company", "text", 200),
        ContactField("phone", "phone", "text", 50),
        ContactField("country", "country", "text", 2),
        ContactField("language", "language", "text", 35),
        ContactField("source", "source", "text", 100),
        ContactField("status", "status", "status"),
        ContactField("createdAt", "created_at", "date"),
    )
}

# Fields a person has (as opposed to bookkeeping): what the import maps and the AI may use.
PERSON_FIELDS = ("email", "firstName", "lastName", "company", "phone", "country", "language")

CUSTOM_PREFIX = "customFields."
CUSTOM_KEY_MAX = 64
