"""Screens over the main wizard: the walk's report, and the classroom's exercises."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Markdown, Static
from wizard.tui.keys_footer import KeysFooter


class ReportScreen(Screen):
    """The whole walk as the report shows it (no password, no hash)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Header()
        yield Markdown(self.text, id="report")
        yield KeysFooter()


class ExercisesScreen(Screen):
    """Break-and-fix exercises: pick one to start; check it, or give up, from here too."""

    BINDINGS = [Binding("s", "start", "Start"), Binding("c", "check", "Check"),
                Binding("g", "give_up", "Give up"), Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, engine):
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        from wizard.exercises import catalogue

        yield Header()
        table = DataTable(id="exercises", cursor_type="row")
        table.add_columns("exercise", "what a user would report")
        for exercise in catalogue():
            table.add_row(exercise.name, exercise.symptom, key=exercise.name)
        yield table
        yield Static("Pick an exercise and press s. The wizard breaks one thing and tells you only the "
                     "symptom; c checks your fix, g shows the answer.", id="exercise-status")
        yield KeysFooter()

    def _say(self, text: str) -> None:
        self.query_one("#exercise-status", Static).update(text)

    def action_start(self) -> None:
        table = self.query_one(DataTable)
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self._run("start", name)

    def action_check(self) -> None:
        self._run("check")

    def action_give_up(self) -> None:
        self._run("give_up")

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _run(self, what: str, name: str = "") -> None:
        from wizard import exercises
        from wizard.context import EngineError

        try:
            if what == "start":
                text = f'Something is wrong. A user reports: "{exercises.start(self.engine, name)}"'
            elif what == "check":
                text = "\n".join(exercises.check(self.engine)[1])
            else:
                text = exercises.give_up(self.engine)
        except EngineError as exc:
            text = str(exc)
        self.app.call_from_thread(self._say, text)


class WhyScreen(Screen):
    """`mailwizard why` in the app: type a queue id, Message-ID or address; the message's path
    through the logs and the one line on what became of it (the logs are read in a worker)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, engine, target: str = ""):
        super().__init__()
        self.engine = engine
        self.target = target

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        yield Header()
        yield Static("What became of a mail? Give its queue id, its Message-ID or an address, then Enter.",
                     id="why-intro")
        yield Input(self.target, placeholder="alice@example.org, 5B8E91623B8 or <id@host>", id="why-target")
        yield Static("", id="why-verdict")
        yield Static("", id="why-path")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#why-target").focus()
        if self.target:
            self._follow(self.target)

    def on_input_submitted(self, event) -> None:
        if event.value.strip():
            self.query_one("#why-verdict", Static).update("reading the logs…")
            self._follow(event.value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _follow(self, target: str) -> None:
        from wizard.tracing import describe, not_found

        found, missing, since = self.engine.why(target)
        notes = [f"note: {line}" for line in missing]
        if found is None:
            self.app.call_from_thread(self._show, not_found(target, since), notes)
            return
        lines = describe(found)
        self.app.call_from_thread(self._show, lines[-1], notes + lines[:-1])

    def _show(self, verdict: str, path: list[str]) -> None:
        self.query_one("#why-verdict", Static).update(verdict)
        self.query_one("#why-path", Static).update("\n".join(path))
