"""Provider events: each connection's tracking webhook, checked by django-anymail, acted on by Tidings.

Every ESP connection has its own URL, ``/webhooks/<webhook_key>/``. The key names
the connection, and so the project and the provider; nothing in the payload can
point an event at another project. anymail's own tracking view for the provider
checks the request with the connection's secrets, given as the view's init
arguments (never from settings):

- every provider: HTTP basic auth with the connection's webhook password, which
  the provider sends from the URL (``https://tidings:<password>@host/webhooks/<key>/``);
- Mailgun: also the HMAC-SHA256 signature with the HTTP webhook signing key
  (required), and its timestamp must be recent;
- SendGrid: also the ECDSA signature of signed event webhooks, when the
  verification key is set, and its timestamp must be recent;
- Resend: the Svix signature with the signing secret, when it is set (Svix
  refuses timestamps older than five minutes); without it, basic auth;
- Amazon SES: basic auth (SNS sends it after a 401 challenge), the SNS headers
  matching the body, and, when the connection names one, the SNS topic. anymail
  does not check SNS message signatures. A SubscriptionConfirmation is confirmed
  through the SNS API in the topic's own region (never by fetching the
  SubscribeURL it carries), and only for a well-formed topic ARN.

anymail turns each provider's payload into ``AnymailTrackingEvent``s and sends
them on ``anymail.signals.tracking`` with the view as the sender; the receiver
here reads the connection from that view, maps the event onto a
``DeliveryEvent`` and hands it to ``delivery_event_record``, which stores each
event id once. Events without an id get one derived from their content, so a
replay is stored once too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import time
import warnings
from datetime import datetime
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailNotSupportedWarning,
    AnymailWebhookValidationFailure,
)
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from tidings.sending import services as sending
from tidings.sending.models import ConnectionKind, ProviderConnection
from tidings.tracking.delivery import (
    DeliveryEvent,
    Outcome,
    bounce_type_of,
    classify_bounce,
    delivery_event_record,
    enhanced_code,
)
from tidings.tracking.models import BounceType, EventKind, EventSource

log = logging.getLogger(__name__)

# A signed timestamp further than this from now is refused: a captured request cannot be replayed later.
SIGNATURE_MAX_AGE = 10 * 60  # seconds

# anymail warns on each SendGrid view it makes that it no longer tests SendGrid; once is enough.
warnings.filterwarnings("ignore", category=AnymailNotSupportedWarning, module=r"anymail\.webhooks\.sendgrid")

# What a body that is not an event of the provider raises inside anymail's parsers.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError, AnymailAPIError)


class ConnectionWebhook:
    """The part each provider's view shares: it serves one connection, answers plainly, and
    sends the events with itself as the signal's sender, so the receiver knows the connection."""

    connection: ProviderConnection | None = None
    # Named here so that ``as_view`` accepts them; anymail's __init__ takes them out of the kwargs.
    webhook_secret: Any = None
    session_params: Any = None
    client_params: Any = None
    auto_confirm_sns_subscriptions: Any = None

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        assert self.connection is not None
        try:
            self.run_validators(request)  # type: ignore[attr-defined]
            events = self.parse_events(request)  # type: ignore[attr-defined]
        except AnymailWebhookValidationFailure as exc:
            log.warning("webhook of connection %s refused: %s", self.connection.pk, exc)
            return _answer(403, "refused: the credentials or the signature do not match")
        except AnymailConfigurationError as exc:
            log.warning("webhook of connection %s: %s", self.connection.pk, exc)
            return _answer(400, "not a tracking event of this provider")
        except _UNREADABLE as exc:
            log.info("webhook of connection %s: unreadable body (%s)", self.connection.pk, exc)
            return _answer(400, "unreadable: not an event of this provider")
        for event in events:
            tracking.send(sender=self, event=event, esp_name=self.esp_name)  # type: ignore[attr-defined]
        return HttpResponse()


