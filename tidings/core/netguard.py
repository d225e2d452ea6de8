"""Outgoing requests to addresses a tenant chose: never into the server's own network.

A project may name a URL the server then calls (an AI provider's base URL). A
host that is, or resolves to, a loopback, private, link-local (cloud metadata)
or otherwise non-public address is refused, unless the operator listed it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from tidings.core.errors import TidingsError


class BlockedAddress(TidingsError):
    status = 422
    code = "blocked_address"
    title = "Address not allowed"


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # unknown here: the call itself will fail as unreachable
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check_public_url(url: str, *, allowed_hosts: Iterable[str] = ()) -> None:
    """``BlockedAddress`` unless ``url``'s host is public, or listed in ``allowed_hosts``."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = {h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()}
    if not host or host in allowed:
        return
    for address in _addresses(host):
        if str(address) in allowed:
            continue
        if not address.is_global:
            raise BlockedAddress(
                f"{host} is a {'loopback' if address.is_loopback else 'private or reserved'} address "
                f"({address}); an operator can allow it with TIDINGS_AI_ALLOWED_HOSTS"
            )
