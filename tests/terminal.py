"""A real terminal for the tests: a tmux session a command runs in, its screen read back, a
text waited for (bounded) — one helper for every test that looks at the wizard in a terminal."""

from __future__ import annotations

import subprocess
import time


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


class Terminal:
    def __init__(self, session: str):
        self.session = session

    def start(self, command: str, width: int = 80, height: int = 24) -> None:
        tmux("new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), command)

    def screen(self, *flags: str) -> str:
        """What the terminal shows now (-e: with its colours, -J: wrapped lines joined)."""
        return tmux("capture-pane", "-p", *flags, "-t", self.session)

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, *texts: str, seconds: float = 30) -> str:
        """The screen once it shows every one of `texts`; an error with the screen after `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{texts!r} never all appeared; the screen shows:\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.session], capture_output=True).returncode == 0

    def kill(self) -> None:
        tmux("kill-session", "-t", self.session)
