"""Secrets at rest: provider keys and private keys are stored encrypted, never in the clear.

Fernet (AES-128-CBC with an HMAC) under a key derived from the site's secret
key, so a database dump alone does not give away a project's credentials.
Changing ``TIDINGS_SECRET_KEY`` makes stored secrets unreadable; they must
then be entered again (``SecretUnreadable`` says so).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from tidings.core.errors import TidingsError


class SecretUnreadable(TidingsError):
    status = 409
    code = "secret_unreadable"
    title = "A stored secret cannot be read"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"tidings.secrets/v1:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    """Encrypt ``plain``; the empty string stays empty (no secret set)."""
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "a stored secret was encrypted under another secret key; enter it again"
        ) from exc
