"""Outgoing requests to addresses a tenant chose: never into the server's own network.

A project may name a URL the server then calls (an AI provider's base URL, a
webhook endpoint). A host that is, or resolves to, a loopback, private,
link-local (cloud metadata) or otherwise non-public address is refused, unless
the operator listed it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from tidings.core.errors import TidingsError

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(TidingsError):
    status = 422
    code = "blocked_address"
    title = "Address not allowed"


def resolve(host: str) -> list[Address]:
    """The addresses ``host`` stands for: itself if it is one, else what DNS answers ([] if nothing)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []  # unknown here: the call itself will fail as unreachable
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo, IPv4-compatible): such an
    address reaches that IPv4 host, so it must be judged as that host."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if address in NAT64 or packed[:12] == bytes(12):
        return ipaddress.IPv4Address(packed[12:])
    return None


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Not global whatever an older Python's ipaddress says: local-use NAT64 (RFC 8215), SIIT
# translated addresses, and the deprecated site-local range.
NOT_GLOBAL = [
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("fec0::/10"),
]


def is_public(address: Address) -> bool:
    if any(address in network for network in NOT_GLOBAL if address.version == network.version):
        return False
    inner = _embedded_ipv4(address)
    return address.is_global and (inner is None or inner.is_global)


def allowed_set(allowed_hosts: Iterable[str]) -> set[str]:
    return {h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()}


def public_addresses(host: str, *, allowed_hosts: Iterable[str] = (), setting: str) -> list[Address]:
    """``host``'s addresses, every one public or listed; ``BlockedAddress`` naming ``setting`` if not."""
    host = host.lower().strip("[]")
    allowed = allowed_set(allowed_hosts)
    addresses = resolve(host)
    if host in allowed:
        return addresses
    for address in addresses:
        if str(address) in allowed or is_public(address):
            continue
        # The address itself is not named: a tenant must not learn the server's own network from it.
        kind = "loopback" if address.is_loopback else "private or reserved"
        raise BlockedAddress(f"{host} is a {kind} address; an operator can allow it with {setting}")
    return addresses


def check_public_url(
    url: str, *, allowed_hosts: Iterable[str] = (), setting: str = "TIDINGS_AI_ALLOWED_HOSTS"
) -> None:
    """``BlockedAddress`` unless ``url``'s host is public, or listed in ``allowed_hosts``."""
    host = urlsplit(url).hostname or ""
    if host:
        public_addresses(host, allowed_hosts=allowed_hosts, setting=setting)
