"""Prerequisite checks. Each result says what was found, what was expected and the fix in one line.

Checks run concurrently, each bounded by one timeout (default 2 s): a dead or black-holed DNS
server costs about one timeout for the whole run, never one per check. DNS answers from the
system resolver are compared with the zone's own (authoritative) servers, so a stale cache is
told apart from a wrong record.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field

from wizard.model import Requirement
from wizard.outside import judge, learn, learnable
from wizard.resolver import (Lookup, authoritative_view, compare_with_authority, lookup,  # noqa: F401  (re-exported)
                             reverse_name)
from wizard.system import System
from wizard.timeouts import DEFAULT_TIMEOUT, WAIT_SHARE  # noqa: F401  (DEFAULT_TIMEOUT: re-exported)

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    found: str
    expected: str = ""
    fix: str = ""
    advisory: bool = False        # a failure is reported but does not hold the walk back

    def line(self) -> str:
        mark = "ok  " if self.ok else ("warn" if self.advisory else "FAIL")
        text = f"{mark} {self.name}: {self.found}"
        if not self.ok and self.expected:
            text += f" (expected {self.expected})"
        if not self.ok and self.fix:
            text += f" — fix: {self.fix}"
        return text


@dataclass
class CheckContext:
    system: System
    values: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT


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


# ---- the checks ----------------------------------------------------------------------------------

def check_command(ctx: CheckContext, name: str) -> CheckResult:
    found = shutil.which(name, path=SBIN_PATH)
    if found:
        return CheckResult(f"command {name}", True, found)
    package = {"postfix": "postfix", "sendmail": "postfix", "postconf": "postfix",
               "dovecot": "dovecot-core", "doveadm": "dovecot-core"}.get(name)
    fix = (f"install it with the `install` step or `apt-get install {package}`" if package
           else f"install the package that provides {name}")
    return CheckResult(f"command {name}", False, "not found", "installed", fix)


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


def check_a_record(ctx: CheckContext, fqdn: str) -> CheckResult:
    name = f"A record of {fqdn}"
    seen = lookup(fqdn, "A", ctx.timeout)
    if not seen.records:
        return CheckResult(name, False, seen.problem, "this server's public address",
                           dns_trouble(seen, fqdn) or
                           f"add an A record for {fqdn} with this server's public address; {DNS_FIX}",
                           advisory=True)
    local = [a for a in seen.records if is_local_address(a)]
    if not local:
        stale = compare_with_authority(fqdn, "A", seen, ctx.timeout)
        return CheckResult(name, False, stale or f"{fqdn} is {', '.join(seen.records)}, not an address of this box",
                           "an address of this server",
                           f"point the A record of {fqdn} at this server (behind NAT: its public address "
                           "must forward port 25 here)", advisory=True)
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


def _public_address(fqdn: str, timeout: float) -> tuple[str | None, str]:
    seen = lookup(fqdn, "A", timeout)
    local = [a for a in seen.records if is_local_address(a)]
    if local:
        return local[0], ""
    return None, seen.problem or f"{fqdn} is not an address of this box"


def check_ptr(ctx: CheckContext, fqdn: str) -> CheckResult:
    name = "PTR of this server's address"
    address, problem = _public_address(fqdn, ctx.timeout)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {problem}", f"{fqdn}",
                           "fix the A record first", advisory=True)
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


def check_fcrdns(ctx: CheckContext, fqdn: str) -> CheckResult:
    name = "forward-confirmed reverse DNS"
    address, problem = _public_address(fqdn, ctx.timeout)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {problem}", "", "fix the A record first",
                           advisory=True)
    names = lookup(reverse_name(address), "PTR", ctx.timeout).records
    for ptr_name in names:
        if address in lookup(ptr_name, "A", ctx.timeout).records:
            return CheckResult(name, True, f"{address} → {ptr_name} → {address}")
    return CheckResult(name, False, f"{address} → {', '.join(names) or 'no PTR'}, which does not lead back",
                       f"{address} → {fqdn} → {address}",
                       f"make the PTR of {address} name {fqdn}, whose A record is {address}",
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


def listeners(port: int) -> list[tuple[int, str]]:
    """(pid, program) of every process listening on TCP `port` in this network namespace."""
    inodes = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            parts = row.split()
            if len(parts) > 9 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    found = []
    if not inodes:
        return found
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            for fd in fds:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    found.append((int(pid), open(f"/proc/{pid}/comm").read().strip()))
                    break
        except OSError:
            continue
    return found or [(0, "a process this check cannot see")]


OWNERS = {"postfix": ("master",), "dovecot": ("dovecot",)}
KNOWN_SQUATTERS = {"exim4": "apt-get remove exim4-daemon-light exim4-daemon-heavy",
                   "sendmail-mta": "apt-get remove sendmail-bin", "opensmtpd": "apt-get remove opensmtpd",
                   "smtpd": "apt-get remove opensmtpd"}


def postfix_child(pid: int) -> bool:
    """A process Postfix's master started (its smtpd serving a connection holds the port too);
    OpenSMTPD's daemon is also called smtpd, but lives outside Postfix's own directory."""
    try:
        return os.readlink(f"/proc/{pid}/exe").startswith("/usr/lib/postfix/")
    except OSError:
        pass
    # An smtpd on its way out has let go of its program but not yet of its sockets: its parent tells.
    try:
        parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        return open(f"/proc/{parent}/comm").read().strip() == "master"
    except (OSError, ValueError, IndexError):
        return False


def check_port_owner(ctx: CheckContext, port: str, daemon: str) -> CheckResult:
    """Port free, or held by the daemon that should hold it: anything else is named with its fix."""
    name = f"port {port}"
    holders = listeners(int(port))
    wrong = [(pid, prog) for pid, prog in holders
             if prog not in OWNERS.get(daemon, (daemon,)) and not (daemon == "postfix" and postfix_child(pid))]
    if not wrong:
        held = f"held by {daemon}" if holders else f"free for {daemon}"
        return CheckResult(name, True, held)
    pid, program = wrong[0]
    if daemon == "postfix" and not ctx.system.path("/usr/sbin/postfix").exists():
        return CheckResult(name, False, f"{program} (pid {pid}) listens on port {port}", f"free or {daemon}",
                           "the install step offers to replace it with Postfix (apt removes it; "
                           "headless, --yes says yes)", advisory=True)
    fix = KNOWN_SQUATTERS.get(program, f"stop {program} (pid {pid}) and remove the package it came from "
                                       f"(`dpkg -S /proc/{pid}/exe` after `readlink`)")
    return CheckResult(name, False, f"{program} (pid {pid}) listens on port {port}", f"free or {daemon}",
                       f"{fix}, then run mailwizard again")


def check_listening(ctx: CheckContext, port: str, daemon: str) -> CheckResult:
    name = f"port {port} listening"
    holders = listeners(int(port))
    if any(prog in OWNERS.get(daemon, (daemon,)) for _, prog in holders):
        return CheckResult(name, True, f"{daemon} listens on port {port}")
    if holders:
        return check_port_owner(ctx, port, daemon)
    return CheckResult(name, False, "nothing listens", daemon,
                       f"start {daemon} (the step that configures it does)", advisory=True)


def _connect_verdict(address: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            banner = sock.makefile("rb").readline().decode(errors="replace").strip()
            return True, banner or "connected"
    except socket.timeout:
        return False, "timeout"
    except ConnectionRefusedError:
        return False, "refused"
    except OSError as exc:
        return False, exc.strerror or str(exc)


def check_outbound_25(ctx: CheckContext, domain: str) -> CheckResult:
    name = f"outbound port 25 to {domain}"
    hosts, how = mail_hosts(domain, ctx.timeout)
    address = next((a for h in hosts for a in addresses_of(h, ctx.timeout)), None)
    if address is None:
        return CheckResult(name, False, f"cannot tell: {how or 'no mail server found'}", "",
                           "check external.address in the answers", advisory=True)
    ok, verdict = _connect_verdict(address, 25, ctx.timeout)
    if ok:
        return CheckResult(name, True, f"{hosts[0]} ({address}) answers: {verdict}")
    if verdict in ("timeout", "Network is unreachable", "No route to host"):
        found = (f"no answer from {address}:25 within {ctx.timeout:g} s" if verdict == "timeout"
                 else f"{address}:25 {verdict}")
        return CheckResult(name, False, found, "a 220 greeting",
                           "your provider most likely blocks outgoing port 25 (common on home and "
                           "cloud networks): ask them to open it, or send through their relay host "
                           "(give [relay] host and user in the answers: the relay-host chapter)",
                           advisory=True)
    return CheckResult(name, False, f"{address}:25 {verdict}", "a 220 greeting",
                       f"{domain}'s mail server is down, or a firewall on this side rejects port 25 "
                       "(then send through a relay host: [relay] in the answers)",
                       advisory=True)


def check_relay_host(ctx: CheckContext, host: str, port: str) -> CheckResult:
    """The relay host answers, offers STARTTLS, and after it AUTH (what Postfix will need)."""
    from wizard.net.dialogue import Dialogue, DialogueError, Transcript, connect

    name = f"relay host {host}:{port}"
    addresses = addresses_of(host, ctx.timeout)
    if not addresses:
        return CheckResult(name, False, f"{host} has no address (A record)", "an address",
                           "check [relay] host against your provider's instructions")
    try:
        with Dialogue(connect(host, int(port), ctx.timeout), Transcript(), ctx.timeout) as talk:
            greeting = talk.read_reply()
            talk.send(f"EHLO {ctx.values.get('fqdn', 'localhost')}")
            offered = talk.read_reply().text.upper().split()
            if "STARTTLS" not in offered:
                return CheckResult(name, False, f"{host} answers ({greeting.last}) but offers no STARTTLS",
                                   "STARTTLS", "the password would travel in clear: use the port your "
                                   "provider gives for authenticated submission (587, or 465)")
            talk.send("STARTTLS")
            talk.read_reply()
            talk.start_tls(host)
            talk.send(f"EHLO {ctx.values.get('fqdn', 'localhost')}")
            offered = talk.read_reply().text.upper()
            talk.send("QUIT")
    except DialogueError as exc:
        return CheckResult(name, False, str(exc), "a 220 greeting",
                           f"nothing usable answers on {host}:{port}: check the host and port, and that "
                           "this box may connect out to that port")
    if "AUTH" not in offered:
        return CheckResult(name, False, f"{host} offers no AUTH after STARTTLS", "AUTH",
                           "this relay host does not take a login on this port: check its port")
    return CheckResult(name, True, f"{greeting.last}; STARTTLS, then AUTH offered")


# ---- DNS block lists (RFC 5782) ----------------------------------------------------------------

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
    address, problem = _public_address(fqdn, ctx.timeout)
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


# The outside simulated on this box (vantage "box") is a stranger to the server, but not the internet.
SIMULATED_OUTSIDE = ("the outside is simulated on this box, so whether the internet reaches this server, "
                     "and by which name, is not something it can show")


def check_reachable(ctx: CheckContext, host: str, port: str) -> CheckResult:
    """The port as the outside sees it, from the external vantage point when there is one."""
    from wizard.net.dialogue import Dialogue, DialogueError, Transcript, open_channel

    name = f"{host}:{port} from outside"
    via = ctx.values.get("vantage", "none")
    if via in ("none", "manual", "local", ""):
        return CheckResult(name, True, f"not checked: no outside vantage point ({via})", advisory=True)
    if ctx.values.get("outside_here"):
        return CheckResult(name, True, f"not checked: {SIMULATED_OUTSIDE}", advisory=True)
    wait = ctx.timeout * WAIT_SHARE
    try:
        with Dialogue(open_channel(host, int(port), wait, via, ctx.values.get("ssh_config", "")), Transcript(), wait) as talk:
            line = talk.read_line(time.monotonic() + wait)
    except DialogueError as exc:
        line = "timed out" if "did not answer" in str(exc) else f"mailwizard-relay: {exc}"
    if line[:1].isdigit() or line.startswith("*"):
        return CheckResult(name, True, f"answers from {via}: {line.strip()}")
    if "timed out" in line:
        return CheckResult(name, False, f"no answer from {via}", "a greeting",
                           f"a firewall or NAT drops port {port} on its way in: open and forward it",
                           advisory=True)
    return CheckResult(name, False, line.replace("mailwizard-relay: ", "").strip() or "no greeting",
                       "a greeting", f"nothing answers on the public address: is the daemon running, "
                       f"and does a firewall reject port {port}?", advisory=True)


def check_http_01(ctx: CheckContext, fqdn: str) -> CheckResult:
    """Port 80 as the ACME CA's HTTP-01 challenge needs it: which way certbot answers there (its
    own server on a free port 80, or a web server's webroot), and whether the outside gets in."""
    name = f"port 80 for the certificate of {fqdn}"
    webroot = ctx.values.get("acme_webroot", "")
    holders = [prog for _, prog in listeners(80)]
    if webroot and not ctx.system.path(webroot).is_dir():
        return CheckResult(name, False, f"the webroot {webroot} is not a directory", "the web server's document root",
                           "set [certificate] webroot to the directory your web server serves, or remove it "
                           "to let certbot's own server answer on port 80")
    if webroot and not holders:
        return CheckResult(name, False, "nothing listens on port 80, though a webroot is given", "a web server",
                           "start the web server that serves the webroot, or remove [certificate] webroot "
                           "to let certbot's own server answer on port 80")
    if holders and not webroot:
        return CheckResult(name, False, f"{holders[0]} listens on port 80", "port 80 free for certbot",
                           "set [certificate] webroot to that web server's document root (certbot then "
                           "answers the challenge through it), or stop it while the walk runs")
    how = (f"{holders[0]} serves port 80: certbot answers through the webroot {webroot}" if webroot
           else "port 80 is free: certbot's own server answers the CA there")
    via = ctx.values.get("vantage", "none")
    if ctx.values.get("outside_here"):
        via = "none"            # the outside simulated on this box is not the CA's way in
    if via in ("none", "manual", "local", "") or webroot:
        return CheckResult(name, True, how + ("" if webroot else f" (not tried from outside: no vantage point, {via})"))
    verdict = _port_80_from(ctx, fqdn, via)
    if verdict:
        return CheckResult(name, False, f"{how}, but from {via}: {verdict}", f"{fqdn}:80 reachable from outside",
                           f"a firewall (here or at your provider) blocks port 80 from outside: open it, "
                           "the CA fetches the challenge there")
    return CheckResult(name, True, f"{how}, and {via} reaches it")


