"""Writes to contacts, tags and topics, and GDPR erasure.

Contact input arrives with snake_case keys (the API's schemas translate);
errors carry the camelCase path the client sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tidings.audience import validation
from tidings.audience.fields import CONTACT_FIELDS
from tidings.audience.models import (
    SUPPRESSED_STATUSES,
    Contact,
    ContactStatus,
    ContactTag,
    Suppression,
    SuppressionReason,
    SuppressionRemoval,
    Tag,
    Topic,
    TopicDefault,
    TopicSubscription,
    TopicVisibility,
)
from tidings.core.errors import Conflict, FieldError, NotFound, ValidationError
from tidings.core.models import Project
from tidings.core.scoping import scoped
from tidings.hooks import events
from tidings.hooks import services as hooks

TEXT_FIELDS = {f.column: f for f in CONTACT_FIELDS.values() if f.type == "text" and f.name != "email"}
BULK_LIMIT = 1000
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


# -- contacts ------------------------------------------------------------------------


def _camel(column: str) -> str:
    for f in CONTACT_FIELDS.values():
        if f.column == column:
            return f.name
    return {"custom_fields": "customFields", "consent": "consent", "tags": "tags"}.get(column, column)


def clean_contact_values(values: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Model column values from input values, or ValidationError listing every bad field."""
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []

    def check(column: str, fn: Any, *args: Any) -> None:
        try:
            result = fn(*args)
        except ValueError as exc:
            errors.append(FieldError(prefix + _camel(column), str(exc)))
        else:
            if isinstance(result, tuple):  # normalize_email: (email, key)
                clean["email"], clean["email_key"] = result
            else:
                clean[column] = result

    for column, raw in values.items():
        if column == "email":
            check("email", validation.normalize_email, raw if isinstance(raw, str) else "")
        elif column == "country":
            check(column, lambda r: validation.clean_country(validation.clean_text(r, 2)), raw)
        elif column == "language":
            check(column, lambda r: validation.clean_language(validation.clean_text(r, 35)), raw)
        elif column in TEXT_FIELDS:
            check(column, validation.clean_text, raw, TEXT_FIELDS[column].max_length)
        elif column == "custom_fields":
            check(column, validation.clean_custom_fields, raw)
        elif column == "status":
            if raw not in ContactStatus.values:
                errors.append(
                    FieldError(prefix + "status", f"must be one of {', '.join(ContactStatus.values)}")
                )
            else:
                clean["status"] = raw
        elif column == "created_at":
            check(column, validation.parse_when, raw)
        elif column == "consent":
            check(column, _clean_consent, raw)
        elif column == "tags":
            check(column, _clean_tag_names, raw)
        else:
            errors.append(FieldError(prefix + _camel(column), "unknown field"))
    if errors:
        raise ValidationError(errors)
    consent = clean.pop("consent", None)
    if consent:
        clean.update(consent)
    return clean


