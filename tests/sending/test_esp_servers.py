"""django-anymail's backends against the provider stand-ins in ``tests.sending.esp_servers``.

Each test runs for all five providers (SendGrid, Mailgun, Resend, Postmark, Amazon SES via moto),
through ``django.core.mail.get_connection(<anymail backend>, **server.backend_kwargs())``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core.mail import EmailMultiAlternatives, get_connection

from tests.sending.esp_servers import EspServer, SesServer

Server = EspServer | SesServer

pytestmark = [
    # Django 6.1 deprecates get_connection() in favour of MAILERS; these tests use it on purpose.
    pytest.mark.filterwarnings(r"ignore:get_connection\(\) is deprecated:PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Django 2028 will not have a default mailer:PendingDeprecationWarning"),
    # anymail 15 warns that SendGrid is no longer officially supported.
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support for SendGrid"),
]

TEXT = "Hello Ada,\nthe spring issue is out.\n"
HTML = "<p>Hello Ada,</p><p>the spring issue is <b>out</b>.</p>"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://example.com/u/abc123>, <mailto:unsubscribe@example.com?subject=abc123>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
# What a wrong key gets: Resend answers 403 (invalid_api_key; 401 is for a missing key), and SES
# 403 UnrecognizedClientException.
WRONG_KEY_STATUS = {"sendgrid": 401, "mailgun": 401, "resend": 403, "postmark": 401, "ses": 403}


def newsletter(from_email: str = "Tidings <news@example.com>", **options: Any) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=options.pop("subject", "Spring news"),
        body=options.pop("body", TEXT),
        from_email=from_email,
        to=["Ada Lovelace <ada@example.org>"],
        reply_to=["Help desk <help@example.com>"],
        headers=dict(UNSUBSCRIBE),
        **options,
    )
    message.attach_alternative(HTML, "text/html")
    return message


def send(server: Server, message: EmailMultiAlternatives, api_key: str | None = None) -> int:
    connection = get_connection(server.backend, fail_silently=False, **server.backend_kwargs(api_key))
    return connection.send_messages([message])


def api_error(server: Server, message: EmailMultiAlternatives, **kwargs: Any) -> AnymailAPIError:
    with pytest.raises(AnymailAPIError) as caught:
        send(server, message, **kwargs)
    return caught.value


def http_status(server: Server, exc: AnymailAPIError) -> int | None:
    """anymail's HTTP backends set ``.status_code``; its SES backend keeps boto3's error dict instead."""
    if server.kind == "ses":
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]
    return exc.status_code


def response_header(server: Server, exc: AnymailAPIError, name: str) -> str | None:
    if server.kind == "ses":
        return exc.response["ResponseMetadata"]["HTTPHeaders"].get(name.lower())
    return exc.response.headers.get(name)


def test_a_message_is_accepted_with_everything_in_it(esp_server: Server) -> None:
    message = newsletter()

    assert send(esp_server, message) == 1

    [accepted] = esp_server.accepted()
    assert message.anymail_status.status == {"sent" if esp_server.kind == "postmark" else "queued"}
    assert message.anymail_status.message_id == accepted["id"]
    assert message.anymail_status.recipients["ada@example.org"].message_id == accepted["id"]
    assert accepted["from"] == "Tidings <news@example.com>"
    assert accepted["to"] == ["Ada Lovelace <ada@example.org>"]
    assert accepted["reply_to"] == ["Help desk <help@example.com>"]
    assert accepted["subject"] == "Spring news"
    assert accepted["text"].replace("\r\n", "\n") == TEXT
    assert accepted["html"].rstrip("\r\n") == HTML
    assert accepted["headers"] == UNSUBSCRIBE
    assert accepted["attachments"] == []


def test_non_ascii_text_and_copies_arrive(esp_server: Server) -> None:
    message = newsletter("Zoë Ünïcode <news@example.com>", subject="Frühling ✿ news", body="Grüße 🌸\n")
    message.cc = ["Bob <bob@example.org>"]
    message.bcc = ["carol@example.org"]
    message.extra_headers["Message-ID"] = "<spring.1@example.com>"

    send(esp_server, message)

    [accepted] = esp_server.accepted()
    assert accepted["from"] == "Zoë Ünïcode <news@example.com>"
    assert accepted["subject"] == "Frühling ✿ news"
    assert accepted["text"] == "Grüße 🌸\n"
    assert (accepted["cc"], accepted["bcc"]) == (["Bob <bob@example.org>"], ["carol@example.org"])
    assert accepted["message_id_header"] == "<spring.1@example.com>"
    assert "Message-ID" not in accepted["headers"]


def test_the_answer_carries_the_id_anymail_reports(esp_server: Server) -> None:
    message = newsletter()
    send(esp_server, message)

    [accepted] = esp_server.accepted()
    answer = message.anymail_status.esp_response
    match esp_server.kind:
        case "sendgrid":
            # anymail reports its own anymail_id (sent in custom_args), not SendGrid's X-Message-Id.
            assert answer.status_code == 202
            assert answer.headers["X-Message-Id"] == accepted["response_id"] != accepted["id"]
            sent = esp_server.requests[-1].data
            assert sent["personalizations"][0]["custom_args"]["anymail_id"] == accepted["id"]
        case "mailgun":
            assert answer.json() == {"id": accepted["id"], "message": "Queued. Thank you."}
            assert re.fullmatch(r"<[^<>@]+@example\.com>", accepted["id"])
        case "resend":
            assert answer.json() == {"id": accepted["id"]}
        case "postmark":
            body = answer.json()
            assert (body["MessageID"], body["ErrorCode"], body["Message"]) == (accepted["id"], 0, "OK")
            assert body["To"] == "Ada Lovelace <ada@example.org>"
        case "ses":
            assert answer["MessageId"] == accepted["id"]


def test_the_request_is_recorded_as_the_provider_receives_it(esp_server: Server) -> None:
    send(esp_server, newsletter())

    [request] = esp_server.requests
    assert (request.method, request.status) == ("POST", 202 if esp_server.kind == "sendgrid" else 200)
    match esp_server.kind:
        case "sendgrid":
            assert request.path == "/v3/mail/send"
            assert request.headers["Authorization"] == f"Bearer {esp_server.api_key}"
            assert request.data["from"] == {"email": "news@example.com", "name": "Tidings"}
        case "mailgun":
            assert request.path == "/v3/example.com/messages"
            assert request.headers["Authorization"].startswith("Basic ")
            assert request.data["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
        case "resend":
            assert request.path == "/emails"
            assert request.data["to"] == ["Ada Lovelace <ada@example.org>"]
        case "postmark":
            assert request.path == "/email"
            assert request.headers["X-Postmark-Server-Token"] == esp_server.api_key
            assert request.data["TextBody"] == TEXT
        case "ses":
            assert request.path == "/v2/email/outbound-emails"
            assert f"Credential={esp_server.api_key}/" in request.headers["Authorization"]
            assert request.data["Destination"] == {"ToAddresses": ["ada@example.org"]}


def test_an_attachment_arrives(esp_server: Server) -> None:
    message = newsletter()
    message.attach("report.csv", "a,b\n1,2\n", "text/csv")

    send(esp_server, message)

    [accepted] = esp_server.accepted()
    [attachment] = accepted["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("report.csv", "text/csv")
    assert attachment["content"].replace(b"\r\n", b"\n") == b"a,b\n1,2\n"
    if esp_server.kind == "mailgun":  # with a file, anymail posts multipart/form-data
        assert esp_server.requests[-1].headers["Content-Type"].startswith("multipart/form-data")


def test_a_wrong_key_is_refused(esp_server: Server) -> None:
    error = api_error(esp_server, newsletter(), api_key="not-the-key")

    assert http_status(esp_server, error) == WRONG_KEY_STATUS[esp_server.kind]
    if esp_server.kind == "ses":
        assert error.response["Error"]["Code"] == "UnrecognizedClientException"
    else:
        assert error.status_code == WRONG_KEY_STATUS[esp_server.kind]
    assert esp_server.accepted() == []


def test_rate_limiting_surfaces_with_retry_after_and_passes(esp_server: Server) -> None:
    esp_server.respond(429, headers={"Retry-After": "7"})

    error = api_error(esp_server, newsletter())

    assert http_status(esp_server, error) == 429
    assert response_header(esp_server, error, "Retry-After") == "7"
    assert esp_server.accepted() == []
    # The canned answer was used up: the next send goes through.
    assert send(esp_server, newsletter()) == 1
    assert len(esp_server.accepted()) == 1


def test_a_server_error_raises(esp_server: Server) -> None:
    esp_server.respond(500, times=2)

    for _ in range(2):
        error = api_error(esp_server, newsletter())
        assert http_status(esp_server, error) == 500
    if esp_server.kind == "ses":
        assert error.response["Error"]["Code"] == "InternalFailure"
    else:
        assert "API response 500" in str(error)
    assert esp_server.accepted() == []


def test_an_unreadable_success_answer(esp_server: Server) -> None:
    esp_server.respond(200, "<html>upstream proxy says hi</html>")
    message = newsletter()

    if esp_server.kind == "sendgrid":
        # anymail never reads SendGrid's body: the send counts, with anymail's own message id.
        assert send(esp_server, message) == 1
        assert message.anymail_status.message_id
        return
    error = api_error(esp_server, message)
    if esp_server.kind == "ses":
        assert "'MessageId' parsing Amazon SES send result" in str(error)
    else:
        assert error.status_code == 200
        assert "Invalid JSON in" in str(error)


def test_an_unverified_sender_domain_is_refused_until_verified(esp_server: Server) -> None:
    error = api_error(esp_server, newsletter("news@other.example"))

    expected = {"sendgrid": 403, "mailgun": 404, "resend": 403, "postmark": 422, "ses": 400}[esp_server.kind]
    assert http_status(esp_server, error) == expected
    assert esp_server.accepted() == []

    esp_server.verify("other.example")
    assert send(esp_server, newsletter("news@other.example")) == 1
    assert esp_server.accepted()[0]["from"] == "news@other.example"


def test_a_refused_recipient(esp_server: Server) -> None:
    esp_server.respond_invalid_recipient("ada@example.org")

    if esp_server.kind == "postmark":
        # Postmark's ErrorCode 300 "Invalid 'To' address" becomes a per-recipient status in anymail.
        with pytest.raises(AnymailRecipientsRefused):
            send(esp_server, newsletter())
        return
    error = api_error(esp_server, newsletter())
    expected = {"sendgrid": 400, "mailgun": 400, "resend": 422, "ses": 400}[esp_server.kind]
    assert http_status(esp_server, error) == expected
    if esp_server.kind == "ses":
        assert error.response["Error"]["Code"] == "MessageRejected"


@pytest.mark.parametrize("kind", ["sendgrid", "mailgun", "resend", "postmark"])
def test_a_message_without_a_body_is_refused_by_the_provider(
    kind: str, request: pytest.FixtureRequest
) -> None:
    server: EspServer = request.getfixturevalue(f"{kind}_server")
    message = EmailMultiAlternatives(
        subject="Empty", body="", from_email="news@example.com", to=["ada@example.org"]
    )

    error = api_error(server, message)

    assert error.status_code == {"sendgrid": 400, "mailgun": 400, "resend": 422, "postmark": 422}[kind]
    assert server.requests[-1].status == error.status_code
    assert server.accepted() == []


def test_backend_kwargs_name_what_each_anymail_backend_takes(esp_server: Server) -> None:
    kwargs = esp_server.backend_kwargs()
    match esp_server.kind:
        case "postmark":
            assert kwargs == {"server_token": esp_server.api_key, "api_url": esp_server.url}
        case "ses":
            assert kwargs["session_params"]["aws_access_key_id"] == esp_server.api_key
            assert kwargs["client_params"]["endpoint_url"] == esp_server.url
        case _:
            assert kwargs == {"api_key": esp_server.api_key, "api_url": esp_server.url}
    # anymail pops every kwarg it knows; a leftover would make Django's base backend fail.
    get_connection(esp_server.backend, fail_silently=False, **kwargs).close()
