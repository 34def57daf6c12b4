"""The path a message takes through the server, and which parts of it a step or a probe touches.

Derived from the steps' own data (the files they write, the probes they send), so a new chapter
lights the right parts without saying anything extra.
"""

from __future__ import annotations

import socket

from wizard.model import Certificate, Directory, DkimKey, Probe, Service, Step, SystemUser
from wizard.probes.registry import action_for, expectation_for

# In the order a message travels; the diagram draws them in this order. The ports in the
# labels of smtpd and IMAP come from the steps (see `labels`).
PARTS = {
    "client": "outside client",
    "smtpd": "smtpd",
    "lmtp": "LMTP",
    "dovecot": "Dovecot",
    "maildir": "Maildir",
    "imap": "IMAP",
    "mua": "mail client",
    "sendmail": "sendmail",
    "local": "/var/mail",
    "sasl": "SASL auth",
    "milter": "rspamd (DKIM)",
    "relay": "other servers",
}

# Which part a setting belongs to, by its name's beginning (Postfix's and Dovecot's own naming).
SETTING_PREFIXES = (
    ("smtpd_sasl_", "sasl"), ("service auth", "sasl"), ("broken_sasl", "sasl"),
    ("virtual_transport", "lmtp"), ("service lmtp", "lmtp"), ("lmtp_", "lmtp"), ("protocol lmtp", "lmtp"),
    ("protocols", "imap"), ("ssl", "imap"), ("service imap", "imap"), ("imap_", "imap"),
    ("mail_", "maildir"), ("first_valid_", "maildir"),
    ("passdb", "dovecot"), ("userdb", "dovecot"), ("auth_", "dovecot"),
    ("relayhost", "relay"), ("smtpd_relay_restrictions", "relay"), ("smtp_", "relay"),
    ("mua_milters", "milter"), ("milter_", "milter"), ("smtpd_milters", "milter"),
)


def setting_part(name: str) -> str | None:
    return next((part for prefix, part in SETTING_PREFIXES if name.startswith(prefix)), None)


def file_part(path: str) -> str:
    if path.startswith("/etc/rspamd/"):
        return "milter"
    return "smtpd" if path.startswith("/etc/postfix/") else "dovecot"


def service_port(service: Service) -> int | None:
    """The port a master.cf service listens on: its name, or the port /etc/services gives it."""
    if service.type != "inet":
        return None
    name = service.name.rsplit(":", 1)[-1]
    if name.isdigit():
        return int(name)
    try:
        return socket.getservbyname(name, "tcp")
    except OSError:
        return None


def ports(steps) -> dict[str, list[int]]:
    """The ports each listening part has in these steps: from the probes that talk to them and
    the master.cf services that open them."""
    found: dict[str, set[int]] = {"smtpd": set(), "imap": set()}
    for step in steps:
        for probe in step.probes:
            part = action_for(probe.action).listens(probe)
            if part:
                found[part].add(probe.port)
        for fragment in step.files:
            for item in fragment.settings:
                if isinstance(item, Service) and item.command == "smtpd" and service_port(item):
                    found["smtpd"].add(service_port(item))
    return {part: sorted(numbers) for part, numbers in found.items()}


def labels(steps) -> dict[str, str]:
    """Each part's name in the diagram, with the ports the walk's steps use."""
    names = dict(PARTS)
    for part, numbers in ports(steps).items():
        if numbers:
            names[part] += " " + "/".join(f":{n}" for n in numbers)
    return names


def touched_by(step: Step) -> set[str]:
    """The parts a step changes (its files, its settings, the things it makes exist)."""
    if step.packages:
        return set(PARTS)
    parts: set[str] = set()
    for fragment in step.files:
        parts.add(file_part(fragment.path))
        for item in fragment.settings:
            names = [item.name] + [name for name, _ in getattr(item, "options", ())]
            parts.update(p for p in map(setting_part, names) if p)
    for item in step.ensure:
        if isinstance(item, SystemUser) or (isinstance(item, Directory) and "vmail" in item.path):
            parts.add("maildir")
        elif isinstance(item, Certificate):
            parts.add("imap")
        elif isinstance(item, DkimKey):
            parts.add("milter")
    return parts


def sends_out(path: list[str] | tuple[str, ...]) -> bool:
    """Whether a probe's path is the sending one (through SASL or on to other servers)."""
    return "sasl" in path or "relay" in path


def travelled_by(probe: Probe) -> list[str]:
    """The parts a probe passes through, in order (its action's handler says, asking its
    expectation's where the message goes on to)."""
    return action_for(probe.action).travelled(probe, expectation_for(probe.expect))
