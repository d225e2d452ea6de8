"""The DNS test server itself, asked by dnspython's resolver over real sockets (UDP and TCP)."""

from __future__ import annotations

import socket

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from tests.sending.dns_server import DnsServer, dns_server, txt

__all__ = ["dns_server"]  # the fixture, imported for the tests below

LIFETIME = 2
DKIM_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "x" * 348 + "IDAQAB"  # as long as an RSA-2048 key


def resolver_for(server: DnsServer) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    return resolver


def resolve(server: DnsServer, name: str, rdtype: str, *, tcp: bool = False) -> dns.resolver.Answer:
    return resolver_for(server).resolve(name, rdtype, tcp=tcp, lifetime=LIFETIME)


def test_txt_record(dns_server: DnsServer) -> None:
    assert dns_server.host == "127.0.0.1"
    assert dns_server.port > 0
    assert dns_server.address == f"127.0.0.1:{dns_server.port}"
    dns_server.set("_dmarc.example.org", "TXT", ['"v=DMARC1; p=none"'])

    answer = resolve(dns_server, "_dmarc.example.org", "TXT")

    [rdata] = answer
    assert rdata.strings == (b"v=DMARC1; p=none",)
    assert answer.response.rcode() == dns.rcode.NOERROR
    assert answer.response.flags & dns.flags.AA
    assert answer.rrset is not None
    assert answer.rrset.ttl == 300


def test_several_records_of_one_name(dns_server: DnsServer) -> None:
    dns_server.set("example.org", "TXT", ['"v=spf1 mx ~all"', '"google-site-verification=abc"'])

    values = sorted(b"".join(r.strings) for r in resolve(dns_server, "example.org", "TXT"))

    assert values == [b"google-site-verification=abc", b"v=spf1 mx ~all"]


def test_long_txt_is_split_and_joined_back(dns_server: DnsServer) -> None:
    value = f"v=DKIM1; k=rsa; p={DKIM_KEY}"
    assert len(value) > 400
    dns_server.set("tdg202501r._domainkey.example.org", "TXT", [txt(value)])

    [rdata] = resolve(dns_server, "tdg202501r._domainkey.example.org", "TXT")

    assert [len(s) for s in rdata.strings] == [255, len(value) - 255]
    assert b"".join(rdata.strings).decode() == value


def test_txt_helper() -> None:
    assert txt("v=DMARC1; p=none") == '"v=DMARC1; p=none"'
    assert txt("") == '""'
    assert txt("a" * 255) == '"' + "a" * 255 + '"'
    assert txt("a" * 256) == '"' + "a" * 255 + '" "a"'
    assert txt("a" * 600).count('" "') == 2


def test_txt_helper_escapes_quotes_backslashes_and_utf8(dns_server: DnsServer) -> None:
    value = 'say "hi" \\ to Zoë ' + "é" * 200  # 400+ bytes of UTF-8, a character split across strings
    dns_server.set("odd.example.org", "TXT", [txt(value)])

    [rdata] = resolve(dns_server, "odd.example.org", "TXT")

    assert all(len(s) <= 255 for s in rdata.strings)
    assert b"".join(rdata.strings).decode() == value


def test_a_txt_string_over_255_bytes_is_refused_at_set(dns_server: DnsServer) -> None:
    with pytest.raises(dns.exception.SyntaxError, match="string too long"):
        dns_server.set("long.example.org", "TXT", [f'"{DKIM_KEY}"'])
    assert dns_server.records == {}


def test_cname(dns_server: DnsServer) -> None:
    dns_server.set("bounces.example.org", "CNAME", ["mail.example.net."])

    [rdata] = resolve(dns_server, "bounces.example.org", "CNAME")

    assert rdata.to_text() == "mail.example.net."
    assert rdata.target.to_text() == "mail.example.net."


def test_cname_target_without_final_dot_is_absolute(dns_server: DnsServer) -> None:
    dns_server.set("bounces.example.org", "CNAME", ["mail.example.net"])

    [rdata] = resolve(dns_server, "bounces.example.org", "CNAME")

    assert rdata.to_text() == "mail.example.net."


def test_cname_is_followed_for_other_types(dns_server: DnsServer) -> None:
    dns_server.set("s1._domainkey.example.org", "CNAME", ["s1.dkim.esp.example.net."])
    dns_server.set("s1.dkim.esp.example.net", "TXT", [txt("v=DKIM1; k=rsa; p=" + DKIM_KEY)])

    answer = resolve(dns_server, "s1._domainkey.example.org", "TXT")

    assert answer.canonical_name.to_text() == "s1.dkim.esp.example.net."
    assert b"".join(answer[0].strings).startswith(b"v=DKIM1; k=rsa;")


def test_cname_to_a_missing_name_is_nxdomain(dns_server: DnsServer) -> None:
    dns_server.set("bounces.example.org", "CNAME", ["nowhere.example.net."])

    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "bounces.example.org", "A")
    [rdata] = resolve(dns_server, "bounces.example.org", "CNAME")
    assert rdata.to_text() == "nowhere.example.net."


def test_unknown_name_is_nxdomain(dns_server: DnsServer) -> None:
    dns_server.set("_dmarc.example.org", "TXT", ['"v=DMARC1; p=none"'])

    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "_dmarc.example.com", "TXT")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "other.example.org", "TXT")


def test_name_with_other_types_only_is_nodata(dns_server: DnsServer) -> None:
    dns_server.set("bounces.example.org", "CNAME", ["mail.example.net."])
    dns_server.set("example.org", "MX", ["10 mx.example.org."])

    with pytest.raises(dns.resolver.NoAnswer):
        resolve(dns_server, "example.org", "TXT")
    with pytest.raises(dns.resolver.NoAnswer):
        resolve(dns_server, "example.org", "CNAME")


