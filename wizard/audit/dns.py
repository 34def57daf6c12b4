"""The names that lead to the server and vouch for its mail, as a receiving server and the public
testers read them: MX, addresses, reverse DNS, SPF, DKIM (a real signature), DMARC, and the
records the walk does not set up yet (MTA-STS, TLS-RPT, DNSSEC, CAA). A lookup that fails is an
`error` row, never a finding: the server is not to blame for a resolver that did not answer."""

from __future__ import annotations

import email
import re
from pathlib import Path

from wizard.audit.model import REQUIRED, Row, Target, broken, informed, judged, untested
from wizard.checks.blocklists import LISTED, LOOKUP_FAILED, NOT_LISTED, REFUSED_TO_ANSWER, query_blocklist
from wizard.resolver import Lookup, lookup, reverse_name
from wizard.statuses import OPTIONAL, RECOMMENDED

FAILED_LOOKUP = ("TIMEOUT", "SERVFAIL", "ERROR")


def _failed(seen: Lookup) -> bool:
    return seen.rcode in FAILED_LOOKUP


def mx_rows(target: Target) -> tuple[list[Row], list[str]]:
    """The MX and its addresses; returns the rows and the server's addresses (for PTR, SPF)."""
    t = target.timeout
    mx = lookup(target.domain, "MX", t)
    if _failed(mx):
        return [broken("mx", "dns", f"{target.domain} has an MX record", REQUIRED, mx.problem)], []
    rows = []
    if not mx.records:
        rows.append(judged("mx", "dns", f"{target.domain} has an MX record", REQUIRED, False,
                           mx.problem, f"publish: {target.domain}. MX 10 {target.host}."))
        hosts = [target.host]
    else:
        bad = [h for h in mx.records if re.fullmatch(r"[\d.]+|[0-9a-f:]+", h)]
        cname = [h for h in mx.records if lookup(h, "CNAME", t).records]
        rows.append(judged("mx", "dns", f"{target.domain} has an MX record naming a host", REQUIRED,
                           not bad and not cname and target.host in mx.records,
                           f"MX: {', '.join(mx.records)}" + (f"; an address, not a name: {bad[0]}" if bad else "")
                           + (f"; {cname[0]} is a CNAME (RFC 2181 forbids it)" if cname else "")
                           + ("" if target.host in mx.records else f"; {target.host} is not among them"),
                           f"{target.domain}. MX 10 {target.host}. (a host name with its own A record)"))
        hosts = mx.records
    addresses = []
    for host in hosts:
        found = lookup(host, "A", t)
        if _failed(found):
            rows.append(broken(f"mx-address-{host}", "dns", f"{host} has an address", REQUIRED, found.problem))
            continue
        v6 = lookup(host, "AAAA", t)
        rows.append(judged(f"mx-address-{host}", "dns", f"{host} has an address", REQUIRED, bool(found.records),
                           f"A {', '.join(found.records) or 'none'}; AAAA {', '.join(v6.records) or 'none'}",
                           f"publish {host}. A <the server's public address>"))
        if host == target.host:
            addresses += found.records + v6.records
    return rows, addresses


def ptr_rows(target: Target, addresses: list[str], greeting_name: str) -> list[Row]:
    """Every address of the server has a PTR whose name leads back to it (FCrDNS), and that name
    is the one the server greets and says HELO with: receivers judge a sender by exactly this."""
    rows = []
    for address in addresses:
        row_id, title = f"ptr-{address}", f"{address} has reverse DNS that leads back to it"
        ptr = lookup(reverse_name(address), "PTR", target.timeout)
        if _failed(ptr):
            rows.append(broken(row_id, "identity", title, REQUIRED, ptr.problem))
            continue
        if not ptr.records:
            rows.append(judged(row_id, "identity", title, REQUIRED, False, f"no PTR record ({ptr.problem})",
                               f"ask whoever gave you {address} (the hosting provider) to set its PTR to {target.host}"))
            continue
        name = ptr.records[0]
        forward = lookup(name, "AAAA" if ":" in address else "A", target.timeout)
        rows.append(judged(row_id, "identity", title, REQUIRED, address in forward.records,
                           f"PTR {name}, whose address is {', '.join(forward.records) or forward.problem}",
                           f"the PTR of {address} and the A record of its name must agree: PTR {target.host}"))
        if greeting_name:
            rows.append(judged(f"helo-name-{address}", "identity", "the greeting and HELO name is the PTR name",
                               RECOMMENDED, greeting_name == name.lower(),
                               f"greets as {greeting_name}, PTR {name}",
                               f"myhostname = {name} in main.cf, or the PTR set to {greeting_name}"))
    return rows