def _port_80_from(ctx: CheckContext, fqdn: str, via: str) -> str:
    """Listen on port 80 for a moment and connect from the vantage point: "" when it got in,
    else what it met (refused, unreachable, timed out)."""
    from wizard.net.dialogue import DialogueError, open_channel

    greeting = b"HTTP/1.0 204 mailwizard\r\n\r\n"
    try:
        server = socket.create_server(("", 80), family=socket.AF_INET6, dualstack_ipv6=True)
    except OSError:
        try:
            server = socket.create_server(("", 80))
        except OSError as exc:
            return f"could not listen on port 80 to try it ({exc.strerror or exc})"
    server.settimeout(ctx.timeout)

    def answer() -> None:
        try:
            peer, _ = server.accept()
            with peer:
                peer.sendall(greeting)
        except OSError:
            pass

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        sock = open_channel(fqdn, 80, ctx.timeout, via, ctx.values.get("ssh_config", ""))
        sock.settimeout(ctx.timeout)
        got = b""
        with sock:
            while b"\r\n" not in got:
                chunk = sock.recv(256)
                if not chunk:
                    break
                got += chunk
        text = got.decode(errors="replace")
        if text.startswith("HTTP/1.0 204"):
            return ""
        from wizard.net.dialogue import RELAY_PREFIX

        return text.replace(RELAY_PREFIX, "").strip() or "the connection closed at once"
    except (OSError, DialogueError) as exc:
        return f"{exc}"
    finally:
        server.close()
        thread.join(ctx.timeout)