def _clean_consent(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("must be an object with at, method, ip and text")
    unknown = set(raw) - {"at", "method", "ip", "text"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    if raw.get("at") is not None:
        out["consent_at"] = validation.parse_when(raw["at"])
    out["consent_method"] = validation.clean_text(raw.get("method"), 50)
    out["consent_text"] = validation.clean_text(raw.get("text"), 5000)
    ip = raw.get("ip")
    if ip:
        from django.core.validators import validate_ipv46_address

        try:
            validate_ipv46_address(ip)
        except Exception as exc:
            raise ValueError(f"ip {ip!r} is not an IPv4 or IPv6 address") from exc
        out["consent_ip"] = ip
    return out


def _clean_tag_names(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise ValueError("must be a list of tag names")
    names = []
    for name in raw:
        name = name.strip()
        if not name or len(name) > 100:
            raise ValueError("each tag name must be 1-100 characters")
        if name not in names:
            names.append(name)
    return names


def is_suppressed(*, project: Project, email_key: str) -> bool:
    """The address was erased (or suppressed by hand): never add or mail it again."""
    digest = validation.email_hash(project.pk, email_key)
    return scoped(Suppression, project).filter(email_hash=digest).exists()


# The contact status each reason of the list stands for.
_SUPPRESSED_STATUS = {
    SuppressionReason.BOUNCED: ContactStatus.BOUNCED,
    SuppressionReason.COMPLAINED: ContactStatus.COMPLAINED,
}


def _email_key(email: str) -> str:
    try:
        return validation.normalize_email(email)[1]
    except ValueError:
        return email.strip().lower()  # a provider may report what we could not have sent; match it as given


def suppression_hash(project: Project, email: str) -> str:
    """The suppression list's key of an address in this project."""
    return validation.email_hash(project.pk, _email_key(email))


@transaction.atomic
def suppress(
    *, project: Project, email: str, reason: str, detail: str = "", contact: Contact | None = None
) -> Suppression:
    """Put an address on the suppression list for a hard bounce or a complaint, and mark its contact.

    A complaint outranks a bounce: a bounced contact who complains becomes ``complained``;
    a complained one stays so. Nothing is ever mailed to either again, and no import or
    upsert brings them back.
    """
    key = _email_key(email)
    if contact is None:
        contact = scoped(Contact, project).filter(email_key=key).first()
    status = _SUPPRESSED_STATUS[SuppressionReason(reason)]
    previous = contact.status if contact is not None else ""
    suppression, created = Suppression.objects.get_or_create(
        project=project,
        email_hash=suppression_hash(project, email),
        defaults={
            "email": email.strip()[:254],
            "reason": reason,
            "detail": detail[:500],
            "previous_status": previous if previous not in SUPPRESSED_STATUSES else "",
        },
    )
    if (
        not created
        and reason == SuppressionReason.COMPLAINED
        and suppression.reason == SuppressionReason.BOUNCED
    ):
        suppression.reason, suppression.detail = reason, detail[:500]
        suppression.save(update_fields=["reason", "detail"])
    if contact is not None and contact.status != ContactStatus.COMPLAINED and contact.status != status:
        Contact.objects.filter(pk=contact.pk).update(status=status, updated_at=timezone.now())
        contact.status = status
    return suppression


@transaction.atomic
def suppression_remove(
    *, project: Project, suppression_id: int, note: str, removed_by: str
) -> SuppressionRemoval:
    """Take an address off the list, with a note saying why; the removal is kept on record.

    Its contact, if any, gets back the status it had before (never ``subscribed`` without
    it having been so), or ``non-subscribed``.
    """
    note = (note or "").strip()
    if not note:
        raise ValidationError.field("note", "say why the address may be mailed again")
    suppression = scoped(Suppression, project).select_for_update().filter(pk=suppression_id).first()
    if suppression is None:
        raise NotFound(f"no suppression with id {suppression_id} in this project")
    removal = SuppressionRemoval.objects.create(
        project=project,
        email=suppression.email,
        email_hash=suppression.email_hash,
        reason=suppression.reason,
        note=note[:5000],
        removed_by=removed_by[:200],
    )
    if suppression.email:
        restored = suppression.previous_status or ContactStatus.NON_SUBSCRIBED
        found = scoped(Contact, project).filter(
            email_key=_email_key(suppression.email), status__in=SUPPRESSED_STATUSES
        )
        back = list(found.values_list("pk", flat=True))
        found.update(status=restored, updated_at=timezone.now())
        emit_contacts(project.pk, "contact.updated", back)
    suppression.delete()
    return removal


def _suppressed_error(path: str) -> ValidationError:
    return ValidationError.field(path, "is on the project's suppression list and cannot be added again")


@transaction.atomic
def contact_create(*, project: Project, values: Mapping[str, Any], source: str = "api") -> Contact:
    """Add one contact. Status defaults to subscribed (a team member added them)."""
    clean = clean_contact_values(values)
    if "email" not in clean:
        raise ValidationError.field("email", "is required")
    tag_names = clean.pop("tags", [])
    if is_suppressed(project=project, email_key=clean["email_key"]):
        raise _suppressed_error("email")
    clean.setdefault("source", source)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(project=project, **clean)
    except IntegrityError as exc:
        raise Conflict(f"a contact with the email {clean['email']} already exists") from exc
    if tag_names:
        tags = tags_get_or_create(project=project, names=tag_names)
        ContactTag.objects.bulk_create([ContactTag(contact=contact, tag=t) for t in tags])
    emit_contacts(project.pk, "contact.created", [contact])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, values: Mapping[str, Any]) -> Contact:
    """Change the given fields. A bounced or complained contact is never re-activated."""
    clean = clean_contact_values(values)
    tag_names = clean.pop("tags", None)
    if "status" in clean and contact.status in SUPPRESSED_STATUSES and clean["status"] != contact.status:
        raise ValidationError.field(
            "status", f"a {contact.status} address cannot be re-activated; it receives nothing"
        )
    if "email_key" in clean and clean["email_key"] != contact.email_key:
        if is_suppressed(project=contact.project, email_key=clean["email_key"]):
            raise _suppressed_error("email")
        if scoped(Contact, contact.project_id).filter(email_key=clean["email_key"]).exists():
            raise Conflict(f"a contact with the email {clean['email']} already exists")
    if "custom_fields" in clean:
        merged = {**contact.custom_fields, **clean["custom_fields"]}
        clean["custom_fields"] = {k: v for k, v in merged.items() if v is not None}
    was = contact.status
    for column, value in clean.items():
        setattr(contact, column, value)
    contact.save()
    if tag_names is not None:
        tags = tags_get_or_create(project=contact.project, names=tag_names)
        ContactTag.objects.bulk_create(
            [ContactTag(contact=contact, tag=t) for t in tags], ignore_conflicts=True
        )
    _emit_changed(contact.project_id, [(contact, was)])
    return contact


def _emit_changed(project_id: int, changed: list[tuple[Contact, str]]) -> None:
    """contact.updated for each, and contact.unsubscribed for those whose status became it."""
    emit_contacts(project_id, "contact.updated", [c for c, _ in changed])
    emit_contacts(
        project_id,
        "contact.unsubscribed",
        [
            c
            for c, was in changed
            if c.status == ContactStatus.UNSUBSCRIBED and was != ContactStatus.UNSUBSCRIBED
        ],
    )


EMIT_CHUNK = 1000


def emit_contacts(project_id: int, event_type: str, contacts: Iterable[Contact | int]) -> None:
    """``event_type`` for each contact (an instance or an id), with its tag names; nothing is read
    or built when no endpoint listens."""
    endpoints = hooks.listeners(project_id, event_type)
    if not endpoints:
        return
    pending = list(contacts)
    for start in range(0, len(pending), EMIT_CHUNK):
        chunk = pending[start : start + EMIT_CHUNK]
        ids = [c if isinstance(c, int) else c.pk for c in chunk]
        loaded = {c.pk: c for c in chunk if not isinstance(c, int)}
        missing = [pk for pk in ids if pk not in loaded]
        loaded.update({c.pk: c for c in scoped(Contact, project_id).filter(pk__in=missing)})
        tags: dict[int, list[str]] = {}
        for contact_id, name in ContactTag.objects.filter(contact_id__in=ids).values_list(
            "contact_id", "tag__name"
        ):
            tags.setdefault(contact_id, []).append(name)
        data = [events.contact_data(loaded[pk], sorted(tags.get(pk, []))) for pk in ids if pk in loaded]
        hooks.emit_many(project_id, event_type, data, endpoints=endpoints)


def contact_delete(*, contact: Contact) -> None:
    contact.delete()


@dataclass
class BulkItemResult:
    index: int
    email: str
    result: str  # created | updated | suppressed | rejected
    id: int | None = None
    errors: list[FieldError] = field(default_factory=list)
    reason: str = ""  # why a suppressed row was left as it is


_SUPPRESSED_WHY = {
    SuppressionReason.BOUNCED: "the address bounced: it is on the suppression list",
    SuppressionReason.COMPLAINED: "the recipient complained: the address is on the suppression list",
    SuppressionReason.ERASED: "the person was erased: the address is on the suppression list",
    SuppressionReason.MANUAL: "the address is on the suppression list",
}


@transaction.atomic
def contacts_upsert(
    *, project: Project, items: list[Mapping[str, Any]], source: str = "api"
) -> list[BulkItemResult]:
    """Create or update up to BULK_LIMIT contacts by email, with a result per item.

    Suppressed addresses (erased, bounced, complained) are reported and left as they are.
    """
    if len(items) > BULK_LIMIT:
        raise ValidationError.field("contacts", f"at most {BULK_LIMIT} per call, got {len(items)}")
    results: list[BulkItemResult] = []
    cleaned: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, item in enumerate(items):
        raw_email = item.get("email") if isinstance(item.get("email"), str) else ""
        try:
            clean = clean_contact_values(item, prefix=f"contacts[{index}].")
            if "email" not in clean:
                raise ValidationError.field(f"contacts[{index}].email", "is required")
        except ValidationError as exc:
            results.append(BulkItemResult(index, raw_email, "rejected", errors=exc.errors))
            continue
        if clean["email_key"] in cleaned:
            first = cleaned[clean["email_key"]][0]
            error = FieldError(f"contacts[{index}].email", f"duplicates contacts[{first}] in this call")
            results.append(BulkItemResult(index, clean["email"], "rejected", errors=[error]))
            continue
        cleaned[clean["email_key"]] = (index, clean)
        results.append(BulkItemResult(index, clean["email"], "pending"))

    keys = list(cleaned)
    existing = {c.email_key: c for c in scoped(Contact, project).filter(email_key__in=keys)}
    hashes = {validation.email_hash(project.pk, k): k for k in keys}
    suppressed = {
        hashes[h]: reason
        for h, reason in scoped(Suppression, project)
        .filter(email_hash__in=list(hashes))
        .values_list("email_hash", "reason")
    }
    by_index = {r.index: r for r in results}
    tag_names = {n for _, clean in cleaned.values() for n in clean.get("tags", [])}
    tags = {t.name: t for t in tags_get_or_create(project=project, names=sorted(tag_names))}
    links: list[ContactTag] = []
    created: list[Contact] = []
    changed: list[tuple[Contact, str]] = []
    for key, (index, clean) in cleaned.items():
        result = by_index[index]
        names = clean.pop("tags", [])
        contact = existing.get(key)
        if key in suppressed or (contact is not None and contact.status in SUPPRESSED_STATUSES):
            result.result = "suppressed"
            result.id = contact.pk if contact else None
            result.reason = _SUPPRESSED_WHY.get(
                suppressed.get(key, ""), f"the contact is {contact.status if contact else 'suppressed'}"
            )
            continue
        if contact is None:
            clean.setdefault("source", source)
            contact = Contact.objects.create(project=project, **clean)
            result.result = "created"
            created.append(contact)
        else:
            changed.append((contact, contact.status))
            if "custom_fields" in clean:
                merged = {**contact.custom_fields, **clean["custom_fields"]}
                clean["custom_fields"] = {k: v for k, v in merged.items() if v is not None}
            for column, value in clean.items():
                setattr(contact, column, value)
            contact.save()
            result.result = "updated"
        result.id = contact.pk
        links += [ContactTag(contact=contact, tag=tags[n]) for n in names]
    ContactTag.objects.bulk_create(links, ignore_conflicts=True)
    emit_contacts(project.pk, "contact.created", created)
    _emit_changed(project.pk, changed)
    return results


def contacts_delete_by_email(*, project: Project, emails: list[str]) -> tuple[int, list[str]]:
    """Delete the project's contacts with these addresses; (deleted count, addresses not found)."""
    if len(emails) > BULK_LIMIT:
        raise ValidationError.field("emails", f"at most {BULK_LIMIT} per call, got {len(emails)}")
    keys = {e.strip().lower(): e for e in emails if isinstance(e, str)}
    found = set(scoped(Contact, project).filter(email_key__in=list(keys)).values_list("email_key", flat=True))
    deleted = (
        scoped(Contact, project).filter(email_key__in=list(found)).delete()[1].get("audience.Contact", 0)
    )
    return deleted, [keys[k] for k in keys if k not in found]


# -- tags --------------------------------------------------------------------------------


def _tag_errors(name: Any, color: Any, description: Any) -> list[FieldError]:
    errors = []
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name.strip()) > 100):
        errors.append(FieldError("name", "must be 1-100 characters"))
    if color and (not isinstance(color, str) or not HEX_COLOR.fullmatch(color)):
        errors.append(FieldError("color", "must be a hex colour such as #d9480f"))
    if description is not None and len(description or "") > 500:
        errors.append(FieldError("description", "must be at most 500 characters"))
    return errors