# ---- SPF ---------------------------------------------------------------------------------------

def spf_row(target: Target, addresses: list[str]) -> Row:
    import spf

    row_id, title = "spf", "SPF: a record that lets the server's addresses send, and ends in -all or ~all"
    txt = lookup(target.domain, "TXT", target.timeout)
    if _failed(txt):
        return broken(row_id, "auth", title, REQUIRED, txt.problem)
    records = [r for r in txt.records if r.lower().startswith("v=spf1")]
    if len(records) != 1:
        return judged(row_id, "auth", title, REQUIRED, False,
                      "no SPF record" if not records else f"{len(records)} SPF records (one is allowed)",
                      f"publish one: {target.domain}. TXT \"v=spf1 mx -all\" (the dns-auth chapter)")
    record = records[0]
    evidence = [f"{target.domain} TXT {record}"]
    problems = []
    if not re.search(r"\s[-~]all\s*$", record):
        problems.append("it does not end in -all or ~all: anyone may send as the domain")
    for address in addresses:
        result, explanation = spf.check2(i=address, s=f"postmaster@{target.domain}", h=target.host,
                                        timeout=target.timeout, querytime=target.timeout)
        evidence.append(f"{address}: {result} ({explanation})")
        if result in ("temperror",):
            return broken(row_id, "auth", title, REQUIRED, f"SPF could not be evaluated: {explanation}", evidence)
        if result != "pass":
            problems.append(f"{address} gets '{result}' ({explanation})")
    return judged(row_id, "auth", title, REQUIRED, not problems,
                  "; ".join(problems) or f"{record}: the server's addresses pass",
                  "add the server to the record (`mx` or `ip4:ADDRESS`), keep it within 10 lookups, end it in "
                  "-all", evidence)


# ---- DKIM -----------------------------------------------------------------------------------------

def dkim_rows(target: Target) -> list[Row]:
    rows = []
    name = f"{target.selector}._domainkey.{target.domain}"
    key_title = f"DKIM: the key at {name} is published and at least 2048 bits"
    if not target.selector:
        return [untested("dkim-key", "auth", key_title, REQUIRED, "the walk names no DKIM selector")]
    txt = lookup(name, "TXT", target.timeout)
    if _failed(txt):
        rows.append(broken("dkim-key", "auth", key_title, REQUIRED, txt.problem))
    else:
        record = next((r for r in txt.records if "p=" in r), "")
        bits = _rsa_bits(record)
        rows.append(judged("dkim-key", "auth", key_title, REQUIRED, bits >= 2048,
                           f"{bits}-bit key published" if bits else (txt.problem or f"no key in {record[:60]!r}"),
                           "publish the key the dkim chapter made (`mailwizard lab publish` in the lab); "
                           "a key under 2048 bits: make a new one", [f"{name} TXT {record[:120]}"]))
    rows.append(_signature_row(target))
    return rows


def _rsa_bits(record: str) -> int:
    import base64

    match = re.search(r"p=([A-Za-z0-9+/=\s]+)", record)
    if not match:
        return 0
    try:
        der = base64.b64decode(re.sub(r"\s", "", match.group(1)))
    except ValueError:
        return 0
    # The modulus is the first big INTEGER of the SubjectPublicKeyInfo: its length in bits.
    from dkim.crypto import parse_public_key

    try:
        key = parse_public_key(der)
    except Exception:       # dkimpy's own errors for a malformed key
        return 0
    return key["modulus"].bit_length() if "modulus" in key else 0


