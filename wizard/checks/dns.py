"""The checks of DNS: the server's A, MX and PTR records and that they agree, its host name, a published record (cached or not, as the zone's own server says), SPF, the outside host's name."""

from __future__ import annotations

import socket

from wizard.outside import judge, learn, learnable
from wizard.resolver import Lookup, authoritative_view, compare_with_authority, lookup, reverse_name
from wizard.timeouts import DEFAULT_TIMEOUT

from wizard.checks.result import CheckContext
from wizard.outcomes import CheckResult


# The outside simulated on this box (vantage "box") is a stranger to the server, but not the internet.
SIMULATED_OUTSIDE = ("the outside is simulated on this box, so whether the internet reaches this server, "
                     "and by which name, is not something it can show")


def is_local_address(address: str) -> bool:
    """True when this box owns `address` (binding to it succeeds)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


def mail_hosts(domain: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[list[str], str]:
    """The hosts that receive mail for `domain` (MX, or the domain's own A as Postfix falls back)."""
    mx = lookup(domain, "MX", timeout)
    if mx.records:
        return mx.records, f"MX {', '.join(mx.records)}"
    if mx.rcode == "NOANSWER":
        return [domain], "no MX record, so Postfix uses the domain's own address"
    return [], mx.problem


def addresses_of(host: str, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    return lookup(host, "A", timeout).records


DNS_FIX = "until DNS is right, run the walk in the lab (`mailwizard lab up`, then `--lab`)"


def dns_trouble(seen: Lookup, name: str) -> str:
    """The fix when DNS itself fails (rather than a record being wrong), else ""."""
    if seen.rcode == "SERVFAIL":
        return (f"DNS fails for {name}: the zone's name servers are broken or unreachable "
                f"(`dig +trace {name}` shows where); fix them, or the resolver in /etc/resolv.conf")
    if seen.rcode == "TIMEOUT":
        return ("the DNS server does not answer: check that /etc/resolv.conf names a working "
                "resolver and that UDP port 53 is not blocked")
    return ""


def record_type(family: str) -> str:
    """The address record of an address family: "4" → A, "6" → AAAA."""
    return "AAAA" if family == "6" else "A"


def family_name(family: str) -> str:
    return "IPv6" if family == "6" else "IPv4"


def check_a_record(ctx: CheckContext, fqdn: str, family: str = "4") -> CheckResult:
    rdtype = record_type(family)
    name = f"{rdtype} record of {fqdn}"
    seen = lookup(fqdn, rdtype, ctx.timeout)
    if not seen.records:
        return CheckResult(name, False, seen.problem, f"this server's public {family_name(family)} address",
                           dns_trouble(seen, fqdn) or
                           f"add an {rdtype} record for {fqdn} with this server's public "
                           f"{family_name(family)} address; {DNS_FIX}", advisory=True)
    local = [a for a in seen.records if is_local_address(a)]
    if not local:
        stale = compare_with_authority(fqdn, rdtype, seen, ctx.timeout)
        return CheckResult(name, False, stale or f"{fqdn} is {', '.join(seen.records)}, not an address of this box",
                           "an address of this server",
                           f"point the {rdtype} record of {fqdn} at this server" +
                           (" (behind NAT: its public address must forward port 25 here)" if family != "6" else
                            f" ({ctx.values.get('ipv6_address') or 'its global IPv6 address'})"), advisory=True)
    return CheckResult(name, True, f"{fqdn} is {', '.join(local)}, an address of this box")


def check_mx(ctx: CheckContext, domain: str, fqdn: str) -> CheckResult:
    name = f"MX of {domain}"
    seen = lookup(domain, "MX", ctx.timeout)
    if not seen.records:
        return CheckResult(name, False, seen.problem, fqdn,
                           dns_trouble(seen, domain) or f"add `{domain}. MX 10 {fqdn}.` to the zone of {domain}",
                           advisory=True)
    if fqdn not in seen.records:
        stale = compare_with_authority(domain, "MX", seen, ctx.timeout)
        return CheckResult(name, False, stale or f"MX {', '.join(seen.records)}", fqdn,
                           f"change the MX record of {domain} to {fqdn} (mail now goes elsewhere)",
                           advisory=True)
    return CheckResult(name, True, f"MX {', '.join(seen.records)}")


def public_address(fqdn: str, timeout: float, family: str = "4") -> tuple[str | None, str]:
    seen = lookup(fqdn, record_type(family), timeout)
    local = [a for a in seen.records if is_local_address(a)]
    if local:
        return local[0], ""
    return None, seen.problem or f"{fqdn} is not an address of this box"


def check_ptr(ctx: CheckContext, fqdn: str, family: str = "4") -> CheckResult:
    name = "PTR of this server's address" if family != "6" else "PTR of this server's IPv6 address"
    address, problem = public_address(fqdn, ctx.timeout, family)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {problem}", f"{fqdn}",
                           f"fix the {record_type(family)} record first", advisory=True)
    seen = lookup(reverse_name(address), "PTR", ctx.timeout)
    if not seen.records:
        return CheckResult(name, False, f"{address}: {seen.problem}", fqdn,
                           dns_trouble(seen, reverse_name(address)) or f"ask whoever gave you {address} (your provider) to set its reverse DNS "
                           f"to {fqdn}; many servers refuse mail from an address without one",
                           advisory=True)
    if fqdn not in seen.records:
        stale = compare_with_authority(reverse_name(address), "PTR", seen, ctx.timeout)
        return CheckResult(name, False, stale or f"{address} points back to {', '.join(seen.records)}",
                           fqdn, f"ask your provider to set the reverse DNS of {address} to {fqdn}",
                           advisory=True)
    return CheckResult(name, True, f"{address} points back to {fqdn}")


def check_fcrdns(ctx: CheckContext, fqdn: str, family: str = "4") -> CheckResult:
    import ipaddress

    rdtype = record_type(family)
    name = "forward-confirmed reverse DNS" + (" over IPv6" if family == "6" else "")
    address, problem = public_address(fqdn, ctx.timeout, family)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {problem}", "", f"fix the {rdtype} record first",
                           advisory=True)
    names = lookup(reverse_name(address), "PTR", ctx.timeout).records
    for ptr_name in names:
        found = {ipaddress.ip_address(a) for a in lookup(ptr_name, rdtype, ctx.timeout).records}
        if ipaddress.ip_address(address) in found:
            return CheckResult(name, True, f"{address} → {ptr_name} → {address}")
    return CheckResult(name, False, f"{address} → {', '.join(names) or 'no PTR'}, which does not lead back",
                       f"{address} → {fqdn} → {address}",
                       f"make the PTR of {address} name {fqdn}, whose {rdtype} record is {address}",
                       advisory=True)