def near_duplicate_tags(*, project: Project, name: str, exclude_id: int | None = None) -> list[str]:
    """Other tags whose names differ from ``name`` only in case or spacing."""
    folded = " ".join(name.split()).casefold()
    names = scoped(Tag, project).exclude(pk=exclude_id).values_list("name", flat=True)
    return sorted(n for n in names if " ".join(n.split()).casefold() == folded and n != name)


def tag_create(
    *, project: Project, name: str, color: str = "", description: str = ""
) -> tuple[Tag, list[str]]:
    """Create a tag; returns it with warnings (a near-duplicate name is allowed, and said)."""
    errors = _tag_errors(name, color, description)
    if errors:
        raise ValidationError(errors)
    name = name.strip()
    try:
        with transaction.atomic():
            tag = Tag.objects.create(
                project=project, name=name, color=color or "", description=description or ""
            )
    except IntegrityError as exc:
        raise Conflict(f"a tag named {name!r} already exists") from exc
    warnings = [
        f"a tag named {other!r} already exists; names are exact, so {name!r} is a different tag"
        for other in near_duplicate_tags(project=project, name=name, exclude_id=tag.pk)
    ]
    return tag, warnings


def tag_update(*, tag: Tag, **changes: Any) -> tuple[Tag, list[str]]:
    """Rename or recolour a tag (contacts keep it)."""
    errors = _tag_errors(changes.get("name"), changes.get("color"), changes.get("description"))
    unknown = set(changes) - {"name", "color", "description"}
    errors += [FieldError(f, "unknown field") for f in sorted(unknown)]
    if errors:
        raise ValidationError(errors)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if scoped(Tag, tag.project_id).filter(name=changes["name"]).exclude(pk=tag.pk).exists():
            raise Conflict(f"a tag named {changes['name']!r} already exists")
    for key, value in changes.items():
        setattr(tag, key, value or "")
    tag.save()
    warnings = [
        f"a tag named {other!r} already exists; names are exact, so {tag.name!r} is a different tag"
        for other in near_duplicate_tags(project=tag.project, name=tag.name, exclude_id=tag.pk)
    ]
    return tag, warnings


