"""`flushed`: after a flush, the mail that waited leaves the queue delivered (judged by the
flush action, which asks this handler for the way out its log lines must show)."""

from __future__ import annotations

from wizard.config import fill
from wizard.probes.registry import ExpectationHandler, expectation


@expectation
class Flushed(ExpectationHandler):
    kind = "flushed"

    def describe(self, expect, values):
        via = fill(expect.via, values)
        return "the waiting mail delivered on the flush" + (f" through {via}" if via else "")

    def route(self, ctx, expect):
        return fill(expect.via, ctx.values)
