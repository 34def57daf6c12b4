"""IMAP as the tutorial types it, over the one dialogue engine: tagged commands, untagged data,
STARTTLS or TLS from the first byte (993), and a password never shown in the transcript."""

from __future__ import annotations

import time

from wizard.net.dialogue import Dialogue, DialogueError

TAG = "a"


class ImapClosed(DialogueError):
    """The server ended the session (a BYE, or the connection closed)."""


class ImapTalk:
    def __init__(self, talk: Dialogue):
        self.talk = talk
        self.lines: list[str] = []          # everything the server said, in order

    def _line(self, deadline: float) -> str:
        try:
            line = self.talk.read_line(deadline)
        except DialogueError as exc:
            raise ImapClosed(str(exc)) from None
        self.lines.append(line)
        return line

    def greeting(self) -> str:
        line = self._line(time.monotonic() + self.talk.timeout)
        if line.startswith("* BYE"):
            self._drain()
            raise ImapClosed(line)
        return line

    def command(self, text: str, shown: str | None = None) -> list[str]:
        """Send `a TEXT`; the server's lines up to the tagged reply (or until it hangs up)."""
        self.talk.send(f"{TAG} {text}", None if shown is None else f"{TAG} {shown}")
        return self._until_tagged(bye_ends=not text.upper().startswith("LOGOUT"))

    def _until_tagged(self, bye_ends: bool = True) -> list[str]:
        deadline = time.monotonic() + self.talk.timeout
        got = []
        while True:
            line = self._line(deadline)
            got.append(line)
            if line.startswith(f"{TAG} "):
                return got
            if line.startswith("* BYE") and bye_ends:
                self._drain()
                raise ImapClosed(line)

    def login(self, user: str, password: str) -> list[str]:
        """LOGIN with both arguments quoted as IMAP strings (a password may hold blanks, quotes,
        ':' or non-ASCII: the latter goes as a LITERAL+ of its UTF-8 bytes). Shown masked."""
        shown = f"LOGIN {quoted(user)} ********"
        if password.isascii():
            return self.command(f"LOGIN {quoted(user)} {quoted(password)}", shown=shown)
        data = password.encode("utf-8")
        self.talk.send(f"{TAG} LOGIN {quoted(user)} {{{len(data)}+}}", f"{TAG} {shown}")
        self.talk.sock.sendall(data + b"\r\n")
        return self._until_tagged()

    def _drain(self) -> None:
        """Read what is left until the server closes (a BYE is followed by the close)."""
        try:
            while True:
                self._line(time.monotonic() + 2)
        except ImapClosed:
            pass


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tagged_ok(lines: list[str]) -> bool:
    return bool(lines) and lines[-1].startswith(f"{TAG} OK")
