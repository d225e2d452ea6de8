"""A few hundred made-up but believable contacts for the demo project.

Deterministic (a fixed seed), so every demo looks the same and a second run
adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from tidings.audience import segments
from tidings.audience import services as audience
from tidings.audience.activity import activity_summary_refresh
from tidings.audience.models import ActivityKind, Contact, ContactActivity, ContactStatus, ContactTag
from tidings.core.models import Project
from tidings.core.scoping import scoped

FIRST = (
    "Ada Amara Ben Carla Chen Dario Elif Emma Farid Greta Hana Ines Ivan Jonas Kai Lea Liam Lucia Mateo Maya "
    "Mia Nia Noah Olga Omar Priya Rafael Rosa Sami Sofia Tariq Theo Uma Vera Wen Yara Yusuf Zoe"
).split()
LAST = (
    "Adeyemi Almeida Becker Bianchi Chowdhury Costa Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kim "
    "Kowalski Laine Lopez Meyer Moreau Nakamura Novak Okafor Oliveira Park Petrov Rossi Sato Schmidt Silva "
    "Tanaka Weber Wong Yilmaz Zhang"
).split()
COMPANIES = [
    "Northwind",
    "Bluefin Labs",
    "Copperleaf",
    "Harbour & Co",
    "Kite Analytics",
    "Lumen Foods",
    "",
    "",
]
PLACES = [
    ("GB", "en-GB"),
    ("DE", "de"),
    ("FR", "fr"),
    ("US", "en-US"),
    ("BR", "pt-BR"),
    ("JP", "ja"),
    ("ES", "es"),
]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example"]
TAGS = {"customer": 0.45, "newsletter": 0.7, "vip": 0.08, "beta-tester": 0.12, "trial": 0.2}
DEMO_CONTACTS = 300


def seed_audience(project: Project, *, count: int = DEMO_CONTACTS) -> int:
    """Add the demo contacts, tags, topics and some activity if the project has no contacts yet."""
    if scoped(Contact, project).exists():
        return 0
    rng = random.Random(20261123)  # noqa: S311 - made-up demo data, not secrets
    now = timezone.now()
    contacts = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        country, language = rng.choice(PLACES)
        email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower()
        plan = rng.choices(["free", "pro", "team"], weights=[6, 3, 1])[0]
        custom = {"plan": plan, "seats": rng.randint(1, 40) if plan == "team" else 1}
        if rng.random() < 0.3:
            custom["favouriteProduct"] = rng.choice(["Tea sampler", "Coffee club", "Gift box"])
        status = rng.choices(
            [
                ContactStatus.SUBSCRIBED,
                ContactStatus.UNSUBSCRIBED,
                ContactStatus.NON_SUBSCRIBED,
                ContactStatus.BOUNCED,
            ],
            weights=[85, 8, 5, 2],
        )[0]
        created = now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1440))
        contacts.append(
            Contact(
                project=project,
                email=email,
                email_key=email,
                first_name=first if rng.random() < 0.95 else "",
                last_name=last if rng.random() < 0.8 else "",
                company=rng.choice(COMPANIES),
                country=country if rng.random() < 0.9 else "",
                language=language if rng.random() < 0.7 else "",
                custom_fields=custom,
                status=status,
                source=rng.choice(["signup form", "checkout", "import", "event"]),
                created_at=created,
                consent_at=created,
                consent_method="signup form",
                consent_text="Yes, send me news and offers. I can unsubscribe at any time.",
            )
        )
    Contact.objects.bulk_create(contacts, batch_size=500)
    saved = list(scoped(Contact, project).order_by("pk"))
    tags = {t.name: t for t in audience.tags_get_or_create(project=project, names=list(TAGS))}
    links = [
        ContactTag(contact=c, tag=tags[name])
        for c in saved
        for name, share in TAGS.items()
        if rng.random() < share
    ]
    ContactTag.objects.bulk_create(links, batch_size=1000)
    audience.topic_create(project=project, name="Newsletter", description="The monthly letter.", position=0)
    audience.topic_create(
        project=project,
        name="Offers",
        description="Discounts and sales.",
        default_subscription="opt_in",
        position=1,
    )
    activity = []
    for c in saved:
        for week in range(rng.randint(0, 8)):
            sent = now - timedelta(days=7 * week + rng.randint(0, 6))
            activity.append(
                ContactActivity(project=project, contact=c, kind=ActivityKind.SENT, occurred_at=sent)
            )
            if rng.random() < 0.4:
                activity.append(
                    ContactActivity(project=project, contact=c, kind=ActivityKind.OPENED, occurred_at=sent)
                )
    ContactActivity.objects.bulk_create(activity, batch_size=1000)
    activity_summary_refresh(project=project)
    segments.segment_create(
        project=project,
        name="Paying customers",
        description="On the pro or team plan.",
        filters={
            "match": "any",
            "conditions": [
                {"type": "field", "field": "customFields.plan", "operator": "is", "value": plan}
                for plan in ("pro", "team")
            ],
        },
    )
    segments.segment_create(
        project=project,
        name="Opened in the last 30 days",
        filters={
            "match": "all",
            "conditions": [{"type": "activity", "activity": "opened", "operator": "within", "days": 30}],
        },
    )
    return len(saved)