def test_empty_non_terminal_is_nodata_as_in_real_dns(dns_server: DnsServer) -> None:
    dns_server.set("_dmarc.example.org", "TXT", ['"v=DMARC1; p=none"'])

    with pytest.raises(dns.resolver.NoAnswer):
        resolve(dns_server, "example.org", "TXT")


def test_names_are_case_insensitive_with_or_without_final_dot(dns_server: DnsServer) -> None:
    dns_server.set("_DMARC.Example.ORG.", "txt", ['"v=DMARC1; p=none"'])

    assert list(dns_server.records) == [("_dmarc.example.org", "TXT")]
    for name in ("_dmarc.example.org", "_dmarc.example.org.", "_Dmarc.EXAMPLE.org"):
        [rdata] = resolve(dns_server, name, "TXT")
        assert rdata.strings == (b"v=DMARC1; p=none",)

    dns_server.remove("_dmarc.EXAMPLE.org.", "TXT")
    assert dns_server.records == {}


def test_records_changed_after_start_are_seen(dns_server: DnsServer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "_tidings.example.org", "TXT")

    dns_server.set("_tidings.example.org", "TXT", ['"tidings-verification=old"'])
    assert resolve(dns_server, "_tidings.example.org", "TXT")[0].strings == (b"tidings-verification=old",)

    dns_server.set("_tidings.example.org", "TXT", ['"tidings-verification=new"'])
    assert resolve(dns_server, "_tidings.example.org", "TXT")[0].strings == (b"tidings-verification=new",)

    dns_server.remove("_tidings.example.org", "TXT")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "_tidings.example.org", "TXT")
    dns_server.remove("_tidings.example.org", "TXT")  # nothing left to remove: no error


def test_records_dict_may_be_changed_directly(dns_server: DnsServer) -> None:
    dns_server.records[("Direct.Example.org.", "TXT")] = ['"hello"']

    assert resolve(dns_server, "direct.example.org", "TXT")[0].strings == (b"hello",)

    del dns_server.records[("Direct.Example.org.", "TXT")]
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "direct.example.org", "TXT")


def test_queries_are_recorded(dns_server: DnsServer) -> None:
    dns_server.set("example.org", "TXT", ['"v=spf1 mx ~all"'])

    resolve(dns_server, "Example.org", "TXT")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolve(dns_server, "_dmarc.example.org", "TXT")
    with pytest.raises(dns.resolver.NoAnswer):
        resolve(dns_server, "example.org", "CNAME")

    assert dns_server.queries == [
        ("example.org", "TXT"),
        ("_dmarc.example.org", "TXT"),
        ("example.org", "CNAME"),
    ]


def test_tcp(dns_server: DnsServer) -> None:
    dns_server.set("_dmarc.example.org", "TXT", ['"v=DMARC1; p=none"'])

    answer = resolve(dns_server, "_dmarc.example.org", "TXT", tcp=True)

    assert answer[0].strings == (b"v=DMARC1; p=none",)


def test_answer_too_big_for_udp_is_truncated_and_retried_over_tcp(dns_server: DnsServer) -> None:
    values = [f"record {i} {'x' * 200}" for i in range(12)]  # ~2.5 kB, over EDNS' 1232 bytes
    dns_server.set("big.example.org", "TXT", [txt(v) for v in values])

    answer = resolve(dns_server, "big.example.org", "TXT")
    assert sorted(b"".join(r.strings).decode() for r in answer) == sorted(values)

    query = dns.message.make_query("big.example.org", "TXT")  # no EDNS: 512 bytes at most
    udp = dns.query.udp(query, dns_server.host, port=dns_server.port, timeout=LIFETIME)
    assert udp.flags & dns.flags.TC
    assert not udp.answer


def test_fail_with_servfail_and_timeout(dns_server: DnsServer) -> None:
    dns_server.set("example.org", "TXT", ['"v=spf1 mx ~all"'])

    dns_server.fail("example.org")
    with pytest.raises(dns.resolver.NoNameservers):
        resolve(dns_server, "example.org", "TXT")

    dns_server.fail("example.org", "TIMEOUT")
    with pytest.raises(dns.exception.Timeout):
        resolve(dns_server, "example.org", "TXT")

    dns_server.heal("example.org")
    assert resolve(dns_server, "example.org", "TXT")[0].strings == (b"v=spf1 mx ~all",)


def test_resolver_helper(dns_server: DnsServer) -> None:
    dns_server.set("bounces.example.org", "CNAME", ["mail.example.net."])

    answer = dns_server.resolver().resolve("bounces.example.org", "CNAME", lifetime=LIFETIME)

    assert answer[0].to_text() == "mail.example.net."


def test_records_given_at_creation_and_stop() -> None:
    with DnsServer({("example.org", "TXT"): ['"v=spf1 mx ~all"']}, ttl=60) as server:
        answer = resolve(server, "example.org", "TXT")
        assert answer.rrset is not None
        assert answer.rrset.ttl == 60
        port = server.port
    server.stop()  # a second stop is harmless

    assert not server._thread.is_alive()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(LIFETIME)
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


def test_a_bad_record_in_the_dict_is_servfail_and_the_server_keeps_running(dns_server: DnsServer) -> None:
    dns_server.records[("bad.example.org", "TXT")] = [f'"{DKIM_KEY}"']  # over 255 bytes, not checked here
    dns_server.set("ok.example.org", "TXT", ['"fine"'])

    with pytest.raises(dns.resolver.NoNameservers):
        resolve(dns_server, "bad.example.org", "TXT")
    assert resolve(dns_server, "ok.example.org", "TXT")[0].strings == (b"fine",)
