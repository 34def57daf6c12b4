"""The answers as a form: each field checked as you type, by the same rules as an answers file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Collapsible, Input, Label, Select, Static

from wizard.answers import AnswersError, chapter_sections
from wizard.form import answers_from_form, field_problem, form_fields, table_fields
from wizard.tui.keys_footer import KeysFooter

LABELS = {
    "maildomain": "Mail domain (the part after @)",
    "mailhost": "Server name within it (mail → mail.DOMAIN)",
    "address": "First mailbox (user@DOMAIN)",
    "password": "Its password (empty: keep the current one)",
    "password_again": "The password again",
    "external_address": "An address on another server, for the sending tests",
}
VANTAGES = [("box: an outside simulated on this box (one machine is enough)", "box"),
            ("none: no outside tests", "none"), ("local: from this box", "local"),
            ("manual: I type them on another host", "manual")]
STATIC = [("not answered", ""), ("yes, a fixed public address", "yes"), ("no, it changes", "no")]


class AnswersScreen(ModalScreen[bool]):
    """Dismissed with True when the answers were saved."""

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, engine, must_answer: bool = False):
        super().__init__()
        self.engine = engine
        self.must_answer = must_answer
        self.previous = engine.answers if engine.has_answers else None
        self.declared = chapter_sections()
        self.fields = form_fields(self.previous, self.declared)
        self.typed = [*LABELS, "external_host"] + [name for name, _, f in table_fields(self.declared)
                                                   if not (f.kind == "bool" or f.choices)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="answers-form"):
            yield Static("Your answers. Every later step is planned from them; changing one "
                         "after a step ran marks that step to run again (↻).", id="answers-intro")
            for name, label in LABELS.items():
                if name == "password" and self.previous is None:
                    label = "Its password"
                yield Label(label)
                yield Input(self.fields[name], id=f"field-{name}",
                            password=name.startswith("password"))
                yield Static("", id=f"problem-{name}", classes="problem -empty")
            yield Label("Outside tests (a connection from another host)")
            vantage = self.fields["vantage"]
            known = {value for _, value in VANTAGES}
            options = VANTAGES + ([(vantage, vantage)] if vantage not in known else [])
            yield Select(options, value=vantage, allow_blank=False, id="field-vantage")
            yield Label("The outside host's name in that address's domain (empty: learned from "
                        "the outside tests' host)")
            yield Input(self.fields["external_host"], id="field-external_host", placeholder="e.g. gateway")
            yield Static("", id="problem-external_host", classes="problem -empty")
            yield Label("Does your provider give this server a fixed public address?")
            yield Select(STATIC, value=self.fields["static_address"], allow_blank=False,
                         id="field-static_address")
            yield Label("The chapters' own answers (each may stay empty: its defaults apply)", id="tables-intro")
            for section in self.declared:
                given = self.previous is not None and self.previous.table(section.key) is not None
                with Collapsible(title=f"[{section.key}] {section.help}", collapsed=not given,
                                 id=f"table-{section.key}"):
                    for name, _, f in table_fields((section,)):
                        yield from self._table_field(name, f)
            yield Static("", id="form-problem", classes="problem -empty")
            with Horizontal():
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield KeysFooter()

    def _table_field(self, name: str, f) -> ComposeResult:
        """One field of a chapter's table, as its declaration describes it."""
        default = "" if f.default in (None, "", ()) else f" (default {_shown(f.default)})"
        yield Label(f"{f.name}: {f.help}{default}")
        if f.kind == "bool" or f.choices:
            options = [("the default" + (f", or {_shown(f.in_lab)} in the lab" if f.in_lab else ""), "")]
            options += [("yes", "true"), ("no", "false")] if f.kind == "bool" else [(c, c) for c in f.choices]
            value = self.fields[name]
            options += [(value, value)] if value not in {v for _, v in options} else []
            yield Select(options, value=value, allow_blank=False, id=f"field-{name}")
        else:
            yield Input(self.fields[name], id=f"field-{name}", password=f.secret,
                        placeholder="given: kept unless typed anew" if f.secret else "")
        yield Static("", id=f"problem-{name}", classes="problem -empty")

    def on_mount(self) -> None:
        self.query_one("#field-maildomain", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        self.fields[name] = event.value
        self._recheck(name)

    def _recheck(self, name: str) -> None:
        # A field's rule may depend on another (address on maildomain, the second password, a
        # table's fields on each other).
        for other in self.typed:
            if other == name or self.fields.get(other):
                problem = field_problem(other, self.fields, self.previous, self.declared)
                self._say(f"#problem-{other}", problem)
                self.query_one(f"#field-{other}", Input).set_class(bool(problem), "-invalid")

    def _say(self, where: str, problem: str) -> None:
        self.query_one(where, Static).update(problem)
        self.query_one(where, Static).set_class(not problem, "-empty")

    def on_select_changed(self, event: Select.Changed) -> None:
        name = (event.select.id or "").removeprefix("field-")
        self.fields[name] = str(event.value)
        self._recheck(name)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        try:
            answers = answers_from_form(self.fields, self.previous, self.engine.store.known_hashes(),
                                        self.declared)
        except AnswersError as exc:
            self._say("#form-problem", f"Not saved: {exc}")
            return
        self.engine.set_answers(answers)
        self.dismiss(True)

    def action_cancel(self) -> None:
        if self.must_answer:      # nothing can be planned without answers
            self.app.exit(message="No answers given: nothing was changed.")
            return
        self.dismiss(False)


def _shown(value) -> str:
    return ", ".join(value) if isinstance(value, tuple) else str(value).lower() if isinstance(value, bool) else str(value)
