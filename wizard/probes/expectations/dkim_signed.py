"""`dkim-signed`: delivered with a DKIM-Signature of the mail domain under the walk's selector
that verifies (dkimpy) against the key the dkim chapter made, or the record in DNS."""

from __future__ import annotations

from wizard.config import fill
from wizard.mailauth import dkim_record_text, key_lookup, verify_dkim
from wizard.net.dialogue import Transcript
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET


@expectation
class DkimSigned(ExpectationHandler):
    kind = "dkim-signed"

    def describe(self, expect, values):
        against = "the key this step made" if expect.key == "made" else "the key published in DNS"
        return (f"delivered with a DKIM-Signature of {values.get('maildomain', '')} "
                f"(selector {values.get('dkim_selector', '')}) that verifies against {against}")

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        found = ctx.arrived_in_maildir(expect.maildir, marker, result, queue_id)
        if found is None:
            return
        selector, domain = ctx.values.get("dkim_selector", ""), ctx.values.get("maildomain", "")
        if expect.key == "made":
            from wizard.ensure import dkim_public_key

            public = dkim_public_key(ctx.system, fill(expect.path, ctx.values))
            if not public:
                result.actual = f"cannot read the key {fill(expect.path, ctx.values)}"
                return
            verdict = verify_dkim(found.read_bytes(), key_lookup(selector, domain, dkim_record_text(public)))
            against = "the key this step made"
        else:
            verdict = verify_dkim(found.read_bytes())
            against = "the record in DNS"
        signature = [line for line in found.read_text(errors="replace").splitlines()
                     if line.lower().startswith("dkim-signature:")]
        shown = Transcript(sink=ctx.on_line)
        for line in signature[:1]:
            shown.add("S", f"(as delivered) {line[:150]}")
        result.transcript_extra = shown.lines
        wanted = (verdict.domain, verdict.selector) == (domain, selector)
        if verdict.ok and wanted:
            result.status, result.actual = MET, f"{verdict.describe()} against {against}"
        elif verdict.ok:
            result.actual = f"{verdict.describe()}, but the walk signs as d={domain} s={selector}"
        else:
            result.actual = verdict.describe()

    def sends_out(self, expect):
        return True

    def signed(self, expect):
        return True

    def after_smtpd(self, expect):
        return ["lmtp", "dovecot", "maildir"]
