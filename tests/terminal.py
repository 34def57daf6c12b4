"""A real terminal for the tests: a tmux session a command runs in, its screen read back, a
text waited for (bounded) — one helper for every test that looks at the wizard in a terminal.
Its tmux server listens on a socket in a directory of its own, removed with the session, so the
box keeps no tmux directory of the suite's."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class Terminal:
    def __init__(self, session: str):
        self.session = session
        self.folder: Path | None = None

    def tmux(self, *args: str) -> str:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="mailwizard-tmux-"))
        return subprocess.run(["tmux", "-S", str(self.folder / "socket"), *args], capture_output=True, text=True,
                              timeout=10).stdout

    def start(self, command: str, width: int = 80, height: int = 24) -> None:
        self.tmux("new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height), command)

    def screen(self, *flags: str) -> str:
        """What the terminal shows now (-e: with its colours, -J: wrapped lines joined)."""
        return self.tmux("capture-pane", "-p", *flags, "-t", self.session)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

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
        if self.folder is None:
            return False
        return subprocess.run(["tmux", "-S", str(self.folder / "socket"), "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def kill(self) -> None:
        """The session and its server gone, and their directory."""
        if self.folder is not None:
            self.tmux("kill-server")
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
