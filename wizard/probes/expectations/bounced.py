"""`bounced`: Postfix accepts the message, gives up on it with the expected text, and (with
`arrives`) its bounce reaches the sender's mailbox outside."""

from __future__ import annotations

import re
from pathlib import Path

from wizard.config import fill
from wizard.net.dialogue import Transcript
from wizard.net.watch import file_size, read_since, wait_for
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import INCONCLUSIVE, MET, log_said


@expectation
class Bounced(ExpectationHandler):
    kind = "bounced"

    def describe(self, expect, values):
        back = fill(expect.arrives, values)
        return f"accepted, then bounced: \"{fill(expect.text, values)}\"" + (
            f", and the bounce found in {back}" if back else "")

    def mailbox_start(self, ctx, expect):
        back = fill(expect.arrives, ctx.values)
        return file_size(Path(back)) if back else 0

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        line = ctx.fate_line(result, queue_id)
        if line is None:
            return
        if "status=bounced" in line and fill(expect.text, ctx.values) in line:
            result.actual = log_said(line)
            self._await_bounce(ctx, expect, result, marker, start)
        elif "status=deferred" in line:
            result.status = INCONCLUSIVE
            result.actual = log_said(line)
            result.reason = ("Postfix could not ask DNS where the mail goes, so the loop "
                             "cannot be shown; the message was removed from the queue")
            ctx.system.run(["postsuper", "-d", queue_id])
        else:
            result.actual = log_said(line)

    @staticmethod
    def _await_bounce(ctx, expect, result, marker: str, start: int) -> None:
        """The bounce Postfix wrote back to the sender: it carries the returned message's
        headers, the probe's marker among them, into the sender's mailbox outside."""
        mailbox = fill(expect.arrives, ctx.values)
        if not mailbox:
            result.status = MET
            return
        found = wait_for(Path(mailbox), re.compile(re.escape(marker)), start=start, timeout=ctx.delivery_timeout)
        if not found:
            result.actual += f"; but no bounce reached {mailbox} within {ctx.delivery_timeout:g} s"
            return
        text = read_since(Path(mailbox), start)
        subject = next((line for line in text.splitlines() if line.lower().startswith("subject:")), "")
        shown = Transcript(sink=ctx.on_line)
        shown.add("S", f"(the bounce, in {mailbox}) {subject[:160]}")
        result.transcript_extra += shown.lines
        result.status = MET
        result.actual += f"; the bounce arrived in {mailbox}" + (f" ({subject[:120]})" if subject else "")
