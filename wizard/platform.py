"""What this box runs: Debian release, Postfix and Dovecot versions, the service manager.

Every render takes its dialect from here, so one teaching step can be written in the syntax of
whatever Postfix and Dovecot are installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wizard.dialect import dialect_for
from wizard.system import System, in_other_netns, read_pid, systemd_booted

FALLBACK_COMPATIBILITY_LEVEL = "3.6"
POSTFIX_PID = "/var/spool/postfix/pid/master.pid"


@dataclass(frozen=True)
class Platform:
    debian: str | None
    postfix: str | None
    dovecot: str | None
    systemd: bool
    compatibility_level: str
    ipv6_address: str = ""      # the box's global IPv6 address ("": it has none)

    @property
    def dovecot_dialect(self) -> str:
        """The dovecot.conf syntax to write: "2.3" (the tutorial's) or "2.4"."""
        return dialect_for(self.dovecot, self.debian)

    def values(self) -> dict[str, str]:
        return {"compatibility_level": self.compatibility_level,
                "dovecot_dialect": self.dovecot_dialect,
                "ipv6": "yes" if self.ipv6_address else "no", "ipv6_address": self.ipv6_address}

    def describe(self) -> str:
        return (f"Debian {self.debian or '?'}, Postfix {self.postfix or 'not installed'}, "
                f"Dovecot {self.dovecot or 'not installed'} ({self.dovecot_dialect} syntax), "
                f"{'systemd' if self.systemd else 'no systemd'}")


def detect(system: System) -> Platform:
    debian = _read("/etc/debian_version").strip() or None
    postfix = _first(system.query(["postconf", "-d", "-h", "mail_version"]).stdout)
    dovecot_out = system.query(["dovecot", "--version"])
    dovecot = _first(dovecot_out.stdout).split(" ")[0] if dovecot_out.ok else None
    return Platform(debian, postfix or None, dovecot or None, systemd_booted(),
                    _compatibility_level(postfix), global_ipv6(system))


def global_ipv6(system: System) -> str:
    """The first IPv6 address of this box that the internet could reach: scope global, and
    neither unique-local (fc00::/7, a site's own), link-local nor loopback. The documentation
    prefix counts: the lab's addresses are taken from it. Tentative or deprecated addresses
    (still being checked for duplicates, or on their way out) are not offered for new mail."""
    import ipaddress

    argv = ["ip", "-6", "-o", "addr", "show", "scope", "global"]
    # The server's addresses are those of the network its Postfix serves: a walk made in the lab
    # is asked about from the host too (`status`), where the lab's addresses are not ours.
    master = read_pid(POSTFIX_PID)
    if in_other_netns(master):
        argv = ["nsenter", f"--net=/proc/{master}/ns/net", *argv]
    listed = system.query(argv)
    for line in listed.stdout.splitlines():
        words = line.split()
        if "inet6" not in words or {"tentative", "deprecated", "dadfailed"} & set(words):
            continue
        try:
            address = ipaddress.IPv6Address(words[words.index("inet6") + 1].split("/")[0])
        except (IndexError, ValueError):
            continue
        if not (address in ipaddress.IPv6Network("fc00::/7") or address.is_link_local or address.is_loopback):
            return str(address)
    return ""


def _first(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _read(path: str) -> str:
    # The platform is the box's own, also when files are written into a sandbox.
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _compatibility_level(postfix_version: str | None) -> str:
    """The level a fresh install of this Postfix writes: its main.cf.proto carries it."""
    for source in ("/etc/postfix/main.cf.proto", "/usr/share/postfix/main.cf.dist"):
        m = re.search(r"^compatibility_level\s*=\s*([0-9.]+)\s*$", _read(source), re.M)
        if m:
            return m.group(1)
    return FALLBACK_COMPATIBILITY_LEVEL