def check_hostname(ctx: CheckContext, fqdn: str) -> CheckResult:
    name = "host name"
    found = socket.getfqdn()
    if found.lower() == fqdn:
        return CheckResult(name, True, found)
    if ctx.values.get("mail_address"):
        return CheckResult(name, True, f"{found}: in the lab the box keeps its own name; Postfix "
                           f"and Dovecot are told {fqdn} in their config", advisory=True)
    return CheckResult(name, False, found, fqdn,
                       f"`hostnamectl set-hostname {fqdn}` (without systemd: write it to /etc/hostname "
                       f"and run `hostname {fqdn}`); Postfix is told its name in main.cf either way",
                       advisory=True)


def check_static_address(ctx: CheckContext) -> CheckResult:
    name = "static public address"
    said = ctx.values.get("static_address", "")
    if ctx.values.get("mail_address"):
        return CheckResult(name, True, "the lab's addresses never change")
    if said == "yes":
        return CheckResult(name, True, "you said the address is static")
    if said == "no":
        return CheckResult(name, False, "you said the address changes", "a static address",
                           "ask your provider for a static address: the A and PTR records must "
                           "keep naming it, and dynamic ranges are on most block lists", advisory=True)
    return CheckResult(name, False, "not answered (no check can see this from here)", "an answer",
                       "add `static_address = true` (or false) to the answers", advisory=True)


def check_mx_points_here(ctx: CheckContext, domain: str) -> CheckResult:
    name = f"mail for {domain} comes here"
    hosts, how = mail_hosts(domain, ctx.timeout)
    if not hosts:
        return CheckResult(name, False, how, f"an MX record for {domain} naming this server",
                           f"add an MX record for {domain} pointing at this server's name, with "
                           "an A record for that name")
    for host in hosts:
        for address in addresses_of(host, ctx.timeout):
            if is_local_address(address):
                return CheckResult(name, True, f"{how}; {host} is {address}, an address of this box")
    return CheckResult(name, False, f"{how}, and none of it resolves to an address of this box",
                       "the MX host's address to be this server's",
                       f"point the MX record of {domain} at this server")


def check_domain_takes_mail(ctx: CheckContext, domain: str) -> CheckResult:
    name = f"{domain} has a mail server in DNS"
    hosts, how = mail_hosts(domain, ctx.timeout)
    addresses = [a for host in hosts for a in addresses_of(host, ctx.timeout)]
    if addresses:
        return CheckResult(name, True, f"{how}; at {', '.join(addresses[:3])}")
    return CheckResult(name, False, how if not hosts else f"{how}, but it has no address",
                       f"an MX (or A) record for {domain}",
                       f"check external.address in the answers ({domain} must receive mail), "
                       "or run in the lab (`mailwizard lab up`, then `--lab`)")


