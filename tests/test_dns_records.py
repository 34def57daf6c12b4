"""How a published record is judged (wizard.checks.check_dns_record): the lab shows published,
different and missing records against a real DNS server (test_dns_auth); a caching resolver that
still holds an old answer is not part of the lab, so that case is shown here with the resolver's
and the zone's answers given."""

from __future__ import annotations

import pytest

from wizard.checks import dns as checks
from wizard.checks.result import CheckContext
from wizard.resolver import Lookup
from wizard.mailauth import record_difference, same_record, zone_line, zone_strings
from wizard.system import System

DMARC = "v=DMARC1; p=none; rua=mailto:postmaster@example.test"


@pytest.fixture
def dns(monkeypatch):
    """The resolver's answers and the zone's own server's answers, by (name, type)."""
    seen: dict = {}
    truth: dict = {}
    monkeypatch.setattr(checks, "lookup", lambda name, rdtype, timeout, nameserver=None:
                        seen.get((name, rdtype), Lookup([], f"{name} does not exist (NXDOMAIN)", "NXDOMAIN")))
    monkeypatch.setattr(checks, "authoritative_view", lambda name, rdtype, timeout:
                        ("ns.example.test", truth[(name, rdtype)]) if (name, rdtype) in truth else None)
    return seen, truth


def judge(name, rdtype, value):
    return checks.check_dns_record(CheckContext(System(), {"fqdn": "mail.example.test"}), name, rdtype, value)


def test_published_cached_different_and_missing_are_told_apart(dns):
    seen, truth = dns
    seen[("_dmarc.example.test", "TXT")] = Lookup([DMARC], ttl=300)
    assert judge("_dmarc.example.test", "TXT", DMARC).found == "published (TTL 300 s)"

    seen[("_dmarc.example.test", "TXT")] = Lookup(["v=DMARC1; p=reject"], ttl=1234)
    truth[("_dmarc.example.test", "TXT")] = Lookup([DMARC])
    cached = judge("_dmarc.example.test", "TXT", DMARC)
    assert not cached.ok and "still caches the old answer (1234 s left)" in cached.found
    assert "p= is reject, expected none" in cached.found and "wait" in cached.fix

    del truth[("_dmarc.example.test", "TXT")]
    different = judge("_dmarc.example.test", "TXT", DMARC)
    assert different.found.startswith("published but different: p= is reject, expected none")
    assert different.fix == f"change it at the DNS provider to: {zone_line('_dmarc.example.test', 'TXT', DMARC)}"

    missing = judge("_smtp._tls.example.test", "TXT", "v=TLSRPTv1; rua=mailto:x@example.test")
    assert missing.found.startswith("not published") and "publish at the DNS provider" in missing.fix


def test_an_spf_record_that_allows_everyone_is_refused_by_name(dns):
    seen, _ = dns
    seen[("example.test", "TXT")] = Lookup(["v=spf1 +all"])
    assert not judge("example.test", "TXT", "v=spf1 +all").ok
    assert "every host of the internet" in judge("example.test", "TXT", "v=spf1 +all").found


def test_records_compare_as_receivers_read_them():
    key = "MIIB" + "A" * 388
    long_value = f"v=DKIM1; k=rsa; p={key}"
    strings = zone_strings(long_value)
    assert strings.count('"') == 4 and all(len(s) <= 255 for s in strings.split('"')[1::2])
    assert same_record("TXT", f"v=DKIM1; h=sha256; k=rsa; p={key}", long_value), "extra tags do not matter"
    assert not same_record("TXT", f"v=DKIM1; k=rsa; p={key[:-1]}B", long_value)
    # A site verification beside the SPF record is not ours to judge; two SPF records are wrong.
    assert record_difference("TXT", ["google-site-verification=abc"], "v=spf1 mx -all") == ""
    assert "2 SPF records" in record_difference("TXT", ["v=spf1 a -all", "v=spf1 mx -all"], "v=spf1 mx -all")
