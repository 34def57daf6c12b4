"""A daemon's systemd unit, driven the way systemd wants it on a box where it is PID 1.

Every start, stop, reload and restart goes through `systemctl` and is judged by the state of the
unit that does the serving (Postfix's is `postfix@-`: `postfix.service` only groups instances).
Two rules of systemd's own are kept, so a walk never meets them:

- **the start limit**: a unit started more than `StartLimitBurst` times (5) within
  `StartLimitIntervalSec` (10 s) is refused ("start of the service was attempted too often")
  and left failed. Starts made here are counted in a file under /run (it ends with the boot, as
  systemd's own count does) and a start that would come close to the limit waits for the
  window to move on.
- **the failed state**: a unit left failed (by a crash, or by the limit) is named and cleared
  with `systemctl reset-failed` before it is started again.

When an action does not leave the unit as wanted, the reason says whose it is: systemd's (its
`Result=`, such as the start limit) or the daemon's (its last words in the journal).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from wizard.system import CommandResult, System

STARTS_FILE = Path("/run/mailwizard/unit-starts.json")
START_LIMIT_MARGIN = 2      # starts kept free below systemd's burst: apt's or the boot's own
RESULTS = {
    "start-limit-hit": "systemd refused to start it: it was started too often in a short time "
                       "(its start limit); `systemctl reset-failed {unit}` lets it start again",
    "exit-code": "its process exited with an error",
    "signal": "its process was killed by a signal",
    "core-dump": "its process crashed (core dump)",
    "timeout": "it did not get ready in time for systemd",
    "resources": "systemd could not set it up (a missing directory, user or file)",
    "protocol": "it did not tell systemd it was ready (pid file or notification)",
}


@dataclass
class Unit:
    system: System
    name: str                   # what is started and stopped: "postfix", "dovecot"
    serving: str = ""           # whose state tells whether it serves; the same unit by default
    told: list[str] = field(default_factory=list)   # what the user should hear (drained by callers)

    def __post_init__(self):
        self.serving = self.serving or self.name

    # ---- state ----------------------------------------------------------------------------------
    def show(self, *properties: str) -> dict[str, str]:
        out = self.system.query(["systemctl", "show", self.serving, "-p", ",".join(properties)])
        return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)

    def active(self) -> bool:
        return self.system.query(["systemctl", "is-active", "--quiet", self.serving]).ok

    def enabled(self) -> bool:
        return self.system.query(["systemctl", "is-enabled", "--quiet", self.name]).ok

    # ---- actions --------------------------------------------------------------------------------
    def start(self) -> CommandResult:
        return self._starting("start")

    def restart(self) -> CommandResult:
        return self._starting("restart")

    def reload(self) -> CommandResult:
        if not self.active():
            return self.start()
        done = self.system.run(["systemctl", "reload", self.name])
        return self._judged(done, want_active=True)

    def stop(self) -> CommandResult:
        done = self.system.run(["systemctl", "stop", self.name])
        return self._judged(done, want_active=False)

    def set_enabled(self, enabled: bool) -> CommandResult:
        return self.system.run(["systemctl", "enable" if enabled else "disable", "--quiet", self.name])

    def _starting(self, verb: str) -> CommandResult:
        if self.system.sandbox:
            return self.system.run(["systemctl", verb, self.name])
        self.clear_failed()
        self._keep_below_start_limit()
        done = self.system.run(["systemctl", verb, self.name], timeout=120)
        self._count_start()
        return self._judged(done, want_active=True)

    def clear_failed(self) -> None:
        state = self.show("ActiveState", "Result")
        if state.get("ActiveState") == "failed":
            why = RESULTS.get(state.get("Result", ""), f"Result={state.get('Result', '?')}")
            self.system.run(["systemctl", "reset-failed", self.serving, self.name])
            self.told.append(f"{self.serving} was in systemd's failed state ({why.split(';')[0]}); "
                             f"cleared with `systemctl reset-failed {self.serving}` before starting it")

    def _judged(self, done: CommandResult, want_active: bool) -> CommandResult:
        """`done`, or a failure with the true reason when the unit is not as wanted."""
        if self.system.sandbox:
            return done         # nothing ran: the box's units are not ours to judge
        if done.ok and self.active() == want_active:
            return done
        state = self.show("ActiveState", "SubState", "Result")
        reason = RESULTS.get(state.get("Result", ""), "").format(unit=self.serving)
        said = self.last_words()
        refused = (done.stderr or done.stdout).strip().splitlines()
        text = ((f"systemctl said: {refused[0]}; " if refused and not done.ok else "")
                + f"{self.serving} is {state.get('ActiveState', '?')} ({state.get('SubState', '?')})"
                + (f": {reason}" if reason else "")
                + (f". It said: {said}" if said and state.get("Result") != "start-limit-hit" else ""))
        return CommandResult(done.argv, done.returncode or 1, done.stdout, text)

    def last_words(self, lines: int = 4) -> str:
        out = self.system.query(["journalctl", "-q", "--no-pager", "-o", "cat", "-n", "30", "-u", self.serving])
        said = [line for line in out.stdout.splitlines()
                if line.strip() and not line.startswith(("Starting ", "Started ", "Stopping ", "Stopped "))]
        return " / ".join(said[-lines:])

    # ---- systemd's start limit ------------------------------------------------------------------
    def _limit(self) -> tuple[int, float]:
        shown = self.show("StartLimitBurst", "StartLimitIntervalUSec")
        try:
            burst = int(shown.get("StartLimitBurst", "5"))
        except ValueError:
            burst = 5
        return burst, _seconds(shown.get("StartLimitIntervalUSec", "10s"))

    def _keep_below_start_limit(self) -> None:
        burst, interval = self._limit()
        if burst <= 0 or interval <= 0:
            return
        allowed = max(1, burst - START_LIMIT_MARGIN)
        recent = self._recent_starts(interval)
        if len(recent) < allowed:
            return
        wait = recent[-allowed] + interval - time.time() + 0.2
        if wait > 0:
            self.told.append(f"waited {wait:.1f} s before starting {self.serving}: systemd allows it "
                             f"{burst} starts in {interval:g} s")
            time.sleep(min(wait, interval + 1))

    def _recent_starts(self, interval: float) -> list[float]:
        return [t for t in _read_starts().get(self.serving, []) if t > time.time() - interval - 1]

    def _count_start(self) -> None:
        starts = _read_starts()
        starts[self.serving] = [t for t in starts.get(self.serving, []) if t > time.time() - 120] + [time.time()]
        try:
            STARTS_FILE.parent.mkdir(parents=True, exist_ok=True)
            STARTS_FILE.write_text(json.dumps(starts))
        except OSError:
            pass        # without the count, systemd's own refusal is still reported and cleared


def _read_starts() -> dict[str, list[float]]:
    try:
        return json.loads(STARTS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _seconds(text: str) -> float:
    """systemd's time spans as `systemctl show` gives them: "10s", "1min 30s", "2500ms", "infinity"."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600}
    total = 0.0
    for part in text.split():
        number = part.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = part[len(number):] or "s"
        try:
            total += float(number) * units.get(unit, 1)
        except ValueError:
            return 0.0
    return total
