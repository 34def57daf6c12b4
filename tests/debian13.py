"""A Debian 13 (trixie) box for the tests: a minbase chroot made with debootstrap.

The base (debootstrap plus python3, python3-venv, iproute2 and ca-certificates) is made once and
kept under the cache directory, so later runs of the suite on the same machine skip the minute it
takes; every test session works on a fresh copy of it, without Postfix or Dovecot, so the wizard's
own `install` step brings them in. The copy is a mount point of its own (`ip netns` needs `/` to be
one), with /proc, /sys, /dev and /dev/pts; the lab runs from inside it, so its namespaces, its DNS
and its outside mail server are the chroot's. Teardown stops what runs in it, unmounts everything
and removes the copy only when nothing is mounted below it any more.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("MAILWIZARD_TEST_CACHE", "/var/cache/mailwizard-tests"))
MIRROR = os.environ.get("MAILWIZARD_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = "python3,python3-venv,iproute2,ca-certificates"
BASE_VERSION = "2"     # bump when the recipe below changes, so a stale cached base is remade
# What the walk and the tests install inside the box (fetched once with the base).
FETCHED = ["postfix", "dovecot-core", "dovecot-imapd", "dovecot-lmtpd", "rspamd", "certbot", "pebble",
           "libsasl2-modules"]
REPOSITORY = "/srv/mailwizard-debs"
PROJECT = "/opt/mailwizard"
WHEELS = "/opt/wheels"
CHROOT_ENV = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]


def _run(argv, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run(argv, **kw)


def base() -> Path:
    """The cached minbase trixie, made with debootstrap when missing (about a minute), with the
    .debs the tests install in a small apt repository of its own: the wizard's install step runs
    apt as on any box, and a parallel test worker reaches no mirror."""
    done = CACHE / f"trixie-base-{BASE_VERSION}"
    if (done / ".mailwizard-complete").exists():
        return done
    need_the_network(done)
    if shutil.which("debootstrap") is None:
        got = _run(["apt-get", "install", "-y", "-q", "debootstrap"])
        assert got.returncode == 0, "installing debootstrap failed:\n" + got.stdout + got.stderr
    partial = CACHE / "trixie-base.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    made = _run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "trixie",
                 str(partial), MIRROR], timeout=1200)
    assert made.returncode == 0, "debootstrap trixie failed:\n" + made.stdout[-3000:] + made.stderr[-3000:]
    # As on the CI host: package scripts start no service.
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", partial / "etc/resolv.conf")
    chroot = ["chroot", str(partial), *CHROOT_ENV]
    got = _run([*chroot, "apt-get", "update", "-q"], timeout=900)
    assert got.returncode == 0, got.stdout + got.stderr
    got = _run([*chroot, "apt-get", "install", "--download-only", "-y", "-q", *FETCHED], timeout=1500)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-3000:]
    make_repository(partial)
    (partial / "etc/resolv.conf").unlink()
    (partial / ".mailwizard-complete").write_text("")
    shutil.rmtree(done, ignore_errors=True)
    partial.rename(done)
    return done


def make_repository(root: Path) -> None:
    """The fetched .debs as a flat apt repository (Packages and Release), the box's only source."""
    repo = root / REPOSITORY.lstrip("/")
    repo.mkdir(parents=True)
    stanzas = []
    for deb in sorted((root / "var/cache/apt/archives").glob("*.deb")):
        target = repo / deb.name
        shutil.move(deb, target)
        control = _run(["dpkg-deb", "-f", str(target)]).stdout.strip()
        data = target.read_bytes()
        stanzas.append(f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                       f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
    packages = "\n".join(stanzas).encode()
    (repo / "Packages").write_bytes(packages)
    (repo / "Release").write_text(
        "Origin: mailwizard-tests\nLabel: mailwizard-tests\nSuite: local\nCodename: local\n"
        f"SHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} Packages\n")
    sources = root / "etc/apt/sources.list"
    sources.write_text(f"deb [trusted=yes] file:{REPOSITORY} ./\n")
    for extra in (root / "etc/apt/sources.list.d").glob("*"):
        extra.unlink()
    shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
    (root / "var/lib/apt/lists/partial").mkdir(parents=True)



SOURCE_ONLY = {"pyspf", "dkimpy", "authheaders"}
SOURCE_ONLY_DEPS = ["authres>=1.2"]        # authheaders' own, also source only


def wheelhouse(into: Path, python: str = "3.13") -> None:
    """The project's dependencies as wheels for the box's Python (3.13 on trixie, 3.11 on
    bookworm), copied into `into` so the box installs with --no-index."""
    shutil.copytree(kept_wheels(python), into, dirs_exist_ok=True)


def kept_wheels(python: str) -> Path:
    """The project's dependencies (and setuptools, to build it) as wheels for `python`, fetched by
    the host's pip (whose index settings and CA bundle work here). Kept under the cache directory
    while pyproject.toml's dependencies stay the same."""
    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    key = hashlib.sha256(repr((python, wanted, SOURCE_ONLY_DEPS)).encode()).hexdigest()[:16]
    kept = CACHE / f"wheels-{python}-{key}"
    if not kept.is_dir():
        need_the_network(kept)
        partial = Path(f"{kept}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        _fetch_wheels(partial, python)
        partial.rename(kept)
    return kept


def need_the_network(making: Path) -> None:
    """A parallel worker has no way to a mirror (tests/isolated-worker): say so plainly."""
    if os.environ.get("MAILWIZARD_ISOLATED_WORKER"):
        raise AssertionError(f"{making} is missing, and a parallel test worker cannot download it: "
                             "the controller makes it first (tests/caches.py, from conftest.py); "
                             "run `.venv/bin/python tests/caches.py` and try again.")


def _fetch_wheels(into: Path, python: str) -> None:
    from packaging.requirements import Requirement    # pytest's own dependency

    # pip download judges markers by the running Python, not by --python-version: judge them here.
    trixie_python = {"python_version": python, "python_full_version": f"{python}.0"}
    wanted = ["setuptools>=64"]
    for line in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(trixie_python):
            requirement.marker = None
            wanted.append(str(requirement))
    # Pure-Python libraries published as source only (pyspf, dkimpy, authheaders, authres): their
    # wheels are built here, py3-none-any, good for any Python 3; their own dependencies that have
    # wheels are fetched with the rest.
    pure = [w for w in wanted if Requirement(w).name.lower() in SOURCE_ONLY]
    wanted = [w for w in wanted if w not in pure] + ["publicsuffix2"]
    if pure:
        built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                      "--wheel-dir", str(into), *pure, *SOURCE_ONLY_DEPS])
        assert built.returncode == 0, "building wheels of pure-Python sources failed:\n" + built.stderr[-3000:]
    got = _run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                "--dest", str(into), "--only-binary=:all:", "--python-version", python,
                "--implementation", "cp", "--abi", "cp" + python.replace(".", ""), "--platform", "manylinux_2_17_x86_64",
                "--platform", "manylinux2014_x86_64", "--platform", "any", *wanted])
    assert got.returncode == 0, f"fetching wheels for Python {python} failed:\n" + got.stderr[-3000:]