def _signature_row(target: Target) -> Row:
    """The newest mail the server signed, verified against the key in DNS (dkimpy, as receivers)."""
    from wizard.mailauth import verify_dkim

    row_id, title = "dkim-signature", "DKIM: a mail the server signed verifies against the key in DNS"
    signed = newest_signed(Path(target.maildirs), target.domain) if target.maildirs else None
    if signed is None:
        return untested(row_id, "auth", title, REQUIRED,
                        f"no mail signed by {target.domain} found under {target.maildirs or 'the mailboxes'}: "
                        "send one (the dkim chapter's probe does) and audit again")
    path, message = signed
    header = next((h for h in message.get_all("DKIM-Signature", []) if f"d={target.domain}" in h.replace(" ", "")), "")
    verdict = verify_dkim(path.read_bytes())
    return judged(row_id, "auth", title, REQUIRED, verdict.ok,
                  f"the newest signed mail ({path.name[:40]}): {verdict.describe()}",
                  "the key in DNS is not the one that signs: publish the record `mailwizard lab publish` "
                  "(or your zone) shows, or put the old key back", [f"DKIM-Signature: {' '.join(header.split())[:200]}"])


def newest_signed(root: Path, domain: str):
    candidates = []
    for path in root.rglob("*"):
        if path.is_file() and path.parent.name in ("new", "cur"):
            candidates.append((path.stat().st_mtime, path))
    for _, path in sorted(candidates, reverse=True)[:200]:
        try:
            message = email.message_from_bytes(path.read_bytes())
        except OSError:
            continue
        if any(f"d={domain}" in h.replace(" ", "") for h in message.get_all("DKIM-Signature", [])):
            return path, message
    return None


# ---- DMARC and the records the walk does not set up ------------------------------------------------

DROPPED_TAGS = ("pct", "rf", "ri")     # RFC 9989 (DMARCbis) drops them


def dmarc_row(target: Target) -> Row:
    row_id, title = "dmarc", "DMARC: a record with a policy receivers act on"
    name = f"_dmarc.{target.domain}"
    txt = lookup(name, "TXT", target.timeout)
    if _failed(txt):
        return broken(row_id, "auth", title, REQUIRED, txt.problem)
    records = [r for r in txt.records if r.replace(" ", "").lower().startswith("v=dmarc1")]
    if len(records) != 1:
        return judged(row_id, "auth", title, REQUIRED, False, "no DMARC record" if not records else "more than one",
                      f"publish: {name}. TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@{target.domain}\" "
                      "(the dns-auth chapter)")
    record = records[0]
    tags = dict(part.strip().split("=", 1) for part in record.split(";") if "=" in part)
    tags = {k.strip().lower(): v.strip() for k, v in tags.items()}
    policy = tags.get("p", "")
    dropped = [t for t in DROPPED_TAGS if t in tags]
    note = f"; tags RFC 9989 dropped: {', '.join(dropped)}" if dropped else ""
    alignment = f"; alignment adkim={tags.get('adkim', 'r')}, aspf={tags.get('aspf', 'r')}"
    if policy in ("quarantine", "reject"):
        return judged(row_id, "auth", title, REQUIRED, not dropped, f"p={policy}{alignment}{note}",
                      "drop the tags RFC 9989 removed", [f"{name} TXT {record}"], partial=True)
    if policy == "none":
        return judged(row_id, "auth", title, REQUIRED, False,
                      f"p=none: receivers only report, they act on nothing{alignment}{note} (internet.nl "
                      "fails p=none)",
                      "once the reports show your own mail passes, raise it: [dmarc] policy = \"quarantine\" "
                      "in the answers, then walk dns-auth again and publish the record", [f"{name} TXT {record}"], partial=True)
    return judged(row_id, "auth", title, REQUIRED, False, f"no valid policy (p={policy or 'missing'})",
                  "p=quarantine or p=reject", [f"{name} TXT {record}"])


