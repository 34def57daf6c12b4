"""The machine interface: what the engine tells the faces, as one JSON object per line.

`run`, `plan`, `status`, `check`, `undo`, `reset` and `why` take `--json`; then every line they
write to stdout is one object with `schema` (SCHEMA: its version, raised when a field changes
meaning or goes) and `event` (what kind of line it is), the last one a `summary` with the exit
code. Secrets never appear: a secret file's change says that it changes, not how; probe
transcripts show logins masked, as everywhere. The README's "Machine interface" lists every
event and its fields."""

from __future__ import annotations

import json
import sys
from collections import Counter

from wizard import events as e

SCHEMA = "mailwizard.events/1"


def line(event: str, **fields) -> str:
    return json.dumps({"schema": SCHEMA, "event": event, **fields}, ensure_ascii=False)


def change_fields(change) -> dict:
    diff = change.diff.splitlines()
    return {"path": change.path, "secret": change.secret, "restore_original": change.restore_original,
            "added": sum(1 for l in diff if l.startswith("+") and not l.startswith("+++")),
            "removed": sum(1 for l in diff if l.startswith("-") and not l.startswith("---")),
            "diff": None if change.secret else change.diff}


def check_fields(result) -> dict:
    return {"name": result.name, "ok": result.ok, "found": result.found, "expected": result.expected,
            "fix": result.fix, "advisory": result.advisory}


def probe_fields(result) -> dict:
    return {"probe": result.id, "title": result.title, "status": result.status, "expected": result.expected,
            "got": result.actual, "reason": result.reason, "transcript": list(result.transcript),
            "log_lines": list(result.log_lines), "erratum": result.erratum, "seconds": round(result.seconds, 3)}


def encode(event) -> str | None:
    """One engine event as its line (None: an event the machine interface leaves out)."""
    match event:
        case e.StepStarted():
            return line("step_started", step=event.step, title=event.title)
        case e.CheckDone(result=result):
            return line("check", step=event.step, **check_fields(result))
        case e.ErratumMet():
            return line("erratum", step=event.step, ref=event.erratum.ref, text=event.erratum.text)
        case e.Note():
            return line("note", step=event.step, text=event.text)
        case e.ChangePlanned(change=change):
            return line("change_planned", step=event.step, **change_fields(change))
        case e.Progress():
            return line("progress", step=event.step, text=event.text, percent=event.percent)
        case e.ProbeStarted():
            return line("probe_started", step=event.step, probe=event.probe.id, title=event.title)
        case e.ProbeLine():
            return line("probe_line", step=event.step, probe=event.probe_id, line=event.line)
        case e.ProbeDone(result=result):
            return line("probe_done", step=event.step, **probe_fields(result))
        case e.StepDone():
            return line("step_done", step=event.step, status=event.status, message=event.message)
        case e.WalkDone():
            return line("walk_done", steps=[{"step": o.step, "status": o.status} for o in event.outcomes])
    return None


class JsonLines:
    """The engine's listener in --json mode, and the commands' own lines."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.verbose = True

    def __call__(self, event) -> None:
        text = encode(event)
        if text is not None:
            self.emit(text)

    def emit(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def say(self, event: str, **fields) -> None:
        self.emit(line(event, **fields))

    def summary(self, command: str, exit_code: int, **fields) -> int:
        self.say("summary", command=command, exit=exit_code, **fields)
        return exit_code


def probe_counts(outcomes) -> dict[str, int]:
    return dict(Counter(p.status for o in outcomes for p in o.probes))
