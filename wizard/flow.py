"""The path a message takes through the server, and which parts of it a step or a probe touches.

Derived from the steps' own data (the files they write, the probes they send), so a new chapter
lights the right parts without saying anything extra.
"""

from __future__ import annotations

from wizard.model import (Answered, Certificate, Delivered, Directory, Imap, InInbox, Probe, Relayed,
                          Sendmail, SmtpMail, Step, SystemUser)

# In the order a message travels; the diagram draws them in this order.
PARTS = {
    "client": "outside client",
    "smtpd": "smtpd :25",
    "lmtp": "LMTP",
    "dovecot": "Dovecot",
    "maildir": "Maildir",
    "imap": "IMAP :143/:993",
    "mua": "mail client",
    "sendmail": "sendmail",
    "local": "/var/mail",
    "sasl": "SASL auth",
    "relay": "other servers",
}

# Settings that belong to one part more than to the daemon as a whole.
SETTING_PARTS = {
    "virtual_transport": "lmtp", "service lmtp": "lmtp", "protocols": "imap",
    "smtpd_sasl_auth_enable": "sasl", "smtpd_sasl_type": "sasl", "smtpd_sasl_path": "sasl",
    "service auth": "sasl", "mail_location": "maildir", "mail_home": "maildir",
    "mail_uid": "maildir", "mail_gid": "maildir", "passdb": "dovecot", "ssl": "imap",
    "relayhost": "relay", "smtpd_relay_restrictions": "relay",
}
FILE_PARTS = {"/etc/postfix/main.cf": "smtpd", "/etc/dovecot/dovecot.conf": "dovecot",
              "/etc/dovecot/users.db": "dovecot", "/etc/postfix/virtual": "smtpd"}


def touched_by(step: Step) -> set[str]:
    """The parts a step changes (its files, its settings, the things it makes exist)."""
    if step.packages:
        return set(PARTS)
    parts: set[str] = set()
    for fragment in step.files:
        parts.add(FILE_PARTS.get(fragment.path, "smtpd" if "postfix" in fragment.path else "dovecot"))
        for item in fragment.settings:
            part = SETTING_PARTS.get(getattr(item, "name", ""))
            if part:
                parts.add(part)
    for item in step.ensure:
        if isinstance(item, SystemUser) or (isinstance(item, Directory) and "vmail" in item.path):
            parts.add("maildir")
        elif isinstance(item, Certificate):
            parts.add("imap")
    return parts


def sends_out(path: list[str] | tuple[str, ...]) -> bool:
    """Whether a probe's path is the sending one (through SASL or on to other servers)."""
    return "sasl" in path or "relay" in path


def travelled_by(probe: Probe) -> list[str]:
    """The parts a probe passes through, in order."""
    action, expect = probe.action, probe.expect
    if isinstance(action, Sendmail):
        return ["sendmail", "local"]
    if isinstance(action, Imap):
        path = ["mua", "imap", "dovecot"]
        return path + (["maildir"] if isinstance(expect, Answered) and expect.exists else [])
    assert isinstance(action, SmtpMail)
    sending = action.auth or isinstance(expect, Relayed)
    # A probe sent on the box itself starts at smtpd; one from outside starts at the outside
    # client; mail being sent out starts at the user's mail client.
    path = ["mua"] if sending else (["client"] if probe.vantage == "external" else [])
    path.append("smtpd")
    if action.auth:
        path.append("sasl")
    if isinstance(expect, InInbox):
        path += ["lmtp", "dovecot", "maildir", "imap"]
    elif isinstance(expect, Delivered):
        path.append("maildir" if expect.mailbox.startswith("/var/vmail") else "local")
    elif isinstance(expect, Relayed):
        path.append("relay")
    return path            # refused, bounced or only asked what it offers: smtpd answered
