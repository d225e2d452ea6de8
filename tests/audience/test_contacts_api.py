"""Contacts through /api/v1/contacts: fields, rules, bulk, search and tenancy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import ApiClient
from tidings.audience import services
from tidings.audience.activity import Activity, activity_record
from tidings.audience.models import Contact, ContactStatus, Suppression
from tidings.audience.validation import email_hash
from tidings.core.models import Project

PROBLEM = "application/problem+json"


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return json.loads(response.content)


def add(project: Project, email: str, **values: object) -> Contact:
    return services.contact_create(project=project, values={"email": email, **values})


def test_contact_added_by_a_team_member_defaults_to_subscribed(api: ApiClient, project: Project) -> None:
    response = api.post("contacts", {"email": "Ada.Lovelace@Example.COM", "firstName": "Ada"})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "Ada.Lovelace@example.com"
    assert body["status"] == "subscribed"
    assert body["source"] == "api"
    assert Contact.objects.for_project(project).get().email_key == "ada.lovelace@example.com"


def test_every_field_round_trips_in_camel_case(api: ApiClient) -> None:
    sent = {
        "email": "grace@example.com",
        "firstName": "Grace",
        "lastName": "Hopper",
        "company": "Navy",
        "phone": "+1 555 0100",
        "country": "us",
        "language": "en_us",
        "customFields": {"plan": "pro", "seats": 12, "trial": False, "renewal": "2027-01-31"},
        "status": "non-subscribed",
        "source": "webinar",
        "createdAt": "2024-05-01T09:30:00Z",
        "consent": {"at": "2024-05-01", "method": "form", "ip": "203.0.113.7", "text": "Send me news"},
        "tags": ["vip", "VIP Customer"],
    }
    body = api.post("contacts", sent).json()
    assert body["country"] == "US"
    assert body["language"] == "en-US"
    assert body["customFields"] == sent["customFields"]
    assert body["createdAt"] == "2024-05-01T09:30:00Z"
    assert body["consent"] == {
        "at": "2024-05-01T00:00:00Z",
        "method": "form",
        "ip": "203.0.113.7",
        "text": "Send me news",
    }
    assert [t["name"] for t in body["tags"]] == ["VIP Customer", "vip"]
    assert api.get(f"contacts/{body['id']}").json() == body


def test_contact_shows_its_latest_activity(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com")
    opened = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    activity_record(project=project, activities=[Activity(contact.pk, "opened", opened)])
    body = api.get(f"contacts/{contact.pk}").json()
    assert (body["lastSentAt"], body["lastOpenedAt"], body["lastClickedAt"]) == (
        None,
        "2026-05-01T08:00:00Z",
        None,
    )


def test_email_is_unique_per_project_regardless_of_case(api: ApiClient, project: Project) -> None:
    add(project, "ada@example.com")
    body = problem(api.post("contacts", {"email": "ADA@example.com"}), 409)
    assert body["detail"] == "a contact with the email ADA@example.com already exists"
    assert Contact.objects.for_project(project).count() == 1


def test_same_email_may_exist_in_two_projects(
    api: ApiClient, project: Project, other_project: Project
) -> None:
    add(other_project, "ada@example.com")
    assert api.post("contacts", {"email": "ada@example.com"}).status_code == 201


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"email": "not-an-email"}, "email", "is not a valid email address"),
        ({"email": ""}, "email", "is required"),
        (
            {"email": "a@example.com", "country": "XX"},
            "country",
            "must be an ISO 3166 two-letter country code",
        ),
        ({"email": "a@example.com", "language": "english!"}, "language", "must be a BCP 47 language tag"),
        ({"email": "a@example.com", "status": "active"}, "status", "must be one of subscribed"),
        ({"email": "a@example.com", "createdAt": "2024-02-30"}, "createdAt", "is not a real date"),
        ({"email": "a@example.com", "customFields": {"1bad": 1}}, "customFields", "key '1bad' must start"),
        ({"email": "a@example.com", "customFields": {"x": [1]}}, "customFields", "x: must be a string"),
        ({"email": "a@example.com", "firstName": "x" * 201}, "firstName", "must be at most 200"),
        ({"email": "a@example.com", "consent": {"ip": "999.1.1.1"}}, "consent", "ip '999.1.1.1' is not"),
    ],
)
def test_invalid_contact_fields_are_refused_with_their_path(
    api: ApiClient, project: Project, body: dict[str, object], path: str, message: str
) -> None:
    errors = problem(api.post("contacts", body), 422)["errors"]
    assert [e["path"] for e in errors] == [path]
    assert errors[0]["message"].startswith(message)
    assert not Contact.objects.for_project(project).exists()


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN"])
def test_custom_field_numbers_must_be_finite(api: ApiClient, project: Project, number: str) -> None:
    raw = '{"email": "a@example.com", "customFields": {"score": ' + number + "}}"
    errors = problem(api.post("contacts", raw), 422)["errors"]
    assert errors == [{"path": "customFields", "message": "score: must be a finite number"}]
    assert not Contact.objects.for_project(project).exists()


def test_patch_changes_only_given_fields_and_merges_custom_fields(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com", first_name="Ada", custom_fields={"plan": "free", "seats": 1})
    body = api.patch(
        f"contacts/{contact.pk}", {"lastName": "Lovelace", "customFields": {"plan": "pro", "seats": None}}
    ).json()
    assert (body["firstName"], body["lastName"]) == ("Ada", "Lovelace")
    assert body["customFields"] == {"plan": "pro"}


def test_bounced_contact_is_never_reactivated_by_patch(api: ApiClient, project: Project) -> None:
    contact = add(project, "gone@example.com", status="bounced")
    body = problem(api.patch(f"contacts/{contact.pk}", {"status": "subscribed"}), 422)
    assert body["errors"] == [
        {"path": "status", "message": "a bounced address cannot be re-activated; it receives nothing"}
    ]
    contact.refresh_from_db()
    assert contact.status == "bounced"


def test_changing_email_to_one_in_use_is_a_conflict(api: ApiClient, project: Project) -> None:
    add(project, "ada@example.com")
    other = add(project, "bob@example.com")
    problem(api.patch(f"contacts/{other.pk}", {"email": "ADA@example.com"}), 409)
    other.refresh_from_db()
    assert other.email == "bob@example.com"


def test_delete_removes_the_contact(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com")
    assert api.delete(f"contacts/{contact.pk}").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_list_searches_by_email_or_name_prefix_and_filters(api: ApiClient, project: Project) -> None:
    add(project, "ada@example.com", first_name="Ada", tags=["vip"])
    add(project, "bob@example.com", last_name="Adams", status="unsubscribed")
    add(project, "carl@example.com", first_name="Carl")
    emails = lambda query: [c["email"] for c in api.get(f"contacts?{query}").json()["items"]]  # noqa: E731
    assert emails("q=ad") == ["bob@example.com", "ada@example.com"]
    assert emails("q=CARL") == ["carl@example.com"]
    assert emails("status=unsubscribed") == ["bob@example.com"]
    vip = api.get("tags").json()["items"][0]["id"]
    assert emails(f"tagId={vip}") == ["ada@example.com"]
    assert problem(api.get("contacts?status=active"), 422)["errors"][0]["path"] == "status"


def test_bulk_upsert_reports_each_item(api: ApiClient, project: Project) -> None:
    add(project, "old@example.com", first_name="Old")
    add(project, "bounced@example.com", status="bounced")
    response = api.post(
        "contacts/bulk",
        {
            "contacts": [
                {"email": "new@example.com", "firstName": "New", "tags": ["imported"]},
                {"email": "OLD@example.com", "firstName": "Updated"},
                {"email": "bounced@example.com", "status": "subscribed"},
                {"email": "broken"},
                {"email": "new@EXAMPLE.com"},
                {"email": "x@example.com", "favouriteColour": "blue"},
            ]
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert [(r["index"], r["result"]) for r in body["results"]] == [
        (0, "created"), (1, "updated"), (2, "suppressed"), (3, "rejected"), (4, "rejected"), (5, "rejected"),
    ]  # fmt: skip
    assert (body["created"], body["updated"], body["suppressed"], body["rejected"]) == (1, 1, 1, 3)
    assert body["results"][4]["errors"] == [
        {"path": "contacts[4].email", "message": "duplicates contacts[0] in this call"}
    ]
    assert body["results"][5]["errors"] == [
        {"path": "contacts[5].favouriteColour", "message": "unknown field"}
    ]
    assert Contact.objects.for_project(project).get(email_key="old@example.com").first_name == "Updated"
    assert Contact.objects.for_project(project).get(email_key="bounced@example.com").status == "bounced"


def test_bulk_upsert_is_limited_to_1000(api: ApiClient) -> None:
    body = problem(
        api.post("contacts/bulk", {"contacts": [{"email": f"u{i}@example.com"} for i in range(1001)]}), 422
    )
    assert body["errors"] == [{"path": "contacts", "message": "at most 1000 per call, got 1001"}]


def test_bulk_delete_by_email(api: ApiClient, project: Project, other_project: Project) -> None:
    add(project, "ada@example.com")
    add(other_project, "bob@example.com")
    body = api.post("contacts/bulk-delete", {"emails": ["ADA@example.com", "bob@example.com"]}).json()
    assert body == {"deleted": 1, "notFound": ["bob@example.com"]}
    assert Contact.objects.for_project(other_project).count() == 1


def test_erased_address_cannot_be_added_again(api: ApiClient, project: Project) -> None:
    contact = add(project, "ada@example.com")
    assert api.post(f"contacts/{contact.pk}/erase").status_code == 204
    assert Suppression.objects.for_project(project).get().email_hash == email_hash(
        project.pk, "ada@example.com"
    )
    body = problem(api.post("contacts", {"email": "Ada@Example.com"}), 422)
    assert body["errors"][0]["path"] == "email"
    result = api.post("contacts/bulk", {"contacts": [{"email": "ada@example.com"}]}).json()["results"][0]
    assert result["result"] == "suppressed"
    assert not Contact.objects.for_project(project).exists()


# -- the cross-project pattern ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"firstName": "Mallory"}),
        ("delete", "", None),
        ("get", "/topics", None),
        ("get", "/export", None),
        ("post", "/erase", None),
    ],
)
def test_another_projects_contact_is_not_found_and_unchanged(
    api: ApiClient, other_project: Project, method: str, suffix: str, body: object
) -> None:
    theirs = add(other_project, "victim@example.com", first_name="Victor")
    args = (body,) if body is not None else ()
    problem(getattr(api, method)(f"contacts/{theirs.pk}{suffix}", *args), 404)
    theirs.refresh_from_db()
    assert (theirs.first_name, theirs.status) == ("Victor", ContactStatus.SUBSCRIBED)
    assert not Suppression.objects.exists()


def test_list_never_shows_another_projects_contacts(api: ApiClient, other_project: Project) -> None:
    add(other_project, "victim@example.com")
    assert api.get("contacts").json()["items"] == []
