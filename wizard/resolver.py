"""The resolver: DNS answers as the checks and the audit need them (never raising), from the
system's resolver or from one server, and the zone's own servers asked when a cache may lie.

A leaf over dnspython (imported when first used, so `check` starts without it)."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.timeouts import WAIT_SHARE

@dataclass
class Lookup:
    records: list[str]
    problem: str = ""          # "" when the name has records of that type
    rcode: str = ""            # NXDOMAIN, NOANSWER, SERVFAIL, TIMEOUT
    ttl: int | None = None     # seconds the answer stays valid (from a cache: what is left)


def lookup(name: str, rdtype: str, timeout: float, nameserver: str | None = None) -> Lookup:
    """Records of `rdtype` for `name`, from the system resolver or one server; never raises."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=nameserver is None)
    if nameserver:
        resolver.nameservers = [nameserver]
    # A lookup gives up a little before its check's budget runs out, so the check can still say
    # what went wrong instead of being cut off (thirty threads on two busy cores start late).
    resolver.lifetime = resolver.timeout = timeout * WAIT_SHARE
    where = f" at {nameserver}" if nameserver else ""
    try:
        answer = resolver.resolve(name, rdtype, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return Lookup([], f"{name} does not exist (NXDOMAIN{where})", "NXDOMAIN")
    except dns.resolver.NoAnswer:
        return Lookup([], f"{name} has no {rdtype} record{where}", "NOANSWER")
    except dns.resolver.NoNameservers:
        return Lookup([], f"the DNS server{where or 's'} failed to answer for {name} (SERVFAIL)", "SERVFAIL")
    except dns.exception.Timeout:
        return Lookup([], f"no DNS answer for {name} within {timeout:g} s{where}", "TIMEOUT")
    except (dns.exception.DNSException, OSError) as exc:
        return Lookup([], f"DNS lookup of {name} failed: {exc}", "ERROR")
    if rdtype == "MX":
        rows = sorted(answer, key=lambda r: r.preference)
        return Lookup([str(r.exchange).rstrip(".").lower() for r in rows])
    if rdtype in ("PTR", "NS", "CNAME"):
        return Lookup([str(r.target).rstrip(".").lower() for r in answer])
    ttl = answer.rrset.ttl if answer.rrset is not None else None
    if rdtype == "TXT":
        return Lookup([b"".join(r.strings).decode(errors="replace") for r in answer], ttl=ttl)
    if rdtype == "SRV":
        return Lookup([f"{r.priority} {r.weight} {r.port} {str(r.target).lower()}" for r in answer], ttl=ttl)
    return Lookup([r.address for r in answer], ttl=ttl)


def reverse_name(address: str) -> str:
    import dns.reversename

    return str(dns.reversename.from_address(address)).rstrip(".")


def authoritative_view(name: str, rdtype: str, timeout: float) -> tuple[str, Lookup] | None:
    """(server, answer) from one of the zone's own name servers, or None if none can be asked."""
    import dns.exception
    import dns.resolver

    try:
        zone = dns.resolver.zone_for_name(name, resolver=_resolver(timeout), lifetime=timeout)
    except (dns.exception.DNSException, OSError):
        return None
    servers = lookup(str(zone).rstrip("."), "NS", timeout)
    for server in servers.records:
        for address in lookup(server, "A", timeout).records:
            return server, lookup(name, rdtype, timeout, nameserver=address)
    return None


def _resolver(timeout: float):
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    return resolver


def compare_with_authority(name: str, rdtype: str, seen: Lookup, timeout: float) -> str:
    """A sentence when the zone's own server disagrees with what the resolver said, else ""."""
    view = authoritative_view(name, rdtype, timeout)
    if view is None:
        return ""
    server, truth = view
    if sorted(truth.records) == sorted(seen.records):
        return ""
    said = ", ".join(seen.records) or seen.rcode or "nothing"
    real = ", ".join(truth.records) or truth.rcode or "nothing"
    return (f"the system resolver says {said}, but the zone's own server {server} says {real}: "
            "a cache still holds an old answer; it clears when the record's TTL runs out")
