"""Proving a step: its prerequisite checks before, its probes and verification checks after,
and the daemons' log lines written meanwhile."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable

from wizard.checks import run_requirements
from wizard.config import each_of, fill
from wizard.context import WalkContext
from wizard.events import CheckDone, ProbeDone, ProbeLine, ProbeStarted
from wizard.logs import DOVECOT_LOG, MAIL_LOG, DaemonLog
from wizard.model import Probe, Step
from wizard.outcomes import CheckResult, ProbeResult
from wizard.probes.runner import ProbeRunner
from wizard.publishing import record_check
from wizard.statuses import MET, MISSED, PASSED
from wizard.timeouts import DEFAULT_TIMEOUT

DAEMON_LOGS = (("mail.log", MAIL_LOG), ("dovecot.log", DOVECOT_LOG))
LOG_WINDOW_LINES = 200


@dataclass(frozen=True)
class Prerequisite:
    """One row of the walk's prerequisites: where it is first needed, and what was found."""

    place: str              # "prereq", or "postfix-names/outside-to-root" for a probe's need
    result: CheckResult

    def line(self) -> str:
        return f"{self.place}: {self.result.line()}"


class Prover:
    def __init__(self, ctx: WalkContext):
        self.ctx = ctx
        self.check_timeout = DEFAULT_TIMEOUT
        self.probe_options: dict = {}
        self.ask: Callable[[str], str] | None = None
        self._log_marks: dict[str, int] = {}

    # ---- before ---------------------------------------------------------------------------------
    def check_step(self, step: Step, values: dict[str, str]) -> list[CheckResult]:
        return run_requirements(self.ctx.system, list(step.requires), values, self.check_timeout)

    def blocking_check(self, step: Step, values: dict[str, str]) -> str:
        """Run the step's checks (each one shown); the first failure that holds the walk back."""
        failures = []
        for result in self.check_step(step, values):
            self.ctx.emit(CheckDone(step.id, result, looking=not step.files))
            if not result.ok and not result.advisory:
                failures.append(result)
        if failures and not self.ctx.system.sandbox:
            first = failures[0]
            return f"{first.name}: {first.found} — {first.fix}"
        return ""

    def prerequisites(self, timeout: float | None = None) -> list[Prerequisite]:
        """Every check the walk will need, once each, at the place it is first needed: the
        steps' requirements and the probes' needs. All run at once, each bounded by `timeout`."""
        first_place: dict = {}
        for step in self.ctx.taken():
            for requirement in step.requires:
                first_place.setdefault(requirement, step.id)
            for probe in step.probes:
                for requirement in probe.needs:
                    first_place.setdefault(requirement, f"{step.id}/{probe.id}")
            for record in step.publishes:
                first_place.setdefault(record_check(record, advisory=True), step.id)
            if self.ctx.state.status_of(step.id) == PASSED:
                # What a done chapter proved is checked again (a key gone readable, a
                # certificate running out): `check` watches the server, not only the way there.
                for requirement in step.verify:
                    first_place.setdefault(requirement, f"{step.id} (done)")
        wanted = list(first_place.items())
        results = run_requirements(self.ctx.system, [r for r, _ in wanted], self.ctx.values(),
                                   self.check_timeout if timeout is None else timeout)
        return [Prerequisite(place, result) for (_, place), result in zip(wanted, results)]

    # ---- after --------------------------------------------------------------------------------------
    def probe(self, step: Step, values: dict[str, str], cancelled: threading.Event) -> list[ProbeResult]:
        options = dict(self.probe_options)
        if self.ask:
            options.setdefault("ask", self.ask)
        options["passwords"] = {u.address: u.password for u in self.ctx.need_answers().users if u.password}
        if step.probes:     # they greet as the outside host (learned once a session)
            values = self.ctx.learn_outside(values)
        results = []
        for probe, probe_values in self.instances(step, values):
            if cancelled.is_set():
                break
            runner = ProbeRunner(self.ctx.system, probe_values, **options)
            runner.on_line = lambda line, pid=probe.id: self.ctx.emit(ProbeLine(step.id, line, pid))
            self.ctx.emit(ProbeStarted(step.id, fill(probe.title, probe_values), probe))
            result = self._run_without(probe, step.id, runner)
            self.ctx.emit(ProbeDone(step.id, result))
            results.append(result)
        return results

    def _run_without(self, probe: Probe, step_id: str, runner: ProbeRunner) -> ProbeResult:
        """The probe; with `without`, that daemon is stopped for it and started again after it,
        whatever came of it (a cancel or an error included). A daemon that does not come back
        fails the probe: the walk must not go on without it."""
        if not probe.without or self.ctx.system.sandbox:
            return runner.run(probe)
        from wizard.daemons import daemon

        service = daemon(self.ctx.system, probe.without)
        stopped, back = f"({probe.without} stopped for this probe)", f"({probe.without} started again)"
        self.ctx.emit(ProbeLine(step_id, stopped, probe.id))
        service.stop()
        try:
            result = runner.run(probe)
        finally:
            started = service.start()
        result.transcript[:0] = [stopped]
        if not started.ok:
            result.status = MISSED
            result.reason = f"{probe.without} did not start again: {started.describe()[:300]}"
            return result
        self.ctx.emit(ProbeLine(step_id, back, probe.id))
        result.transcript.append(back)
        return result

    @staticmethod
    def instances(step: Step, values: dict[str, str]) -> list[tuple[Probe, dict[str, str]]]:
        """The step's probes as they run: a probe with `each` once per item (id PROBE:ITEM)."""
        out = []
        for probe in step.probes:
            for each_values in each_of(probe.each, values):
                item = each_values.get("each") if probe.each else None
                out.append((dataclasses.replace(probe, id=f"{probe.id}:{item}") if item else probe, each_values))
        return out

    def verify(self, step: Step, values: dict[str, str]) -> list[ProbeResult]:
        """The step's after-the-change checks, reported as probes (ownership, permissions)."""
        results = []
        # The DNS records live outside any sandbox: there they are shown, not looked for.
        records = [] if self.ctx.system.sandbox else [record_check(r) for r in step.publishes]
        for check in run_requirements(self.ctx.system, list(step.verify) + records, values, self.check_timeout):
            result = ProbeResult(check.name.split()[0], check.name, MET if check.ok else MISSED,
                                 check.expected or "as it should be", check.found,
                                 reason="" if check.ok else f"fix: {check.fix}")
            self.ctx.emit(ProbeDone(step.id, result))
            results.append(result)
        return results

    # ---- the daemons' logs --------------------------------------------------------------------
    def mark_logs(self) -> None:
        """Remember where the daemons' logs end now: the step's window starts here."""
        self._log_marks = {name: DaemonLog(self.ctx.system, path).offset() for name, path in DAEMON_LOGS}

    def log_window(self, probes: list[ProbeResult]) -> list[tuple[str, bool]]:
        """The daemons' log lines written since `mark_logs`, each with whether a failed probe
        pointed at it."""
        pointed = {line for p in probes if p.status == MISSED for line in p.log_lines}
        window = []
        for name, path in DAEMON_LOGS:
            start = self._log_marks.get(name, 0)
            for line in DaemonLog(self.ctx.system, path).lines_since(start)[-LOG_WINDOW_LINES:]:
                window.append((f"{name}: {line}", any(line in p for p in pointed)))
        return window
