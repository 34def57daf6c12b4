"""The mail log Postfix writes itself (`maillog_file`), read by byte offsets.

A probe notes where the log ended before it started; its log window is what came after.
"""

from __future__ import annotations

import re
from pathlib import Path

from wizard.net.watch import file_size, read_since, wait_for

MAIL_LOG = "/var/log/mail.log"
DOVECOT_LOG = "/var/log/dovecot.log"       # log_path in the dovecot.conf mailwizard writes (E1)
_FATE = r"{qid}: to=<[^>]*>.*status=(sent|bounced|deferred)[^\n]*"


class MailLog:
    def __init__(self, path: Path):
        self.path = path

    def offset(self) -> int:
        return file_size(self.path)

    def lines_since(self, start: int) -> list[str]:
        return read_since(self.path, start).splitlines()

    def wait_fate(self, queue_id: str, timeout: float, start: int = 0) -> str | None:
        """The log line that tells what became of a queued message (sent, bounced, deferred)."""
        match = wait_for(self.path, re.compile(_FATE.format(qid=re.escape(queue_id))),
                         start=start, timeout=timeout)
        return match.group(0) if match else None

    def fate(self, queue_id: str, start: int = 0) -> str:
        match = re.search(_FATE.format(qid=re.escape(queue_id)), read_since(self.path, start))
        return match.group(0) if match else ""


# The units whose journal holds a daemon's lines while it writes no file of its own.
JOURNAL_UNITS = {MAIL_LOG: ("postfix@-.service", "postfix.service"), DOVECOT_LOG: ("dovecot.service",),
                 "/var/log/rspamd/rspamd.log": ("rspamd.service",)}


class DaemonLog:
    """A daemon's lines wherever this box keeps them: the file it writes itself and, on a box
    run by systemd, its unit's lines in the journal (where they are while no log file is
    configured yet, or on a box without rsyslog). A mark is [file size, journal cursor]; a line
    the file and the journal both hold (rsyslog copies the journal) is given once."""

    def __init__(self, system, path: str):
        from wizard.system import systemd_booted

        self.system, self.file = system, MailLog(system.path(path))
        self.units = JOURNAL_UNITS.get(path, ()) if systemd_booted() and not system.sandbox else ()

    def offset(self) -> list:
        return [self.file.offset(), self._cursor()]

    def lines_since(self, mark) -> list[str]:
        size, cursor = (mark, "") if isinstance(mark, int) else (mark[0], mark[1])
        lines = self.file.lines_since(size)
        if not self.units or not cursor:
            return lines
        known = {message_of(line) for line in lines}
        return [line for line in self._journal("--after-cursor", cursor) if message_of(line) not in known] + lines

    def _cursor(self) -> str:
        if not self.units:
            return ""
        out = self.system.query(["journalctl", "-q", "--no-pager", "-n", "1", "-o", "cat", "--show-cursor"])
        for line in reversed(out.stdout.splitlines()):
            if line.startswith("-- cursor: "):
                return line[len("-- cursor: "):].strip()
        return ""

    def _journal(self, *where: str) -> list[str]:
        argv = ["journalctl", "-q", "--no-pager", "-o", "short", *where]
        for unit in self.units:
            argv += ["-u", unit]
        out = self.system.query(argv)
        return out.stdout.splitlines() if out.ok else []


def message_of(line: str) -> str:
    """A log line without its time stamp and host: `program[pid]: text`."""
    parts = line.split(" ")
    for i, part in enumerate(parts):
        if part.endswith(":") and ("[" in part or "/" in part):
            return " ".join(parts[i:])
    return line
