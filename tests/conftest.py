"""Fixtures for tests against the real Postfix the test setup installed (.ci/test).

Every daemon test starts from the box as the suite found it and leaves it that way: Postfix
stopped (if it was), main.cf and root's mailbox as they were, no mailwizard state, empty queue.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixture_data import ANSWERS, kept_files

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = Path("/var/lib/mailwizard")


KEPT = kept_files()


# The files that take longest, longest first: a parallel run hands out whole files in the order
# collected, and one of these started last would keep the run waiting on one worker. Only the order
# changes; a file not named here keeps its place after them.
SLOWEST_FILES = ("test_systemd.py", "test_crash_points.py", "test_cross_face.py", "test_debian13.py",
                 "test_dovecot_walk.py", "test_audit.py", "test_safety.py", "test_sending_walk.py",
                 "test_certificate.py", "test_dns_auth.py", "test_exercises.py", "test_lab_fresh_box.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: place for place, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOWEST_FILES)))


def pytest_configure(config):
    """In a parallel run, the controller makes what the workers would download (they cannot)."""
    parallel = getattr(config.option, "dist", "no") != "no"
    if parallel and not hasattr(config, "workerinput"):
        from caches import make_all

        make_all()
    if hasattr(config, "workerinput") and not os.environ.get("MAILWIZARD_ISOLATED_WORKER"):
        # Workers sharing the box's /etc/postfix and ports would break each other's daemons.
        pytest.exit("a parallel worker must run in namespaces of its own: run `bash .ci/test` "
                    "(its workers start through tests/isolated-worker), or pytest without -n", returncode=4)



def mailwizard(*args: str, env: dict | None = None, timeout: float = 300,
               input: str | None = None) -> subprocess.CompletedProcess:
    """Drive mailwizard exactly as a user or an outside check would: through its CLI."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "wizard", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout, input=input)


def ok(*args: str, env: dict | None = None) -> str:
    """mailwizard through its CLI, which must succeed; what it said."""
    done = mailwizard(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


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


def dovecot_running() -> bool:
    try:
        pid = int(Path("/run/dovecot/master.pid").read_text().split()[0])
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, IndexError):
        return False


def stop_dovecot() -> None:
    if dovecot_running():
        subprocess.run(["dovecot", "stop"], capture_output=True, timeout=60)
        for _ in range(200):
            if not dovecot_running():
                break
            time.sleep(0.05)


RSPAMD_PID = Path("/run/rspamd/rspamd.pid")
DKIM_KEYS = Path("/var/lib/rspamd/dkim")
# What certbot keeps of the certificates the tests get from the lab's CA (reset leaves them, as
# it should on a real box): removed after the suite unless they were there before it.
CERTBOT_DIRS = [Path("/etc/letsencrypt") / sub for sub in ("live", "archive", "renewal", "accounts", "csr", "keys",
                                                          "renewal-hooks")] + \
               [Path("/var/lib/letsencrypt"), Path("/var/log/letsencrypt")]


def rspamd_running() -> bool:
    try:
        pid = int(RSPAMD_PID.read_text().split()[0])
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, IndexError):
        return False


def stop_rspamd() -> None:
    """rspamd as the dkim chapter starts it (its hyperscan cache stays: the next start is quick)."""
    if rspamd_running():
        subprocess.run(["kill", "-TERM", RSPAMD_PID.read_text().split()[0]], capture_output=True)
        for _ in range(300):
            if not rspamd_running():
                break
            time.sleep(0.05)


def _dkim_keys() -> frozenset[str] | None:
    return frozenset(p.name for p in DKIM_KEYS.glob("*")) if DKIM_KEYS.is_dir() else None


def account_exists(kind: str, name: str) -> bool:
    return subprocess.run(["getent", kind, name], capture_output=True).returncode == 0


