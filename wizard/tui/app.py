"""The wizard: step list on the left; Explain, Changes and Probe on the right."""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Log, Markdown, ProgressBar, Static, TabbedContent, TabPane

from wizard import ASSETS
from wizard.engine import PASSED, Engine, Event, step_states
from wizard.tui.step_list import StepItem, StepList


class WizardApp(App):
    CSS_PATH = str(ASSETS / "mailwizard.tcss")
    TITLE = "mailwizard"
    BINDINGS = [
        Binding("r", "run_step", "Run step", id="run-step", tooltip="Apply this step and prove it"),
        Binding("u", "undo_step", "Undo", id="undo-step", tooltip="Roll back the last step"),
        Binding("p", "report", "Report", id="report", tooltip="The whole walk as one document"),
        Binding("e", "exercises", "Exercises", id="exercises", tooltip="Break-and-fix exercises"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine
        self.engine.emit = self._from_worker
        self.busy = False

    # ---- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="sidebar"):
                yield StepList(*[StepItem(s.id, s.title, status) for s, status in self._marks()],
                               id="steps")
                yield ProgressBar(total=len(self.engine.steps), show_eta=False, id="progress")
            with TabbedContent(id="main"):
                with TabPane("Explain", id="tab-explain"):
                    yield Markdown(id="explain")
                with TabPane("Changes", id="tab-changes"):
                    yield Static(id="changes")
                with TabPane("Probe", id="tab-probe"):
                    yield Log(id="probe", highlight=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.engine.answers.fqdn}" + (
            f" — sandbox {self.engine.system.root}" if self.engine.system.sandbox else "")
        steps = self.query_one(StepList)
        steps.index = self._first_unfinished()
        steps.focus()
        self._refresh_marks()

    # ---- what is shown ---------------------------------------------------------------------------
    def _marks(self) -> list[tuple]:
        # The first unfinished step is open; every unfinished step after it stays locked.
        rows, locked = [], False
        for step, status in step_states(self.engine):
            rows.append((step, "locked" if locked and status != PASSED else status))
            locked = locked or status != PASSED
        return rows

    def _first_unfinished(self) -> int:
        for i, (_, status) in enumerate(step_states(self.engine)):
            if status != PASSED:
                return i
        return len(self.engine.steps) - 1

    def _refresh_marks(self) -> None:
        done = 0
        for step, status in self._marks():
            self.query_one(f"#step-{step.id}", StepItem).show(status)
            done += status == PASSED
        self.query_one(ProgressBar).update(progress=done)

    def selected_step(self):
        index = self.query_one(StepList).index or 0
        return self.engine.steps[index]

    def on_list_view_highlighted(self, message: StepList.Highlighted) -> None:
        if message.item is not None:
            self._show_selected()

    def _show_selected(self) -> None:
        step = self.selected_step()
        self.query_one("#explain", Markdown).update(self.engine.explanation(step))
        changes = self.engine.plan(step)
        text = "\n".join(c.diff for c in changes) or "This step changes no file (or it is applied already)."
        self.query_one("#changes", Static).update(Syntax(text, "diff", theme="ansi_dark"))

    # ---- actions ---------------------------------------------------------------------------------
    def action_run_step(self) -> None:
        step = self.selected_step()
        if self.busy:
            self.notify("A step is running; wait for it.", severity="warning")
            return
        if step.id != self.engine.steps[self._first_unfinished()].id and not self.engine.is_done(step):
            self.notify("This step is locked: finish the steps before it first.", severity="warning")
            return
        self.query_one("#probe", Log).clear()
        self.query_one(TabbedContent).active = "tab-probe"
        self.busy = True
        self._run_in_worker(step)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _run_in_worker(self, step) -> None:
        try:
            self.engine.run_step(step)
        finally:
            self.call_from_thread(self._done)

    def action_undo_step(self) -> None:
        if self.busy:
            return
        self.busy = True
        self._undo_in_worker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _undo_in_worker(self) -> None:
        try:
            self.engine.undo()
        except Exception as exc:  # EngineError: nothing to undo
            self.call_from_thread(self.notify, str(exc), severity="warning")
        finally:
            self.call_from_thread(self._done)

    def action_report(self) -> None:
        from wizard.report import markdown
        from wizard.tui.screens import ReportScreen

        self.push_screen(ReportScreen(markdown(self.engine)))

    def action_exercises(self) -> None:
        from wizard.tui.screens import ExercisesScreen

        self.push_screen(ExercisesScreen(self.engine))

    def _done(self) -> None:
        self.busy = False
        self._refresh_marks()
        self._show_selected()

    # ---- engine events ---------------------------------------------------------------------------
    def _from_worker(self, event: Event) -> None:
        self.call_from_thread(self.show_event, event)

    def show_event(self, event: Event) -> None:
        log = self.query_one("#probe", Log)
        if event.kind == "probe-line":
            log.write_line(f"  {event.text}")
        elif event.kind == "probe":
            result = event.data
            log.write_line(f"[{result.status}] {result.title}: expected {result.expected}"
                           + (f"; got {result.actual}" if result.actual else "")
                           + (f" ({result.reason})" if result.reason else ""))
        elif event.kind in ("note", "erratum"):
            log.write_line(f"note: {event.text}")
        elif event.kind == "step-done":
            log.write_line(f"== {event.step}: {event.data}" + (f" — {event.text}" if event.text else ""))
        elif event.kind == "step":
            log.write_line(f"== {event.step}: {event.text}")


def run_app(args) -> int:
    from wizard.cli import all_steps, answers_for, teaching_mode
    from wizard.system import System

    system = System(Path(args.root).resolve() if args.root else Path("/"))
    answers = answers_for(system, args)
    teaching = teaching_mode(system, args)
    engine = Engine(system, answers, all_steps(teaching), lab=bool(getattr(args, "lab", False)))
    with engine.open():
        engine.state.teaching = teaching
        WizardApp(engine).run()
    return 0
