"""Checking and normalising contact data, shared by the API, the import and the UI.

Each function returns the clean value or raises ``ValueError`` with a message
meant for a person; callers attach the field path.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date, datetime
from typing import Any

import email_validator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tidings.audience.fields import CUSTOM_KEY_MAX

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
    BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER
    ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID
    IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV
    LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR
    NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC
    VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()
)

# BCP 47 in the shapes people use: language, optional script, optional region, variants.
LANGUAGE_TAG = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-[a-zA-Z0-9]{5,8})*")
CUSTOM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def normalize_email(raw: str) -> tuple[str, str]:
    """(normalised address, lower-cased key) or ValueError saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("is required")
    if len(text) > 254:
        raise ValueError("is longer than 254 characters")
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from exc
    return result.normalized, result.normalized.lower()


def email_hash(project_id: int, email_key: str) -> str:
    """The suppression-list form of an address: it can be matched, not read."""
    return hashlib.sha256(f"{project_id}:{email_key}".encode()).hexdigest()


def clean_country(raw: str) -> str:
    code = (raw or "").strip().upper()
    if code and code not in COUNTRIES:
        raise ValueError("must be an ISO 3166 two-letter country code such as DE or US")
    return code


def clean_language(raw: str) -> str:
    tag = (raw or "").strip().replace("_", "-")
    if tag and not LANGUAGE_TAG.fullmatch(tag):
        raise ValueError("must be a BCP 47 language tag such as en or pt-BR")
    if not tag:
        return ""
    parts = tag.split("-")
    # Canonical case: language lower, script title, region upper.
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def clean_text(raw: Any, max_length: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError("must be text")
    text = raw.strip()
    if len(text) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def clean_custom_fields(raw: Any) -> dict[str, Any]:
    """A flat object of strings, numbers, booleans and ISO dates (kept as strings)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("must be an object of key: value")
    if len(raw) > 100:
        raise ValueError("must have at most 100 keys")
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not CUSTOM_KEY.fullmatch(key):
            raise ValueError(
                f"key {key!r} must start with a letter or _ and hold only letters, digits and _ "
                f"(at most {CUSTOM_KEY_MAX})"
            )
        if value is None or isinstance(value, bool | int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key}: must be a finite number")
            clean[key] = value
        elif isinstance(value, str):
            if len(value) > 2000:
                raise ValueError(f"{key}: must be at most 2000 characters")
            clean[key] = value
        else:
            raise ValueError(f"{key}: must be a string, number, boolean or null")
    return clean


def parse_when(raw: Any) -> datetime:
    """An ISO date or date-time (a date means midnight UTC); aware, in UTC."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, date):
        value = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, str) and raw.strip():
        text = raw.strip()
        try:
            value = parse_datetime(text) or (
                datetime.combine(parse_date(text), datetime.min.time()) if ISO_DATE.fullmatch(text) else None
            )
        except ValueError as exc:
            raise ValueError(f"is not a real date: {text!r}") from exc
        if value is None:
            raise ValueError(f"must be an ISO 8601 date or date-time, got {text!r}")
    else:
        raise ValueError("must be an ISO 8601 date or date-time")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.UTC)
    return value
