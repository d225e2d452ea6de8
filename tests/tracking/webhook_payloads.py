"""Provider webhook posts in each provider's own wire format, signed the way each provider signs.

Amazon SES (an SNS Notification envelope around the SES event), SendGrid (the event
webhook's JSON array, optionally ECDSA-signed), Mailgun (webhooks v3 JSON with its
HMAC-SHA256 ``signature`` block), Resend (Svix headers), Postmark (its JSON records).
Each builder returns ``(body, headers)`` for Django's test client: ``headers`` are
WSGI ``HTTP_*`` keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Post = tuple[bytes, dict[str, str]]

TOPIC = "arn:aws:sns:eu-west-1:123456789012:tidings-events"


def basic_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- Amazon SES through SNS -----------------------------------------------------------------


def _mail(message_id: str, recipients: list[str]) -> dict[str, Any]:
    return {
        "timestamp": _iso(),
        "source": "news@example.com",
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
        "sourceIp": "192.0.2.10",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": recipients,
        "headersTruncated": False,
        "headers": [{"name": "From", "value": "news@example.com"}],
        "commonHeaders": {"from": ["news@example.com"], "to": recipients, "subject": "Our news"},
    }


def ses_bounce(
    message_id: str,
    recipients: list[str],
    *,
    bounce_type: str = "Permanent",
    sub_type: str = "General",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 user unknown",
) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {"emailAddress": r, "action": "failed", "status": status, "diagnosticCode": diagnostic}
                for r in recipients
            ],
            "timestamp": _iso(),
            "feedbackId": f"0100{secrets.token_hex(8)}-{uuid.uuid4()}-000000",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": _mail(message_id, recipients),
    }


def ses_complaint(message_id: str, recipient: str) -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "AnyCompany Feedback Loop (V0.01)",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "arrivalDate": _iso(),
            "timestamp": _iso(),
            "feedbackId": f"0100{secrets.token_hex(8)}-{uuid.uuid4()}-000000",
        },
        "mail": _mail(message_id, [recipient]),
    }


def ses_delivery(message_id: str, recipient: str) -> dict[str, Any]:
    return {
        "notificationType": "Delivery",
        "delivery": {
            "timestamp": _iso(),
            "processingTimeMillis": 546,
            "recipients": [recipient],
            "smtpResponse": "250 ok:  Message 64111812 accepted",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
            "remoteMtaIp": "192.0.2.25",
        },
        "mail": _mail(message_id, [recipient]),
    }


def _sns(envelope: dict[str, Any], auth: dict[str, str]) -> Post:
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": envelope["Type"],
        "HTTP_X_AMZ_SNS_MESSAGE_ID": envelope["MessageId"],
        "HTTP_X_AMZ_SNS_TOPIC_ARN": envelope["TopicArn"],
        "HTTP_USER_AGENT": "Amazon Simple Notification Service Agent",
        **auth,
    }
    return json.dumps(envelope).encode(), headers


def sns_notification(
    ses_event: dict[str, Any] | str, auth: dict[str, str], *, topic: str = TOPIC, sns_id: str | None = None
) -> Post:
    """An SNS Notification carrying an SES event (its ``Message`` is the event as a JSON string).

    The SNS signature fields are there as SNS sends them; nothing checks them (see docs/webhooks.md).
    """
    envelope = {
        "Type": "Notification",
        "MessageId": sns_id or str(uuid.uuid4()),
        "TopicArn": topic,
        "Subject": "Amazon SES Email Event Notification",
        "Message": ses_event if isinstance(ses_event, str) else json.dumps(ses_event),
        "Timestamp": _iso(),
        "SignatureVersion": "1",
        "Signature": base64.b64encode(secrets.token_bytes(256)).decode(),
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
        "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:1",
    }
    return _sns(envelope, auth)


def sns_subscription_confirmation(auth: dict[str, str], *, topic: str = TOPIC) -> Post:
    region = topic.split(":")[3] if topic.count(":") >= 5 else "eu-west-1"
    token = secrets.token_hex(64)
    envelope = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.",
        "SubscribeURL": "https://attacker.example/collect?Action=ConfirmSubscription&Token=" + token,
        "Timestamp": _iso(),
        "SignatureVersion": "1",
        "Signature": base64.b64encode(secrets.token_bytes(256)).decode(),
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-0000.pem",
    }
    return _sns(envelope, auth)


# -- SendGrid ----------------------------------------------------------------------------------


def sendgrid_event(event: str, email: str, anymail_id: str, **fields: Any) -> dict[str, Any]:
    """One event of SendGrid's event webhook; ``anymail_id`` is the custom arg anymail sends with."""
    return {
        "email": email,
        "timestamp": int(time.time()),
        "smtp-id": f"<{secrets.token_hex(8)}@ismtpd0001p1lon1.sendgrid.net>",
        "event": event,
        "category": [],
        "sg_event_id": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode(),
        "sg_message_id": f"{secrets.token_urlsafe(16)}.filterdrecv-5bb8d9bbc-2x9lq-1-5E1C0.0",
        "anymail_id": anymail_id,
        **fields,
    }


def sendgrid_keys() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A signing key pair, and the public half as SendGrid shows it (base64 DER)."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(der).decode()


