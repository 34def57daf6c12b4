"""`sendmail`: a message handed to Postfix by the local `sendmail` command."""

from __future__ import annotations

from wizard.config import fill
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import message_lines


@action
class Sendmail(ActionHandler):
    kind = "sendmail"

    def run(self, ctx, probe, result, transcript, via):
        expect = probe.expect
        judge = ctx.expectation(expect)
        to = fill(probe.action.to, ctx.values)
        marker = ctx.marker(probe)
        mailbox_start = judge.mailbox_start(ctx, expect)
        transcript.add("C", f"$ sendmail {to}")
        message = message_lines(fill(probe.action.body, ctx.values), marker)
        for line in message:
            transcript.add("C", line)
        transcript.add("C", ".")
        done = ctx.system.run(["sendmail", "-i", to], input="\n".join(message) + "\n", timeout=30)
        if not done.ok:
            result.actual = done.describe()
            return
        judge.after_accepted(ctx, expect, result, marker, mailbox_start, queue_id=None)

    def travelled(self, probe, expect):
        return ["sendmail", "local"]
