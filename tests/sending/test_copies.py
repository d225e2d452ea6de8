"""A campaign's copies made from its plan are the copies the straightforward path makes.

The plan (``HtmlPlan``) encodes a design's static HTML once and fills in each
recipient's pieces; the straightforward path renders, tracks, and encodes the whole
HTML of every copy. For designs that exercise the plan's edges, and recipients with
hostile values, the two must give the same headers and the same decoded parts, as
must a message built by Django's own ``EmailMultiAlternatives`` from the same
content; every signature of the planned copy verifies with dkimpy, and its lines
stay within quoted-printable's 76 characters.
"""

from __future__ import annotations

import email
import email.policy
import quopri
from email.message import EmailMessage
from typing import Any, cast

import dkim as dkimpy
import pytest
from django.core.mail import EmailMultiAlternatives

from tests.sending import factories as f
from tidings.audience.models import Contact
from tidings.campaigns.services import campaign_start
from tidings.content.services import starter_body
from tidings.sending.copies import HtmlPlan, MessageBuilder
from tidings.sending.dkim import canonical_body
from tidings.sending.domains import domain_records
from tidings.sending.models import Message

pytestmark = pytest.mark.django_db

LINKS_MJML = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ firstName | default: "friend" }}, news for {{ company | default: "you" }}.</mj-text>
<mj-button href="https://example.org/shop?a=1&amp;b=2">Shop</mj-button>
<mj-text><a href="https://example.org/news">News</a> and <a href="mailto:help@example.org">mail us</a>
and <a href="https://example.org/news">the news again</a>.</mj-text>
<mj-text>{{ email }} · {{ lastName }}</mj-text>
</mj-column></mj-section></mj-body></mjml>"""

# A condition: one slot that Liquid fills for each copy.
BLOCK_HTML = """<html><body>
<p>{% if company %}Hi {{ firstName }} of {{ company }}{% else %}Hello{% endif %}.</p>
<p><a href='https://example.org/static'>Static</a></p></body></html>"""

# No </body>; text that is not ASCII, a line that starts with a dot, runs of spaces, a long line.
ODD_HTML = (
    "<div>Grüße – ☃ {{ firstName }}</div>\n.dot at the start\n<p>a   b\t\tc   </p>\n"
    + "<p>"
    + "word=value " * 60
    + '</p>\n<a href="https://example.org/x?q=1">x</a> <a href="https://example.org/y">y</a>'
)

# A value inside a tracked link's tag: each copy fills the tag in and tracks it alone, unless a
# value holds a quote or an angle bracket (then the copy is made the straightforward way).
TAG_HTML = (
    '<html><body><a title="{{ firstName }}" href="https://example.org/t">t</a>\n'
    '<a href="{{ unsubscribeUrl }}">Unsubscribe</a> <a href="https://example.org/p?u={{ email }}">you</a>\n'
    '<p><a name="top" title="{{ lastName }}">top</a></p></body></html>'
)

HOSTILE = '  Ann & <b>Bo</b> "O\'Neil"\xa0\n {{ x }} = =3D .\n.'
PEOPLE = [
    {"first_name": "Ada", "last_name": "Lovelace", "company": "Engines"},
    {"first_name": HOSTILE, "last_name": "</body>", "company": ""},
    {"first_name": "Zoë Łukasz 雪", "last_name": "", "company": "<a href='x'>"},
    {"first_name": "", "last_name": "", "company": ""},
]


def _setup(
    project: Any, body: str, fmt: str, **campaign: Any
) -> tuple[MessageBuilder, list[tuple[Message, Contact]]]:
    domain = f.verified_domain(project)
    f.outbox_connection(project)
    news = f.tag(project)
    people = f.contacts(project, len(PEOPLE), tag=news)
    for person, values in zip(people, PEOPLE, strict=True):
        for name, value in values.items():
            setattr(person, name, value)
        person.save()
    design = f.design(project, body=body, fmt=fmt, subject="News for {{ firstName | default: 'you' }} ✉")
    made = f.campaign(project, design_obj=design, tag_obj=news, trackOpens=True, trackClicks=True, **campaign)
    campaign_start(campaign=made)
    made.refresh_from_db()
    builder = MessageBuilder(made, signs=True, verp=True, outbox=True)
    assert [key.domain for key in builder.keys] == [domain.domain] * 2
    messages = list(Message.objects.filter(campaign=made).order_by("id"))
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in=[m.contact_id for m in messages])}
    return builder, [(m, contacts[m.contact_id]) for m in messages]


def _parsed(data: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(data, policy=email.policy.default))


def _seen(data: bytes) -> tuple[dict[str, str], str, str]:
    """What a reader sees: the headers (less those made anew for each message) and the two parts."""
    message = _parsed(data)
    headers = {
        name: str(value)
        for name, value in message.items()
        if name.lower() not in ("message-id", "date", "dkim-signature", "content-type")
    }
    headers["Content-Type"] = message.get_content_type()
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return headers, text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def _verify_each_signature(data: bytes, builder: MessageBuilder) -> None:
    domain = builder.keys[0].domain
    from tidings.sending.models import SendingDomain

    records = {
        r.name: r.value
        for r in domain_records(SendingDomain.objects.get(domain=domain))
        if r.purpose.startswith("dkim")
    }

    def dns(name: bytes | str, timeout: int = 5) -> bytes | None:
        key = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        return records[key].encode() if key in records else None

    signatures = data.count(b"DKIM-Signature:")
    assert signatures == 2
    for index in range(signatures):
        assert dkimpy.DKIM(data).verify(idx=index, dnsfunc=dns), f"signature {index} does not verify"


def _django_message(builder: MessageBuilder, message: Message, contact: Contact) -> bytes:
    """The same copy built the way a Django project would: EmailMultiAlternatives."""
    links = builder.links(contact)
    rendered = builder.track(message, builder.render(contact, links))
    outgoing = builder.assemble(message, rendered, links)
    django_message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=f'"{outgoing.from_name}" <{outgoing.from_email}>',
        to=[outgoing.to],
        headers=outgoing.headers,
    )
    django_message.attach_alternative(rendered.html, "text/html")
    return django_message.message().as_bytes()


@pytest.mark.parametrize(
    ("body", "fmt", "planned"),
    [
        (LINKS_MJML, "mjml", [True, True, True, True]),
        (BLOCK_HTML, "html", [True, True, True, True]),
        (ODD_HTML, "html", [True, True, True, True]),
        (TAG_HTML, "html", [True, False, True, True]),  # the second has quotes in a tag
        (starter_body("newsletter"), "mjml", [True, True, True, True]),
        (starter_body("blank"), "mjml", [True, True, True, True]),
    ],
    ids=["mjml-links", "condition", "odd-text", "values-in-link-tags", "newsletter-starter", "blank-starter"],
)
def test_planned_copies_are_the_straightforward_ones(
    project: Any, body: str, fmt: str, planned: list[bool]
) -> None:
    builder, copies = _setup(project, body, fmt)
    assert builder.plan is not None
    made_from_plan = []
    for message, contact in copies:
        planned_copy = builder.planned(message, contact, builder.links(contact))
        made_from_plan.append(planned_copy is not None and planned_copy[1] is not None)
        fast, fast_data = builder.build(message, contact, signed=True)
        plain, plain_data = builder.build(message, contact, signed=True, plan=False)
        assert fast_data is not None
        assert plain_data is not None
        assert _seen(fast_data) == _seen(plain_data)
        headers, text, html = _seen(fast_data)
        django_headers, django_text, django_html = _seen(_django_message(builder, message, contact))
        # (Python's MIMEText, under Django's message, ends a part's text with a line break.)
        assert (text.rstrip("\n"), html.rstrip("\n")) == (django_text.rstrip("\n"), django_html.rstrip("\n"))
        for name in ("From", "To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert headers[name] == django_headers[name].strip(), name  # Django folds before a long value
        _verify_each_signature(fast_data, builder)
        body_bytes = fast_data.split(b"\r\n\r\n", 1)[1]
        assert canonical_body(body_bytes).count(b"\r\n") == body_bytes.count(b"\r\n")  # CRLF only
        assert max(len(line) for line in body_bytes.split(b"\r\n")) <= 76
        assert fast.html_length == len(plain.html)
    assert made_from_plan == planned


def test_a_transactional_copy_without_a_contact_is_planned_too(project: Any) -> None:
    builder, copies = _setup(project, LINKS_MJML, "mjml")
    message, _contact = copies[0]
    planned_copy = builder.planned(message, None, {})
    assert planned_copy is not None
    assert planned_copy[1] is not None
    _, fast_data = builder.build(message, None, signed=True)
    _, plain_data = builder.build(message, None, signed=True, plan=False)
    assert fast_data is not None
    assert plain_data is not None
    assert _seen(fast_data) == _seen(plain_data)
    _verify_each_signature(fast_data, builder)


def test_an_esp_is_handed_the_html_as_text(project: Any) -> None:
    builder, copies = _setup(project, LINKS_MJML, "mjml")
    esp_builder = MessageBuilder(builder.campaign, signs=False)
    assert esp_builder.plan is None
    message, contact = copies[0]
    outgoing, data = esp_builder.build(message, contact, signed=False)
    assert data is None
    assert outgoing.html_encoded is None
    assert "https://example.org/shop" not in outgoing.html  # tracked
    assert "/c/" in outgoing.html


@pytest.mark.parametrize(
    ("value", "planned"),
    [
        ("Ann &amp; Bo", True),
        ("", True),
        ('<a href="https://example.org/in-a-value">x</a>', False),  # only the whole page's tracking sees it
        ("</body><p>after</p>", False),  # the footer and pixel go before the last </body>
        ("<b>bold</b>", True),
    ],
)
def test_a_value_that_holds_a_link_or_the_end_of_the_body_is_left_to_the_straightforward_path(
    project: Any, value: str, planned: bool
) -> None:
    builder, _copies = _setup(project, LINKS_MJML, "mjml")
    plan = HtmlPlan.make(
        ["<html><body><p>", lambda ctx: value, "</p></body></html>"], builder.tracker, ends=True
    )
    assert plan is not None
    encoded = plan.encode(
        ["", value, ""], lambda html: html, lambda number: f"https://t.example/{number}", lambda: "<i>end</i>"
    )
    assert (encoded is not None) == planned
    if encoded is not None:
        html = quopri.decodestring(b"".join(encoded.wire)).decode()
        assert html == f"<html><body><p>{value}</p><i>end</i></body></html>\r\n"
        assert encoded.length == len(html) - 2
