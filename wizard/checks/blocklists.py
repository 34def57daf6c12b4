"""The checks of DNS block lists (RFC 5782): whether this server's address is listed, and the lab's listed client."""

from __future__ import annotations


from wizard.resolver import lookup

from wizard.checks.dns import public_address
from wizard.checks.result import CheckContext
from wizard.outcomes import CheckResult


LISTED, NOT_LISTED, REFUSED_TO_ANSWER, LOOKUP_FAILED = "listed", "not listed", "refused to answer", "lookup failed"


# What Spamhaus answers instead of a listing when it will not serve the query: through a public
# or shared resolver (.254), too many queries (.255), a DQS key typo (.252).
LIST_ERRORS = {"127.255.255.252": "a typo in the query name (a DQS key?)",
               "127.255.255.254": "queries through a public or shared resolver are refused",
               "127.255.255.255": "this resolver sent too many queries"}


def query_blocklist(address: str, zone: str, timeout: float) -> tuple[str, str]:
    """(verdict, detail) for one address at one list: listed (with the list's reason), not
    listed, refused to answer (its error codes), or lookup failed."""
    name = ".".join(reversed(address.split("."))) + "." + zone
    seen = lookup(name, "A", timeout)
    if seen.rcode == "NXDOMAIN":
        return NOT_LISTED, ""
    if not seen.records:
        return LOOKUP_FAILED, seen.problem
    errors = [LIST_ERRORS.get(a, a) for a in seen.records if a.startswith("127.255.255.")]
    if errors:
        return REFUSED_TO_ANSWER, f"{', '.join(seen.records)}: {errors[0]}"
    if not all(a.startswith("127.") for a in seen.records):
        return LOOKUP_FAILED, f"answered {', '.join(seen.records)}, which no block list answers (a resolver that rewrites NXDOMAIN?)"
    reason = lookup(name, "TXT", timeout).records
    return LISTED, f"{', '.join(seen.records)}" + (f" \"{reason[0][:160]}\"" if reason else "")


def check_blocklists(ctx: CheckContext, fqdn: str, lists: str) -> CheckResult:
    """The server's public address at each chosen list, and whether each list answers at all
    (its RFC 5782 test entry, 127.0.0.2, must be listed)."""
    zones = [z for z in lists.split() if z != "-"]
    name = "block lists"
    if not zones:
        return CheckResult(name, True, "none chosen ([blocklists] lists in the answers)", advisory=True)
    address, problem = public_address(fqdn, ctx.timeout)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {problem}", "this server's address",
                           "fix the A record first (see its check)", advisory=True)
    name = f"block lists for {address}"
    found, fixes = [], []
    for zone in zones:
        test, test_detail = query_blocklist("127.0.0.2", zone, ctx.timeout)
        verdict, detail = query_blocklist(address, zone, ctx.timeout)
        if REFUSED_TO_ANSWER in (test, verdict):
            found.append(f"{zone} {REFUSED_TO_ANSWER} ({detail or test_detail})")
            fixes.append(f"{zone} does not serve your resolver: run a resolver of your own on this box "
                         "(apt-get install unbound, then nameserver 127.0.0.1 in /etc/resolv.conf) or use the "
                         "list's paid access; until then it protects nothing")
        elif test == NOT_LISTED:
            found.append(f"{zone} does not answer for its test entry 127.0.0.2")
            fixes.append(f"check the name {zone}: a working list always lists 127.0.0.2 (RFC 5782)")
        elif LOOKUP_FAILED in (test, verdict):
            found.append(f"{zone}: {LOOKUP_FAILED} ({detail or test_detail})")
            fixes.append(f"this box's resolver could not ask {zone}: check it, then run the checks again")
        elif verdict == LISTED:
            found.append(f"{zone}: {address} is LISTED ({detail})")
            fixes.append(f"{address} is on {zone}: read the reason at the list's site, fix what got it "
                         "listed (an open relay, a hacked account), then ask for removal; meanwhile "
                         "receivers that use it refuse this server's mail")
        else:
            found.append(f"{zone}: {NOT_LISTED}")
    return CheckResult(name, not fixes, "; ".join(found), "not listed, on lists that answer",
                       "; ".join(fixes), advisory=True)


def check_listed_client(ctx: CheckContext, address: str, zone: str) -> CheckResult:
    """A client address the block list lists (only the lab has one to send from)."""
    name = f"a client on {zone or 'a block list'}"
    if not address:
        return CheckResult(name, False, "no client on a block list to try from", "a listed address",
                           "only the lab has one (its outside host's second address)")
    verdict, detail = query_blocklist(address, zone, ctx.timeout)
    if verdict != LISTED:
        return CheckResult(name, False, f"{address} at {zone}: {verdict} {detail}".strip(), LISTED,
                           f"list it: `mailwizard lab list {address}`")
    return CheckResult(name, True, f"{address} is listed ({detail})")
