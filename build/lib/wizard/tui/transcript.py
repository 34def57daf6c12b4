"""The Probe tab: what the wizard did and what the servers answered, as it happens.

Client lines (C:) and server lines (S:) are told apart by colour and by their prefix (so they
stay apart with NO_COLOR); each probe ends with its verdict, expected next to what came back.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from wizard import events as e
from wizard.statuses import PASSED, probe_status


class ProbeTranscript(RichLog):
    def __init__(self, **kwargs):
        # min_width: RichLog renders at 78 columns at least, which cuts long notes off in a
        # narrower pane; at 20 they wrap at the pane's edge.
        super().__init__(wrap=True, markup=False, highlight=False, min_width=20, **kwargs)
        self.plain: list[str] = []          # the same lines without styles (tests read these)
        self._last_progress = ""

    def clear(self) -> "ProbeTranscript":
        self.plain.clear()
        return super().clear()

    def say(self, text: str, style: str = "") -> None:
        self.plain.append(text)
        self.write(Text(text, style=style))

    def show(self, event: e.Event) -> None:
        match event:
            case e.StepStarted():
                self.say(f"== {event.step}: {event.title}", "bold")
            case e.ProbeStarted():
                self.say(f"-- {event.title}", "bold")
            case e.ProbeLine(line=line):
                style = "cyan" if line.startswith("C:") else "green" if line.startswith("S:") else "dim"
                self.say(f"  {line}", style)
            case e.ProbeDone(result=result):
                self._verdict(result)
            case e.Progress():
                line = (f"apt {event.percent:3.0f}% {event.text}" if event.percent is not None
                        else f"apt: {event.text}")
                if line != self._last_progress:
                    self.say(line, "dim")
                    self._last_progress = line
            case e.CheckDone(result=result):
                style = "green" if result.ok else "yellow" if result.advisory else "red"
                self.say(f"check {result.line()}", style)
            case e.Note() | e.ErratumMet():
                self.say(f"note: {event.text}", "italic")
            case e.StepDone():
                style = "bold green" if event.status == PASSED else "bold red"
                self.say(f"== {event.step}: {event.status}" + (f" — {event.message}" if event.message else ""),
                         style)

    def _verdict(self, result) -> None:
        status = probe_status(result.status)
        self.say(f"{status.mark} [{result.status}] {result.title}", status.style)
        self.say(f"    expected: {result.expected}")
        if result.actual:
            self.say(f"    got:      {result.actual}", "" if result.status == "met" else "red")
        if result.reason:
            self.say(f"    {result.reason}", "yellow")
