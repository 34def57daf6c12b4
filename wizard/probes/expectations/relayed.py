"""`relayed`: Postfix hands the message on (`status=sent`), through the relay host when one is
named, and — where the wizard can see it — it arrives in the outside mailbox with the
receiver's verdict."""

from __future__ import annotations

import re
import time
from pathlib import Path

from wizard.config import fill
from wizard.net.dialogue import Transcript
from wizard.net.watch import file_size, read_since, wait_for
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import FAILED, INCONCLUSIVE, MET, lag, log_said


@expectation
class Relayed(ExpectationHandler):
    kind = "relayed"

    def describe(self, expect, values):
        via = fill(expect.via, values)
        return (f"handed to the relay host {via}" if via else "handed to the recipient's server") + (
            f" and found in {fill(expect.mailbox, values)}" if fill(expect.mailbox, values) else "")

    def mailbox_start(self, ctx, expect):
        mailbox = fill(expect.mailbox, ctx.values)
        return file_size(Path(mailbox)) if mailbox else 0

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        mailbox = fill(expect.mailbox, ctx.values)
        via = fill(expect.via, ctx.values)
        if mailbox:
            # The lab's outside mailbox lies outside --root: it is the lab's, not the box's.
            if self._arrives(ctx, Path(mailbox), marker, start, queue_id):
                result.notice_lag = lag(Path(mailbox))
                self._judge_arrival(ctx, expect, result, Path(mailbox), start, marker)
                if via and result.status == MET:
                    self._judge_route(ctx, via, result, queue_id)
                return
            fate = ctx.log.fate(queue_id, ctx.log_start) if queue_id else ""
            result.actual = (f"not in {mailbox}" + (f"; the log says: {fate}" if fate
                                                    else f" after {ctx.delivery_timeout:g} s"))
            if fate and via and "status=deferred" in fate:
                result.reason = self._not_taken_by_relay(ctx, queue_id)
            elif fate:
                result.reason = "why: " + ctx.why_verdict(queue_id)
            return
        if not queue_id:
            result.actual = "the server gave no queue id"
            return
        line = ctx.log.wait_fate(queue_id, ctx.delivery_timeout, start=ctx.log_start)
        if line and "status=sent" in line and expect.shows:
            result.status, result.actual = INCONCLUSIVE, log_said(line)
            result.reason = ("the receiving server took it; its verdict (" + ", ".join(expect.shows) +
                             ") can only be read in the mail as it arrived there: look at its "
                             "Authentication-Results header")
        elif line and "status=sent" in line:
            result.status, result.actual = MET, log_said(line)
            if via:
                self._judge_route(ctx, via, result, queue_id)
        elif line and "status=deferred" in line and via:
            result.actual = log_said(line)
            result.reason = self._not_taken_by_relay(ctx, queue_id)
        elif line and "status=deferred" in line:
            result.status, result.actual = INCONCLUSIVE, log_said(line)
            result.reason = ("the other server could not be reached (see the outbound port 25 "
                             "check); the test message was removed from the queue")
            ctx.system.run(["postsuper", "-d", queue_id])
        else:
            result.actual = log_said(line) if line else \
                f"no delivery attempt in the log after {ctx.delivery_timeout:g} s"

    @staticmethod
    def _not_taken_by_relay(ctx, queue_id: str) -> str:
        return (f"the relay host did not take it: {ctx.why_verdict(queue_id)} (the message "
                f"stays queued; `mailwizard why {queue_id}` follows it)")

    @staticmethod
    def _arrives(ctx, mailbox: Path, marker: str, start: int, queue_id: str | None) -> bool:
        """The marker shows up in the outside mailbox, or Postfix logs that it could not deliver
        (deferred, bounced): whichever comes first, bounded by the delivery timeout."""
        pattern = re.compile(re.escape(marker))
        deadline = time.monotonic() + ctx.delivery_timeout
        while time.monotonic() < deadline:
            if wait_for(mailbox, pattern, start=start, timeout=0.25):
                return True
            fate = ctx.log.fate(queue_id, ctx.log_start) if queue_id else ""
            if "status=deferred" in fate or "status=bounced" in fate:
                return bool(wait_for(mailbox, pattern, start=start, timeout=0))
        return False

    @staticmethod
    def _judge_route(ctx, via: str, result, queue_id: str | None) -> None:
        """It arrived; it must have gone through the relay host, not straight to the receiver."""
        line = ctx.log.wait_fate(queue_id, ctx.delivery_timeout, start=ctx.log_start) if queue_id else None
        if line and f"relay={via}[" in line:
            result.actual += f"; through the relay host {via}"
            return
        result.status = FAILED
        result.actual = (f"it did not go through the relay host {via}: "
                         + (log_said(line) if line else "no delivery line in the log"))

    @staticmethod
    def _judge_arrival(ctx, expect, result, mailbox: Path, start: int, marker: str) -> None:
        """The message as the outside host keeps it: it must show the receiver's verdict."""
        text = read_since(mailbox, start)
        at = text.find(marker)
        begin = text.rfind("\nFrom ", 0, at) + 1 if at >= 0 else 0
        message = text[begin:at]
        verdict = [line for line in message.splitlines() if line.lower().startswith("authentication-results:")]
        shown = Transcript(sink=ctx.on_line)
        for line in verdict[:1]:
            shown.add("S", f"(the outside host's verdict) {line[:200]}")
        result.transcript_extra = shown.lines
        shows = [fill(text_, ctx.values) for text_ in expect.shows]
        missing = [text_ for text_ in shows if text_ not in message]
        if missing:
            result.actual = (f"delivered to {mailbox}, but it does not show {', '.join(missing)}"
                             + (f": {verdict[0][:160]}" if verdict else ""))
            return
        said = f" with {', '.join(shows)}" if shows else ""
        result.status, result.actual = MET, f"delivered to {mailbox} on the outside host{said}"

    def sends_out(self, expect):
        return True

    def signed(self, expect):
        return bool(expect.shows)

    def after_smtpd(self, expect):
        return ["relay"]
