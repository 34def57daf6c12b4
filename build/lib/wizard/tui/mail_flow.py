"""The mail-flow diagram: where a message goes, lit where the step works and where a probe runs."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from wizard.flow import PARTS, sends_out

# Three paths a message can take; each row is drawn left to right and wraps when narrow.
ROWS = (
    ("in", ("client", "smtpd", "lmtp", "dovecot", "maildir", "imap", "mua")),
    ("local", ("sendmail", "local")),
    ("out", ("mua", "smtpd", "sasl", "milter", "relay")),
)
ROW_LABELS = {"in": "receive ", "local": "local   ", "out": "send    "}


class MailFlow(Widget):
    """`touched`: the parts the selected step changes; `travelled`: the parts the running probe
    passes through (marked ▶, so the path shows without colour too)."""

    touched: reactive[frozenset[str]] = reactive(frozenset())
    travelled: reactive[tuple[str, ...]] = reactive(())

    def __init__(self, labels: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.labels = labels or PARTS       # the parts' names, ports included (wizard.flow.labels)

    def render(self) -> Text:
        text = Text()
        for n, (row, parts) in enumerate(ROWS):
            if n:
                text.append("\n")
            text.append(ROW_LABELS[row], style="dim")
            for i, part in enumerate(parts):
                if i:
                    text.append(" ⇄ " if row == "out" and part in ("sasl", "milter") else " → ", style="dim")
                on_path = part in self.travelled and (row == "out") == sends_out(self.travelled)
                text.append(f"[{'▶' if on_path else ''}{self.labels[part]}]", style=self._style(part, on_path))
        return text

    def _style(self, part: str, on_path: bool) -> str:
        if on_path:
            return "bold reverse"
        if part in self.touched:
            return "bold underline"
        return ""