def check_renewal(ctx: CheckContext, fqdn: str, hook: str) -> CheckResult:
    """certbot renews by itself (its systemd timer, or its cron job where systemd does not run)
    and the deploy hook reloads both daemons afterwards."""
    name = f"renewal of {fqdn}'s certificate"
    path = ctx.system.path
    # certbot's package sets up both; its cron job stands down where systemd runs the timer.
    under_systemd = path("/run/systemd/system").is_dir()
    if under_systemd and path("/etc/systemd/system/timers.target.wants/certbot.timer").exists():
        how = "certbot.timer renews it"
    elif not under_systemd and path("/etc/cron.d/certbot").exists():
        how = "/etc/cron.d/certbot renews it (twice a day, wherever cron runs)"
    else:
        return CheckResult(name, False, "certbot's " + ("timer is not enabled" if under_systemd else "cron job is missing"),
                           "certbot.timer" if under_systemd else "/etc/cron.d/certbot",
                           "systemctl enable --now certbot.timer" if under_systemd else
                           "reinstall certbot (apt-get install --reinstall certbot), which puts its cron job back")
    hook_file = path(hook)
    if not hook_file.is_file() or not os.access(hook_file, os.X_OK):
        return CheckResult(name, False, f"no executable deploy hook {hook}", "a hook that reloads Postfix and Dovecot",
                           "run the certificate step again (`mailwizard run`): without the hook both "
                           "daemons serve the old certificate after a renewal until it expires")
    return CheckResult(name, True, f"{how}; {hook} reloads Postfix and Dovecot afterwards")


