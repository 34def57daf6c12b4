"""A probe's statuses and what every probe types and looks for (what it comes to is
wizard.outcomes.ProbeResult):
the SMTP lines in the tutorial's order, the message with the marker it is found by, the marker
found in a Maildir. Shared by the runner and every handler; imports nothing of theirs."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from wizard.config import fill
from wizard.model import SmtpMail

MET, FAILED, INCONCLUSIVE, NOT_RUN = "met", "failed", "inconclusive", "not-run"
DELIVERY_TIMEOUT = 20.0
REPLY_TIMEOUT = 10.0
MARKER_HEADER = "X-Mailwizard-Probe"


# ---- what an SMTP probe types (the benchmarks' floor sends the very same lines) ------------------

def smtp_stages(action: SmtpMail, values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(stage, line, expected code) in the order the tutorial types them; the AUTH stage's line
    is a placeholder for `auth_plain`'s."""
    greet = "EHLO" if action.ehlo or action.starttls or action.auth or action.implicit_tls else "HELO"
    stages = []
    if action.helo:
        stages.append(("HELO", f"{greet} {fill(action.helo, values)}", "250"))
    if action.starttls:
        stages += [("STARTTLS", "STARTTLS", "220"), ("HELO", f"EHLO {fill(action.helo, values)}", "250")]
    if action.auth:
        stages.append(("AUTH", "AUTH PLAIN", "235"))
    if action.rcpt:
        stages += [
            ("MAIL", f"MAIL FROM:<{fill(action.mail_from, values)}>", "250"),
            ("RCPT", f"RCPT TO:<{fill(action.rcpt, values)}>", "250"),
            ("DATA", "DATA", "354"),
        ]
    return stages


def auth_plain(user: str, password: str) -> str:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return f"AUTH PLAIN {token}"


def message_lines(body: str, marker: str, sender: str = "", recipient: str = "") -> list[str]:
    """The probe's message, dot-stuffed, with the marker header it is found by. With a sender,
    it has the header lines a mail client writes (From, To, Date, Message-ID)."""
    client = []
    if sender:
        from email.utils import formatdate, make_msgid

        client = [f"From: <{sender}>", f"To: <{recipient}>", f"Date: {formatdate()}",
                  f"Message-ID: {make_msgid(domain=sender.rpartition('@')[2])}"]
    lines = [*client, f"Subject: {body}", f"{MARKER_HEADER}: {marker}", "", *body.splitlines()]
    return ["." + line if line.startswith(".") else line for line in lines]


# ---- finding what a probe sent ------------------------------------------------------------------

def file_with(maildir: Path, marker: str) -> Path | None:
    """The message file under a Maildir (new/ or cur/ of any folder) that holds `marker`."""
    needle = marker.encode()
    for sub in ("new", "cur"):
        for path in sorted(maildir.glob(f"**/{sub}/*")):
            try:
                if needle in path.read_bytes():
                    return path
            except OSError:
                continue
    return None


def lag(path: Path) -> float | None:
    """Seconds since `path` was last written: how long a delivery waited to be noticed."""
    try:
        return round(max(0.0, time.time() - path.stat().st_mtime), 4)
    except OSError:
        return None


def log_said(line: str) -> str:
    """A log line without its prefix (time, host, program): what Postfix said."""
    return line.split(": ", 1)[-1]
