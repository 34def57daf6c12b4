"""The Log tab: the daemons' lines of the step's last run, one selectable row each. Enter on a
line that names a message (a queue id, a refused recipient, Dovecot's Message-ID) follows that
message through the logs: the Why screen, opened on it."""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option


class LogLines(OptionList):
    """Log lines as rows; `lines` are their texts (the ✘ mark: a failed probe pointed at it)."""

    def show(self, rows: list[tuple[str, bool]], empty: str) -> None:
        self.clear_options()
        self.add_options([Option(("✘ " if pointed else "  ") + line) for line, pointed in rows]
                         or [Option(empty, disabled=True)])

    @property
    def lines(self) -> list[str]:
        return [str(self.get_option_at_index(i).prompt) for i in range(self.option_count)]
