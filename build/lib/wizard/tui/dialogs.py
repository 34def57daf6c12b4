"""Small screens over the wizard: resume where you left off, help, the prerequisites."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Markdown, Static
from wizard.tui.keys_footer import KeysFooter

HELP = """\
## Keys

| key | does |
|---|---|
| **r** | run the selected step: write its files, reload, prove it with probes |
| **n** / **b** | next / back in the step list (arrows work too) |
| **u** | undo the last finished step (its files go back to the step before) |
| **x** | while a step runs: cancel it at its next safe point (before its files are written, or between probes) |
| **a** | the answers: domain, server name, mailbox and password, outside tests |
| **c** | the prerequisite checks (DNS, host name, ports), re-run with **c** |
| **l** | the daemons' log lines of the step's last run; **enter** on a line follows its mail |
| **w** | why did a mail not arrive: its path through the logs, and what to do |
| **s** | the audit: what the public mail testers check (relay, smuggling, TLS, SPF, DKIM, DMARC), from outside |
| **p** | the report of the whole walk; **e** the break-and-fix exercises |
| **t** | the path: the tutorial's lessons (errors included) or straight to each working step |
| **ctrl+p** | the command palette: every action by name, and the theme |
| **q** | quit; the state is saved after every change, so starting again resumes |

The footer shows the keys of every step and the way out; the others are here and in the palette.

A step is **locked** (🔒) until the steps before it are done. The diagram at the top shows the
way a message travels: underlined are the parts the selected step changes, and ▶ marks where a
running probe is going.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Markdown(HELP, id="help-text")
            yield Button("Close", id="close", variant="primary")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


class ResumeDialog(ModalScreen[bool]):
    """Shown on start when an earlier walk left state: go on where it stopped, or look around."""

    BINDINGS = [Binding("enter", "resume", "Resume"), Binding("escape", "look", "Start of the list")]

    def __init__(self, next_title: str, done: int, total: int, drift: list[str]):
        super().__init__()
        self.next_title, self.done, self.total, self.drift_paths = next_title, done, total, drift

    def compose(self) -> ComposeResult:
        drift = ("\n\nChanged by hand since mailwizard wrote them (the next run will show the "
                 "difference and ask before overwriting):\n" + "\n".join(f"  • {p}" for p in self.drift_paths)
                 if self.drift_paths else "\n\nNo file was changed by hand since then.")
        with Vertical(classes="dialog"):
            yield Static(f"An earlier walk finished {self.done} of {self.total} steps.\n"
                         f"Next: {self.next_title}{drift}", id="resume-text")
            with Horizontal():
                yield Button("Resume there", id="resume", variant="primary")
                yield Button("Start of the list", id="look")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "resume")

    def action_resume(self) -> None:
        self.dismiss(True)

    def action_look(self) -> None:
        self.dismiss(False)


class PathDialog(ModalScreen[bool | None]):
    """Which path the walk takes: the tutorial's lessons, its deliberate errors included, or
    straight to each working step. Asked on a first start; `t` asks again while a chapter with
    lessons is still ahead. Dismissed with True (lessons), False (straight) or None (unchanged)."""

    BINDINGS = [Binding("l", "lessons", "Lessons"), Binding("s", "straight", "Straight"),
                Binding("escape", "keep", "Keep as it is")]

    def __init__(self, teaching: bool, ahead: list[str]):
        super().__init__()
        self.teaching, self.ahead = teaching, ahead

    def compose(self) -> ComposeResult:
        now = "the lessons" if self.teaching else "straight"
        with Vertical(classes="dialog"):
            yield Static(
                "Follow the tutorial's lessons, errors included, or go straight to each working step?\n\n"
                "  • Lessons: where the tutorial makes a mistake on purpose, the wizard makes it too, "
                "shows what the daemons answer, then fixes it. Slower; you learn what each error "
                "looks like before you meet it on your own.\n"
                "  • Straight: each chapter in its working form. Both paths end in the same server.\n\n"
                f"Chapters with lessons still ahead: {', '.join(self.ahead)}. Now: {now}. "
                "You can change this with t until those chapters begin.", id="path-text")
            with Horizontal():
                yield Button("Lessons, errors included", id="lessons", variant="primary")
                yield Button("Straight", id="straight")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "lessons")

    def action_lessons(self) -> None:
        self.dismiss(True)

    def action_straight(self) -> None:
        self.dismiss(False)

    def action_keep(self) -> None:
        self.dismiss(None)


