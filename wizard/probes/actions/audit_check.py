"""`audit-check`: one check of `mailwizard audit`, sent as the audit sends it, from the probe's
vantage point; its rows (those the expectation names, or all) must pass."""

from __future__ import annotations

from dataclasses import replace

from wizard.config import fill
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import MET


@action
class AuditCheck(ActionHandler):
    kind = "audit-check"

    def run(self, ctx, probe, result, transcript, via):
        from wizard.audit.battery import run_check, target_from_values     # the audit's code: when asked

        target = replace(target_from_values(ctx.values, False, ctx.reply_timeout),
                         via=via, host=fill(probe.host, ctx.values))
        wanted = ctx.expectation(probe.expect).rows(probe.expect)
        rows = [row for row in run_check(target, probe.action.check) if not wanted or row.id in wanted]
        for row in rows:
            transcript.add("S", f"({row.id}: {row.status}: {row.found})")
            for line in row.evidence:
                transcript.add("C" if line.startswith("C: ") else "S", line[3:] if line[1:3] == ": " else line)
        missing = [name for name in wanted if name not in {row.id for row in rows}]
        failing = [row for row in rows if row.status != "passed"]
        result.actual = "; ".join(f"{row.id} {row.status}: {row.found}" for row in failing) or \
            "; ".join(f"{row.id} passed" for row in rows)
        if missing:
            result.actual += f"; no row {', '.join(missing)}"
        if rows and not failing and not missing:
            result.status = MET

    def travelled(self, probe, expect):         # the audit's probes: a stranger at a port
        return ["client", "imap", "dovecot"] if probe.action.check in ("tls-143", "tls-993") else ["client", "smtpd"]
