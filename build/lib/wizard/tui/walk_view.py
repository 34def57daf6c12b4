"""The walk on screen: the step list and its progress on the left; the mail-flow diagram and the
Explain, Changes, Probe and Log tabs on the right. The app mounts it once the engine is open, so
the first frame (the title and "opening the walk") never waits for the engine or these widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Markdown, ProgressBar, Static, TabbedContent, TabPane

from wizard import events
from wizard.flow import labels, touched_by, travelled_by
from wizard.statuses import PASSED
from wizard.tui.log_lines import LogLines
from wizard.tui.mail_flow import MailFlow
from wizard.tui.step_list import StepList
from wizard.tui.transcript import ProbeTranscript

if TYPE_CHECKING:
    from wizard.engine import Engine


class WalkView(Horizontal):
    def __init__(self, engine: Engine, selected: int | None = None):
        """`selected`: the step the list opens on, its explanation made with the view (one
        layout for the whole walk on screen, not a second one for the explanation)."""
        super().__init__(id="walk")
        self.engine = engine
        self.selected = selected

    def compose(self) -> ComposeResult:
        first = None if self.selected is None else self.engine.steps[self.selected]
        with Vertical(id="sidebar"):
            yield StepList(self._rows(), highlighted=self.selected, id="steps")
            yield ProgressBar(total=len(self.engine.steps), show_eta=False, id="progress")
        with Vertical(id="main-area"):
            yield MailFlow(labels(self.engine.steps), id="flow")
            with TabbedContent(id="main"):
                with TabPane("Explain", id="tab-explain"):
                    yield Markdown(self.engine.explanation(first) if first else None, id="explain")
                with TabPane("Changes", id="tab-changes"):
                    yield Static(id="changes")
                with TabPane("Probe", id="tab-probe"):
                    yield ProbeTranscript(id="probe")
                with TabPane("Log", id="tab-log"):
                    yield LogLines(id="daemon-log")

    def _rows(self) -> list[tuple[str, str, str]]:
        return [(row.step.id, row.title, row.status) for row in self.engine.views()]

    # ---- the step list ---------------------------------------------------------------------------
    async def rebuild_list(self) -> None:
        """The list anew, after the path changed which steps the walk has."""
        self.query_one(StepList).replace_rows(self._rows())
        self.query_one(ProgressBar).update(total=len(self.engine.steps))

    def retitle(self) -> None:
        """The titles again: they name the answers (the domain, the mailbox)."""
        steps = self.query_one(StepList)
        for step in self.engine.steps:
            steps.show(step.id, title=self.engine.title(step))

    def mark(self) -> None:
        steps, done = self.query_one(StepList), 0
        for row in self.engine.views():
            steps.show(row.step.id, status=row.status)
            done += row.status == PASSED
        self.query_one(ProgressBar).update(progress=done)

    # ---- the selected step -----------------------------------------------------------------------
    def show_step(self, step, busy: bool) -> None:
        flow = self.query_one(MailFlow)
        flow.touched = frozenset(touched_by(step))
        if not busy:
            flow.travelled = ()
        explain, explanation = self.query_one("#explain", Markdown), self.engine.explanation(step)
        if explain.source != explanation:       # the step the view opened on is shown already
            explain.update(explanation)
        self.show_log(step)
        changes = self.engine.plan(step)
        text = "\n".join(c.diff for c in changes) or (
            "This step changes no file (or it is applied already)." if step.files else
            "This step writes no file: it checks the box (run it with r to see each check, or press c).")
        self.query_one("#changes", Static).update(Syntax(text, "diff", theme="ansi_dark"))

    def show_log(self, step) -> None:
        window = self.engine.step_logs.get(step.id)
        if window is None:
            self.query_one(LogLines).show([], "Run this step (r) to see what Postfix and Dovecot log while it runs.")
            return
        self.query_one(LogLines).show(window, "(the daemons logged nothing while this step ran)")

    def show_event(self, event: events.Event) -> None:
        """An engine event: the probe's path lit in the diagram, its lines in the Probe tab."""
        flow = self.query_one(MailFlow)
        if isinstance(event, events.ProbeStarted):
            flow.travelled = tuple(travelled_by(event.probe))
        elif isinstance(event, events.StepDone):
            flow.travelled = ()
        self.query_one("#probe", ProbeTranscript).show(event)
