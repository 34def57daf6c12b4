"""`queued`: Postfix accepts the message and keeps it, deferred with the expected reason."""

from __future__ import annotations

from wizard.config import fill
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET, log_said


@expectation
class Queued(ExpectationHandler):
    kind = "queued"

    def describe(self, expect, values):
        reasons = " or ".join(f'"{r}"' for r in expect.any_of)
        return f"accepted, then held in the queue: \"{fill(expect.text, values)}\"" + (f", {reasons}" if reasons else "")

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        """Deferred, with the reason the probe expects; the message is left in the queue."""
        line = ctx.fate_line(result, queue_id)
        if line is None:
            return
        result.actual = log_said(line)
        if "status=deferred" in line and fill(expect.text, ctx.values) in line and \
                (not expect.any_of or any(reason in line for reason in expect.any_of)):
            result.status = MET
            result.actual += f"; {queue_id} waits in the queue (`postqueue -p` lists it)"
