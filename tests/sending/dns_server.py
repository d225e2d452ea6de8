"""A tiny authoritative DNS server on 127.0.0.1 for tests, built on dnspython alone.

It answers over UDP and TCP on the same port (bound to port 0, the real one is ``.port``),
from ``.records``, which a test may change at any time, also while the server runs::

    server.set("_dmarc.example.org", "TXT", ['"v=DMARC1; p=none"'])
    server.set("s1._domainkey.example.org", "TXT", [txt("v=DKIM1; k=rsa; p=" + key)])  # > 255 bytes
    server.set("bounces.example.org", "CNAME", ["mail.example.net."])

It is authoritative for every name, like the whole DNS seen through one resolver:

- the records of the asked type: NOERROR with them;
- a name with records of other types only (or an empty non-terminal, e.g. ``example.org``
  when only ``_dmarc.example.org`` has records): NOERROR with no answer ("NODATA",
  ``dns.resolver.NoAnswer`` in dnspython);
- a name with no records at all and none below it: NXDOMAIN (``dns.resolver.NXDOMAIN``);
- a name with a CNAME, asked for another type: the CNAME, then the target's records, followed
  like a real server (the rcode is the one of the last name of the chain).

``fail(name, "SERVFAIL")`` makes the server answer a name with that rcode instead, and
``fail(name, "TIMEOUT")`` makes it not answer at all (``heal(name)`` undoes either).

Point dnspython at it with ``server.resolver()``, or by hand::

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.resolve("_dmarc.example.org", "TXT", lifetime=2)

and Tidings itself with ``settings.DNS_RESOLVER = server.address`` (``"127.0.0.1:<port>"``).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Iterable, Iterator
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

__all__ = ["DnsServer", "dns_server", "txt"]

HOST = "127.0.0.1"
DEFAULT_TTL = 300
MAX_CNAME_CHAIN = 8
TIMEOUT = "TIMEOUT"  # the pseudo-rcode of fail(): no reply at all

Key = tuple[str, str]  # ("_dmarc.example.org", "TXT"): lower case, no final dot, type in upper case


def txt(value: str) -> str:
    """The text of one TXT record holding ``value``, split into quoted strings of at most 255 bytes.

    ``txt("v=DKIM1; k=rsa; p=MIIB...")`` gives ``'"v=DKIM1; k=rsa; p=MIIB..." "...rest"'``; a resolver
    gives the parts back in ``rdata.strings``, and ``b"".join(rdata.strings)`` is ``value`` (UTF-8).
    """
    data = value.encode()
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join(f'"{_escape(chunk)}"' for chunk in chunks)


def _escape(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def normalize_name(name: str | dns.name.Name) -> str:
    """``"Bounces.Example.org."`` → ``"bounces.example.org"`` (the root stays ``"."``)."""
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    text = text.strip().lower()
    return text.rstrip(".") or "."


def normalize_type(rdtype: str | int) -> str:
    """``"txt"``, ``16`` or ``dns.rdatatype.TXT`` → ``"TXT"``."""
    if isinstance(rdtype, str):
        rdtype = dns.rdatatype.from_text(rdtype.strip().upper())
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def _absolute(name: str) -> dns.name.Name:
    return dns.name.from_text(name, origin=dns.name.root)


def _rrset(name: str, rdtype: str, texts: Iterable[str], ttl: int) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(
        _absolute(name), ttl, dns.rdataclass.IN, rdtype, list(texts), origin=dns.name.root, relativize=False
    )


class DnsServer:
    """An authoritative DNS server on ``127.0.0.1:<port>`` (UDP and TCP), running in a daemon thread.

    ``.records`` maps ``(name, type)`` to a list of record texts in zone-file syntax; names are
    compared case-insensitively, with or without the final dot, types as text (``"TXT"``) or number.
    ``set`` / ``remove`` change it (under a lock, and checking the texts); changing the dict
    directly works too. ``.queries`` lists every question received, as ``("name", "TYPE")``
    in the normalized form (``("_dmarc.example.org", "TXT")``).
    """

    def __init__(
        self, records: dict[tuple[str, str | int], list[str]] | None = None, *, ttl: int = DEFAULT_TTL
    ) -> None:
        self.host = HOST
        self.ttl = ttl
        self.records: dict[tuple[str, str | int], list[str]] = {}
        self.queries: list[Key] = []
        self.failures: dict[str, str] = {}  # normalized name → rcode text, or TIMEOUT
        self._ttls: dict[Key, int] = {}
        self._lock = threading.Lock()
        for (name, rdtype), texts in (records or {}).items():
            self.set(name, rdtype, texts)

        self._udp, self._tcp = _bind_pair()
        self.port: int = self._udp.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name=f"dns-server-{self.port}", daemon=True)
        self._thread.start()

    # -- records ----------------------------------------------------------------------

    def set(self, name: str, rdtype: str | int, texts: list[str] | str, *, ttl: int | None = None) -> None:
        """Publish ``texts`` (one string is one record) as the ``rdtype`` records of ``name``.

        The texts are parsed here, so a bad one raises in the test, not in the server: e.g. a
        TXT string over 255 bytes (``dns.exception.SyntaxError: string too long``; use ``txt()``).
        An empty list removes the records. ``ttl`` defaults to the server's ``ttl`` (300).
        """
        if isinstance(texts, str):
            texts = [texts]
        key = (normalize_name(name), normalize_type(rdtype))
        texts = list(texts)
        if not texts:
            self.remove(name, rdtype)
            return
        _rrset(key[0], key[1], texts, self.ttl)  # raises on a bad record
        with self._lock:
            for old in [k for k in self.records if self._key(k) == key]:
                del self.records[old]
            self.records[key] = texts
            if ttl is None:
                self._ttls.pop(key, None)
            else:
                self._ttls[key] = ttl

    def remove(self, name: str, rdtype: str | int) -> None:
        """Withdraw the ``rdtype`` records of ``name`` (nothing happens when there are none)."""
        key = (normalize_name(name), normalize_type(rdtype))
        with self._lock:
            for old in [k for k in self.records if self._key(k) == key]:
                del self.records[old]
            self._ttls.pop(key, None)

    def fail(self, name: str, rcode: str = "SERVFAIL") -> None:
        """Answer every question for ``name`` with ``rcode`` (e.g. ``"SERVFAIL"``, ``"REFUSED"``),
        or with nothing at all for ``"TIMEOUT"`` (the client times out)."""
        rcode = rcode.upper()
        if rcode != TIMEOUT:
            dns.rcode.from_text(rcode)  # raises on an unknown rcode
        with self._lock:
            self.failures[normalize_name(name)] = rcode

    def heal(self, name: str) -> None:
        """Undo ``fail(name)``."""
        with self._lock:
            self.failures.pop(normalize_name(name), None)

    @property
    def address(self) -> str:
        """``"127.0.0.1:<port>"``, the form of Tidings' ``DNS_RESOLVER`` setting."""
        return f"{self.host}:{self.port}"

    def resolver(self) -> dns.resolver.Resolver:
        """A dnspython resolver that asks this server only (no system configuration, no cache)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [self.host]
        resolver.port = self.port
        resolver.lifetime = 2
        resolver.timeout = 2
        return resolver

    # -- lifecycle --------------------------------------------------------------------

    def stop(self) -> None:
        """Stop answering and close the sockets. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(5)
        for sock in (self._udp, self._tcp, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<DnsServer {self.host}:{self.port} records={len(self.records)} queries={len(self.queries)}>"

    # -- answering (server thread) ------------------------------------------------------

    @staticmethod
    def _key(key: tuple[str, str | int]) -> Key:
        return normalize_name(key[0]), normalize_type(key[1])

    def _snapshot(self) -> tuple[dict[Key, list[str]], dict[str, str]]:
        with self._lock:
            records = {self._key(k): list(v) for k, v in dict(self.records).items()}
            return records, dict(self.failures)

    def answer(self, wire: bytes, *, udp: bool = False) -> bytes | None:
        """The reply to one query in wire format, or None for none (garbage, or ``fail(name, "TIMEOUT")``).

        Over UDP a reply holds 512 bytes without EDNS, else the client's payload size; a longer one
        goes out empty with the TC flag, and the client asks again over TCP.
        """
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _formerr(wire)
        try:
            response = self._respond(query)
        except Exception:  # e.g. a bad record put straight into .records: the server keeps running
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
        if response is None:
            return None
        if not udp:
            return response.to_wire()
        try:
            return response.to_wire(max_size=max(512, query.payload) if query.edns >= 0 else 512)
        except dns.exception.TooBig:
            response.answer.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _respond(self, query: dns.message.Message) -> dns.message.Message | None:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname, qtype = normalize_name(question.name), normalize_type(question.rdtype)
        with self._lock:
            self.queries.append((qname, qtype))
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response

        records, failures = self._snapshot()
        failure = failures.get(qname)
        if failure == TIMEOUT:
            return None
        if failure is not None:
            response.set_rcode(dns.rcode.from_text(failure))
            return response

        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            types = {rdtype: texts for (owner, rdtype), texts in records.items() if owner == name and texts}
            if qtype == "ANY":
                wanted = list(types)
            elif qtype in types:
                wanted = [qtype]
            elif "CNAME" in types:
                cname = self._build(name, "CNAME", types["CNAME"])
                response.answer.append(cname)
                name = normalize_name(cname[0].target)
                continue
            else:
                wanted = []
            for rdtype in wanted:
                response.answer.append(self._build(name, rdtype, types[rdtype]))
            if not types and not _has_descendant(name, records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        response.set_rcode(dns.rcode.SERVFAIL)  # a CNAME loop or a chain too long
        return response

    def _build(self, name: str, rdtype: str, texts: list[str]) -> dns.rrset.RRset:
        return _rrset(name, rdtype, texts, self._ttls.get((name, rdtype), self.ttl))

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._udp, selectors.EVENT_READ, "udp")
        selector.register(self._tcp, selectors.EVENT_READ, "tcp")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=1):
                    if key.data == "udp":
                        self._serve_udp()
                    elif key.data == "tcp":
                        self._accept_tcp()
        finally:
            selector.close()

    def _serve_udp(self) -> None:
        try:
            wire, peer = self._udp.recvfrom(65535)
        except OSError:
            return
        reply = self.answer(wire, udp=True)
        if reply is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(reply, peer)

    def _accept_tcp(self) -> None:
        try:
            conn, _ = self._tcp.accept()
        except OSError:
            return
        threading.Thread(target=self._serve_tcp, args=(conn,), daemon=True).start()

    def _serve_tcp(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                while not self._stopping.is_set():
                    header = _recv_exactly(conn, 2)
                    if header is None:
                        return
                    wire = _recv_exactly(conn, struct.unpack("!H", header)[0])
                    if wire is None:
                        return
                    reply = self.answer(wire)
                    if reply is None:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return


def _has_descendant(name: str, records: dict[Key, list[str]]) -> bool:
    """Whether a name below ``name`` has records (``name`` is then an empty non-terminal)."""
    suffix = "." + name if name != "." else ""
    return any(owner.endswith(suffix) and owner != name and texts for (owner, _), texts in records.items())


def _formerr(wire: bytes) -> bytes | None:
    if len(wire) < 12:
        return None
    response = dns.message.Message(id=struct.unpack("!H", wire[:2])[0])
    response.flags = dns.flags.QR
    response.set_rcode(dns.rcode.FORMERR)
    return response.to_wire()


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _bind_pair() -> tuple[socket.socket, socket.socket]:
    """A UDP and a listening TCP socket on the same free port of 127.0.0.1."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((HOST, 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((HOST, udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp
    raise OSError("no port free for both UDP and TCP on 127.0.0.1")


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """A running ``DnsServer`` with no records; stopped after the test."""
    with DnsServer() as server:
        yield server
