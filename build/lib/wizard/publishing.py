"""The DNS records a walk asks for, and the lab's world after each step.

A record lives in a zone the wizard does not run: on a real box it is shown as a zone-file line
for the user to paste at the DNS provider, and checked until it is there. In the lab, the steps
publish their records into the lab's zone themselves, as a registrar would, and switch the lab's
outside mail server to strict when a step says so. Both follow from the steps done so far (like
the config files), so `undo` and `reset` take them back by the same rule.
"""

from __future__ import annotations

from wizard.config import fill
from wizard.context import WalkContext
from wizard.events import Note
from wizard.mailauth import zone_line, zone_strings
from wizard.model import DnsRecord, Requirement, Step


def record_check(record: DnsRecord, advisory: bool = False) -> Requirement:
    return Requirement("dns-record", (record.name, record.type, record.value), advisory=advisory)


def _row(record: DnsRecord, values: dict[str, str]) -> list[str]:
    value = fill(record.value, values)
    return [fill(record.name, values), record.type, zone_strings(value) if record.type == "TXT" else value]


class Publisher:
    def __init__(self, ctx: WalkContext):
        self.ctx = ctx

    def zone_lines(self, records: tuple[DnsRecord, ...], values: dict[str, str]) -> list[str]:
        return [zone_line(fill(r.name, values), r.type, fill(r.value, values), r.ttl) for r in records]

    def tell(self, step: Step, values: dict[str, str]) -> None:
        """The records as lines for the zone, before they are checked."""
        if not step.publishes:
            return
        where = ("the lab publishes them itself, as a registrar would" if self.ctx.lab
                 else "publish them at your DNS provider (the wizard checks them, it cannot set them)")
        self.ctx.emit(Note(step.id, f"DNS records for the zone of {values.get('maildomain', '')}; {where}:"))
        for line in self.zone_lines(step.publishes, values):
            self.ctx.emit(Note(step.id, "    " + line))

    def rows(self, steps=None, instead: tuple[DnsRecord, ...] = ()) -> list[list[str]]:
        """The records of `steps` (all by default) as the lab's zone holds them; those of
        `instead` in place of theirs of the same name and type (an exercise's wrong record)."""
        values = self.ctx.values()
        records = [r for step in (self.ctx.steps if steps is None else steps) for r in step.publishes]
        swapped = {(fill(r.name, values), r.type): r for r in instead}
        rows = [_row(swapped.pop((fill(r.name, values), r.type), r), values) for r in records]
        return rows + [_row(r, values) for r in swapped.values()]

    def sync_lab(self, upto: int, step_id: str = "") -> None:
        """The lab's zone and receiver as the first `upto` steps leave them (nothing outside it)."""
        if not self.ctx.lab or self.ctx.answers is None or self.ctx.system.sandbox:
            return
        from wizard.lab.network import LabPlan, publish, published, receiver_mode, set_receiver

        plan = LabPlan.from_answers(self.ctx.answers)
        done = self.ctx.taken(upto)
        rows = self.rows(done)
        mode = "strict" if any(step.receiver == "strict" for step in done) else "lenient"
        if rows != published(plan):
            publish(plan, rows)
            self.ctx.emit(Note(step_id, f"the lab's DNS now serves {len(rows)} published record(s)"
                               if rows else "the lab's DNS serves none of the walk's records any more"))
        if mode != receiver_mode(plan):
            set_receiver(plan, mode)
            self.ctx.emit(Note(step_id, "the lab's outside mail server is now strict: it checks SPF, DKIM, "
                               "DMARC and reverse DNS as the big providers do" if mode == "strict" else
                               "the lab's outside mail server is lenient again, as in the tutorial"))
