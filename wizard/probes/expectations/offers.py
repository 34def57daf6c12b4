"""`offers`: the server's (last) EHLO reply lists some words and none of others."""

from __future__ import annotations

from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET


@expectation
class Offers(ExpectationHandler):
    kind = "offers"

    def describe(self, expect, values):
        parts = [f"EHLO lists {', '.join(expect.words)}"] if expect.words else []
        parts += [f"no {a}" for a in expect.absent]
        return "; ".join(parts)

    def judge_offer(self, ctx, expect, ehlo, result):
        if ehlo is None:
            super().judge_offer(ctx, expect, ehlo, result)
            return
        keywords = [line.upper() for line in ehlo.lines]

        def has(word: str) -> bool:
            word = word.upper()
            return any(k == word or k.startswith(word + " ") or k.startswith(word + "=") for k in keywords)

        missing = [w for w in expect.words if not has(w)]
        present = [a for a in expect.absent if has(a)]
        offered = ", ".join(ehlo.lines[1:])
        if not missing and not present:
            result.status, result.actual = MET, f"EHLO lists {offered}"
        else:
            result.actual = f"EHLO lists {offered}" + (f"; missing {', '.join(missing)}" if missing else "") + \
                (f"; but offers {', '.join(present)}" if present else "")
