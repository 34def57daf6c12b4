"""mailwizard installed like any Python app: a wheel built from the project, installed into a
fresh venv outside the source tree, works from there (its own files come with it), and a missing
file of its own ends in a message naming it and a non-zero exit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from caches import HOST_PYTHON
from conftest import ANSWERS, REPO
from terminal import Terminal
from debian13 import kept_wheels

LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "tests",
                                  "benchmarks", ".pytest_cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the project's wheel, and a working directory far from the source."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=LEFT_OUT)
    wheels = base / "dist"
    # Offline, from the wheelhouse of the project's dependencies the suite keeps (made before any
    # parallel worker starts; a worker has no way to PyPI): the same wheels PyPI would give.
    offline = ["--no-index", "--find-links", str(kept_wheels(HOST_PYTHON))]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *offline,
                    "-w", str(wheels), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("mailwizard-*.whl"))
    venv = base / "fresh"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", *offline, str(wheel)],
                   check=True, capture_output=True, timeout=600)
    work = base / "elsewhere"
    work.mkdir()
    (work / "answers.toml").write_text(ANSWERS)
    return venv, work


def run(installed, *args: str) -> subprocess.CompletedProcess:
    venv, work = installed
    return subprocess.run([str(venv / "bin/mailwizard"), *args], cwd=work, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(work)})


def test_the_wheel_carries_its_own_files_and_no_source_tree_is_needed(installed):
    venv, work = installed
    where = subprocess.run([str(venv / "bin/python"), "-c",
                            "import wizard, steps; from wizard import resources; "
                            "print(wizard.__file__, steps.__file__, resources.path('mailwizard.tcss'))"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert str(REPO) not in where and where.count(str(venv)) == 3, where


def test_version_errata_a_sandbox_walk_and_its_report_from_the_wheel(installed):
    version = run(installed, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, "mailwizard 0.1.0")
    errata = run(installed, "errata")
    assert errata.returncode == 0 and "| E1 |" in errata.stdout, errata.stderr
    template = run(installed, "answers", "init", "to-fill.toml")
    assert template.returncode == 0 and "FILL" in template.stdout, template.stderr
    walk = run(installed, "--root", "box", "run", "--answers", "answers.toml")
    assert walk.returncode == 0, walk.stdout[-2000:] + walk.stderr
    assert "[ok] next-steps" in walk.stdout
    report = run(installed, "--root", "box", "report")
    assert report.returncode == 0 and "# mailwizard walk: mail.example.test" in report.stdout
    assert "## virtual-lmtp" in report.stdout
    # The audit's package came along: its checks are listed (a wrong name), and a sandbox is refused.
    audit = run(installed, "--root", "box", "audit", "--check", "nope")
    assert audit.returncode == 2 and "its checks are: mx, greeting" in audit.stderr, audit.stderr
    audit = run(installed, "--root", "box", "audit")
    assert audit.returncode == 2 and "no sandbox" in audit.stderr, audit.stderr


def test_the_wheel_s_tui_paints_its_first_screen_in_a_terminal(installed):
    venv, work = installed
    terminal = Terminal(f"mwwheel{int(time.time()) % 100000}")
    terminal.start(f"cd {work} && TERM=xterm-256color {venv}/bin/mailwizard --root tui-box --answers answers.toml",
                   width=100, height=30)
    try:
        # A first start asks the path before anything else; `s` goes straight.
        terminal.wait_for("Follow the tutorial's lessons", "Straight")
        terminal.keys("s")
        shown = terminal.wait_for("Check the prerequisites", "palette")
        assert "Follow the tutorial's lessons" not in shown, shown
        terminal.keys("q")
    finally:
        terminal.kill()


def _package_file(installed, name: str) -> Path:
    venv, _ = installed
    found = list(venv.glob(f"lib/python3*/site-packages/wizard/assets/{name}"))
    assert found, f"{name} is not in the installed package"
    return found[0]


def test_a_missing_file_of_its_own_is_a_read_error_that_names_it(installed):
    errata = _package_file(installed, "errata.md")
    css = _package_file(installed, "mailwizard.tcss")
    kept = errata.read_bytes(), css.read_bytes()
    errata.unlink()
    css.unlink()
    try:
        page = run(installed, "errata")
        assert page.returncode != 0
        assert "cannot read mailwizard's own file errata.md" in page.stderr and "write" not in page.stderr
        tui = run(installed, "--root", "box", "--answers", "answers.toml")
        assert tui.returncode != 0
        assert "mailwizard.tcss" in tui.stderr and "Traceback" not in tui.stderr, tui.stderr
    finally:
        errata.write_bytes(kept[0])
        css.write_bytes(kept[1])
