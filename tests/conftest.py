"""Fixtures for tests against the real Postfix the test setup installed (.ci/test).

Every daemon test starts from the box as the suite found it and leaves it that way: Postfix
stopped (if it was), main.cf and root's mailbox as they were, no mailwizard state, empty queue.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = Path("/var/lib/mailwizard")
KEPT = ["/etc/postfix/main.cf", "/etc/postfix/main.cf.bak", "/var/mail/root", "/var/log/mail.log",
        "/var/spool/postfix/etc/resolv.conf", "/var/spool/postfix/etc/hosts"]

ANSWERS = """\
maildomain = "example.test"
mailhost   = "mail"
[[users]]
address  = "alice@example.test"
password = "123456"
[external]
address = "bob@ext.test"
vantage = "none"
"""


def mailwizard(*args: str, env: dict | None = None, timeout: float = 300,
               input: str | None = None) -> subprocess.CompletedProcess:
    """Drive mailwizard exactly as a user or an outside check would: through its CLI."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "wizard.cli", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout, input=input)


def smtp_greeting() -> str:
    """The first line port 25 sends, read with a plain socket (independent of our probes)."""
    import socket

    with socket.create_connection(("127.0.0.1", 25), timeout=5) as sock:
        return sock.makefile("rb").readline().decode().strip()


def postfix_running() -> bool:
    return subprocess.run(["postfix", "status"], capture_output=True).returncode == 0


def stop_postfix() -> None:
    if postfix_running():
        subprocess.run(["postfix", "stop"], capture_output=True, timeout=60)


@dataclass
class Snapshot:
    files: dict[str, bytes | None]
    modes: dict[str, tuple[int, int, int]]
    postfix_was_running: bool

    @classmethod
    def take(cls) -> "Snapshot":
        files, modes = {}, {}
        for name in KEPT:
            p = Path(name)
            files[name] = p.read_bytes() if p.exists() else None
            if p.exists():
                st = p.stat()
                modes[name] = (st.st_mode & 0o7777, st.st_uid, st.st_gid)
        return cls(files, modes, postfix_running())

    def restore(self) -> None:
        for name, data in self.files.items():
            p = Path(name)
            if data is None:
                p.unlink(missing_ok=True)
            else:
                p.write_bytes(data)
                mode, uid, gid = self.modes[name]
                os.chmod(p, mode)
                os.chown(p, uid, gid)


@pytest.fixture(scope="session")
def pristine() -> Snapshot:
    if os.geteuid() != 0:
        pytest.fail("the daemon tests need root: run the suite with `sudo bash .ci/test`")
    if shutil.which("postfix", path="/usr/sbin:/usr/bin") is None:
        pytest.fail("Postfix is not installed: `bash .ci/test` installs it before running the suite")
    if STATE_DIR.exists():
        pytest.fail(f"{STATE_DIR} exists: a real mailwizard walk lives on this box; "
                    "the daemon tests would disturb it")
    return Snapshot.take()


@pytest.fixture
def box(pristine: Snapshot, tmp_path: Path):
    """A box with Postfix as the suite found it; put back whatever the test did."""
    stop_postfix()
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    try:
        yield answers
    finally:
        stop_postfix()
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        pristine.restore()
        if pristine.postfix_was_running:
            subprocess.run(["postfix", "start"], capture_output=True)
