"""The chapters in order, each with its mark: locked, current, done, failed."""

from __future__ import annotations

from textual.widgets import ListItem, ListView, Label

from wizard.statuses import BLOCKED, FAILED, LOCKED, PASSED, step_status


def widget_id(step_id: str) -> str:
    """A step's id as a widget id: a lesson's dot ("dovecot-imap.empty") becomes "__"."""
    return step_id.replace(".", "__")


class StepItem(ListItem):
    def __init__(self, step_id: str, title: str, status: str):
        super().__init__(Label(self.caption(title, status), id=f"label-{widget_id(step_id)}"),
                         id=f"step-{widget_id(step_id)}")
        self.step_id = step_id
        self.title_text = title

    @staticmethod
    def caption(title: str, status: str) -> str:
        return f"{step_status(status).mark} {title}"

    def show(self, status: str) -> None:
        self.query_one(Label).update(self.caption(self.title_text, status))
        self.set_class(status == PASSED, "done")
        self.set_class(status in (FAILED, BLOCKED), "failed")
        self.set_class(status == LOCKED, "locked")


class StepList(ListView):
    pass
