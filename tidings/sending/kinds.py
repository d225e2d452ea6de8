"""What each kind of provider connection is configured with: one table, read by the
services, the API and the UI alike. Secret fields are stored encrypted and never shown."""

from __future__ import annotations

from dataclasses import dataclass, field

from tidings.sending.models import ConnectionKind


@dataclass(frozen=True)
class Field:
    name: str  # camelCase, as in the API
    label: str
    type: str = "text"  # text | int | choice | url
    required: bool = False
    secret: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    # Changing it points the connection elsewhere: its stored secrets are forgotten.
    address: bool = False
    help: str = ""


@dataclass(frozen=True)
class Kind:
    kind: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    # The provider's events that Tidings acts on, as its settings name them: turned on at the provider.
    webhook_events: tuple[str, ...] = ()

    def public(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    def secret(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)


def _api_url(help: str) -> Field:
    return Field("apiUrl", "API URL", "url", address=True, help=help)


KINDS: dict[str, Kind] = {
    k.kind: k
    for k in (
        Kind(ConnectionKind.OUTBOX),
        Kind(
            ConnectionKind.SMTP,
            (
                Field("host", "Host", required=True, address=True),
                Field("port", "Port", "int", default=587),
                Field(
                    "security",
                    "Security",
                    "choice",
                    default="starttls",
                    choices=("starttls", "tls", "none"),
                    help="starttls (port 587), tls (implicit TLS, port 465) or none",
                ),
                Field("username", "Username"),
                Field("password", "Password", secret=True),
                Field("timeout", "Timeout (seconds)", "int", default=30),
            ),
        ),
        Kind(
            ConnectionKind.SES,
            (
                Field("region", "Region", required=True, address=True, help="e.g. eu-west-1"),
                Field("accessKeyId", "Access key id", required=True, secret=True),
                Field("secretAccessKey", "Secret access key", required=True, secret=True),
                Field("endpointUrl", "Endpoint URL", "url", address=True, help="empty for AWS itself"),
                Field(
                    "snsTopicArn",
                    "SNS topic ARN",
                    help="the topic that posts SES events here (arn:aws:sns:…); "
                    "empty: any topic that knows the webhook URL's password",
                ),
            ),
            ("Bounce", "Complaint", "Delivery", "Reject", "Open", "Click"),
        ),
        Kind(
            ConnectionKind.SENDGRID,
            (
                Field("apiKey", "API key", required=True, secret=True),
                _api_url("empty for SendGrid itself"),
                Field(
                    "webhookVerificationKey",
                    "Event webhook verification key",
                    secret=True,
                    help="the public key SendGrid shows when the event webhook's signature is turned on",
                ),
            ),
            (
                "Delivered",
                "Deferred",
                "Bounced",
                "Dropped",
                "Spam Reports",
                "Unsubscribed",
                "Group Unsubscribes",
                "Opened",
                "Clicked",
            ),
        ),
        Kind(
            ConnectionKind.MAILGUN,
            (
                Field("apiKey", "API key", required=True, secret=True),
                Field("senderDomain", "Sending domain", help="empty: the From address's domain"),
                _api_url("https://api.mailgun.net/v3 (US, the default) or https://api.eu.mailgun.net/v3"),
                Field(
                    "webhookSigningKey",
                    "HTTP webhook signing key",
                    secret=True,
                    help="Mailgun → Sending → Webhooks; webhooks are refused until it is set",
                ),
            ),
            (
                "Delivered",
                "Temporary failure",
                "Permanent failure",
                "Spam complaints",
                "Unsubscribes",
                "Opens",
                "Clicks",
            ),
        ),
        Kind(
            ConnectionKind.RESEND,
            (
                Field("apiKey", "API key", required=True, secret=True),
                _api_url("empty for Resend itself"),
                Field(
                    "webhookSigningSecret",
                    "Webhook signing secret",
                    secret=True,
                    help="whsec_…, shown on the webhook's page at Resend",
                ),
            ),
            (
                "email.delivered",
                "email.delivery_delayed",
                "email.bounced",
                "email.complained",
                "email.opened",
                "email.clicked",
            ),
        ),
        Kind(
            ConnectionKind.POSTMARK,
            (
                Field("serverToken", "Server token", required=True, secret=True),
                _api_url("empty for Postmark itself"),
            ),
            ("Delivery", "Bounce", "Spam Complaint", "Subscription Change", "Open", "Link Click"),
        ),
    )
}
