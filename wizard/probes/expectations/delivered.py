"""`delivered`: the message appears in a mailbox file (found by the probe's marker)."""

from __future__ import annotations

import re

from wizard.net.watch import file_size, wait_for
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET, lag


@expectation
class Delivered(ExpectationHandler):
    kind = "delivered"

    def describe(self, expect, values):
        return f"delivered to {expect.mailbox}"

    def mailbox_start(self, ctx, expect):
        return file_size(ctx.system.path(expect.mailbox))

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        mailbox = ctx.system.path(expect.mailbox)
        if wait_for(mailbox, re.compile(re.escape(marker)), start=start, timeout=ctx.delivery_timeout):
            result.notice_lag = lag(mailbox)
            result.status, result.actual = MET, f"delivered to {expect.mailbox}"
        else:
            result.actual = ctx.not_found_in(expect.mailbox, queue_id)

    def after_smtpd(self, expect):
        return ["maildir" if expect.mailbox.startswith("/var/vmail") else "local"]