def sendgrid_post(
    events: list[dict[str, Any]] | Any,
    auth: dict[str, str],
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Post:
    body = body if body is not None else json.dumps(events).encode()
    headers = {"HTTP_USER_AGENT": "SendGrid Event API", **auth}
    if key is not None:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE"] = base64.b64encode(signature).decode()
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"] = stamp
    return body, headers


# -- Mailgun -----------------------------------------------------------------------------------


def mailgun_signature(signing_key: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    token = secrets.token_hex(25)
    digest = hmac.new(signing_key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": digest}


def mailgun_event(
    event: str, recipient: str, message_id: str, *, event_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Mailgun's ``event-data``; ``message_id`` as Mailgun's headers give it (no angle brackets)."""
    return {
        "id": event_id or base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("="),
        "timestamp": round(time.time(), 6),
        "log-level": "info",
        "event": event,
        "recipient": recipient,
        "recipient-domain": recipient.split("@")[-1],
        "message": {
            "headers": {
                "to": recipient,
                "message-id": message_id,
                "from": "news@example.com",
                "subject": "Our news",
            },
            "attachments": [],
            "size": 1024,
        },
        "tags": [],
        "user-variables": {},
        "flags": {
            "is-routed": False,
            "is-authenticated": True,
            "is-system-test": False,
            "is-test-mode": False,
        },
        **fields,
    }


def mailgun_failure(
    recipient: str, message_id: str, *, severity: str = "permanent", code: int = 550, message: str = ""
) -> dict[str, Any]:
    return mailgun_event(
        "failed",
        recipient,
        message_id,
        severity=severity,
        reason="bounce" if severity == "permanent" else "generic",
        **{
            "log-level": "error" if severity == "permanent" else "warn",
            "delivery-status": {
                "attempt-no": 1,
                "code": code,
                "message": message or "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "mx-host": "mx.example.net",
                "session-seconds": 0.4,
                "tls": True,
            },
        },
    )


def mailgun_post(event_data: dict[str, Any], signature: dict[str, str], auth: dict[str, str]) -> Post:
    body = json.dumps({"signature": signature, "event-data": event_data}).encode()
    return body, {"HTTP_USER_AGENT": "mailgun/treq-16.12.0", **auth}


# -- Resend (Svix) -----------------------------------------------------------------------------


def resend_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def resend_event(kind: str, email_id: str, to: str, **data: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "created_at": _iso(),
        "data": {
            "created_at": _iso(),
            "email_id": email_id,
            "from": "Acme <news@example.com>",
            "to": [to],
            "subject": "Our news",
            **data,
        },
    }


def resend_post(
    payload: dict[str, Any] | None,
    secret: str | None,
    auth: dict[str, str] | None = None,
    *,
    svix_id: str | None = None,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Post:
    """A Svix delivery: ``svix-id``, ``svix-timestamp`` and ``svix-signature`` (v1, HMAC-SHA256)."""
    body = body if body is not None else json.dumps(payload).encode()
    msg_id = svix_id or f"msg_{secrets.token_hex(12)}"
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {"HTTP_SVIX_ID": msg_id, "HTTP_SVIX_TIMESTAMP": stamp, **(auth or {})}
    if secret is not None:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        headers["HTTP_SVIX_SIGNATURE"] = "v1," + base64.b64encode(signed).decode()
    return body, headers


# -- Postmark ----------------------------------------------------------------------------------


def postmark_bounce(
    message_id: str, email: str, *, kind: str = "HardBounce", details: str = "", bounce_id: int | None = None
) -> dict[str, Any]:
    names = {"HardBounce": (1, "Hard bounce"), "SoftBounce": (4096, "Soft bounce")}
    code, name = names.get(kind, (1, kind))
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id if bounce_id is not None else secrets.randbelow(10**12),
        "Type": kind,
        "TypeCode": code,
        "Name": name,
        "Tag": "",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": details or "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "news@example.com",
        "BouncedAt": _iso(),
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Our news",
        "Content": "",
    }


def postmark_delivery(message_id: str, email: str) -> dict[str, Any]:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": email,
        "Tag": "",
        "DeliveredAt": _iso(),
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
    }


def postmark_spam(message_id: str, email: str) -> dict[str, Any]:
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": secrets.randbelow(10**12),
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "",
        "Email": email,
        "From": "news@example.com",
        "BouncedAt": _iso(),
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Our news",
    }


_CLIENT = {"Name": "Firefox 120", "Company": "Mozilla", "Family": "Firefox"}
_OS = {"Name": "Linux", "Company": "-", "Family": "Linux"}
_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def postmark_open(message_id: str, email: str, *, user_agent: str = _AGENT) -> dict[str, Any]:
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "Metadata": {},
        "FirstOpen": True,
        "Recipient": email,
        "MessageID": message_id,
        "ReceivedAt": _iso(),
        "Platform": "Desktop",
        "ReadSeconds": 5,
        "Tag": "",
        "UserAgent": user_agent,
        "OS": _OS,
        "Client": _CLIENT,
        "Geo": {"CountryISOCode": "DE", "Country": "Germany", "IP": "192.0.2.44"},
    }


def postmark_click(message_id: str, email: str, link: str) -> dict[str, Any]:
    return {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "Metadata": {},
        "Recipient": email,
        "MessageID": message_id,
        "ReceivedAt": _iso(),
        "Platform": "Desktop",
        "ClickLocation": "HTML",
        "OriginalLink": link,
        "Tag": "",
        "UserAgent": _AGENT,
        "OS": _OS,
        "Client": _CLIENT,
        "Geo": {"CountryISOCode": "DE", "Country": "Germany", "IP": "192.0.2.44"},
    }


def postmark_unsubscribe(message_id: str, email: str) -> dict[str, Any]:
    return {
        "RecordType": "SubscriptionChange",
        "MessageStream": "outbound",
        "MessageID": message_id,
        "ServerID": 23,
        "ChangedAt": _iso(),
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "",
        "Metadata": {},
    }


def json_post(payload: Any, auth: dict[str, str]) -> Post:
    return json.dumps(payload).encode(), dict(auth)