def tag_delete(*, tag: Tag) -> None:
    """Delete a tag; contacts lose it, and are otherwise untouched."""
    tag.delete()


def tags_get_or_create(*, project: Project, names: Iterable[str]) -> list[Tag]:
    """The project's tags with these exact names, creating the missing ones."""
    wanted = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not wanted:
        return []
    Tag.objects.bulk_create([Tag(project=project, name=n) for n in wanted], ignore_conflicts=True)
    found = {t.name: t for t in scoped(Tag, project).filter(name__in=wanted)}
    return [found[n] for n in wanted]


def _contacts_for(
    *, project: Project, contact_ids: list[int] | None, emails: list[str] | None, segment_filters: Any = None
) -> QuerySet[Contact]:
    contacts = scoped(Contact, project)
    if segment_filters is not None:
        from tidings.audience.segments import segment_contacts

        return segment_contacts(project=project, filters=segment_filters)
    if contact_ids is not None:
        return contacts.filter(pk__in=contact_ids)
    if emails is not None:
        return contacts.filter(email_key__in=[e.strip().lower() for e in emails if isinstance(e, str)])
    raise ValidationError.field("", "name the contacts: contactIds, emails or segmentId")


def tag_add(
    *,
    tag: Tag,
    contact_ids: list[int] | None = None,
    emails: list[str] | None = None,
    segment_filters: Any = None,
) -> int:
    """Put ``tag`` on the given contacts (ids, emails, or a segment); returns how many gained it."""
    contacts = _contacts_for(
        project=tag.project, contact_ids=contact_ids, emails=emails, segment_filters=segment_filters
    )
    ids = contacts.exclude(pk__in=ContactTag.objects.filter(tag=tag).values("contact_id")).values_list(
        "pk", flat=True
    )
    now = timezone.now()
    added = 0
    batch: list[ContactTag] = []
    listening = hooks.listeners(tag.project_id, "contact.updated")
    tagged: list[int] = []
    for contact_id in ids.iterator(chunk_size=5000):
        batch.append(ContactTag(contact_id=contact_id, tag=tag, created_at=now))
        if listening:
            tagged.append(contact_id)
        if len(batch) == 5000:
            ContactTag.objects.bulk_create(batch, ignore_conflicts=True)
            added += len(batch)
            batch = []
    ContactTag.objects.bulk_create(batch, ignore_conflicts=True)
    emit_contacts(tag.project_id, "contact.updated", tagged)
    return added + len(batch)