class PrerequisitesScreen(ModalScreen[None]):
    """Each prerequisite check as a row: status, what was found, the fix. `c` runs them again."""

    BINDINGS = [Binding("c", "recheck", "Re-check"), Binding("escape", "dismiss", "Close")]

    def __init__(self, engine):
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Prerequisites: checking…", id="checks-title")
            yield DataTable(id="checks", cursor_type="row")
            yield Static("", id="check-fix")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "where", "check", "found", "fix")
        self.action_recheck()

    def action_recheck(self) -> None:
        self.query_one("#checks-title", Static).update("Prerequisites: checking…")
        self._check()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self) -> None:
        # The same rows as `mailwizard check`: every check the walk needs, where first needed.
        rows = self.engine.prerequisites()
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.rows = rows
        results = self.results = [row.result for row in rows]
        for row, r in zip(rows, results):
            mark = "✔" if r.ok else ("!" if r.advisory else "✘")
            table.add_row(mark, row.place, r.name, r.found, "" if r.ok else r.fix)
        bad = sum(not r.ok for r in results)
        self.query_one("#checks-title", Static).update(
            f"Prerequisites: {len(results) - bad} of {len(results)} fine"
            + (" — select a row for its fix; c checks again" if bad else ""))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        results = getattr(self, "results", [])
        if 0 <= event.cursor_row < len(results):
            r = results[event.cursor_row]
            self.query_one("#check-fix", Static).update(
                f"{r.name}: {r.found}" + (f"\nexpected: {r.expected}" if r.expected else "")
                + (f"\nfix: {r.fix}" if r.fix and not r.ok else ""))


class ManualProbeDialog(ModalScreen[str]):
    """The manual vantage point: the lines to type on a host outside, and the server's answer
    as the person pastes it back (what a delivery did is still proven in the mailbox)."""

    BINDINGS = [Binding("escape", "skip", "No answer")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        with VerticalScroll(classes="dialog"):
            yield Static(self.question, id="manual-question")
            yield Input(placeholder="the server's answer, e.g. 250 2.0.0 Ok: queued as …", id="manual-answer")
            with Horizontal():
                yield Button("Done", id="done", variant="primary")
                yield Button("No answer", id="skip")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#manual-answer").focus()

    def on_input_submitted(self, event) -> None:
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one("#manual-answer").value if event.button.id == "done" else "")

    def action_skip(self) -> None:
        self.dismiss("")


class PasswordDialog(ModalScreen[str]):
    """A password a step needs and the answers did not give (it is never written into them):
    typed into a field that shows no character, used for this session only."""

    BINDINGS = [Binding("escape", "skip", "Cancel")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        with VerticalScroll(classes="dialog"):
            yield Static(self.question + "\n(not shown, not kept in the answers; Postfix keeps it in a "
                         "file only root reads)", id="secret-question")
            yield Input(password=True, placeholder="password", id="secret-answer")
            with Horizontal():
                yield Button("Use it", id="done", variant="primary")
                yield Button("Cancel", id="skip")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#secret-answer").focus()

    def on_input_submitted(self, event) -> None:
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one("#secret-answer").value if event.button.id == "done" else "")

    def action_skip(self) -> None:
        self.dismiss("")


class ConfirmDialog(ModalScreen[bool]):
    """A yes or no the walk needs before it does something it cannot take back by itself
    (apt replacing another mail server, a hand edit overwritten): no unless said."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static(self.question, id="confirm-question")
            with Horizontal():
                yield Button("Yes", id="yes", variant="warning")
                yield Button("No", id="no", variant="primary")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#no").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ReadyScreen(ModalScreen[None]):
    """The walk is through: what to type into a mail client, and the DNS records that help."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, lines: list[str]):
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Static("The server is ready. For your mail clients:\n\n" + "\n".join(self.lines),
                         id="ready-text")
            yield Button("Close", id="close", variant="primary")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
