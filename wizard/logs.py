"""The mail log Postfix writes itself (`maillog_file`), read by byte offsets.

A probe notes where the log ended before it started; its log window is what came after.
"""

from __future__ import annotations

import re
from pathlib import Path

from wizard.probes.watch import file_size, read_since, wait_for

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
