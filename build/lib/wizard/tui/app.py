"""The wizard: step list on the left; the mail-flow diagram and Explain, Changes, Probe and Log
tabs on the right (wizard/tui/walk_view.py). Every action is a key in the footer and a command in
the palette (ctrl+p).

Started from the command line, the app paints its first frame (the title and "opening the walk")
before the engine exists: the session opens in a worker, then the walk is mounted. This module
therefore imports only what that first frame needs; the engine, the steps and the walk's widgets
come in with the worker."""

from __future__ import annotations

import threading
from importlib import import_module
from typing import TYPE_CHECKING, Callable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import Header, Static

from wizard import resources
from wizard.tui.keys_footer import KeysFooter

if TYPE_CHECKING:
    from wizard import events
    from wizard.engine import Engine
    from wizard.tui.walk_view import WalkView

# Keys that work while the walk is still opening.
BEFORE_OPEN = frozenset({"quit", "help", "command_palette"})


class WizardApp(App):
    CSS_PATH = str(resources.path("mailwizard.tcss"))
    TITLE = "mailwizard"
    # The footer shows what a walk needs at every step, and the way out and to help, at 80
    # columns too; the rest is in the help screen (?) and the palette (ctrl+p), by name.
    BINDINGS = [
        Binding("r", "run_step", "Run step", id="run-step", tooltip="Apply this step and prove it"),
        Binding("n", "next_step", "Next", id="next-step"),
        Binding("b", "back_step", "Back", id="back-step"),
        Binding("u", "undo_step", "Undo", id="undo-step", tooltip="Roll back the last step"),
        Binding("x", "cancel_step", "Cancel", id="cancel-step",
                tooltip="Stop the running step at the next safe point"),
        Binding("a", "answers", "Answers", id="answers", tooltip="Domain, host, mailbox, outside tests"),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("c", "prerequisites", "Checks", id="checks", show=False),
        Binding("l", "show_log", "Log", id="show-log", show=False),
        Binding("p", "report", "Report", id="report", show=False),
        Binding("e", "exercises", "Exercises", id="exercises", show=False),
        Binding("w", "why", "Why", id="why", show=False),
        Binding("s", "audit", "Audit", id="audit", show=False),
        Binding("t", "path", "Path", id="path", show=False),
    ]
    # What the command palette lists besides Textual's own (theme, keys, quit).
    COMMANDS_OF_OURS = (
        ("Run the selected step", "Write its files, reload, prove it with probes", "run_step"),
        ("Next step", "Select the next step", "next_step"),
        ("Previous step", "Select the step before", "back_step"),
        ("Undo the last step", "Its files go back to the step before", "undo_step"),
        ("Cancel the running step", "Stops before files are written, or between probes", "cancel_step"),
        ("Answers", "Domain, server name, mailbox, outside tests", "answers"),
        ("Prerequisite checks", "DNS, host name, ports; re-run with c", "prerequisites"),
        ("Show the daemon log", "mail.log and dovecot.log of the step's last run", "show_log"),
        ("Report", "The whole walk as one document", "report"),
        ("Exercises", "Break-and-fix exercises for the classroom", "exercises"),
        ("Why did a mail not arrive?", "Follow one message through the logs: what happened, what to do", "why"),
        ("Audit the server", "Relay, smuggling, TLS, SPF/DKIM/DMARC, reverse DNS: as the public testers check", "audit"),
        ("Path: lessons or straight", "The tutorial's errors before each fix, or each working step", "path"),
        ("Help", "Keys and marks", "help"),
    )

    def __init__(self, engine: Engine | None = None, *, opener: Callable[[], Engine] | None = None):
        """Either an open engine (the tests, the whole screen at once), or an `opener` that opens
        one (the command line: the first frame is painted while it runs)."""
        super().__init__()
        if (engine is None) == (opener is None):
            raise ValueError("WizardApp needs an engine or an opener, not both")
        self.engine: Engine | None = None
        self.opener = opener
        self.failure: Exception | None = None     # why the opener failed: run_app raises it
        self.busy = False
        self.quit_when_done = False
        self.told_ready = False
        if engine is not None:
            self._attach(engine)

    def _attach(self, engine: Engine) -> None:
        self.engine = engine
        engine.listen(self._from_worker)
        engine.ask_through(self._ask_from_worker)
        engine.ask_secrets_through(self._ask_secret_from_worker)
        engine.confirm_through(self._confirm_from_worker)

    # ---- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        if self.engine is None:
            yield Static("Opening the walk…", id="opening")
            return
        from wizard.tui.walk_view import WalkView

        yield WalkView(self.engine, self._opening_index())
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.engine is None:
            self._open_in_worker()
        else:
            self._start()

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def _open_in_worker(self) -> None:
        try:
            import_module("wizard.tui.walk_view")      # here, so the event loop never waits for it
            engine = self.opener()
        except Exception as exc:      # the answers, the state, the lock: run_app tells it
            self.failure = exc
            self.call_from_thread(self.exit, return_code=2)
            return
        try:
            self.call_from_thread(self._opened, engine)
        except RuntimeError:        # the app was closed while the session opened
            engine.close()

    async def _opened(self, engine: Engine) -> None:
        from wizard.tui.walk_view import WalkView

        self._attach(engine)
        await self.query_one("#opening").remove()
        await self.mount_all([WalkView(engine, self._opening_index()), KeysFooter()])
        self.refresh_bindings()
        self._start()

    def _opening_index(self) -> int | None:
        """The step the walk opens on (where it goes on), when there are answers to show it with."""
        return self._next_index() if self.engine.has_answers else None

    def _walk(self) -> WalkView:
        return self.query_one("#walk")

    def _start(self) -> None:
        steps = self.query_one("#steps")
        steps.focus()
        if not self.engine.has_answers:
            from wizard.tui.answers_form import AnswersScreen

            self.push_screen(AnswersScreen(self.engine, must_answer=True), self._answered_first)
            return
        self._answered(show=False)     # the list's first highlight shows the step
        made = self.engine.made_for_this_walk()
        if made:
            self.notify("\n".join(made), title="The lab's example answers", timeout=600)
        self._ask_path_once()
        self._offer_resume()

    def _answered_first(self, _saved) -> None:
        self._answered(show=True)
        self._ask_path_once()

    def _ask_path_once(self) -> None:
        """A first start asks the path, but only when there is still one to choose: no warning
        about a path that cannot change before the user asked to change it."""
        if not self.engine.path_chosen and not self.engine.path_fixed():
            self.action_path()

    def _answered(self, show: bool) -> None:
        self.sub_title = f"{self.engine.answers.fqdn}" + (
            f" — sandbox {self.engine.system.root}" if self.engine.system.sandbox else "")
        self._walk().retitle()
        self.query_one("#steps").index = self._next_index()
        self._refresh_marks()
        if show:
            self._show_selected()

    def action_answers(self) -> None:
        from wizard.tui.answers_form import AnswersScreen

        if self.busy:
            self.notify("A step is running; change the answers when it is done.", severity="warning")
            return
        self.push_screen(AnswersScreen(self.engine), lambda saved: saved and self._answered(show=True))

    def action_path(self) -> None:
        """Ask which path the walk takes; the step list follows the answer."""
        from wizard.tui.dialogs import PathDialog

        if self.busy:
            self.notify("A step is running; change the path when it is done.", severity="warning")
            return
        refused = self.engine.path_fixed()
        if refused:
            self.notify(refused[:1].upper() + refused[1:] + ".", severity="warning")
            return
        ahead = [step.id for step in self.engine.path_ahead()]
        self.push_screen(PathDialog(self.engine.teaching, ahead), self._path_chosen)

    async def _path_chosen(self, teaching: bool | None) -> None:
        if teaching is None:
            return
        selected = self.selected_step().id
        before = [step.id for step in self.engine.steps]
        self.engine.choose_path(teaching)
        steps = self.query_one("#steps")
        if [step.id for step in self.engine.steps] != before:     # else the list stays as painted
            await self._walk().rebuild_list()
        ids = [step.id for step in self.engine.steps]
        steps.index = ids.index(selected) if selected in ids else self._next_index()
        self._refresh_marks()
        self._show_selected()
        self.notify("Path: the tutorial's lessons, errors included." if teaching
                    else "Path: straight to each working step.")

    def _offer_resume(self) -> None:
        from wizard.tui.dialogs import ResumeDialog

        if not self.engine.state.steps:
            return
        from wizard.statuses import PASSED

        rows = self.engine.views()
        done = sum(row.status == PASSED for row in rows)
        drift = [d.path for d in self.engine.drift()]
        next_step = self.engine.next_step()
        next_title = self.engine.title(next_step) if next_step else "nothing: every step is done"

        def chosen(resume: bool | None) -> None:
            self.query_one("#steps").index = self._next_index() if resume else 0

        self.push_screen(ResumeDialog(next_title, done, len(rows), drift), chosen)

    # ---- what is shown ---------------------------------------------------------------------------
    def _next_index(self) -> int:
        """Where the walk goes on (the last step when every step is done)."""
        step = self.engine.next_step()
        return self.engine.index(step.id) if step else len(self.engine.steps) - 1

    def _refresh_marks(self) -> None:
        self._walk().mark()

    def selected_step(self):
        index = self.query_one("#steps").index or 0
        return self.engine.steps[index]

    def on_option_list_option_highlighted(self, message) -> None:
        if message.option_list.id == "steps":
            self._show_selected()

    def _show_selected(self) -> None:
        if not self.engine.has_answers:
            return
        self._walk().show_step(self.selected_step(), self.busy)

    # ---- actions ---------------------------------------------------------------------------------
    def action_run_step(self) -> None:
        step = self.selected_step()
        if self.busy:
            self.notify("A step is running; wait for it.", severity="warning")
            return
        view = self.engine.view(step)
        if not view.may_run:
            self.notify(view.reason, severity="warning")
            return
        self.query_one("#probe").clear()
        self.query_one("#main").active = "tab-probe"
        self.busy = True
        self.refresh_bindings()
        self._run_in_worker(step)

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def _run_in_worker(self, step) -> None:
        try:
            self.engine.run_step(step)
        finally:
            self.call_from_thread(self._done)

    def check_action(self, action: str, parameters) -> bool | None:
        if self.engine is None:             # the walk is still opening
            return action in BEFORE_OPEN
        # The footer shows Cancel only while a step runs.
        if action == "cancel_step":
            return self.busy
        return True

    def action_cancel_step(self) -> None:
        if self.busy:
            self.engine.request_cancel()
            self.query_one("#probe").say("cancelling: the step stops at the next safe point", "yellow")

    def action_next_step(self) -> None:
        steps = self.query_one("#steps")
        steps.index = min((steps.index or 0) + 1, len(self.engine.steps) - 1)

    def action_back_step(self) -> None:
        steps = self.query_one("#steps")
        steps.index = max((steps.index or 0) - 1, 0)

    def action_show_log(self) -> None:
        self.query_one("#main").active = "tab-log"

    def _show_log(self, step) -> None:
        self._walk().show_log(step)

    def on_option_list_option_selected(self, event) -> None:
        """Enter on a log line: what became of the mail it speaks of."""
        from wizard.tracing import target_of_line
        from wizard.tui.screens import WhyScreen

        if event.option_list.id != "daemon-log":
            return
        target = target_of_line(str(event.option.prompt))
        if not target:
            self.notify("this line names no message (no queue id, recipient or Message-ID)", severity="warning")
            return
        self.push_screen(WhyScreen(self.engine, target))

    def action_prerequisites(self) -> None:
        from wizard.tui.dialogs import PrerequisitesScreen

        self.push_screen(PrerequisitesScreen(self.engine))

    def action_help(self) -> None:
        from wizard.tui.dialogs import HelpScreen

        self.push_screen(HelpScreen())

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        if self.engine is None:         # the walk is still opening
            return
        for title, help_text, action in self.COMMANDS_OF_OURS:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

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

    def action_why(self) -> None:
        """The Why screen; from the Log tab, opened on the message of the highlighted line."""
        from wizard.tracing import target_of_line
        from wizard.tui.screens import WhyScreen

        target = ""
        lines = self.query_one("#daemon-log")
        if self.query_one("#main").active == "tab-log" and lines.highlighted is not None:
            target = target_of_line(str(lines.get_option_at_index(lines.highlighted).prompt))
        self.push_screen(WhyScreen(self.engine, target))

    def action_audit(self) -> None:
        from wizard.tui.audit_screen import AuditScreen

        self.push_screen(AuditScreen(self.engine))

    def action_exercises(self) -> None:
        from wizard.tui.screens import ExercisesScreen

        self.push_screen(ExercisesScreen(self.engine))

    async def action_quit(self) -> None:
        """Quitting while a step runs stops it at its next safe point first, so the state on
        disk says exactly where the walk stands and the next start resumes there."""
        if self.busy:
            self.quit_when_done = True
            self.engine.request_cancel()
            self.query_one("#probe").say(
                "quitting: the step stops at its next safe point, then mailwizard ends", "yellow")
            return
        self.exit()

    def _done(self) -> None:
        self.busy = False
        if self.quit_when_done:
            self.exit()
            return
        self.refresh_bindings()
        self._refresh_marks()
        self._show_selected()
        self._tell_when_ready()

    def _tell_when_ready(self) -> None:
        """Once the last step is done: the client settings, in a dialog (once a session)."""
        from wizard.tui.dialogs import ReadyScreen

        lines = self.engine.closing_notes()
        if lines and not self.told_ready:
            self.told_ready = True
            self.push_screen(ReadyScreen(lines))

    def _ask_from_worker(self, question: str) -> str:
        """A manual probe's question, asked in a dialog; the step's worker waits for the answer
        (bounded: an unanswered dialog counts as no answer after an hour)."""
        from wizard.tui.dialogs import ManualProbeDialog

        return self._answer_in(ManualProbeDialog(question))

    def _ask_secret_from_worker(self, question: str) -> str:
        """A step's password (the relay host's), typed into a field that shows no character."""
        from wizard.tui.dialogs import PasswordDialog

        return self._answer_in(PasswordDialog(question))

    def _confirm_from_worker(self, question: str, risky: bool = False) -> bool:
        """Running a step (r) is the yes to writing its files; what goes further (apt replacing
        another mail server, a hand edit overwritten) is asked in a dialog, no by default."""
        from wizard.tui.dialogs import ConfirmDialog

        return True if not risky else self._answer_in(ConfirmDialog(question), unanswered=False)

    def _answer_in(self, dialog, unanswered=""):
        answered = threading.Event()
        answer = {"value": unanswered}

        def keep(value) -> None:
            answer["value"] = value or unanswered
            answered.set()

        self.call_from_thread(self.push_screen, dialog, keep)
        answered.wait(timeout=3600)
        return answer["value"]

    # ---- engine events ---------------------------------------------------------------------------
    def _from_worker(self, event: events.Event) -> None:
        self.call_from_thread(self.show_event, event)

    def show_event(self, event: events.Event) -> None:
        self._walk().show_event(event)


def app_for(args) -> WizardApp:
    """The wizard for these command-line options, its session opened after the first frame."""

    def open_walk() -> Engine:
        from wizard.session import SessionOptions, open_session

        return open_session(SessionOptions.from_args(args), need_answers=False)

    return WizardApp(opener=open_walk)


def run_app(args) -> int:
    """The wizard for these command-line options; its exit code (non-zero when it failed). A
    session that cannot open (bad answers, another walk holding the lock) raises its error here,
    after the app has closed, so the command line prints it as for any command."""
    app = app_for(args)
    try:
        app.run()
    finally:
        if app.engine is not None:
            app.engine.close()
    if app.failure is not None:
        raise app.failure
    return app.return_code or 0
