"""The one place where mailwizard touches the machine: file writes, commands, daemons.

Everything goes through a `System`. It knows the root prefix (`--root DIR` sandbox, where files
are written under DIR and no command that changes the box is run), how to write a file so that a
crash leaves the old or the new content and never a mix, and how to start and reload the daemons
with or without systemd.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

TEMP_SUFFIX = ".mailwizard-tmp"
CRASH_ENV = "MAILWIZARD_CRASH_AT"
CRASH_LOG_ENV = "MAILWIZARD_CRASH_LOG"      # tests: every crash point passed is listed here


class SystemError_(Exception):
    """A command or write failed; the message says what to do."""


def crashpoint(name: str) -> None:
    """Die here, as SIGKILL would, when a test asks for it (MAILWIZARD_CRASH_AT=name).

    Only tests set the variable: it lets them kill the wizard at each write point and check that
    nothing is half-written and that the next run finishes the walk.
    """
    log = os.environ.get(CRASH_LOG_ENV)
    if log:
        with open(log, "a") as f:
            f.write(name + "\n")
    wanted = os.environ.get(CRASH_ENV)
    if wanted and wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        text = (self.stderr or self.stdout).strip()
        return f"`{shlex.join(self.argv)}` exited {self.returncode}" + (f": {text}" if text else "")


@dataclass
class System:
    """File and command access, relative to `root` ("/" on a real box)."""

    root: Path = Path("/")
    events: list[str] = field(default_factory=list)

    @classmethod
    def at(cls, root: str | None) -> "System":
        """The box itself, or a sandbox under `root` (--root)."""
        return cls(Path(root).resolve() if root else Path("/"))

    @property
    def sandbox(self) -> bool:
        return self.root != Path("/")

    def path(self, absolute: str | Path) -> Path:
        """Where an absolute path of the box lives under our root."""
        p = Path(absolute)
        if not p.is_absolute():
            raise ValueError(f"expected an absolute path, got {absolute}")
        return self.root / p.relative_to("/")

    # ---- reading ---------------------------------------------------------------------------
    def read_bytes(self, absolute: str | Path) -> bytes | None:
        try:
            return self.path(absolute).read_bytes()
        except FileNotFoundError:
            return None

    def read_text(self, absolute: str | Path) -> str | None:
        data = self.read_bytes(absolute)
        return None if data is None else data.decode("utf-8", errors="replace")

    def file_hash(self, absolute: str | Path) -> str | None:
        data = self.read_bytes(absolute)
        return None if data is None else sha256_bytes(data)

    # ---- writing ---------------------------------------------------------------------------
    def write_file(self, absolute: str | Path, data: bytes | str, *, mode: int | None = None,
                   uid: int | None = None, gid: int | None = None, crash_tag: str = "",
                   backdate: float = 0.0) -> None:
        """Atomic write: temp file beside the target, fsync, rename, fsync the directory.

        An existing file keeps its mode and owner unless others are given. `backdate` sets the
        modification time that many seconds into the past (see daemons.settle_seconds).
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self.path(absolute)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            st = target.stat()
            mode = st.st_mode & 0o7777 if mode is None else mode
            uid = st.st_uid if uid is None else uid
            gid = st.st_gid if gid is None else gid
        except FileNotFoundError:
            mode = 0o644 if mode is None else mode
        tmp = target.with_name(target.name + TEMP_SUFFIX)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            if (uid is not None or gid is not None) and os.geteuid() == 0:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            if backdate:
                past = time.time() - backdate
                os.utime(fd, (past, past))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        crashpoint(f"write:{absolute}:{crash_tag}" if crash_tag else f"write:{absolute}")
        os.replace(tmp, target)
        self._fsync_dir(target.parent)
        self.events.append(f"wrote {absolute}")

    def move(self, absolute: str | Path, to: str | Path) -> None:
        """Rename a file (a link moves as the link itself, never through it), atomically."""
        target = self.path(to)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(absolute), target)
        self._fsync_dir(target.parent)
        self.events.append(f"moved {absolute} to {to}")

    def remove_file(self, absolute: str | Path) -> None:
        target = self.path(absolute)
        if target.exists():
            target.unlink()
            self._fsync_dir(target.parent)
            self.events.append(f"removed {absolute}")

    def remove_stale_temps(self, absolutes: list[str]) -> list[str]:
        """Remove temp files a crash left beside our targets; the targets themselves are whole."""
        removed = []
        for absolute in absolutes:
            tmp = self.path(absolute).with_name(Path(absolute).name + TEMP_SUFFIX)
            if tmp.exists():
                tmp.unlink()
                removed.append(str(tmp))
        return removed

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ---- commands --------------------------------------------------------------------------
    def run(self, argv: list[str], *, input: str | None = None, timeout: float = 120,
            changes_box: bool = True, env: dict[str, str] | None = None,
            daemonizes: bool = False, on_line=None) -> CommandResult:
        """Run a command. In the sandbox, commands that change the box are recorded, not run.

        `daemonizes`: the command leaves a daemon behind that keeps its output open (`dovecot`);
        its output goes through a file, so waiting on a pipe that never closes cannot hang us.
        `on_line`: called with each line of output as it comes (apt's progress)."""
        if self.sandbox and changes_box:
            self.events.append(f"sandbox: did not run {shlex.join(argv)}")
            return CommandResult(argv, 0, "", "")
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        if daemonizes:
            return self._run_daemonizing(argv, timeout, full_env)
        if on_line is not None:
            return self._run_streaming(argv, input, timeout, full_env, on_line)
        try:
            proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                                  timeout=timeout, env=full_env)
        except FileNotFoundError:
            return CommandResult(argv, 127, "", f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            return CommandResult(argv, 124, "", f"timed out after {timeout:g} s")
        return CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)

    @staticmethod
    def _run_streaming(argv: list[str], input: str | None, timeout: float, env, on_line) -> CommandResult:
        import tempfile
        import threading

        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=err, text=True, env=env)
            except FileNotFoundError:
                return CommandResult(argv, 127, "", f"{argv[0]}: command not found")
            timer = threading.Timer(timeout, proc.kill)      # the bound on a silent command
            timer.start()
            try:
                if input is not None:
                    proc.stdin.write(input)
                    proc.stdin.close()
                lines = []
                for line in proc.stdout:
                    lines.append(line)
                    on_line(line.rstrip("\n"))
                code = proc.wait()
            finally:
                timer.cancel()
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        if code < 0 and not timer.is_alive():
            return CommandResult(argv, 124, "".join(lines), f"timed out after {timeout:g} s\n{stderr}")
        return CommandResult(argv, code, "".join(lines), stderr)

    @staticmethod
    def _run_daemonizing(argv: list[str], timeout: float, env) -> CommandResult:
        import tempfile

        with tempfile.TemporaryFile() as out:
            try:
                proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                      timeout=timeout, env=env)
            except FileNotFoundError:
                return CommandResult(argv, 127, "", f"{argv[0]}: command not found")
            except subprocess.TimeoutExpired:
                return CommandResult(argv, 124, "", f"timed out after {timeout:g} s")
            out.seek(0)
            text = out.read().decode(errors="replace")
        return CommandResult(argv, proc.returncode, "", text)

    def spawn(self, argv: list[str], log: Path, ready: str = "ready", timeout: float = 10.0) -> int:
        """Start a background service in its own session; return its pid once it prints `ready`.

        Its output goes to `log`. If it does not get ready within `timeout`, it is killed and the
        end of its log is raised, so a caller never waits on a service that will not come.
        """
        with open(log, "ab") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        line = b""
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                chunk = proc.stdout.read() or b""
            except BlockingIOError:
                chunk = b""
            line += chunk
            if ready.encode() in line:
                proc.stdout.close()
                return proc.pid
            time.sleep(0.02)
        proc.kill()
        proc.wait()
        tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
        raise SystemError_(f"`{shlex.join(argv)}` did not get ready within {timeout:g} s: {tail.strip()}")

    def query(self, argv: list[str], timeout: float = 30) -> CommandResult:
        """A read-only command: runs in the sandbox too."""
        return self.run(argv, timeout=timeout, changes_box=False)


def read_pid(path: Path) -> int | None:
    """The pid in a pid file, or None."""
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int | None) -> bool:
    """True when `pid` runs and is not a zombie (a stopped daemon may linger as one)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def systemd_booted() -> bool:
    """As sd_booted(3) tells: systemd is PID 1 when /run/systemd/system exists."""
    return Path("/run/systemd/system").is_dir()


def in_other_netns(pid: int | None) -> bool:
    """True when `pid` runs in another network namespace than we do (e.g. inside the lab):
    reloading it would leave it listening where our probes do not look."""
    if not pid:
        return False
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return False
