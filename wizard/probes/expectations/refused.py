"""`refused`: the server refuses at a stage of the SMTP dialogue (an expected failure is a pass)."""

from __future__ import annotations

from wizard.config import fill
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import FAILED, MET


@expectation
class Refused(ExpectationHandler):
    kind = "refused"

    def describe(self, expect, values):
        text = f" \"{fill(expect.text, values)}\"" if expect.text else ""
        return f"refused at {expect.stage} with {' or '.join(expect.codes)}{text}"

    def refused_at(self, expect):
        return expect.stage

    def judge_refusal(self, ctx, expect, reply, result):
        result.actual = f"{expect.stage}: {reply.last}"
        if reply.code in expect.codes and fill(expect.text, ctx.values).lower() in reply.text.lower():
            result.status = MET
        else:
            result.status = FAILED
