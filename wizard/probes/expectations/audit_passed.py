"""`audit-passed`: the audit's rows for the probe's check pass (judged by the audit-check action)."""

from __future__ import annotations

from wizard.probes.registry import ExpectationHandler, expectation


@expectation
class AuditPassed(ExpectationHandler):
    kind = "audit-passed"

    def describe(self, expect, values):
        return "the audit's rows pass" + (f": {', '.join(expect.rows)}" if expect.rows else "")

    def rows(self, expect):
        return expect.rows