def later_rows(target: Target) -> list[Row]:
    """MTA-STS, TLS-RPT, DNSSEC and CAA: reported and explained, not failed (the walk does not
    set them up yet)."""
    t = target.timeout
    rows = []
    sts = lookup(f"_mta-sts.{target.domain}", "TXT", t)
    rows.append(informed("mta-sts", "transport", "MTA-STS: senders must use TLS to reach the server",
                         f"record: {sts.records[0]}" if sts.records else
                         f"none ({sts.problem}); without it a sender falls back to clear text when TLS is stripped",
                         "MTA-STS needs a policy served over HTTPS at mta-sts.DOMAIN: not set up by this walk yet"))
    rpt = lookup(f"_smtp._tls.{target.domain}", "TXT", t)
    rows.append(informed("tls-rpt", "transport", "TLS-RPT: senders report failed TLS to you",
                         f"record: {rpt.records[0]}" if rpt.records else f"none ({rpt.problem})",
                         f"_smtp._tls.{target.domain}. TXT \"v=TLSRPTv1; rua=mailto:postmaster@{target.domain}\""))
    rows.append(_dnssec_row(target))
    caa, problem = _caa(target.host, t)
    rows.append(informed("caa", "certificates", "CAA: which CAs may issue for the server's name",
                         f"CAA: {', '.join(caa)}" if caa else f"none ({problem})",
                         f"{target.host}. CAA 0 issue \"letsencrypt.org\" (the CA your certificate comes from)"))
    return rows


def _caa(name: str, timeout: float) -> tuple[list[str], str]:
    """CAA records of `name` or its closest parent that has some (RFC 8659's climb)."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = resolver.timeout = timeout
    labels = name.split(".")
    for i in range(len(labels) - 1):
        try:
            answer = resolver.resolve(".".join(labels[i:]), "CAA", raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            continue
        except (dns.exception.DNSException, OSError) as exc:
            return [], f"the lookup failed: {exc}"
        if answer.rrset is not None:
            return [r.to_text() for r in answer], ""
    return [], f"no CAA record for {name} or its parents"


def _dnssec_row(target: Target) -> Row:
    import dns.flags
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = resolver.timeout = target.timeout
    resolver.use_edns(0, dns.flags.DO, 1232)
    try:
        answer = resolver.resolve(target.domain, "MX", raise_on_no_answer=False)
        signed = bool(answer.response.flags & dns.flags.AD)
    except Exception as exc:        # every dnspython failure: an error row, never a finding
        return Row("dnssec", "dns", "DNSSEC: the domain's answers are signed", OPTIONAL, "error",
                   f"could not ask: {exc}")
    return informed("dnssec", "dns", "DNSSEC: the domain's answers are signed",
                    "signed and validated by the resolver" if signed else
                    "not validated (no AD bit from this box's resolver): unsigned, or a resolver that does not validate",
                    "sign the zone at its DNS host; DANE (TLSA) needs it")


# ---- reputation ----------------------------------------------------------------------------------

def blocklist_rows(target: Target, addresses: list[str]) -> list[Row]:
    if not target.blocklists:
        return [untested("blocklists", "reputation", "the server's addresses are on no block list", RECOMMENDED,
                         "no block lists named ([blocklists] lists in the answers)")]
    rows = []
    for zone in target.blocklists:
        for address in addresses:
            row_id, title = f"blocklist-{zone}-{address}", f"{address} is not on {zone}"
            verdict, detail = query_blocklist(address, zone, target.timeout)
            if verdict in (LOOKUP_FAILED, REFUSED_TO_ANSWER):
                rows.append(broken(row_id, "reputation", title, RECOMMENDED, f"{zone} {verdict} {detail}".strip()))
            else:
                rows.append(judged(row_id, "reputation", title, RECOMMENDED, verdict == NOT_LISTED,
                                   f"{verdict} {detail}".strip() if verdict == LISTED else f"{zone}: {NOT_LISTED}",
                                   "read the list's reason, fix what got the address listed, then ask for removal"))
    return rows
