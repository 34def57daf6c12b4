"""Prerequisite checks. Each result says what was found, what was expected and what to do."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass

from wizard.model import Requirement
from wizard.system import System

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DNS_TIMEOUT = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    found: str
    expected: str = ""
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark} {self.name}: {self.found}"
        if not self.ok and self.expected:
            text += f" (expected {self.expected})"
        if not self.ok and self.fix:
            text += f" — {self.fix}"
        return text


def check_command(system: System, name: str) -> CheckResult:
    found = shutil.which(name, path=SBIN_PATH)
    if found:
        return CheckResult(f"command {name}", True, found)
    package = {"postfix": "postfix", "sendmail": "postfix", "postconf": "postfix",
               "dovecot": "dovecot-core", "doveadm": "dovecot-core"}.get(name)
    fix = (f"install it with the `install` step or `apt-get install {package}`" if package
           else f"install the package that provides {name}")
    return CheckResult(f"command {name}", False, "not found", "installed", fix)


def is_local_address(address: str) -> bool:
    """True when this box owns `address` (binding to it succeeds)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


def mail_hosts(domain: str) -> tuple[list[str], str]:
    """The hosts that receive mail for `domain` (MX, or the domain's own A as Postfix falls back)."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_TIMEOUT
    try:
        answer = resolver.resolve(domain, "MX")
        hosts = [str(r.exchange).rstrip(".") for r in sorted(answer, key=lambda r: r.preference)]
        return hosts, f"MX {', '.join(hosts)}"
    except dns.resolver.NoAnswer:
        return [domain], "no MX record, so Postfix uses the domain's own address"
    except dns.resolver.NXDOMAIN:
        return [], f"{domain} does not exist in DNS (NXDOMAIN)"
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        return [], f"DNS did not answer for {domain} ({exc.__class__.__name__})"


def addresses_of(host: str) -> list[str]:
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_TIMEOUT
    found = []
    for rdtype in ("A", "AAAA"):
        try:
            found += [r.address for r in resolver.resolve(host, rdtype)]
        except (dns.exception.DNSException, OSError):
            pass
    return found


def check_mx_points_here(system: System, domain: str) -> CheckResult:
    name = f"mail for {domain} comes here"
    hosts, how = mail_hosts(domain)
    if not hosts:
        return CheckResult(name, False, how, f"an MX record for {domain} naming this server",
                           f"add an MX record for {domain} pointing at this server's name, with "
                           "an A record for that name")
    for host in hosts:
        for address in addresses_of(host):
            if is_local_address(address):
                return CheckResult(name, True, f"{how}; {host} is {address}, an address of this box")
    return CheckResult(name, False, f"{how}, and none of it resolves to an address of this box",
                       "the MX host's address to be this server's",
                       f"point the MX record of {domain} at this server")


def check_domain_takes_mail(system: System, domain: str) -> CheckResult:
    name = f"{domain} has a mail server in DNS"
    hosts, how = mail_hosts(domain)
    addresses = [a for host in hosts for a in addresses_of(host)]
    if addresses:
        return CheckResult(name, True, f"{how}; at {', '.join(addresses[:3])}")
    return CheckResult(name, False, how if not hosts else f"{how}, but it has no address",
                       f"an MX (or A) record for {domain}",
                       f"check external.address in the answers ({domain} must receive mail), "
                       "or run in the lab (`mailwizard lab up`, then `--lab`)")


CHECKS = {
    "domain-takes-mail": check_domain_takes_mail,
    "command": check_command,
    "mx-points-here": check_mx_points_here,
}


def run_requirement(system: System, requirement: Requirement, values: dict[str, str]) -> CheckResult:
    args = [a.format(**values) for a in requirement.args]
    return CHECKS[requirement.check](system, *args)
