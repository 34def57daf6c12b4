"""What the tests and the benchmarks share: the answers they walk with, and the files they put
back afterwards (benchmarks/bench.py imports this module too)."""

from __future__ import annotations

ANSWERS = """\
maildomain = "example.test"
mailhost   = "mail"
[[users]]
address  = "alice@example.test"
password = "123456"
[external]
address = "bob@ext.test"
vantage = "none"
"""


def kept_files() -> list[str]:
    """What the tests (and the benchmarks) put back after a walk: every file a step writes and
    its tutorial-style .bak, master.cf (which chapters extend), the certificates the steps make,
    and what the daemons change on their own (logs, root's mailbox, Postfix's chroot)."""
    from steps import ALL_STEPS
    from wizard.config import managed_paths
    from wizard.model import Certificate, walk_order

    steps = walk_order(ALL_STEPS, True) + ALL_STEPS
    written = managed_paths(steps) + ["/etc/postfix/master.cf"]
    certificates = [path for s in steps for e in s.ensure if isinstance(e, Certificate) for path in (e.cert, e.key)]
    # Postfix's address verification cache outlives its daemons: a verdict one test's walk left
    # (abuse@ deliverable) would answer another test's audit before any probe.
    daemons = ["/var/mail/root", "/var/log/mail.log", "/var/log/dovecot.log",
               "/var/spool/postfix/etc/resolv.conf", "/var/spool/postfix/etc/hosts",
               "/var/lib/postfix/verify_cache.db"]
    return list(dict.fromkeys(written + [f"{p}.bak" for p in written] + certificates + daemons))
