"""`answered`: what the server must (and must not) say, what its log must show meanwhile, a
path that must exist after — the verdict on an IMAP session, a doveadm test or a refused
connection."""

from __future__ import annotations

import re

from wizard.config import fill
from wizard.net.watch import wait_for
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET


@expectation
class Answered(ExpectationHandler):
    kind = "answered"

    def describe(self, expect, values):
        if expect.refused:
            return "the connection is refused (nothing listens)"
        if expect.tls_fails:
            return "the TLS handshake fails: this port speaks plain IMAP first"
        # Replies are templates like the rest ("{{SHA512-CRYPT}}" is the literal "{SHA512-CRYPT}").
        parts = [f"the server says {' … '.join(repr(fill(r, values)) for r in expect.replies)}"] \
            if expect.replies else []
        parts += [f"not {repr(fill(a, values))}" for a in expect.absent]
        parts += [f"the log shows {repr(fill(l, values))}" for l in expect.log]
        parts += [f"{fill(expect.exists, values)} exists"] if expect.exists else []
        return "; ".join(parts)

    def judge_lines(self, ctx, expect, result, lines, refused=False, why=""):
        if refused or expect.refused:
            if refused and expect.refused:
                result.status, result.actual = MET, why
            else:
                result.actual = why if refused else f"connected: {lines[0] if lines else '(no greeting)'}"
            return
        values = ctx.values
        text = "\n".join(lines)
        position, missing = 0, []
        for wanted in expect.replies:
            found = text.find(fill(wanted, values), position)
            if found < 0:
                missing.append(wanted)
            else:
                position = found + len(wanted)
        present = [a for a in expect.absent if fill(a, values) in text]
        log_missing = [entry for entry in expect.log
                       if not wait_for(ctx.dovecot_log.path, re.compile(re.escape(fill(entry, values))),
                                       start=ctx.dovecot_start, timeout=3.0)]
        exists = fill(expect.exists, values)
        absent_path = exists and not ctx.system.path(exists).exists()
        wanted_last = fill(expect.replies[-1], values) if expect.replies else ""
        last = next((l for l in lines if wanted_last and wanted_last in l), "") or \
            next((l for l in reversed(lines) if l.startswith(("a ", "* BYE", "* BAD"))), lines[-1] if lines else "")
        if len(last) > 90:
            last = last[:40] + " … " + last[-40:]
        if not (missing or present or log_missing or absent_path):
            said = [last] if last else (["the server said nothing and closed the connection"] if not lines else [])
            said += [f"the log says so ({', '.join(repr(fill(l, values)) for l in expect.log)})"] if expect.log else []
            said += [f"{exists} exists"] if exists else []
            result.status, result.actual = MET, "; ".join(said)
            return
        problems = [f"the server never said {m!r}" for m in missing] + [f"the server said {p!r}" for p in present]
        problems += [f"the log does not show {fill(l, values)!r}" for l in log_missing]
        problems += [f"{exists} does not exist"] if absent_path else []
        result.actual = f"{last}; " + "; ".join(problems) if last else "; ".join(problems)

    def reaches_maildir(self, expect):
        return bool(expect.exists)
