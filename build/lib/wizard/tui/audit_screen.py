"""The audit on screen: `mailwizard audit`'s rows as they come in, one line each with its mark,
and for the highlighted row what was found, the fix and the evidence (what was sent and what came
back). The audit runs in a worker; `r` runs it again. It only reads and sends probes."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from wizard.statuses import audit_status
from wizard.tui.keys_footer import KeysFooter


class AuditScreen(Screen):
    BINDINGS = [Binding("r", "rerun", "Audit again", id="audit-again"),
                Binding("escape", "app.pop_screen", "Back", id="audit-back")]

    def __init__(self, engine):
        super().__init__()
        self.engine = engine
        self.rows: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Auditing…", id="audit-title")
        yield DataTable(id="audit-rows", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-detail", markup=False)     # transcripts hold [brackets]
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("", "category", "check", "found")
        self.action_rerun()

    def action_rerun(self) -> None:
        self.rows = []
        self.query_one(DataTable).clear()
        self.query_one("#audit-title", Static).update(
            "Auditing the server as the public mail testers do, from the walk's vantage point…")
        self._audit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit")
    def _audit(self) -> None:
        try:
            audit = self.engine.audit(on_row=lambda row: self.app.call_from_thread(self._add, row))
        except Exception as exc:        # an engine that cannot audit (a sandbox): said, not raised
            self.app.call_from_thread(self._title, f"The audit could not run: {exc}")
            return
        self.app.call_from_thread(self._title, audit.summary())

    def _add(self, row) -> None:
        self.rows.append(row)
        status = audit_status(row.status)
        self.query_one(DataTable).add_row(Text(status.mark, style=status.style), row.category, row.id,
                                          Text(row.found))

    def _title(self, text: str) -> None:
        self.query_one("#audit-title", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.rows):
            row = self.rows[event.cursor_row]
            lines = [f"{row.title} ({row.level}): {audit_status(row.status).word}", row.found]
            lines += [f"fix: {row.fix}"] if row.fix and row.status != "passed" else []
            lines += row.evidence[:12]
            self.query_one("#audit-detail", Static).update("\n".join(lines))
