"""The audience of a project: contacts, tags, topics, segments, activity, suppressions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tidings.core.models import ProjectScopedModel


class ContactStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    NON_SUBSCRIBED = "non-subscribed", "Non-subscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


# Receive nothing, ever; an upsert or an import never turns them back.
SUPPRESSED_STATUSES = frozenset({ContactStatus.BOUNCED, ContactStatus.COMPLAINED})


class Contact(ProjectScopedModel):
    """A person in a project's audience. ``email_key`` is the lower-cased address, unique per project."""

    # Every index of the table begins with the project: no index of its own (each costs every write).
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254)
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=35, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=ContactStatus.choices, default=ContactStatus.SUBSCRIBED)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_method = models.CharField(max_length=50, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_text = models.TextField(blank=True)
    # The latest ContactActivity of each kind, kept by audience.activity: segments
    # ask "opened within N days" of a column instead of scanning every event.
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    last_clicked_at = models.DateTimeField(null=True, blank=True)

    tags = models.ManyToManyField("Tag", through="ContactTag", related_name="contacts")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "email_key"], name="contact_unique_email_per_project"),
        ]
        indexes = [
            models.Index(fields=["project", "status"], name="contact_project_status"),
            models.Index(fields=["project", "created_at"], name="contact_project_created"),
        ]

    def __str__(self) -> str:
        return self.email


class Tag(ProjectScopedModel):
    """A manual label; names are exact and case-sensitive (``vip`` is not ``VIP``)."""

    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, blank=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="tag_unique_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class ContactTag(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="contact_tag_unique")]
        indexes = [models.Index(fields=["tag", "contact"], name="contact_tag_by_tag")]


class TopicDefault(models.TextChoices):
    OPT_IN = "opt_in", "Opt in (off until chosen)"
    OPT_OUT = "opt_out", "Opt out (on until refused)"


class TopicVisibility(models.TextChoices):
    PUBLIC = "public", "Public (in the preference center)"
    PRIVATE = "private", "Private"


class Topic(ProjectScopedModel):
    """A subject a contact can opt in to or out of; a marketing send may carry one."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    default_subscription = models.CharField(
        max_length=10, choices=TopicDefault.choices, default=TopicDefault.OPT_OUT
    )
    visibility = models.CharField(
        max_length=10, choices=TopicVisibility.choices, default=TopicVisibility.PUBLIC
    )
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="topic_unique_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class TopicSubscription(models.Model):
    """A contact's explicit choice for a topic; without one, the topic's default applies."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="topic_choices")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    subscribed = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "topic"], name="topic_subscription_unique")]
        indexes = [
            models.Index(fields=["topic", "subscribed", "contact"], name="topic_subscription_by_topic")
        ]


class Segment(ProjectScopedModel):
    """A saved rule tree; membership is computed from it whenever asked (see segments.py)."""

    name = models.CharField(max_length=200)
    description = models.CharField(max_length=1000, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="segment_unique_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class ActivityKind(models.TextChoices):
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"


# The Contact column holding the latest activity of each kind.
LAST_ACTIVITY_COLUMN = {
    ActivityKind.SENT: "last_sent_at",
    ActivityKind.OPENED: "last_opened_at",
    ActivityKind.CLICKED: "last_clicked_at",
}


class ContactActivity(ProjectScopedModel):
    """What happened between a contact and the project's mail, as segments ask about it.

    Written only through ``tidings.audience.activity`` (which keeps the contact's
    ``last_<kind>_at`` in step); ``campaign_id`` names the campaign (a plain id:
    the Campaign model lives in another area).
    """

    # The indexes below begin with the contact and with the project: none of their own. A row is
    # written for every message sent, so each index costs the send pipeline.
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "kind", "occurred_at"], name="activity_contact_kind_time"),
            models.Index(fields=["kind", "campaign_id", "contact"], name="activity_kind_campaign"),
            # Segments: "opened within N days" over a whole project in one index-only pass.
            models.Index(
                fields=["project", "kind", "occurred_at", "contact"], name="activity_project_kind_time"
            ),
        ]


class SuppressionReason(models.TextChoices):
    ERASED = "erased", "Erased on request"
    BOUNCED = "bounced", "Hard bounce"
    COMPLAINED = "complained", "Complaint"
    MANUAL = "manual", "Added by hand"


class Suppression(ProjectScopedModel):
    """An address that must never be mailed or re-imported. The hash is the key; the address is
    kept for bounces and complaints so the list can be read, and never for an erased person."""

    email_hash = models.CharField(max_length=64)
    email = models.CharField(max_length=254, blank=True)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    detail = models.CharField(max_length=500, blank=True)  # e.g. the bounce's status and text
    previous_status = models.CharField(max_length=20, blank=True)  # the contact's, restored on removal
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "email_hash"], name="suppression_unique_per_project")
        ]


class SuppressionRemoval(ProjectScopedModel):
    """The record of an address taken off the suppression list: who, when and why."""

    email = models.CharField(max_length=254, blank=True)
    email_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    note = models.TextField()
    removed_by = models.CharField(max_length=200)
    removed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-removed_at", "-id"]


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class OnConflict(models.TextChoices):
    SKIP = "skip", "Skip existing contacts"
    UPSERT = "upsert", "Update existing contacts"


class ContactImport(ProjectScopedModel):
    """One CSV import: the uploaded file, its options, and its progress and outcome."""

    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    size_bytes = models.BigIntegerField(default=0)
    column_map = models.JSONField(default=dict, blank=True)
    tag_names = models.JSONField(default=list, blank=True)
    on_conflict = models.CharField(max_length=10, choices=OnConflict.choices, default=OnConflict.SKIP)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    bytes_read = models.BigIntegerField(default=0)
    rows_read = models.BigIntegerField(default=0)
    created_count = models.BigIntegerField(default=0)
    updated_count = models.BigIntegerField(default=0)
    skipped_count = models.BigIntegerField(default=0)
    rejected_count = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
