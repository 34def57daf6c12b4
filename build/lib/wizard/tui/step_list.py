"""The chapters in order, each with its mark: locked, current, done, failed.

One widget for the whole list (an OptionList, a line per step) rather than a row widget and a
label per step: the list is on screen at every start, and a widget per row was most of what
Textual laid out and styled before the walk could be used."""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wizard.statuses import BLOCKED, FAILED, LOCKED, PASSED, step_status

# A row's colour by its status: the theme's variables, as the stylesheet would name them (a row
# of an OptionList is not a widget the stylesheet can select).
ROW_COLOUR = {PASSED: "$success", FAILED: "$error", BLOCKED: "$error", LOCKED: "$text-muted"}


def caption(title: str, status: str) -> str:
    """The row as read: the status's mark, then the title."""
    return f"{step_status(status).mark} {title}"


class StepList(OptionList):
    def __init__(self, rows: list[tuple[str, str, str]], highlighted: int | None = None, **kwargs):
        """`rows`: (step id, title, status) in walk order; `highlighted`: the row it opens on."""
        self.rows: dict[str, tuple[str, str]] = {}
        super().__init__(*self._made(rows), **kwargs)
        if highlighted is not None:
            self.highlighted = highlighted

    def _made(self, rows) -> list[Option]:
        self.rows = {step_id: (title, status) for step_id, title, status in rows}
        return [Option(self._prompt(title, status), id=step_id) for step_id, title, status in rows]

    @staticmethod
    def _prompt(title: str, status: str) -> str:
        text = escape(caption(title, status))
        colour = ROW_COLOUR.get(status)
        return f"[{colour}]{text}[/]" if colour else text

    # ---- the step list's own words ------------------------------------------------------------
    @property
    def index(self) -> int | None:
        """The highlighted step's place in the walk (what a ListView called its index)."""
        return self.highlighted

    @index.setter
    def index(self, value: int | None) -> None:
        self.highlighted = value

    def replace_rows(self, rows) -> None:
        """Another path: other steps."""
        self.set_options(self._made(rows))

    def show(self, step_id: str, title: str | None = None, status: str | None = None) -> None:
        """A step's row again, with a new title or status (only when it changed)."""
        old_title, old_status = self.rows[step_id]
        new = (old_title if title is None else title, old_status if status is None else status)
        if new != (old_title, old_status):
            self.rows[step_id] = new
            self.replace_option_prompt(step_id, self._prompt(*new))

    def status_of(self, step_id: str) -> str:
        return self.rows[step_id][1]

    def caption_of(self, step_id: str) -> str:
        return caption(*self.rows[step_id])