def check_dns_record(ctx: CheckContext, name: str, rdtype: str, expected: str) -> CheckResult:
    """A record the user publishes: published as expected; published at the zone's own server
    but a resolver's cache still holds the old value; published but different (how); or not
    published at all. An SPF record is also judged for the server's address (pyspf: syntax, the
    10-lookup limit, what it allows)."""
    from wizard.mailauth import record_difference, same_record, zone_line

    title = f"{name} {rdtype}"
    line = zone_line(name, rdtype, expected)
    fix = f"publish at the DNS provider of the zone: {line}"
    seen = lookup(name, rdtype, ctx.timeout)
    if seen.rcode in ("TIMEOUT", "ERROR"):
        return CheckResult(title, False, seen.problem, "an answer", "check /etc/resolv.conf and the network")
    if any(same_record(rdtype, have, expected) for have in seen.records):
        problem = spf_problem(ctx, name, expected) if expected.startswith("v=spf1") else ""
        if problem:
            return CheckResult(title, False, problem, "an SPF record that allows this server", fix)
        return CheckResult(title, True, "published" + (f" (TTL {seen.ttl} s)" if seen.ttl is not None else ""))
    view = authoritative_view(name, rdtype, ctx.timeout)
    if view and any(same_record(rdtype, have, expected) for have in view[1].records):
        left = f" ({seen.ttl} s left)" if seen.ttl is not None else ""
        old = record_difference(rdtype, seen.records, expected) or seen.problem
        return CheckResult(title, False, f"published at {view[0]}, but your resolver still caches the old "
                           f"answer{left}: {old}", "the new record", "wait for the cache to clear, then run again")
    found = seen.records or (view[1].records if view else [])
    difference = record_difference(rdtype, found, expected)
    if difference:
        return CheckResult(title, False, f"published but different: {difference}",
                           "the record as shown", f"change it at the DNS provider to: {line}")
    return CheckResult(title, False, f"not published ({seen.problem or 'no such record'})", "the record", fix)


def spf_problem(ctx: CheckContext, domain: str, record: str) -> str:
    """Why this SPF record does not let the server send ("" when it does), judged by pyspf for
    each of the server's public addresses, IPv4 and IPv6 (mail leaves over either): its syntax,
    the 10-lookup limit, and an `all` that allows all."""
    import spf

    terms = record.split()
    if any(term in ("+all", "all") for term in terms):
        return "the record ends in +all: it allows every host of the internet to send as you"
    fqdn = ctx.values.get("fqdn", "")
    addresses = [a for rdtype in ("A", "AAAA") for a in lookup(fqdn, rdtype, ctx.timeout).records] if fqdn else []
    for address in addresses:      # none: the a-record check says what is wrong with them
        result, explanation = spf.check2(i=address, s=f"postmaster@{domain}", h=fqdn, timeout=ctx.timeout)
        if result != "pass":
            return f"SPF gives '{result}' for this server's address {address}: {explanation}"
    return ""


def check_outside_name(ctx: CheckContext, vantage: str, fqdn: str, given: str, ssh_config: str = "") -> CheckResult:
    """Whether the outside host has a proper name (PTR and A agree): the probes from outside
    greet with it, and the restrictions chapter refuses a HELO name that does not resolve."""
    title = "outside host's name"
    fix = ("give the outside host a PTR record whose name resolves back to its address, or set "
           "[external] host in the answers to its name (in the wizard: a, the outside host's name)")
    if given:
        addresses = lookup(given, "A", ctx.timeout)
        if not addresses.records:
            return CheckResult(title, False, f"{given} (from [external] host): {addresses.problem}",
                               "a name with an A record", fix)
        found = judge(addresses.records[0], ctx.timeout)
        ok = found.proper and found.name == given.lower()
        return CheckResult(title, ok, f"{given} (from [external] host): {found.found}",
                           "PTR and A that agree", "" if ok else fix)
    if ctx.values.get("outside_here"):
        return CheckResult(title, True, f"not learned: {SIMULATED_OUTSIDE}")
    if not learnable(vantage):
        return CheckResult(title, True, f"not learned: the vantage point is '{vantage}' (the probes "
                           "from outside greet with the answers' guess, exthost)")
    found = learn(vantage, fqdn, ctx.timeout, ssh_config)
    where = f"as {vantage} is seen from here"
    if found.proper:
        return CheckResult(title, True, f"{found.name} ({found.found}, {where})")
    return CheckResult(title, False, f"{found.found} ({where})", "PTR and A that agree",
                       fix + "; the restrictions chapter refuses the probes' HELO otherwise")
