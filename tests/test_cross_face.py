"""A walk finished in one face is finished for every face: after a whole walk by keys in the TUI
(started with --answers, or through the form) `status` shows every step done and a headless
`run` with the same answers redoes nothing; after a headless walk the TUI opens on the finished
walk. In the sandbox, and against the real daemons in the lab."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import LAB_NAME, REPO, mailwizard
from steps import ALL_STEPS
from wizard.session import walk_steps

SCENARIO = str(REPO / "tests" / "cross_face_scenario.py")
STEP_IDS = [s.id for s in ALL_STEPS]
LESSON_IDS = [s.id for s in walk_steps(teaching=True)]
ASKED = "Follow the tutorial's lessons, errors included, or go straight to each working step?"


def scenario(*args: str, netns: str | None = None) -> dict:
    argv = [sys.executable, SCENARIO, *args]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_finished_for_the_cli(*where: str, answers: str, lab: bool = False, ids=STEP_IDS) -> None:
    status = mailwizard(*where, "status")
    assert status.returncode == 0, status.stderr
    assert f"progress: {len(ids)}/{len(ids)} steps done" in status.stdout, status.stdout
    path = "the tutorial's lessons" if ids == LESSON_IDS else "straight to each working step"
    assert f"path: {path}" in status.stdout, status.stdout
    assert "no answers recorded" not in status.stdout and "{" not in status.stdout, status.stdout
    run = mailwizard(*where, "run", "--answers", answers, *(["--lab"] if lab else []))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert "the server is ready. For your mail clients:" in run.stdout
    assert "    _submissions._tcp.example.test. 3600 IN SRV 0 1 465 mail.example.test." in run.stdout
    assert [line for line in run.stdout.splitlines() if line.startswith("[")] == [
        f"[ok] {step}: done already" for step in ids], run.stdout
    assert not any(line.startswith(("> ", "    [", "    change", "    note")) for line in run.stdout.splitlines()), \
        "nothing was checked, written or probed again"


def assert_opens_on_the_finished_walk(seen: dict) -> None:
    assert f"An earlier walk finished {len(STEP_IDS)} of {len(STEP_IDS)} steps." in seen["resume_text"]
    assert "Next: nothing: every step is done" in seen["resume_text"]
    assert seen["marks"] == ["✔"] * len(STEP_IDS) and seen["selected"] == STEP_IDS[-1]


@pytest.mark.parametrize("start", ["--answers", "the form"])
def test_in_the_sandbox_a_tui_walk_is_done_for_the_cli(tmp_path, start):
    """A first start asks the path: straight with --answers, the lessons after the form; the
    CLI then walks the path the TUI was given."""
    from fixture_data import ANSWERS

    root, answers = tmp_path / "root", tmp_path / "answers.toml"
    root.mkdir()
    answers.write_text(ANSWERS)
    flags = ("--form", "--lessons") if start == "the form" else ()
    ids = LESSON_IDS if flags else STEP_IDS
    seen = scenario("walk", str(root), str(answers) if start == "--answers" else "", *flags)
    assert ASKED in seen["path_asked"] and "dovecot-imap, virtual-lmtp, dns-auth" in seen["path_asked"], seen
    assert seen["done"] == [[s, "passed"] for s in ids], seen
    assert "Outgoing mail (SMTP): server mail.example.test, port 465 with SSL/TLS" in seen["ready"], seen
    assert_finished_for_the_cli("--root", str(root), answers=str(answers), ids=ids)


def test_in_the_sandbox_the_tui_opens_on_a_headless_walk(tmp_path):
    from fixture_data import ANSWERS

    root, answers = tmp_path / "root", tmp_path / "answers.toml"
    root.mkdir()
    answers.write_text(ANSWERS)
    assert mailwizard("--root", str(root), "run", "--answers", str(answers)).returncode == 0
    assert_opens_on_the_finished_walk(scenario("look", str(root), ""))


@pytest.mark.daemons
def test_against_the_daemons_both_orders_and_the_form(lab_up):
    answers = str(lab_up)
    seen = scenario("walk", "", answers, "--lab", netns=f"{LAB_NAME}-mail")
    assert ASKED in seen["path_asked"], seen
    assert seen["done"] == [[s, "passed"] for s in STEP_IDS], seen
    users_db = open("/etc/dovecot/users.db", "rb").read()
    assert_finished_for_the_cli(answers=answers, lab=True)
    assert open("/etc/dovecot/users.db", "rb").read() == users_db, "no password was hashed anew"

    reset = mailwizard("reset", "--yes")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    walk = mailwizard("run", "--lab", "--answers", answers)
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr
    assert_opens_on_the_finished_walk(scenario("look", "", "", "--lab", netns=f"{LAB_NAME}-mail"))

    # Started with no answers at all, in the lab: it opens on the lab's example answers, and the
    # form's answers walk this lab, not the default one.
    assert mailwizard("reset", "--yes").returncode == 0
    seen = scenario("walk", "", "", "--lab", "--form", netns=f"{LAB_NAME}-mail")
    assert seen["opened_on"] == "the lab's own example answers, made for this walk", seen
    assert seen["done"] == [[s, "passed"] for s in STEP_IDS], seen
    assert_finished_for_the_cli(answers=answers, lab=True)
