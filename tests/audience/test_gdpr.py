"""GDPR: export everything held about a person; erase them for good."""

from __future__ import annotations

from tests.conftest import ApiClient
from tidings.audience import services
from tidings.audience.models import Contact, ContactActivity, ContactTag, Suppression, TopicSubscription
from tidings.core.models import Project


def test_export_holds_everything_we_keep(api: ApiClient, project: Project) -> None:
    contact = services.contact_create(
        project=project,
        values={
            "email": "ada@example.com",
            "first_name": "Ada",
            "custom_fields": {"plan": "pro"},
            "consent": {"at": "2024-01-02", "method": "form", "ip": "198.51.100.4", "text": "Yes please"},
            "tags": ["vip"],
        },
    )
    topic = services.topic_create(project=project, name="News")
    services.topic_set_subscription(topic=topic, contact=contact, subscribed=False)
    ContactActivity.objects.create(project=project, contact=contact, kind="opened", campaign_id=7)

    body = api.get(f"contacts/{contact.pk}/export").json()

    assert body["email"] == "ada@example.com"
    assert body["customFields"] == {"plan": "pro"}
    assert body["consent"] == {
        "at": "2024-01-02T00:00:00+00:00",
        "method": "form",
        "ip": "198.51.100.4",
        "text": "Yes please",
    }
    assert body["tags"] == ["vip"]
    assert body["topics"] == [{"topic": "News", "subscribed": False, "explicit": True}]
    assert [(a["kind"], a["campaignId"]) for a in body["activity"]] == [("opened", 7)]
    assert body["project"]["name"] == "Acme Mail"


def test_erasure_removes_personal_data_and_keeps_only_a_hash(api: ApiClient, project: Project) -> None:
    contact = services.contact_create(project=project, values={"email": "ada@example.com", "tags": ["vip"]})
    topic = services.topic_create(project=project, name="News")
    services.topic_set_subscription(topic=topic, contact=contact, subscribed=True)
    ContactActivity.objects.create(project=project, contact=contact, kind="sent")

    assert api.post(f"contacts/{contact.pk}/erase").status_code == 204

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not ContactTag.objects.exists()
    assert not TopicSubscription.objects.exists()
    assert not ContactActivity.objects.exists()
    suppression = Suppression.objects.get()
    assert "ada" not in suppression.email_hash
    assert suppression.reason == "erased"
