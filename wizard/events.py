"""What the engine tells the faces while it works: one small frozen dataclass per kind of event.

The CLI prints them, the TUI shows them in its Probe tab and diagram, tests collect them. Every
event names the step it belongs to ("" for the walk as a whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from wizard.outcomes import CheckResult, FileChange, ProbeResult

if TYPE_CHECKING:
    from wizard.model import Erratum, Probe, Step


@dataclass(frozen=True)
class StepStarted:
    step: str
    title: str              # placeholders filled
    definition: "Step"


@dataclass(frozen=True)
class CheckDone:
    step: str
    result: "CheckResult"
    looking: bool = False       # the step only checks (writes no file): every result is its work


@dataclass(frozen=True)
class ErratumMet:
    step: str
    erratum: "Erratum"

    @property
    def text(self) -> str:
        return f"{self.erratum.ref}: {self.erratum.text}"


@dataclass(frozen=True)
class Note:
    step: str
    text: str


@dataclass(frozen=True)
class ChangePlanned:
    step: str
    change: "FileChange"


@dataclass(frozen=True)
class Progress:
    """A line of a long command (apt); `percent` when the command says how far it is."""

    step: str
    text: str
    percent: float | None = None


@dataclass(frozen=True)
class ProbeStarted:
    step: str
    title: str
    probe: "Probe"


@dataclass(frozen=True)
class ProbeLine:
    step: str
    line: str               # "C: ..." the client's, "S: ..." the server's
    probe_id: str


@dataclass(frozen=True)
class ProbeDone:
    step: str
    result: "ProbeResult"


@dataclass(frozen=True)
class StepDone:
    step: str
    status: str             # a name from wizard.statuses
    message: str = ""


@dataclass(frozen=True)
class WalkDone:
    outcomes: tuple[Any, ...]
    step: str = ""


Event = Union[StepStarted, CheckDone, ErratumMet, Note, ChangePlanned, Progress, ProbeStarted,
              ProbeLine, ProbeDone, StepDone, WalkDone]