class Trixie:
    PROJECT_BIN = f"{PROJECT}/.venv/bin/mailwizard"

    def __init__(self, root: Path):
        self.root = root

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def run(self, *argv: str, input: str | None = None, timeout: float = 600,
            env: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return _run(["chroot", str(self.root), *CHROOT_ENV, *env, *argv], input=input, timeout=timeout)

    def mailwizard(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return self.run(f"{PROJECT}/.venv/bin/mailwizard", *args, input=input)

    def in_namespace(self, ns: str, code: str) -> str:
        """A Python snippet run by the chroot's own python3 inside one of its lab namespaces."""
        from conftest import in_namespace

        return in_namespace(ns, code, run=self.run, python="python3")

    # ---- making and removing ----------------------------------------------------------------
    def make(self) -> None:
        copied = _run(["cp", "-a", str(base()), str(self.root)])
        assert copied.returncode == 0, copied.stderr
        self._mount()
        shutil.copy("/etc/resolv.conf", self.path("/etc/resolv.conf"))  # as on a box (apt reads its own repository)
        project = self.path(PROJECT)
        for name in ("wizard", "steps", "assets", ".ci"):
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(REPO / name, project / name)
        wheelhouse(self.path(WHEELS))
        setup = self.run("bash", f"{PROJECT}/.ci/setup", env=("PIP_NO_INDEX=1", f"PIP_FIND_LINKS={WHEELS}"))
        assert setup.returncode == 0, "the README's setup failed on Debian 13:\n" + setup.stdout + setup.stderr

    def _mount(self) -> None:
        root = str(self.root)
        for argv in (["mount", "--bind", root, root], ["mount", "--make-private", root],
                     ["mount", "-t", "proc", "proc", f"{root}/proc"],
                     ["mount", "-t", "sysfs", "sysfs", f"{root}/sys"],
                     ["mount", "--bind", "/dev", f"{root}/dev"],
                     ["mount", "--bind", "/dev/pts", f"{root}/dev/pts"]):
            done = _run(argv)
            assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"

    def mounts(self) -> list[str]:
        prefix = str(self.root)
        points = []
        for line in Path("/proc/self/mounts").read_text().splitlines():
            point = line.split()[1].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
        return points

    def processes(self) -> list[int]:
        """Processes whose root is this chroot (daemons, the lab's DNS and mail server)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "root") == str(self.root):
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def remove(self, answers: str | None = None) -> None:
        if self.path(f"{PROJECT}/.venv/bin/mailwizard").exists():
            self.mailwizard("lab", "down", *(("--answers", answers) if answers else ()))
        for argv in (["postfix", "stop"], ["dovecot", "stop"]):
            if self.path(f"/usr/sbin/{argv[0]}").exists():
                self.run(*argv, timeout=60)
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(20):     # a point can be mounted twice (stacked); bounded rounds
            if not self.mounts():
                break
            for point in sorted(self.mounts(), key=len, reverse=True):
                if _run(["umount", point]).returncode != 0:
                    _run(["umount", "-l", point])
            time.sleep(0.1)
        # Never delete through a mount: /dev of the host is bound in here.
        assert not self.mounts(), f"still mounted, left in place: {self.mounts()}"
        shutil.rmtree(self.root)