def served_certificate(port: int, timeout: float) -> bytes:
    """The certificate a TLS port of this box serves (implicit TLS: 465, 993), unverified."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True) or b""


def check_served_certificate(ctx: CheckContext, fqdn: str, cert_file: str) -> CheckResult:
    """Days left on what Postfix (465) and Dovecot (993) serve, and whether both serve certbot's
    newest certificate (a renewal that did not reach a daemon shows here first)."""
    import ssl

    from wizard.acme import facts_of_file, facts_of_pem

    name = f"certificate served for {fqdn}"
    newest = facts_of_file(ctx.system, cert_file)
    served = {}
    for daemon, port in (("Postfix", 465), ("Dovecot", 993)):
        try:
            served[(daemon, port)] = facts_of_pem(
                ctx.system, ssl.DER_cert_to_PEM_cert(served_certificate(port, ctx.timeout)))
        except OSError as exc:
            return CheckResult(name, False, f"{daemon} serves nothing on {port} ({exc.strerror or exc})",
                               "a certificate", f"start {daemon.lower()}", advisory=True)
    return judge_served(name, served, newest)


def judge_served(name: str, served: dict, newest) -> CheckResult:
    """The verdict on what each (daemon, port) serves: certbot's newest (when known), and time
    left — under RENEW_WITHIN_DAYS a warning, expired a failure."""
    from wizard.acme import RENEW_WITHIN_DAYS     # here: `check` starts without the ACME code

    for (daemon, port), facts in served.items():
        if facts is None:
            return CheckResult(name, False, f"{daemon} on {port}: unreadable certificate", advisory=True)
        if newest and facts.serial != newest.serial:
            return CheckResult(name, False, f"{daemon} on {port} serves serial {facts.serial}, but certbot's "
                               f"newest is {newest.serial}", "the newest certificate",
                               f"reload it (`{'postfix reload' if daemon == 'Postfix' else 'doveadm reload'}`); "
                               "the deploy hook in /etc/letsencrypt/renewal-hooks/deploy/ does this after "
                               "every renewal — check that it is there and executable")
        if facts.days_left < 0:
            return CheckResult(name, False, f"{daemon} on {port} serves a certificate that expired on "
                               f"{facts.not_after}", "a valid certificate",
                               "renew it: `certbot renew`, then check that port 80 is open from outside")
        if facts.days_left < RENEW_WITHIN_DAYS:
            return CheckResult(name, False, f"{daemon} on {port}: {facts.days_left} days left ({facts.not_after})",
                               f"more than {RENEW_WITHIN_DAYS} days",
                               "certbot should have renewed it by now: run `certbot renew` and read its "
                               "error (port 80 closed, a changed A record?)", advisory=True)
    last = list(served.values())[-1]
    return CheckResult(name, True, f"both daemons serve serial {last.serial}, {last.days_left} days left "
                       f"(until {last.not_after})")


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


def check_owned_by(ctx: CheckContext, path: str, owner: str, group: str) -> CheckResult:
    import grp
    import pwd

    name = f"{path} belongs to {owner}:{group}"
    target = ctx.system.path(path)
    try:
        st = target.stat()
    except FileNotFoundError:
        return CheckResult(name, False, f"{path} does not exist", f"{owner}:{group}",
                           f"mkdir {path}; chown {owner}:{group} {path}")
    try:
        have = f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}"
    except KeyError:
        have = f"{st.st_uid}:{st.st_gid}"
    if ctx.system.sandbox or have == f"{owner}:{group}":
        return CheckResult(name, True, have)
    return CheckResult(name, False, have, f"{owner}:{group}", f"chown {owner}:{group} {path}")


def check_private_file(ctx: CheckContext, path: str, group: str) -> CheckResult:
    """Readable by root and `group` only: never by every user of the box."""
    import grp

    name = f"{path} is not world-readable"
    target = ctx.system.path(path)
    try:
        st = target.stat()
    except FileNotFoundError:
        return CheckResult(name, False, f"{path} does not exist", "a file", "run the step that writes it")
    mode = st.st_mode & 0o777
    try:
        have_group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        have_group = str(st.st_gid)
    if mode & 0o007 == 0 and (ctx.system.sandbox or have_group == group):
        return CheckResult(name, True, f"mode {mode:o}, group {have_group}")
    return CheckResult(name, False, f"mode {mode:o}, group {have_group}", f"mode 640, group {group}",
                       f"chown root:{group} {path}; chmod 0640 {path}")


def check_owner_only(ctx: CheckContext, path: str, owner: str) -> CheckResult:
    """A secret (a private key) readable by its owner alone: mode 600 or tighter."""
    import pwd

    name = f"{path} is readable by {owner} only"
    try:
        st = ctx.system.path(path).stat()
    except FileNotFoundError:
        if ctx.system.sandbox:
            return CheckResult(name, True, "sandbox: no key is made there")
        return CheckResult(name, False, f"{path} does not exist", "a file", "run the step that makes it")
    try:
        have = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        have = str(st.st_uid)
    mode = st.st_mode & 0o777
    if mode & 0o077 == 0 and (ctx.system.sandbox or have == owner):
        return CheckResult(name, True, f"mode {mode:o}, owner {have}")
    return CheckResult(name, False, f"mode {mode:o}, owner {have}", f"mode 600, owner {owner}",
                       f"chown {owner} {path}; chmod 0600 {path}")


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
    the server's public address: its syntax, the 10-lookup limit, and an `all` that allows all."""
    import spf

    terms = record.split()
    if any(term in ("+all", "all") for term in terms):
        return "the record ends in +all: it allows every host of the internet to send as you"
    fqdn = ctx.values.get("fqdn", "")
    addresses = lookup(fqdn, "A", ctx.timeout).records if fqdn else []
    if not addresses:
        return ""           # the a-record check says what is wrong with the address
    result, explanation = spf.check2(i=addresses[0], s=f"postmaster@{domain}", h=fqdn, timeout=ctx.timeout)
    if result == "pass":
        return ""
    return f"SPF gives '{result}' for this server's address {addresses[0]}: {explanation}"


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


