"""The Probe tab: what the wizard did and what the servers answered, as it happens.

Client lines (C:) and server lines (S:) are told apart by colour and by their prefix (so they
stay apart with NO_COLOR); each probe ends with its verdict, expected next to what came back.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from wizard.engine import Event

VERDICT_STYLES = {"met": ("✔", "bold green"), "failed": ("✘", "bold red"),
                  "inconclusive": ("?", "bold yellow"), "not-run": ("–", "dim")}


class Transcript(RichLog):
    def __init__(self, **kwargs):
        super().__init__(wrap=True, markup=False, highlight=False, **kwargs)
        self.plain: list[str] = []          # the same lines without styles (tests read these)
        self._last_progress = ""

    def clear(self) -> "Transcript":
        self.plain.clear()
        return super().clear()

    def say(self, text: str, style: str = "") -> None:
        self.plain.append(text)
        self.write(Text(text, style=style))

    def show(self, event: Event) -> None:
        kind = event.kind
        if kind == "step":
            self.say(f"== {event.step}: {event.text}", "bold")
        elif kind == "probe-start":
            self.say(f"-- {event.text}", "bold")
        elif kind == "probe-line":
            line = event.text
            style = "cyan" if line.startswith("C:") else "green" if line.startswith("S:") else "dim"
            self.say(f"  {line}", style)
        elif kind == "probe":
            self._verdict(event.data)
        elif kind == "progress":
            line = f"apt {event.data:3.0f}% {event.text}" if event.data is not None else f"apt: {event.text}"
            if line != self._last_progress:
                self.say(line, "dim")
                self._last_progress = line
        elif kind in ("note", "erratum"):
            self.say(f"note: {event.text}", "italic")
        elif kind == "step-done":
            style = "bold green" if event.data == "passed" else "bold red"
            self.say(f"== {event.step}: {event.data}" + (f" — {event.text}" if event.text else ""), style)

    def _verdict(self, result) -> None:
        mark, style = VERDICT_STYLES.get(result.status, ("?", "bold"))
        self.say(f"{mark} [{result.status}] {result.title}", style)
        self.say(f"    expected: {result.expected}")
        if result.actual:
            self.say(f"    got:      {result.actual}", "" if result.status == "met" else "red")
        if result.reason:
            self.say(f"    {result.reason}", "yellow")
