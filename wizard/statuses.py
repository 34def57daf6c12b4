"""The one table of statuses: what each step and probe status is called, and how every face
(the `run` and `status` lines, the TUI's step list and Probe tab, the report) shows it.

The names are what the state file stores; the faces only look them up here.
"""

from __future__ import annotations

from dataclasses import dataclass

# A step's status, as the state file keeps it (and two the engine derives: stale, locked).
PASSED, FAILED, BLOCKED, PENDING, APPLYING = "passed", "failed", "blocked", "pending", "applying"
STALE, LOCKED = "stale", "locked"
# A probe's outcome.
MET, MISSED, INCONCLUSIVE, NOT_RUN = "met", "failed", "inconclusive", "not-run"


@dataclass(frozen=True)
class StepStatus:
    name: str
    word: str           # `mailwizard status`'s column
    outcome: str        # the [..] of `run`'s line when a step ends so
    mark: str           # the TUI's step list


@dataclass(frozen=True)
class ProbeStatus:
    name: str
    word: str           # `run`'s [..] before a probe
    mark: str           # the TUI's verdict mark
    style: str          # its colour in the TUI
    report: str         # the report's heading


STEP_STATUSES = {s.name: s for s in (
    StepStatus(PASSED, "done", "ok", "✔"),
    StepStatus(FAILED, "FAILED", "FAIL", "✘"),
    StepStatus(BLOCKED, "blocked", "REFUSED", "!"),
    StepStatus(PENDING, "pending", "undone", "·"),
    StepStatus(APPLYING, "interrupted", "interrupted", "…"),
    StepStatus(STALE, "re-run", "re-run", "↻"),
    StepStatus(LOCKED, "locked", "locked", "🔒"),
)}

PROBE_STATUSES = {s.name: s for s in (
    ProbeStatus(MET, "ok", "✔", "bold green", "✔ met"),
    ProbeStatus(MISSED, "FAIL", "✘", "bold red", "✘ FAILED"),
    ProbeStatus(INCONCLUSIVE, "??", "?", "bold yellow", "? cannot tell here"),
    ProbeStatus(NOT_RUN, "skip", "–", "dim", "– not run"),
)}


def step_status(name: str) -> StepStatus:
    return STEP_STATUSES.get(name) or StepStatus(name, name, name, "?")


def probe_status(name: str) -> ProbeStatus:
    return PROBE_STATUSES.get(name) or ProbeStatus(name, name, "?", "bold", name)
