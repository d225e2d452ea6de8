"""The Python client of the Tidings HTTP API (``/api/v1``).

Needs only httpx: it can be installed without the server (the
``tidings-client`` distribution). See docs/sdk.md::

    from tidings.client import Tidings

    with Tidings(api_key="tdk_…", base_url="https://mail.example.com") as tidings:
        sent = tidings.sending.send(
            recipient_type="email", recipient_email="ann@example.net", from_="hello@example.com",
            subject="Your order", template="<p>Hi {{ firstName | default: 'there' }}</p>",
        )
"""

from tidings.client._client import AsyncTidings, Tidings
from tidings.client._core import RetryPolicy
from tidings.client._pagination import AsyncPager, Page, SyncPager
from tidings.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TidingsError,
    UnexpectedResponseError,
    ValidationError,
)
from tidings.client.resources import NOT_GIVEN, NotGiven

__version__ = "0.1.0"

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPager",
    "AsyncTidings",
    "AuthenticationError",
    "ConflictError",
    "FieldError",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PermissionDeniedError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SyncPager",
    "Tidings",
    "TidingsError",
    "UnexpectedResponseError",
    "ValidationError",
    "__version__",
]
