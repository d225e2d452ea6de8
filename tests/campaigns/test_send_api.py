"""The send API (``POST /api/v1/sending``) end to end: its five rules, its input checks, and
what reaches a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest

from tests.sending import factories as f
from tests.sending.conftest import smtp_server  # noqa: F401
from tidings.audience.models import Contact, ContactStatus
from tidings.audience.segments import segment_create
from tidings.audience.services import contact_erase, topic_create, topic_set_subscription
from tidings.campaigns.models import Campaign, CampaignOrigin, CampaignStatus
from tidings.campaigns.services import campaign_start
from tidings.sending.models import Message, MessageState
from tidings.sending.pipeline import run_campaign
from tidings.sending.services import connection_create

pytestmark = pytest.mark.django_db

TEMPLATE = (
    "<html><body><p>Hello {{ firstName | default: 'friend' }},</p>"
    "<p>Your order {{ orderNumber | default: 'none' }} is on its way.</p></body></html>"
)
FOOTER = "Unsubscribe or manage your preferences"
POSTAL = "1 Main St, Springfield"
UNSUBSCRIBE_HEADER = re.compile(r"<https?://[^<>\s]+/u/[^<>\s]+>")


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def ready(project: Any, smtp_server: Any) -> Any:  # noqa: F811
    """The project can send: example.com is verified and an SMTP relay is the default connection."""
    f.verified_domain(project)
    f.smtp_connection(project, smtp_server)
    return smtp_server


def body(**values: Any) -> dict[str, Any]:
    """A valid send to one address; ``values`` change or add fields (None removes one)."""
    out: dict[str, Any] = {
        "recipientType": "email",
        "recipientEmail": "ann@example.net",
        "from": "hello@example.com",
        "fromName": "Acme",
        "subject": "Your order",
        "template": TEMPLATE,
    }
    out.update(values)
    return {k: v for k, v in out.items() if v is not None}


def person(
    project: Any, email_address: str, status: str = ContactStatus.SUBSCRIBED, **fields: Any
) -> Contact:
    return Contact.objects.create(
        project=project, email=email_address, email_key=email_address.lower(), status=status, **fields
    )


def accepted(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    return response.json()


def run(batch_id: int) -> Any:
    campaign = Campaign.objects.get(pk=batch_id)
    return run_campaign(campaign)


def received_by(server: Any) -> dict[str, Any]:
    """The messages the server accepted, by their one recipient."""
    out = {}
    for received in server.messages:
        assert len(received.rcpt_tos) == 1
        out[received.rcpt_tos[0]] = received
    return out


def html_of(received: Any) -> str:
    return received.message.get_body(("html",)).get_content()


def text_of(received: Any) -> str:
    return received.message.get_body(("plain",)).get_content()


def skipped(api: Any, batch_id: int) -> dict[str, str]:
    response = api.get(f"sending/batches/{batch_id}/recipients?state=skipped")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert all(item["state"] == "skipped" for item in items)
    return {item["email"]: item["skipReason"] for item in items}


def nothing_created() -> None:
    assert Campaign.objects.count() == 0
    assert Message.objects.count() == 0


def refused(response: Any, path: str, status: int = 422) -> str:
    """Assert a problem answer naming ``path``; returns its message for that path."""
    assert response.status_code == status, response.content
    problem = response.json()
    assert problem["status"] == status
    messages = [e["message"] for e in problem.get("errors", []) if e["path"] == path]
    assert messages, f"no error at {path!r}: {problem}"
    return " ".join(messages)


# -- rule 1: which sends are transactional --------------------------------------------------------


def test_rule1_one_address_is_transactional_and_audiences_and_tags_are_marketing(api, project, ready) -> None:
    news = f.tag(project)
    person(project, "ann@example.net")
    f.contacts(project, 2, tag=news)
    everyone = segment_create(project=project, name="Everyone", filters={})

    cases = [
        (body(), True),
        (body(transactional=False), False),
        (body(transactional=True), True),
        (body(recipientType="audience", recipientEmail=None, recipientId=everyone.pk), False),
        (
            body(recipientType="audience", recipientEmail=None, recipientId=everyone.pk, transactional=True),
            True,
        ),
        (body(recipientType="tag", recipientEmail=None, recipientId=news.pk), False),
        (body(recipientType="tag", recipientEmail=None, recipientId=news.pk, transactional=True), True),
    ]
    for payload, transactional in cases:
        answer = accepted(api.post("sending", payload))
        assert answer["transactional"] is transactional, payload
        campaign = Campaign.objects.get(pk=answer["batchId"])
        assert campaign.transactional is transactional
        assert campaign.origin == CampaignOrigin.API
        batch = api.get(f"sending/batches/{answer['batchId']}").json()
        assert batch["transactional"] is transactional
    assert Campaign.objects.count() == len(cases)


def test_rule1_an_audience_send_reaches_the_segment(api, project, ready) -> None:
    people = f.contacts(project, 3)
    everyone = segment_create(project=project, name="Everyone", filters={})
    answer = accepted(
        api.post("sending", body(recipientType="audience", recipientEmail=None, recipientId=everyone.pk))
    )
    assert answer["queued"] == 3
    run(answer["batchId"])
    assert sorted(received_by(ready)) == sorted(p.email for p in people)


# -- rule 2: transactional mail ignores subscriptions and carries no unsubscribe ---------------


def test_rule2_transactional_ignores_unsubscribe_and_topic_choice_and_adds_nothing(
    api, project, ready
) -> None:
    topic = topic_create(project=project, name="Offers", default_subscription="opt_out")
    person(project, "gone@example.net", ContactStatus.UNSUBSCRIBED)
    never = person(project, "never@example.net", ContactStatus.NON_SUBSCRIBED)
    opted = person(project, "opted@example.net")
    topic_set_subscription(topic=topic, contact=opted, subscribed=False)
    topic_set_subscription(topic=topic, contact=never, subscribed=False)

    for address in ("gone@example.net", "never@example.net", "opted@example.net"):
        answer = accepted(api.post("sending", body(recipientEmail=address, topicId=topic.pk)))
        assert answer["transactional"] is True
        assert answer["state"] == MessageState.QUEUED
        assert answer["reason"] is None
        run(answer["batchId"])
        assert Message.objects.get(pk=answer["sendId"]).state == MessageState.SENT

    got = received_by(ready)
    assert sorted(got) == ["gone@example.net", "never@example.net", "opted@example.net"]
    for received in got.values():
        message = received.message
        assert message["List-Unsubscribe"] is None
        assert message["List-Unsubscribe-Post"] is None
        assert b"List-Unsubscribe" not in received.content
        assert FOOTER not in html_of(received)
        assert FOOTER not in text_of(received)
        assert "/u/" not in html_of(received)
        assert "Your order none is on its way." in text_of(received)


def test_rule2_a_transactional_batch_to_a_tag_reaches_unsubscribed_members(api, project, ready) -> None:
    news = f.tag(project)
    members = [
        person(project, "sub@example.net"),
        person(project, "unsub@example.net", ContactStatus.UNSUBSCRIBED),
        person(project, "never@example.net", ContactStatus.NON_SUBSCRIBED),
    ]
    news.contacts.add(*members)
    answer = accepted(
        api.post(
            "sending", body(recipientType="tag", recipientEmail=None, recipientId=news.pk, transactional=True)
        )
    )
    assert answer["queued"] == 3
    assert answer["excluded"] == {}
    run(answer["batchId"])
    got = received_by(ready)
    assert sorted(got) == sorted(m.email for m in members)
    for received in got.values():
        assert received.message["List-Unsubscribe"] is None
        assert FOOTER not in html_of(received)


# -- rule 3: marketing goes to the subscribed only, and always carries the way out -----------------


def test_rule3_marketing_reaches_only_the_eligible_with_one_click_unsubscribe(api, project, ready) -> None:
    topic = topic_create(project=project, name="Offers", default_subscription="opt_out")
    news = f.tag(project)
    ann = person(project, "ann@example.net", first_name="Ann")
    bob = person(project, "bob@example.net", first_name="Bob")
    opted = person(project, "opted@example.net")
    gone = person(project, "gone@example.net", ContactStatus.UNSUBSCRIBED)
    never = person(project, "never@example.net", ContactStatus.NON_SUBSCRIBED)
    topic_set_subscription(topic=topic, contact=opted, subscribed=False)
    topic_set_subscription(topic=topic, contact=bob, subscribed=True)
    news.contacts.add(ann, bob, opted, gone, never)

    answer = accepted(
        api.post(
            "sending", body(recipientType="tag", recipientEmail=None, recipientId=news.pk, topicId=topic.pk)
        )
    )
    assert answer["transactional"] is False
    assert answer["queued"] == 2
    assert answer["excluded"] == {"topic_opt_out": 1, "unsubscribed": 1, "non_subscribed": 1}
    run(answer["batchId"])

    got = received_by(ready)
    assert sorted(got) == ["ann@example.net", "bob@example.net"]
    assert skipped(api, answer["batchId"]) == {
        "opted@example.net": "topic_opt_out",
        "gone@example.net": "unsubscribed",
        "never@example.net": "non_subscribed",
    }
    tokens = set()
    for address, received in got.items():
        message = received.message
        unsubscribe = message["List-Unsubscribe"]
        assert unsubscribe is not None
        assert UNSUBSCRIBE_HEADER.fullmatch(unsubscribe), unsubscribe
        assert address not in unsubscribe
        tokens.add(unsubscribe)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html, text = html_of(received), text_of(received)
        assert FOOTER in html
        assert POSTAL in html
        assert FOOTER in text
        assert POSTAL in text
        assert html.count(FOOTER) == 1
    assert len(tokens) == 2  # each recipient has a link of their own
    assert "Hello Ann," in text_of(got["ann@example.net"])
    batch = api.get(f"sending/batches/{answer['batchId']}").json()
    assert batch["status"] == CampaignStatus.SENT
    assert batch["excluded"] == {"topic_opt_out": 1, "unsubscribed": 1, "non_subscribed": 1}


def test_rule3_a_single_marketing_send_honours_status_and_topic(api, project, ready) -> None:
    topic = topic_create(project=project, name="Offers", default_subscription="opt_out")
    person(project, "ann@example.net")
    opted = person(project, "opted@example.net")
    person(project, "gone@example.net", ContactStatus.UNSUBSCRIBED)
    topic_set_subscription(topic=topic, contact=opted, subscribed=False)

    expected = {
        "ann@example.net": ("queued", None),
        "opted@example.net": ("skipped", "topic_opt_out"),
        "gone@example.net": ("skipped", "unsubscribed"),
    }
    for address, (state, reason) in expected.items():
        answer = accepted(
            api.post("sending", body(recipientEmail=address, transactional=False, topicId=topic.pk))
        )
        assert answer["transactional"] is False
        assert (answer["state"], answer["reason"]) == (state, reason), address
        if state == "queued":
            run(answer["batchId"])
    got = received_by(ready)
    assert list(got) == ["ann@example.net"]
    message = got["ann@example.net"].message
    assert UNSUBSCRIBE_HEADER.fullmatch(message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert FOOTER in html_of(got["ann@example.net"])
    assert POSTAL in html_of(got["ann@example.net"])


def test_rule3_a_template_with_its_own_unsubscribe_link_gets_no_second_footer(api, project, ready) -> None:
    news = f.tag(project)
    news.contacts.add(person(project, "ann@example.net"))
    template = (
        "<html><body><p>News</p>"
        '<p><a href="{{ unsubscribeUrl }}">Leave this list</a> · {{ project.postalAddress }}</p>'
        "</body></html>"
    )
    answer = accepted(
        api.post(
            "sending", body(recipientType="tag", recipientEmail=None, recipientId=news.pk, template=template)
        )
    )
    run(answer["batchId"])
    received = received_by(ready)["ann@example.net"]
    html = html_of(received)
    assert FOOTER not in html
    assert "tidings-footer" not in html
    assert FOOTER not in text_of(received)
    links = re.findall(r'href="(https?://[^"]+/u/[^"]+)"', html)
    assert len(links) == 1
    assert received.message["List-Unsubscribe"] == f"<{links[0]}>"
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert POSTAL in html


def test_rule3_marketing_always_carries_the_postal_address(api, project, ready) -> None:
    """A template with its own unsubscribe link but no postal address still sends the address."""
    news = f.tag(project)
    news.contacts.add(person(project, "ann@example.net"))
    template = '<html><body><p>News</p><p><a href="{{ unsubscribeUrl }}">Leave</a></p></body></html>'
    answer = accepted(
        api.post(
            "sending", body(recipientType="tag", recipientEmail=None, recipientId=news.pk, template=template)
        )
    )
    run(answer["batchId"])
    received = received_by(ready)["ann@example.net"]
    assert "/u/" in html_of(received)
    assert POSTAL in html_of(received)
    assert POSTAL in text_of(received)


def test_rule3_marketing_needs_the_postal_address(
    other_project,
    make_api,
    smtp_server,  # noqa: F811
) -> None:
    f.verified_domain(other_project)
    f.smtp_connection(other_project, smtp_server)
    person(other_project, "ann@example.net")
    response = make_api(other_project).post("sending", body(transactional=False))
    message = refused(response, "project.postalAddress")
    assert "postal address" in message
    nothing_created()


# -- rule 4: bounced and complained get nothing, ever ------------------------------------------


@pytest.fixture
def troubled(project: Any) -> Any:
    news = f.tag(project)
    news.contacts.add(
        person(project, "ok@example.net"),
        person(project, "bounced@example.net", ContactStatus.BOUNCED),
        person(project, "complained@example.net", ContactStatus.COMPLAINED),
    )
    return news


@pytest.mark.parametrize("transactional", [False, True])
def test_rule4_bounced_and_complained_are_excluded_from_batches(
    api, project, ready, troubled, transactional
) -> None:
    answer = accepted(
        api.post(
            "sending",
            body(
                recipientType="tag", recipientEmail=None, recipientId=troubled.pk, transactional=transactional
            ),
        )
    )
    assert answer["transactional"] is transactional
    assert answer["queued"] == 1
    assert answer["excluded"] == {"bounced": 1, "complained": 1}
    run(answer["batchId"])
    assert list(received_by(ready)) == ["ok@example.net"]
    assert skipped(api, answer["batchId"]) == {
        "bounced@example.net": "bounced",
        "complained@example.net": "complained",
    }
    batch = api.get(f"sending/batches/{answer['batchId']}").json()
    assert batch["excluded"] == {"bounced": 1, "complained": 1}
    assert batch["status"] == CampaignStatus.SENT


@pytest.mark.parametrize("transactional", [True, False])
def test_rule4_a_single_send_to_a_bounced_or_complained_contact_is_skipped(
    api, project, ready, troubled, transactional
) -> None:
    for address, reason in (("bounced@example.net", "bounced"), ("complained@example.net", "complained")):
        answer = accepted(api.post("sending", body(recipientEmail=address, transactional=transactional)))
        assert answer["state"] == "skipped"
        assert answer["reason"] == reason
        assert answer["transactional"] is transactional
        batch = api.get(f"sending/batches/{answer['batchId']}").json()
        assert batch["excluded"] == {reason: 1}
        assert batch["status"] == CampaignStatus.SENT
        assert skipped(api, answer["batchId"]) == {address: reason}
        send = api.get(f"sending/{answer['sendId']}").json()
        assert send["state"] == "skipped"
        assert send["skipReason"] == reason
    assert Message.objects.filter(state=MessageState.QUEUED).count() == 0
    for campaign in Campaign.objects.all():
        run_campaign(campaign)
    assert ready.messages == []


def test_rule4_an_erased_address_gets_no_transactional_mail(api, project, ready) -> None:
    contact_erase(contact=person(project, "erased@example.net"))
    answer = accepted(api.post("sending", body(recipientEmail="erased@example.net")))
    assert answer["state"] == "skipped"
    assert answer["reason"] == "suppressed"
    assert ready.messages == []


def test_rule4_a_contact_that_bounces_after_planning_is_skipped_when_sending(api, project, ready) -> None:
    contact = person(project, "ann@example.net")
    answer = accepted(api.post("sending", body()))
    assert answer["state"] == "queued"
    Contact.objects.filter(pk=contact.pk).update(status=ContactStatus.COMPLAINED)
    run(answer["batchId"])
    assert ready.messages == []
    send = api.get(f"sending/{answer['sendId']}").json()
    assert send["state"] == "skipped"
    assert send["skipReason"] == "complained"


# -- rule 5: one address that is no contact ------------------------------------------------------


def test_rule5_marketing_to_an_address_that_is_no_contact_is_refused(api, project, ready) -> None:
    response = api.post("sending", body(recipientEmail="stranger@example.net", transactional=False))
    message = refused(response, "recipientEmail")
    assert "stranger@example.net" in message
    assert "not a contact" in message
    nothing_created()
    assert Contact.objects.count() == 0


def test_rule5_transactional_to_an_address_that_is_no_contact_is_sent_and_makes_no_contact(
    api, project, ready
) -> None:
    answer = accepted(api.post("sending", body(recipientEmail="Stranger@Example.net")))
    assert answer["state"] == "queued"
    run(answer["batchId"])
    got = received_by(ready)
    assert list(got) == ["Stranger@example.net"]
    assert Contact.objects.count() == 0
    message = Message.objects.get(pk=answer["sendId"])
    assert message.contact_id is None
    assert message.state == MessageState.SENT
    assert "Hello friend," in text_of(got["Stranger@example.net"])


# -- variables ----------------------------------------------------------------------------------


def test_variables_fill_the_template_and_contact_fields_win(api, project, ready) -> None:
    person(project, "ann@example.net", first_name="Ann", custom_fields={"plan": "Pro"})
    template = (
        "<html><body><p>Hi {{ firstName }}</p><p>Order {{ orderNumber }}</p>"
        "<p>Plan {{ plan }}</p><p>Link [{{ unsubscribeUrl }}]</p><p>From {{ project.name }}</p></body></html>"
    )
    variables = {
        "orderNumber": "A-1001",
        "firstName": "Mallory",
        "plan": "Free",
        "unsubscribeUrl": "https://evil.example/",
        "project": {"name": "Evil"},
    }
    answer = accepted(
        api.post(
            "sending",
            body(
                template=template, subject="Order {{ orderNumber }} for {{ firstName }}", variables=variables
            ),
        )
    )
    run(answer["batchId"])
    received = received_by(ready)["ann@example.net"]
    text = text_of(received)
    assert received.message["Subject"] == "Order A-1001 for Ann"
    assert "Hi Ann" in text
    assert "Order A-1001" in text
    assert "Plan Pro" in text
    assert "From Acme Mail" in text
    assert "Link []" in text  # transactional: no link, and a variable cannot supply one
    assert "Mallory" not in text
    assert "Free" not in text
    assert "evil" not in received.content.decode().lower()


def test_variables_fill_names_for_an_address_that_is_no_contact(api, project, ready) -> None:
    template = "<html><body><p>Order {{ orderNumber }} on plan {{ plan }}</p></body></html>"
    answer = accepted(
        api.post(
            "sending",
            body(
                recipientEmail="guest@example.net",
                template=template,
                subject="Order {{ orderNumber }}",
                variables={"orderNumber": 7, "plan": "Free"},
            ),
        )
    )
    run(answer["batchId"])
    received = received_by(ready)["guest@example.net"]
    assert received.message["Subject"] == "Order 7"
    assert "Order 7 on plan Free" in text_of(received)


# -- bad input: refused, nothing created -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"from": None}, "from", "required"),
        ({"recipientEmail": "not-an-address"}, "recipientEmail", "not a valid email"),
        ({"recipientEmail": None}, "recipientEmail", "required"),
        ({"template": None}, "template", "either template"),
        ({"template": "   "}, "template", "html"),
        ({"subject": None}, "subject", "required"),
        ({"recipientType": "everyone"}, "recipientType", "email, audience, tag"),
        ({"bcc": "evil@example.org"}, "bcc", ""),
        ({"from": "me@gmail.com"}, "from", "gmail.com"),
        ({"from": "hello@unverified.example"}, "from", "unverified.example"),
        ({"providerType": "sendgrid"}, "providerType", "no sendgrid connection"),
        ({"providerType": "pigeon"}, "providerType", "must be one of"),
        ({"template": "<p>{% if x %}open</p>"}, "template", "line 1"),
        ({"template": "<p>\n{{ x | nonesuch }}</p>"}, "template", "line 2"),
        ({"subject": "Hi {{ name "}, "subject", "line 1"),
        ({"subject": "Hi\r\nBcc: evil@example.org"}, "subject", "one line"),
        ({"preheader": "Hi\nBcc: evil@example.org"}, "preheader", "one line"),
        ({"fromName": "Acme\r\nBcc: evil@example.org"}, "fromName", "one line"),
        ({"fromName": "Acme\nBcc: evil@example.org"}, "fromName", "one line"),
        ({"replyTo": "a@example.com\r\nBcc: evil@example.org"}, "replyTo", "line break"),
        ({"variables": "x"}, "variables", ""),
    ],
)
def test_bad_input_is_refused_with_the_field_and_creates_nothing(
    api, project, ready, change, path, words
) -> None:
    person(project, "ann@example.net")
    response = api.post("sending", body(**change))
    message = refused(response, path)
    assert words.lower() in message.lower()
    nothing_created()
    assert ready.messages == []


def test_from_on_a_free_mail_domain_is_refused_even_with_the_outbox(api, project) -> None:
    f.outbox_connection(project)
    message = refused(api.post("sending", body(**{"from": "me@gmail.com"})), "from")
    assert "free-mail" in message
    nothing_created()


def test_an_unverified_domain_is_named_with_smtp_and_allowed_with_the_outbox(
    api,
    project,
    smtp_server,  # noqa: F811
) -> None:
    f.smtp_connection(project, smtp_server)
    connection_create(project=project, name="Outbox", kind="outbox", is_default=False)
    message = refused(api.post("sending", body(**{"from": "hello@unverified.example"})), "from")
    assert "unverified.example" in message
    assert "not verified" in message
    nothing_created()

    answer = accepted(
        api.post("sending", body(**{"from": "hello@unverified.example"}, providerType="outbox"))
    )
    campaign = Campaign.objects.get(pk=answer["batchId"])
    assert campaign.connection.kind == "outbox"


def test_both_template_and_email_id_are_refused(api, project, ready) -> None:
    design = f.design(project)
    message = refused(api.post("sending", body(emailId=design.pk)), "template")
    assert "either" in message
    nothing_created()


def test_a_saved_email_can_be_sent_by_its_id(api, project, ready) -> None:
    person(project, "ann@example.net", first_name="Ann")
    design = f.design(project)
    answer = accepted(api.post("sending", body(template=None, subject=None, emailId=design.pk)))
    run(answer["batchId"])
    received = received_by(ready)["ann@example.net"]
    assert received.message["Subject"] == "News for Ann"


def test_an_unknown_field_is_named(api, project, ready) -> None:
    response = api.post("sending", body(recipients=["a@example.net"]))
    refused(response, "recipients")
    nothing_created()


def test_the_project_id_of_another_project_is_forbidden(api, project, other_project, ready) -> None:
    person(project, "ann@example.net")
    response = api.post("sending", body(projectId=other_project.pk))
    assert response.status_code == 403, response.content
    assert str(other_project.pk) in response.json()["detail"]
    nothing_created()
    assert accepted(api.post("sending", body(projectId=project.pk)))["transactional"] is True


def test_ids_of_another_project_are_refused_naming_the_field(api, project, other_project, ready) -> None:
    person(project, "ann@example.net")
    their_tag = f.tag(other_project, "theirs")
    f.contacts(other_project, 2, tag=their_tag)
    their_segment = segment_create(project=other_project, name="All of theirs", filters={})
    their_design = f.design(other_project)
    their_topic = topic_create(project=other_project, name="Their topic")
    cases = [
        (body(recipientType="tag", recipientEmail=None, recipientId=their_tag.pk), "recipientId"),
        (body(recipientType="audience", recipientEmail=None, recipientId=their_segment.pk), "recipientId"),
        (body(template=None, subject=None, emailId=their_design.pk), "emailId"),
        (body(topicId=their_topic.pk), "topicId"),
        (body(transactional=False, topicId=their_topic.pk), "topicId"),
    ]
    for payload, path in cases:
        message = refused(api.post("sending", payload), path)
        assert "in this project" in message
        nothing_created()
    assert Campaign.objects.filter(project=other_project).count() == 0


# -- reading batches and sends ------------------------------------------------------------------


def test_batches_and_sends_are_read_only_by_their_own_project(api, other_api, project, ready) -> None:
    answer = accepted(api.post("sending", body(recipientEmail="guest@example.net")))
    batch_id, send_id = answer["batchId"], answer["sendId"]

    own = api.get(f"sending/batches/{batch_id}")
    assert own.status_code == 200
    assert own.json()["batchId"] == batch_id
    send = api.get(f"sending/{send_id}")
    assert send.status_code == 200
    assert send.json()["email"] == "guest@example.net"
    assert send.json()["state"] == "queued"
    run(batch_id)
    assert api.get(f"sending/{send_id}").json()["state"] == "sent"
    assert api.get(f"sending/batches/{batch_id}").json()["status"] == CampaignStatus.SENT

    for path in (
        f"sending/batches/{batch_id}",
        f"sending/batches/{batch_id}/recipients",
        f"sending/{send_id}",
    ):
        response = other_api.get(path)
        assert response.status_code == 404, (path, response.content)
        assert "guest@example.net" not in response.content.decode()


def test_a_campaign_is_not_a_batch_and_its_messages_are_not_sends(api, project, ready) -> None:
    news = f.tag(project)
    f.contacts(project, 1, tag=news)
    campaign = f.campaign(project, design_obj=f.design(project), tag_obj=news)
    campaign_start(campaign=campaign)
    message = Message.objects.get(campaign=campaign)
    assert api.get(f"sending/batches/{campaign.pk}").status_code == 404
    assert api.get(f"sending/batches/{campaign.pk}/recipients").status_code == 404
    assert api.get(f"sending/{message.pk}").status_code == 404


# -- header injection ------------------------------------------------------------------------------


def _header_block(content: bytes) -> bytes:
    head, separator, _ = content.partition(b"\r\n\r\n")
    assert separator
    return head


def _assert_no_bcc(received: Any, recipient: str) -> None:
    assert received.rcpt_tos == [recipient]
    for line in _header_block(received.content).split(b"\r\n"):
        assert not line.lower().startswith(b"bcc"), line
    parsed = email.message_from_bytes(received.content, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["To"] == recipient


ENCODED_TRICK = "=?utf-8?q?x=0D=0ABcc:_evil@example.org?="


@pytest.mark.parametrize("name", ["\r\nBcc: evil@example.org", ENCODED_TRICK, "\nBcc: evil@example.org"])
def test_a_variable_in_the_subject_cannot_add_a_header(api, project, ready, name) -> None:
    answer = accepted(
        api.post(
            "sending",
            body(recipientEmail="guest@example.net", subject="Hi {{ name }}", variables={"name": name}),
        )
    )
    run(answer["batchId"])
    assert len(ready.messages) == 1
    received = ready.messages[0]
    _assert_no_bcc(received, "guest@example.net")
    subject = received.message["Subject"]
    assert "\n" not in subject
    assert "\r" not in subject
    if name == ENCODED_TRICK:
        assert subject == f"Hi {ENCODED_TRICK}"  # shown literally, never decoded into a line break


def test_an_encoded_word_in_the_subject_itself_is_shown_literally(api, project, ready) -> None:
    answer = accepted(api.post("sending", body(recipientEmail="guest@example.net", subject=ENCODED_TRICK)))
    run(answer["batchId"])
    assert len(ready.messages) == 1
    _assert_no_bcc(ready.messages[0], "guest@example.net")
    assert ready.messages[0].message["Subject"] == ENCODED_TRICK


def test_an_encoded_word_in_the_from_name_cannot_add_a_header(api, project, ready) -> None:
    answer = accepted(api.post("sending", body(recipientEmail="guest@example.net", fromName=ENCODED_TRICK)))
    run(answer["batchId"])
    assert len(ready.messages) == 1
    received = ready.messages[0]
    _assert_no_bcc(received, "guest@example.net")
    sender = received.message["From"]
    assert sender.addresses[0].addr_spec == "hello@example.com"
    assert len(sender.addresses) == 1
    assert sender.addresses[0].display_name == ENCODED_TRICK


def test_a_line_break_in_a_contact_field_cannot_add_a_header(api, project, ready) -> None:
    person(project, "ann@example.net", first_name="Ann\r\nBcc: evil@example.org")
    answer = accepted(api.post("sending", body(subject="Hi {{ firstName }}")))
    run(answer["batchId"])
    assert len(ready.messages) == 1
    _assert_no_bcc(ready.messages[0], "ann@example.net")