def _answer(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


def _fresh(timestamp: Any) -> bool:
    try:
        return abs(time.time() - float(timestamp)) <= SIGNATURE_MAX_AGE
    except (TypeError, ValueError, OverflowError):
        return False


class MailgunWebhook(ConnectionWebhook, MailgunTrackingWebhookView):
    def validate_request(self, request: HttpRequest) -> None:
        # anymail checks the signature; the signed timestamp must also be recent.
        try:
            timestamp = json.loads(request.body)["signature"]["timestamp"]
        except (ValueError, KeyError, TypeError):
            timestamp = request.POST.get("timestamp")
        if not _fresh(timestamp):
            raise AnymailWebhookValidationFailure("Mailgun webhook signed too long ago, or not at all")


class SendGridWebhook(ConnectionWebhook, SendGridTrackingWebhookView):
    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        if not isinstance(json.loads(request.body), list):
            raise ValueError("SendGrid posts a JSON array of events")
        return super().parse_events(request)

    def validate_request(self, request: HttpRequest) -> None:
        if self.webhook_verification_key and not _fresh(
            request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp")
        ):
            raise AnymailWebhookValidationFailure("SendGrid webhook signed too long ago, or not at all")


class ResendWebhook(ConnectionWebhook, ResendTrackingWebhookView):
    pass


class PostmarkWebhook(ConnectionWebhook, PostmarkTrackingWebhookView):
    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        record = json.loads(request.body)
        if not isinstance(record, dict) or not record.get("RecordType"):
            raise ValueError("Postmark posts one JSON record with a RecordType")
        return super().parse_events(request)


class SesWebhook(ConnectionWebhook, AmazonSESTrackingWebhookView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.headers.get("Authorization"):
            # SNS sends the URL's credentials only after a 401 asking for them.
            response = _answer(401, "credentials required")
            response["WWW-Authenticate"] = 'Basic realm="Tidings webhook"'
            return response
        return super().post(request, *args, **kwargs)

    def validate_request(self, request: HttpRequest) -> None:
        assert self.connection is not None
        topic = self._parse_sns_message(request).get("TopicArn")
        header = request.headers.get("X-Amz-Sns-Topic-Arn")
        if header is not None and header != topic:
            raise AnymailWebhookValidationFailure("SNS topic header does not match the body")
        expected = self.connection.options.get("snsTopicArn")
        if expected and topic != expected:
            raise AnymailWebhookValidationFailure(f"SNS topic {topic!r} is not this connection's")

    def auto_confirm_sns_subscription(self, sns_message: dict[str, Any]) -> None:
        topic = sns_message.get("TopicArn")
        if not isinstance(topic, str) or not sending.SNS_ARN.fullmatch(topic):
            raise AnymailWebhookValidationFailure("SubscriptionConfirmation for a malformed topic ARN")
        if not isinstance(sns_message.get("Token"), str):
            raise AnymailAPIError("SubscriptionConfirmation without a token")
        try:
            super().auto_confirm_sns_subscription(sns_message)
        except Exception as exc:  # botocore's errors: the token or the credentials were refused
            raise AnymailAPIError(f"SNS refused the confirmation: {exc}") from exc
        pk = self.connection.pk if self.connection else None
        log.info("connection %s: SNS subscription to %s confirmed", pk, topic)


VIEWS: dict[str, type[ConnectionWebhook]] = {
    ConnectionKind.SES: SesWebhook,
    ConnectionKind.SENDGRID: SendGridWebhook,
    ConnectionKind.MAILGUN: MailgunWebhook,
    ConnectionKind.RESEND: ResendWebhook,
    ConnectionKind.POSTMARK: PostmarkWebhook,
}


def _view_kwargs(connection: ProviderConnection, password: str) -> dict[str, Any] | None:
    """anymail's settings for the connection's view, all given here so none comes from settings.
    None when the connection cannot check its webhooks yet (Mailgun without its signing key)."""
    provider = sending.connection_secrets(connection)
    kwargs: dict[str, Any] = {
        "connection": connection,
        "webhook_secret": [f"{sending.WEBHOOK_USER}:{password}"],
    }
    kind = connection.kind
    if kind == ConnectionKind.MAILGUN:
        if not provider.get("webhookSigningKey"):
            return None
        kwargs["webhook_signing_key"] = provider["webhookSigningKey"]
    elif kind == ConnectionKind.SENDGRID:
        kwargs["tracking_webhook_verification_key"] = provider.get("webhookVerificationKey") or None
    elif kind == ConnectionKind.RESEND:
        kwargs["signing_secret"] = provider.get("webhookSigningSecret") or None
        if kwargs["signing_secret"]:
            kwargs["webhook_secret"] = []  # the signature is the check; Svix may not send URL credentials
    elif kind == ConnectionKind.SES:
        from tidings.sending.transports import anymail_kwargs

        boto = anymail_kwargs(kind, connection.options, provider)
        # Confirmations go to SNS itself, whatever endpoint the connection sends SES mail through.
        boto["client_params"].pop("endpoint_url", None)
        kwargs |= {**boto, "auto_confirm_sns_subscriptions": True}
    return kwargs


@csrf_exempt
def receive(request: HttpRequest, key: str) -> HttpResponse:
    """A provider's post for the connection the key names; an unknown key is a bare 404."""
    connection = ProviderConnection.objects.select_related("project").filter(webhook_key=key).first()
    view = VIEWS.get(connection.kind) if connection is not None else None
    if connection is None or view is None:
        return _answer(404, "not found")
    password = sending.connection_webhook_secret(connection)
    kwargs = _view_kwargs(connection, password) if password else None
    if kwargs is None:
        log.warning("webhook of connection %s refused: its webhook secrets are not set", connection.pk)
        return _answer(403, "refused: this connection's webhook is not set up in Tidings")
    return view.as_view(**kwargs)(request)  # type: ignore[attr-defined]


# -- from anymail's event to ours ------------------------------------------------------------

_KINDS = {
    EventType.DELIVERED: EventKind.DELIVERED,
    EventType.DEFERRED: EventKind.DEFERRED,
    EventType.BOUNCED: EventKind.BOUNCED,
    EventType.COMPLAINED: EventKind.COMPLAINED,
    EventType.UNSUBSCRIBED: EventKind.UNSUBSCRIBED,
    EventType.OPENED: EventKind.OPENED,
    EventType.CLICKED: EventKind.CLICKED,
    EventType.REJECTED: EventKind.REJECTED,
}

# How each provider says hard or soft in its own words, when no enhanced status code says it.
_PROVIDER_BOUNCE = {
    "Permanent": BounceType.HARD,  # SES, Resend
    "Transient": BounceType.SOFT,
    "HardBounce": BounceType.HARD,  # Postmark
    "SoftBounce": BounceType.SOFT,
    "bounce": BounceType.HARD,  # SendGrid's bounce type; "blocked" is a refusal for now
    "blocked": BounceType.SOFT,
    "permanent": BounceType.HARD,  # Mailgun's severity
}

# A rejection for the address itself is a hard bounce; other rejections change nothing.
_HARD_REJECTIONS = {RejectReason.INVALID, RejectReason.BOUNCED}


def _dig(value: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _provider_words(kind: str, esp_event: Any, recipient: str) -> tuple[str, str]:
    """The provider's own bounce word and status code for this recipient, where it gives them."""
    if not isinstance(esp_event, dict):
        return "", ""
    if kind == ConnectionKind.SES:
        status = next(
            (
                r.get("status", "")
                for r in _dig(esp_event, "bounce", "bouncedRecipients") or []
                if isinstance(r, dict) and str(r.get("emailAddress", "")).lower() == recipient.lower()
            ),
            "",
        )
        return str(_dig(esp_event, "bounce", "bounceType") or ""), str(status or "")
    if kind == ConnectionKind.SENDGRID:
        return str(esp_event.get("type") or ""), str(esp_event.get("status") or "")
    if kind == ConnectionKind.MAILGUN:
        data = esp_event.get("event-data") or {}
        return str(_dig(data, "severity") or ""), str(_dig(data, "delivery-status", "code") or "")
    if kind == ConnectionKind.RESEND:
        return str(_dig(esp_event, "data", "bounce", "type") or ""), ""
    if kind == ConnectionKind.POSTMARK:
        return str(esp_event.get("Type") or ""), ""
    return "", ""


def _bounce(kind: str, event: AnymailTrackingEvent, ours: str) -> tuple[str, str]:
    """(bounce_type, status_code), by ``classify_bounce``: a specific enhanced code decides,
    else the provider's own hard or soft."""
    text = " ".join(str(p) for p in (event.mta_response, event.description) if p)
    word, status = _provider_words(kind, event.esp_event, event.recipient or "")
    code = enhanced_code(status) or enhanced_code(text)
    if ours == EventKind.BOUNCED:
        status_code, bounce_type = classify_bounce(status, text, _PROVIDER_BOUNCE.get(word, ""))
        return bounce_type, status_code
    if ours == EventKind.REJECTED:
        if bounce_type_of(code) == BounceType.POLICY:
            return BounceType.POLICY, code
        if event.reject_reason in _HARD_REJECTIONS:
            return BounceType.HARD, code or status
        return "", code or status
    return "", ""


def _event_id(kind: str, event: AnymailTrackingEvent) -> str:
    """The provider's id for the event (per recipient: one SES notification names several), or,
    without one, a digest of what the event says, so a replay is known again."""
    raw = event.event_id
    if kind == ConnectionKind.MAILGUN:
        # The signature's token is new with each post; the event's id and time are not.
        data = _dig(event.esp_event, "event-data") or {}
        if data.get("id") and data.get("timestamp") is not None:
            raw = f"{data['id']}@{data['timestamp']}"
    if not raw:
        content = json.dumps(event.esp_event, sort_keys=True, default=str)
        raw = "sha256:" + hashlib.sha256(f"{event.event_type}\n{content}".encode()).hexdigest()
    full = f"{kind}:{raw}:{(event.recipient or '').lower()}"
    if len(full) > 200:
        full = f"{kind}:sha256:{hashlib.sha256(full.encode()).hexdigest()}"
    return full


def _ip(kind: str, esp_event: Any) -> str | None:
    if kind == ConnectionKind.SENDGRID and isinstance(esp_event, dict):
        value = esp_event.get("ip")
    elif kind == ConnectionKind.MAILGUN:
        value = _dig(esp_event, "event-data", "ip")
    else:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None


def delivery_event_of(connection: ProviderConnection, event: AnymailTrackingEvent) -> DeliveryEvent | None:
    """Our form of anymail's event; None for the ones Tidings does not act on (queued, sent…)."""
    ours = _KINDS.get(event.event_type)
    if ours is None:
        return None
    kind = connection.kind
    bounce_type, status_code = _bounce(kind, event, ours)
    detail = " — ".join(str(p) for p in (event.description, event.mta_response) if p)
    return DeliveryEvent(
        kind=ours,
        email=str(event.recipient or "")[:254],
        provider_message_id=str(event.message_id or "")[:255],
        occurred_at=event.timestamp if isinstance(event.timestamp, datetime) else None,
        bounce_type=bounce_type,
        status_code=status_code[:12],
        detail=detail,
        event_id=_event_id(kind, event),
        user_agent=str(event.user_agent or ""),
        url=str(event.click_url or ""),
        ip=_ip(kind, event.esp_event),
    )


def webhook_event_record(*, connection: ProviderConnection, event: AnymailTrackingEvent) -> Outcome | None:
    """Act on one event a connection's provider reported; None when it is not one Tidings keeps."""
    delivery = delivery_event_of(connection, event)
    if delivery is None:
        return None
    return delivery_event_record(
        project=connection.project,
        event=delivery,
        source=EventSource.WEBHOOK,
        connection_id=connection.pk,
    )


@receiver(tracking, dispatch_uid="tidings.tracking.webhooks")
def tracking_received(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    """anymail's tracking signal: only the events of a Tidings connection's view are ours."""
    if isinstance(sender, ConnectionWebhook) and sender.connection is not None:
        webhook_event_record(connection=sender.connection, event=event)
