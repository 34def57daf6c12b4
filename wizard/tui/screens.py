"""Screens over the main wizard: the walk's report, and the classroom's exercises."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static


class ReportScreen(Screen):
    """The whole walk as the report shows it (no password, no hash)."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Header()
        yield Markdown(self.text, id="report")
        yield Footer()


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
        yield Footer()

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