def tag_remove(
    *,
    tag: Tag,
    contact_ids: list[int] | None = None,
    emails: list[str] | None = None,
    segment_filters: Any = None,
) -> int:
    """Take ``tag`` off the given contacts; returns how many lost it."""
    contacts = _contacts_for(
        project=tag.project, contact_ids=contact_ids, emails=emails, segment_filters=segment_filters
    )
    links = ContactTag.objects.filter(tag=tag, contact_id__in=contacts.values("pk"))
    untagged = (
        list(links.values_list("contact_id", flat=True))
        if hooks.listeners(tag.project_id, "contact.updated")
        else []
    )
    deleted, _ = links.delete()
    emit_contacts(tag.project_id, "contact.updated", untagged)
    return deleted


# -- topics ------------------------------------------------------------------------------

TOPIC_FIELDS = ("name", "description", "default_subscription", "visibility", "position", "is_active")


def _topic_errors(values: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    if "name" in values and (
        not isinstance(values["name"], str) or not 1 <= len(values["name"].strip()) <= 100
    ):
        errors.append(FieldError("name", "must be 1-100 characters"))
    if len(values.get("description") or "") > 500:
        errors.append(FieldError("description", "must be at most 500 characters"))
    if "default_subscription" in values and values["default_subscription"] not in TopicDefault.values:
        errors.append(FieldError("defaultSubscription", "must be opt_in or opt_out"))
    if "visibility" in values and values["visibility"] not in TopicVisibility.values:
        errors.append(FieldError("visibility", "must be public or private"))
    position = values.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 1_000_000:
        errors.append(FieldError("position", "must be a whole number from 0 to 1000000"))
    return errors


def topic_create(*, project: Project, **values: Any) -> Topic:
    """Create a topic contacts can opt in to or out of."""
    unknown = set(values) - set(TOPIC_FIELDS)
    errors = [FieldError(f, "unknown field") for f in sorted(unknown)] + _topic_errors(values)
    if "name" not in values:
        errors.append(FieldError("name", "is required"))
    if errors:
        raise ValidationError(errors)
    values["name"] = values["name"].strip()
    values["description"] = values.get("description") or ""
    try:
        with transaction.atomic():
            return Topic.objects.create(project=project, **values)
    except IntegrityError as exc:
        raise Conflict(f"a topic named {values['name']!r} already exists") from exc


def topic_update(*, topic: Topic, **changes: Any) -> Topic:
    unknown = set(changes) - set(TOPIC_FIELDS)
    errors = [FieldError(f, "unknown field") for f in sorted(unknown)] + _topic_errors(changes)
    if errors:
        raise ValidationError(errors)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if scoped(Topic, topic.project_id).filter(name=changes["name"]).exclude(pk=topic.pk).exists():
            raise Conflict(f"a topic named {changes['name']!r} already exists")
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    for key, value in changes.items():
        setattr(topic, key, value)
    topic.save()
    return topic


def topic_delete(*, topic: Topic) -> None:
    topic.delete()


def topic_set_subscription(*, topic: Topic, contact: Contact, subscribed: bool) -> TopicSubscription:
    """Record the contact's explicit choice for the topic (it overrides the topic's default)."""
    if contact.project_id != topic.project_id:
        raise NotFound("contact not found")
    choice, _ = TopicSubscription.objects.update_or_create(
        contact=contact, topic=topic, defaults={"subscribed": subscribed}
    )
    return choice


# -- GDPR --------------------------------------------------------------------------------


@transaction.atomic
def contact_erase(*, contact: Contact) -> Suppression:
    """Erase the person: their contact row, tags, topic choices and activity go;
    a hash of the address stays on the suppression list so no import or API call
    can add them again."""
    digest = validation.email_hash(contact.project_id, contact.email_key)
    suppression, _ = Suppression.objects.get_or_create(
        project_id=contact.project_id, email_hash=digest, defaults={"reason": SuppressionReason.ERASED}
    )
    contact.delete()  # cascades to ContactTag, TopicSubscription, ContactActivity
    return suppression
