"""The checks of certificates: the ACME HTTP-01 way in (port 80 from outside), renewal with its hook, the certificate a daemon serves against the newest on disk."""

from __future__ import annotations

import os
import socket
import threading


from wizard.checks.dns import is_local_address
from wizard.checks.ports import listeners
from wizard.checks.result import CheckContext
from wizard.outcomes import CheckResult


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
        elsewhere = _addresses_elsewhere(fqdn, ctx.timeout)
        fix = (f"{fqdn}'s {' and '.join(elsewhere)} {'is' if len(elsewhere) == 1 else 'are'} not this box's: "
               "correct the record at your DNS provider (behind NAT: forward port 80 here), or "
               if elsewhere else "")
        return CheckResult(name, False, f"{how}, but from {via}: {verdict}", f"{fqdn}:80 reachable from outside",
                           fix + "a firewall (here or at your provider) blocks port 80 from outside: open it, "
                           "the CA fetches the challenge there")
    return CheckResult(name, True, f"{how}, and {via} reaches it")


def _addresses_elsewhere(fqdn: str, timeout: float) -> list[str]:
    """The name's A and AAAA records that are not this box's ("AAAA 2001:db8::99"): where the CA
    (which tries AAAA first) goes instead, when port 80 could not be reached."""
    from wizard.resolver import lookup

    return [f"{rdtype} {address}" for rdtype in ("AAAA", "A")
            for address in lookup(fqdn, rdtype, timeout).records if not is_local_address(address)]


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