CHECKS = {
    "outside-name": check_outside_name,
    "dns-record": check_dns_record,
    "owned-by": check_owned_by,
    "owner-only": check_owner_only,
    "private-file": check_private_file,
    "command": check_command,
    "a-record": check_a_record,
    "mx": check_mx,
    "ptr": check_ptr,
    "fcrdns": check_fcrdns,
    "hostname": check_hostname,
    "static-address": check_static_address,
    "port-owner": check_port_owner,
    "listening": check_listening,
    "outbound-25": check_outbound_25,
    "relay-host": check_relay_host,
    "blocklists": check_blocklists,
    "listed-client": check_listed_client,
    "reachable": check_reachable,
    "http-01": check_http_01,
    "renewal": check_renewal,
    "served-certificate": check_served_certificate,
    "mx-points-here": check_mx_points_here,
    "domain-takes-mail": check_domain_takes_mail,
}


def run_requirement(system: System, requirement: Requirement, values: dict[str, str],
                    timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    return run_requirements(system, [requirement], values, timeout)[0]


SETTLE_MARGIN = 0.5  # seconds a check may run past its timeout before it is given up on


def run_requirements(system: System, requirements: list[Requirement], values: dict[str, str],
                     timeout: float = DEFAULT_TIMEOUT) -> list[CheckResult]:
    """Every check at once; the whole run waits about one timeout at most, whatever DNS does.

    Daemon threads, not a pool: a check stuck behind a silent DNS server must not keep the
    process from exiting once its result has been given up on.
    """
    ctx = CheckContext(system, values, timeout)
    slots: list[CheckResult | BaseException | None] = [None] * len(requirements)

    def work(i: int, requirement: Requirement) -> None:
        try:
            slots[i] = CHECKS[requirement.check](ctx, *(a.format(**values) for a in requirement.args))
        except BaseException as exc:        # reported as the check's result, never a traceback
            slots[i] = exc

    import dns.resolver  # noqa: F401  -- once, here: thirty threads importing it at once cost a budget

    threads = [threading.Thread(target=work, args=(i, r), daemon=True) for i, r in enumerate(requirements)]
    for thread in threads:
        thread.start()
    # A lookup gives up at 0.9 of the timeout; the margin lets its check say why even when two
    # busy cores start thirty threads late, so a cut-off (named by its title) stays the exception.
    deadline = time.monotonic() + timeout + SETTLE_MARGIN
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [_settle(r, slot, values, timeout) for r, slot in zip(requirements, slots)]


def check_title(requirement: Requirement) -> str:
    """What a check is called before it has a result (the name its result would carry)."""
    if requirement.check == "dns-record":
        return f"{requirement.args[0]} {requirement.args[1]}"
    return " ".join([requirement.check, *requirement.args])


def _settle(requirement: Requirement, slot, values: dict[str, str], timeout: float) -> CheckResult:
    if isinstance(slot, CheckResult):
        result = slot
    elif isinstance(slot, BaseException):
        result = CheckResult(requirement.check, False, f"the check itself failed: {slot}", advisory=True)
    else:
        result = CheckResult(check_title(requirement).format(**values), False,
                             f"no result within {timeout:g} s", "an answer",
                             "a DNS server or a network peer does not answer: check /etc/resolv.conf "
                             "and the network", advisory=True)
    if requirement.advisory and not result.ok and not result.advisory:
        result = CheckResult(result.name, False, result.found, result.expected, result.fix, True)
    return result
