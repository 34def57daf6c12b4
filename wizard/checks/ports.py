"""The checks of ports: who listens on a port (and who squats it), whether it answers, whether the outside reaches it, outbound port 25, a relay host that takes a login."""

from __future__ import annotations

import os
import socket
import time

from wizard.timeouts import WAIT_SHARE

from wizard.checks.dns import SIMULATED_OUTSIDE, addresses_of, mail_hosts
from wizard.checks.result import CheckContext
from wizard.outcomes import CheckResult


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


def check_reachable(ctx: CheckContext, host: str, port: str) -> CheckResult:
    """The port as the outside sees it, from the external vantage point when there is one."""
    from wizard.net.dialogue import Dialogue, DialogueError, Transcript, open_channel

    name = f"{f'[{host}]' if ':' in host else host}:{port} from outside"     # [2001:db8::25]:25
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
