"""The mail-flow diagram: where a message goes, lit where the step works and where a probe runs."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from wizard.flow import PARTS

# Three paths a message can take; each row is drawn left to right and wraps when narrow.
ROWS = (
    ("in", ("client", "smtpd", "lmtp", "dovecot", "maildir", "imap", "mua")),
    ("local", ("sendmail", "local")),
    ("out", ("mua", "smtpd", "sasl", "relay")),
)
ROW_LABELS = {"in": "receive ", "local": "local   ", "out": "send    "}


class MailFlow(Widget):
    """`touched`: the parts the selected step changes; `travelled`: the parts the running probe
    passes through (marked ▶, so the path shows without colour too)."""

    touched: reactive[frozenset[str]] = reactive(frozenset())
    travelled: reactive[tuple[str, ...]] = reactive(())

    def render(self) -> Text:
        text = Text()
        for n, (row, parts) in enumerate(ROWS):
            if n:
                text.append("\n")
            text.append(ROW_LABELS[row], style="dim")
            for i, part in enumerate(parts):
                if i:
                    text.append(" → " if row != "out" or part != "sasl" else " ⇄ ", style="dim")
                text.append(self._node(part), style=self._style(part))
        return text

    def _node(self, part: str) -> str:
        mark = "▶" if part in self.travelled else ""
        return f"[{mark}{PARTS[part]}]"

    def _style(self, part: str) -> str:
        if part in self.travelled:
            return "bold reverse"
        if part in self.touched:
            return "bold underline"
        return ""
