"""The walk's memory: /var/lib/mailwizard/state.json (0600), written atomically, under a lock.

It holds the answers (hashes, never a clear password), each step's status and probe results,
the hashes of the files we wrote (to tell drift on resume) and how to restore the originals.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field

from wizard.system import System, crashpoint

STATE_DIR = "/var/lib/mailwizard"
STATE_FILE = f"{STATE_DIR}/state.json"
LOCK_FILE = f"{STATE_DIR}/lock"
AUDIT_FILE = f"{STATE_DIR}/audit.json"           # the last `mailwizard audit`, for the report
REPLAY_FILE = f"{STATE_DIR}/answers.toml"     # the walk's answers, ready for `run --answers`
ORIGINALS_DIR = f"{STATE_DIR}/originals"
FORMAT = 1


class StateError(Exception):
    pass


class Locked(StateError):
    pass


@dataclass
class State:
    answers: dict | None = None
    steps: dict[str, dict] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)     # path -> sha256 of what we wrote
    originals: dict[str, dict] = field(default_factory=dict)  # path -> {existed, mode, uid, gid, sha}
    created: list[str] = field(default_factory=list)          # files that did not exist before us
    made: list[dict] = field(default_factory=list)            # users, directories we made
    teaching: bool = False                                    # the walk takes the lessons
    user_changes: dict = field(default_factory=dict)          # `mailwizard user`: added, removed
    services: dict = field(default_factory=dict)              # name -> {running, enabled} as first met
    path_chosen: bool = False                                 # the person said which path (or walked)
    outside: dict = field(default_factory=dict)               # the vantage point used, as learned
    # What happened, in order, for a grade (wizard/grading.py): each run of a step and its outcome,
    # undos, the path chosen, exercises started, checked (hints shown), solved, given up.
    history: list[dict] = field(default_factory=list)

    def status_of(self, step_id: str) -> str:
        return self.steps.get(step_id, {}).get("status", "pending")

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "answers": self.answers, "steps": self.steps,
                           "written": self.written, "originals": self.originals,
                           "created": self.created, "made": self.made,
                           "teaching": self.teaching, "user_changes": self.user_changes,
                           "services": self.services, "path_chosen": self.path_chosen,
                           "outside": self.outside, "history": self.history}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "State":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(f"{STATE_FILE} is not valid JSON ({exc}); move it aside to start over, "
                             "or `mailwizard reset` to restore the original files.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StateError(f"{STATE_FILE} is not a mailwizard state file of format {FORMAT}; "
                             "move it aside to start over.")
        try:
            return cls(data.get("answers"), dict(data.get("steps") or {}),
                       dict(data.get("written") or {}), dict(data.get("originals") or {}),
                       list(data.get("created") or []), list(data.get("made") or []),
                       bool(data.get("teaching")), dict(data.get("user_changes") or {}),
                       dict(data.get("services") or {}), bool(data.get("path_chosen")),
                       dict(data.get("outside") or {}), list(data.get("history") or []))
        except (TypeError, ValueError):
            raise StateError(f"{STATE_FILE} has a damaged structure; move it aside to start over.") from None


class StateStore:
    """Loads and saves the state, and holds the lock that keeps a second wizard out."""

    def __init__(self, system: System):
        self.system = system
        self._lock_fd: int | None = None

    @property
    def exists(self) -> bool:
        return self.system.path(STATE_FILE).exists()

    def lock(self) -> None:
        path = self.system.path(LOCK_FILE)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise Locked(f"another mailwizard (pid {holder}) is working on this server; "
                         "wait for it to finish, then run again.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def load(self) -> State:
        text = self.system.read_text(STATE_FILE)
        return State() if text is None else State.from_json(text)

    def known_hashes(self) -> dict[str, str]:
        """address → password hash from the last walk, and the chapters' tables as it recorded
        them, each value under `table.key` (read without the lock: no secret in it)."""
        try:
            answers = self.load().answers or {}
            users = answers.get("users", [])
            known = {u.get("address", ""): u.get("password_hash", "") for u in users if isinstance(u, dict)}
            for table, fields in answers.items():
                if isinstance(fields, dict) and table not in ("external", "lab"):
                    known.update({f"{table}.{key}": value for key, value in fields.items()
                                  if isinstance(value, str) and value})
        except (StateError, ValueError, AttributeError):
            return {}
        return known

    def save(self, state: State, why: str = "") -> None:
        self.system.write_file(STATE_FILE, state.to_json(), mode=0o600, uid=0, gid=0,
                               crash_tag=why)
        crashpoint(f"state:{why}")

    def clear(self) -> None:
        self.system.remove_file(STATE_FILE)
        self.system.remove_file(AUDIT_FILE)      # the last audit was of the walk now forgotten


def now() -> float:
    return round(time.time(), 3)


def originals_copy(path: str) -> str:
    return f"{ORIGINALS_DIR}{path}"


def ensure_private_dir(system: System) -> None:
    directory = system.path(STATE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)