@dataclass
class Snapshot:
    files: dict[str, bytes | None]
    modes: dict[str, tuple[int, int, int]]
    postfix_was_running: bool
    had_vmail_user: bool = False
    had_vmail_group: bool = False
    had_var_vmail: bool = False
    dkim_keys: frozenset[str] | None = None    # key files there before (None: no directory)
    certbot_dirs: tuple[str, ...] = ()         # certbot's directories that were there before

    @classmethod
    def take(cls) -> "Snapshot":
        files, modes = {}, {}
        for name in KEPT:
            p = Path(name)
            files[name] = p.read_bytes() if p.exists() else None
            if p.exists():
                st = p.stat()
                modes[name] = (st.st_mode & 0o7777, st.st_uid, st.st_gid)
        return cls(files, modes, postfix_running(), account_exists("passwd", "vmail"),
                   account_exists("group", "vmail"), Path("/var/vmail").exists(), _dkim_keys(),
                   tuple(str(p) for p in CERTBOT_DIRS if p.exists()))

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
        # What the Dovecot chapters make: the vmail account and the mail store.
        if not self.had_var_vmail:
            shutil.rmtree("/var/vmail", ignore_errors=True)
        # Keys the walks made go (reset keeps them, as it should for a real box); keys that were
        # here before the tests stay.
        if self.dkim_keys is None:
            shutil.rmtree(DKIM_KEYS, ignore_errors=True)
        else:
            for path in DKIM_KEYS.glob("*"):
                if path.name not in self.dkim_keys:
                    path.unlink(missing_ok=True)
        for path in CERTBOT_DIRS:
            if str(path) not in self.certbot_dirs:
                shutil.rmtree(path, ignore_errors=True)
        if not self.had_vmail_user and account_exists("passwd", "vmail"):
            subprocess.run(["userdel", "vmail"], capture_output=True)
        if not self.had_vmail_group and account_exists("group", "vmail"):
            subprocess.run(["groupdel", "vmail"], capture_output=True)


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
    stop_dovecot()
    stop_rspamd()
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    try:
        yield answers
    finally:
        stop_postfix()
        stop_dovecot()
        stop_rspamd()
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        pristine.restore()
        if pristine.postfix_was_running:
            subprocess.run(["postfix", "start"], capture_output=True)


LAB_NAME = f"mwt{os.getpid() % 100000}"


def lab_answers(vantage: str = "none") -> str:
    """The suite's answers plus a lab of its own name, so a lab a teacher runs is never touched."""
    return ANSWERS.replace('vantage = "none"', f'vantage = "{vantage}"') + f'[lab]\nname = "{LAB_NAME}"\n'


def lab_leftovers(name: str = LAB_NAME) -> list[str]:
    """Everything a lab could leave behind: namespaces, links, files, processes."""
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [f"netns {line.split()[0]}" for line in netns.splitlines() if line.startswith(f"{name}-")]
    found += [f"link {p.name}" for p in Path("/sys/class/net").iterdir() if p.name.startswith(f"{name}-")]
    for path in (Path("/etc/netns") / f"{name}-mail", Path("/etc/netns") / f"{name}-ext",
                 Path("/run/mailwizard-lab") / name):
        if path.exists():
            found.append(f"file {path}")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (proc / "status").read_text()
            except OSError:
                continue
            if "wizard.lab." in cmdline and "State:\tZ" not in state:
                found.append(f"process {proc.name}: {cmdline}")
    return found


def remove_lab(answers: Path) -> None:
    mailwizard("lab", "down", "--answers", str(answers))
    for ns in (f"{LAB_NAME}-mail", f"{LAB_NAME}-ext"):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


@pytest.fixture
def lab(box: Path):
    """The box's answers with a lab of the suite's own; the lab is taken down whatever happens."""
    box.write_text(lab_answers())
    netns_etc_existed = Path("/etc/netns").exists()
    try:
        yield box
    finally:
        remove_lab(box)
        if not netns_etc_existed and Path("/etc/netns").exists() and not any(Path("/etc/netns").iterdir()):
            Path("/etc/netns").rmdir()


def in_namespace(ns: str, code: str, run=None, python: str = sys.executable) -> str:
    """Run a Python snippet inside a lab namespace (where the daemons, or the outside, live):
    on this host, or through `run` (a box's own way of running a command, with its python)."""
    import textwrap

    argv = ["ip", "netns", "exec", ns, python, "-c", textwrap.dedent(code)]
    done = run(*argv, timeout=120) if run else subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture
def lab_up(lab):
    """The lab, built."""
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 0, up.stdout + up.stderr
    return lab


@pytest.fixture
def session():
    """Opens engines as the faces do (tests/sessions.py: wizard.session's one builder) and
    closes each after the test: `session(root, answers_text, teaching=..., emit=...)`."""
    from sessions import open_engine

    opened = []

    def open_(root, answers=ANSWERS, **options):
        engine = open_engine(root, answers, **options)
        opened.append(engine)
        return engine

    yield open_
    for engine in opened:
        engine.close()


def engine_walk(answers_file, steps):
    """A walk in this process over the given steps (tests inject faults into real steps)."""
    from wizard.answers import load_answers
    from wizard.engine import Engine
    from wizard.system import System

    events = []
    engine = Engine(System(), load_answers(answers_file), steps, emit=events.append)
    with engine.open():
        outcomes = engine.walk()
    return outcomes, events


def notes(events) -> list[str]:
    """The texts of the engine's notes among the events it emitted."""
    from wizard.events import Note

    return [e.text for e in events if isinstance(e, Note)]
