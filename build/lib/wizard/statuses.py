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


# ---- the audit's rows (internet.nl's vocabulary, so its API v2 readers understand ours) ---------
AUDIT_PASSED, AUDIT_FAILED, AUDIT_WARNING = "passed", "failed", "warning"
AUDIT_INFO, AUDIT_NOT_TESTED, AUDIT_ERROR = "info", "not_tested", "error"
# How much a check counts: a failed required check fails the audit; the others only advise.
REQUIRED, RECOMMENDED, OPTIONAL = "required", "recommended", "optional"


@dataclass(frozen=True)
class AuditStatus:
    name: str
    word: str           # the text face's [..]
    mark: str           # the TUI's mark
    style: str          # its colour in the TUI
    rank: int           # worse is higher: a category shows its worst row


AUDIT_STATUSES = {s.name: s for s in (
    AuditStatus(AUDIT_PASSED, "pass", "✔", "bold green", 0),
    AuditStatus(AUDIT_INFO, "info", "i", "cyan", 1),
    AuditStatus(AUDIT_NOT_TESTED, "n/t", "–", "dim", 2),
    AuditStatus(AUDIT_WARNING, "warn", "!", "bold yellow", 3),
    AuditStatus(AUDIT_ERROR, "error", "?", "bold magenta", 4),
    AuditStatus(AUDIT_FAILED, "FAIL", "✘", "bold red", 5),
)}

# What a check that is not met is called, by how much it counts (internet.nl: FAIL, NOTICE, INFO).
NOT_MET = {REQUIRED: AUDIT_FAILED, RECOMMENDED: AUDIT_WARNING, OPTIONAL: AUDIT_INFO}


def audit_status(name: str) -> AuditStatus:
    return AUDIT_STATUSES.get(name) or AuditStatus(name, name, "?", "bold", 4)
