"""A Debian box with systemd as PID 1 for the tests: a booted `systemd-nspawn` container.

The base of each release (debootstrap minbase with systemd, dbus, python3, iproute2) is made
once and kept as a tarball under the cache directory, with the .debs a walk installs already
fetched into a small apt repository of its own (`file:` source, the only one the box knows):
inside the lab's namespaces there is no way to a mirror, yet the wizard's install step runs
`apt-get update` and `apt-get install` as on any box, and apt's package scripts start Postfix
and Dovecot under systemd, as they do on a real one (no policy-rc.d in this base).

Every test module extracts a fresh copy, builds the project's venv there with the README's
setup command (wheels fetched on the host, so no network is needed inside) and boots it with
its network namespace being the lab's mail namespace, which the host's `lab up` made: the
lab's DNS, outside host and CA (run by the host) are then what the booted box sees. Teardown
powers the box off, takes the lab down and removes the copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from debian13 import CACHE, MIRROR, REPO, REPOSITORY, make_repository, need_the_network, wheelhouse

PROJECT = "/opt/mailwizard"
WHEELS = "/opt/wheels"
BASE_PACKAGES = "systemd,systemd-sysv,dbus,python3,python3-venv,iproute2,ca-certificates"
# What the walk (and the exim4 case) installs, and the sshd a classroom reaches a box by; fetched once with the base, installed by apt
# inside the booted box. Postfix and exim4 exclude each other: fetched in two rounds.
FETCHED = [["postfix", "dovecot-core", "dovecot-imapd", "dovecot-lmtpd", "rspamd", "certbot",
            "libsasl2-modules", "rsyslog", "openssh-server"],
           ["exim4-daemon-light"]]
PYTHONS = {"bookworm": "3.11", "trixie": "3.13"}
BOUND = ("/run/netns", "/etc/netns", "/run/mailwizard-lab")   # the host's, bound into the box
ENV = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]
BASE_VERSION = "2"     # bump when the recipe below changes, so a stale cached base is remade


def _run(argv, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run(argv, **kw)


def _need(command: str, package: str) -> None:
    if shutil.which(command) is None:
        got = _run(["apt-get", "install", "-y", "-q", package], timeout=900)
        assert got.returncode == 0, f"installing {package} failed:\n{got.stdout}{got.stderr}"


def base_tarball(release: str) -> Path:
    """The cached base of `release`, made when missing (two minutes or so)."""
    done = CACHE / f"booted-{release}-{BASE_VERSION}.tar"
    if done.exists():
        return done
    need_the_network(done)
    _need("debootstrap", "debootstrap")
    partial = CACHE / f"booted-{release}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    made = _run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", release,
                 str(partial), MIRROR], timeout=1500)
    assert made.returncode == 0, f"debootstrap {release} failed:\n{made.stdout[-3000:]}{made.stderr[-3000:]}"
    try:
        shutil.copy("/etc/resolv.conf", partial / "etc/resolv.conf")
        chroot = ["chroot", str(partial), *ENV]
        got = _run([*chroot, "apt-get", "update", "-q"], timeout=900)
        assert got.returncode == 0, got.stdout + got.stderr
        for packages in FETCHED:
            got = _run([*chroot, "apt-get", "install", "--download-only", "-y", "-q", *packages], timeout=1500)
            assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-3000:]
        make_repository(partial)
        (partial / "etc/resolv.conf").unlink()
        # A unique machine id on every boot of a copy: systemd makes one when the file is empty.
        (partial / "etc/machine-id").write_text("")
        with tarfile.open(str(done) + ".partial", "w") as tar:
            tar.add(partial, arcname=".")
        os.replace(str(done) + ".partial", done)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return done


class Booted:
    """One booted box: made from the cached base, booted into a lab's mail namespace."""

    def __init__(self, root: Path, release: str):
        self.root, self.release = root, release
        self.nspawn: subprocess.Popen | None = None
        self.leader: int | None = None
        self.ssh_key: Path | None = None      # a key root's authorized_keys holds, when a test gave it sshd

    def path(self, inside: str) -> Path:
        if any(inside == b or inside.startswith(b + "/") for b in BOUND):
            return Path(inside)
        return self.root / inside.lstrip("/")

    # ---- making -------------------------------------------------------------------------------
    def make(self) -> None:
        self.root.mkdir(parents=True)
        with tarfile.open(base_tarball(self.release)) as tar:
            tar.extractall(self.root, filter="fully_trusted")
        project = self.path(PROJECT)
        for name in ("wizard", "steps", "assets", ".ci"):
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(REPO / name, project / name)
        wheelhouse(self.path(WHEELS), PYTHONS[self.release])
        # The README's setup, run before the first boot (its venv needs no network: --no-index).
        setup = _run(["chroot", str(self.root), *ENV, "PIP_NO_INDEX=1", f"PIP_FIND_LINKS={WHEELS}",
                      "bash", f"{PROJECT}/.ci/setup"], timeout=900)
        assert setup.returncode == 0, f"the README's setup failed on {self.release}:\n{setup.stdout}{setup.stderr}"

    def boot(self, netns: str, resolv_conf: str) -> None:
        """Boot with systemd as PID 1, its network being the namespace `netns`; the lab's
        namespaces and files are bound in, so probes "from outside" start there as on the host."""
        self.path("/etc/resolv.conf").write_text(resolv_conf)
        _need("systemd-nspawn", "systemd-container")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-q", "--register=no", "--keep-unit", "-D", str(self.root),
             "--machine", f"mail-{self.release}", f"--network-namespace-path=/run/netns/{netns}",
             "--resolv-conf=off", *(f"--bind={b}" for b in BOUND), "-b"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 120
        state = ""
        while time.monotonic() < deadline and self.nspawn.poll() is None:
            self.leader = self.leader or _child_named(self.nspawn.pid, "systemd")
            if self.leader:
                state = self.run("systemctl", "is-system-running", timeout=20).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.5)
        raise AssertionError(f"{self.release} did not boot within 120 s (state {state!r}, "
                             f"nspawn {'exited' if self.nspawn.poll() is not None else 'runs'})")

    # ---- using --------------------------------------------------------------------------------
    def run(self, *argv: str, input: str | None = None, timeout: float = 600,
            env: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """A command inside the booted box, in all its namespaces (its PID 1 is systemd)."""
        assert self.leader, "the box is not booted"
        return _run(["nsenter", "-t", str(self.leader), "-a", *ENV, *env, *argv],
                    input=input, timeout=timeout)

    def mailwizard(self, *args: str, input: str | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
        return self.run(f"{PROJECT}/.venv/bin/mailwizard", *args, input=input, timeout=timeout)

    def systemctl(self, *args: str) -> str:
        return self.run("systemctl", *args, timeout=60).stdout.strip()

    def in_namespace(self, ns: str, code: str) -> str:
        """A Python snippet run by the box's python3 in one of the lab's namespaces."""
        from conftest import in_namespace

        return in_namespace(ns, code, run=self.run, python="python3")

    def starts(self, unit: str) -> int:
        """How often systemd started `unit` since boot (its NRestarts does not count manual ones)."""
        journal = self.run("journalctl", "-b", "-u", unit, "-o", "cat", "--no-pager", timeout=60).stdout
        return journal.count("Starting ")

    # ---- removing -----------------------------------------------------------------------------
    def power_off(self) -> None:
        if self.nspawn is None:
            return
        if self.nspawn.poll() is None and self.leader:
            _run(["nsenter", "-t", str(self.leader), "-a", "systemctl", "poweroff", "--no-block"], timeout=30)
            try:
                self.nspawn.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(30)
        self.nspawn, self.leader = None, None

    def kill(self) -> None:
        """Cut the box off as a power failure would: its PID 1 killed, every process in it gone
        at once (nothing is told, nothing flushed but what the kernel already has)."""
        assert self.nspawn and self.leader, "the box is not booted"
        os.kill(self.leader, signal.SIGKILL)
        self.nspawn.wait(60)
        self.nspawn, self.leader = None, None

    def remove(self) -> None:
        self.power_off()
        mounted = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                   if line.split()[1].startswith(str(self.root))]
        assert not mounted, f"still mounted, left in place: {mounted}"
        shutil.rmtree(self.root, ignore_errors=True)


def _child_named(parent: int, comm: str) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == parent and name == comm:
                return int(entry.name)
    return None


if __name__ == "__main__":      # `python tests/booted.py bookworm`: make the cached base only
    print(base_tarball(sys.argv[1] if len(sys.argv) > 1 else "bookworm"))
