"""`flush`: `postqueue -f`, then each message an earlier probe left waiting for the recipient
must leave delivered (through the way the expectation names)."""

from __future__ import annotations

import json

from wizard.config import fill
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import MARKER_HEADER, MET, log_said


@action
class Flush(ActionHandler):
    kind = "flush"

    def run(self, ctx, probe, result, transcript, via):
        rcpt = fill(probe.action.rcpt, ctx.values)
        sent_by = probe.action.sent_by
        held = [qid for qid in self._held_for(ctx, rcpt) if self._sent_by(ctx, qid, sent_by)]
        transcript.add("C", "$ postqueue -p")
        transcript.add("S", f"({len(held)} message(s) from {sent_by} wait for {rcpt}: {', '.join(held) or 'none'})")
        if not held:
            result.actual = f"nothing {sent_by} sent waited in the queue for {rcpt}: there was nothing to flush"
            return
        transcript.add("C", "$ postqueue -f")
        ctx.system.run(["postqueue", "-f"], changes_box=False)
        route = ctx.expectation(probe.expect).route(ctx, probe.expect)
        fates = [(qid, ctx.log.wait_fate(qid, ctx.delivery_timeout, start=ctx.log_start)) for qid in held]
        for qid, line in fates:
            transcript.add("S", f"(the log) {log_said(line)[:200]}" if line else f"(the log) nothing for {qid}")
        bad = [qid for qid, line in fates if not line or "status=sent" not in line or route not in line]
        if bad:
            line = dict(fates)[bad[0]]
            result.actual = f"{bad[0]} was not delivered: " + (log_said(line) if line else
                                                               f"no delivery attempt after {ctx.delivery_timeout:g} s")
            return
        result.status = MET
        result.actual = f"{len(held)} waiting message(s) delivered on the flush" + (f" through {route}" if route else "")

    @staticmethod
    def _sent_by(ctx, queue_id: str, probe_id: str) -> bool:
        """Whether the queued message carries the marker of that probe (`postcat -hq`: headers)."""
        headers = ctx.system.run(["postcat", "-hq", queue_id], changes_box=False).stdout
        return f"{MARKER_HEADER}: {probe_id}-" in headers

    @staticmethod
    def _held_for(ctx, rcpt: str) -> list[str]:
        """Queue ids of the messages Postfix holds for `rcpt` (`postqueue -j`, one JSON a line)."""
        listing = ctx.system.run(["postqueue", "-j"], changes_box=False).stdout
        held = []
        for line in listing.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if any(r.get("address", "").lower() == rcpt.lower() for r in entry.get("recipients", [])):
                held.append(entry.get("queue_id", ""))
        return [qid for qid in held if qid]

    def travelled(self, probe, expect):
        return ["smtpd", "lmtp", "dovecot", "maildir"]      # the queue lets go of what waited: on to Dovecot
