"""Every exercise against the real daemons: start breaks it, check fails with a hint from the
logs, a fix by hand — the way a student would edit the file and restart the daemon — makes check
pass; give-up puts the working files back."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import mailwizard, stop_dovecot
from steps.exercises import EXERCISES
from wizard.answers import load_answers

pytestmark = pytest.mark.daemons
USERS_DB = Path("/etc/dovecot/users.db")


def restart_as_a_student(names) -> None:
    for name in names:
        if name == "postfix":
            subprocess.run(["postfix", "stop"], capture_output=True)
            subprocess.run(["postfix", "start"], capture_output=True)
        else:
            stop_dovecot()
            subprocess.run(["dovecot"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
    # The listeners up (the student waits for the prompt), and an edited users.db older than the
    # second in which Dovecot looks at it again: waited for, bounded.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (all(listening(port) for port in (25, 143)) and settled(USERS_DB)):
        time.sleep(0.05)


def listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def settled(path: Path) -> bool:
    """Written more than a second ago (or never): Dovecot's cache of it has caught up."""
    try:
        return time.time() - path.stat().st_mtime > 1.0
    except OSError:
        return True


def graded(box, expect: int = 0) -> dict:
    done = mailwizard("grade", "--answers", str(box))
    assert done.returncode == expect, done.stdout[-3000:] + done.stderr
    return json.loads(done.stdout)


def failed(chapter: dict) -> list[tuple]:
    return [(p["probe"], p["expected"], p["got"], p["reason"]) for p in chapter["probes"] if p["status"] == "failed"]


def test_each_exercise_breaks_checks_is_fixed_by_hand_and_checks_again(box):
    """The tutorial's server (the DNS exercises, which need the lab, are in test_dns_auth)."""
    assert mailwizard("run", "--answers", str(box), "--through", "next-steps").returncode == 0
    values = load_answers(box).values()
    names = [line.split()[0] for line in mailwizard("exercise", "list").stdout.splitlines()]
    assert names == [e.name for e in EXERCISES] and len(names) >= 8
    dns = mailwizard("exercise", "start", "spf-without-server")
    assert dns.returncode == 2 and "walked through dns-auth" in dns.stderr
    # The tutorial's server, graded now: every chapter walked passes again (none is judged by a
    # probe that proved only its moment).
    grade = graded(box)
    walked = [c for c in grade["chapters"] if c["now"] != "not-reached"]
    assert [c["chapter"] for c in walked][-1] == "next-steps"
    assert all(c["now"] == "passing" for c in walked), [(c["chapter"], failed(c)) for c in walked if failed(c)]
    assert grade["totals"]["probes_met"] > 20
    for index, exercise in enumerate([e for e in EXERCISES if e.after == "next-steps"]):
        before = {e.path: Path(e.path).read_bytes() for e in exercise.breaks}
        started = mailwizard("exercise", "start", exercise.name)
        assert started.returncode == 0, started.stdout + started.stderr
        assert exercise.symptom in started.stdout
        if index == 0:      # a grade while the box is broken: the chapter fails now
            broken = graded(box, expect=1)
            assert broken["totals"]["failing"] >= 1, exercise.name
        failing = mailwizard("exercise", "check", "--answers", str(box))
        assert failing.returncode == 1, (exercise.name, failing.stdout)
        assert "hint:" in failing.stdout
        for edit in exercise.breaks:          # the student's fix, by hand
            path = Path(edit.path)
            path.write_text(path.read_text().replace(edit.new.format(**values), edit.old.format(**values)))
        restart_as_a_student(exercise.reload)
        fixed = mailwizard("exercise", "check", "--answers", str(box))
        assert fixed.returncode == 0, (exercise.name, fixed.stdout)
        assert "fixed:" in fixed.stdout
        assert {e.path: Path(e.path).read_bytes() for e in exercise.breaks} == before
        if index == 0:      # fixed: passing again, and the history has the exercise
            again = graded(box)
            assert again["totals"]["failing"] == 0
            assert again["exercises"][-1]["exercise"] == exercise.name and again["exercises"][-1]["solved"]
            assert again["exercises"][-1]["hints"] >= 1


def test_give_up_shows_the_fix_and_puts_the_files_back(box):
    assert mailwizard("run", "--answers", str(box), "--through", "next-steps").returncode == 0
    exercise = next(e for e in EXERCISES if e.name == "missing-certificate")
    before = Path("/etc/dovecot/dovecot.conf").read_bytes()
    assert mailwizard("exercise", "start", exercise.name).returncode == 0
    assert Path("/etc/dovecot/dovecot.conf").read_bytes() != before
    second = mailwizard("exercise", "start", "bad-hash")
    assert second.returncode == 2 and "still going" in second.stderr
    gave_up = mailwizard("exercise", "give-up")
    assert gave_up.returncode == 0 and "ssl_cert must name" in gave_up.stdout
    assert Path("/etc/dovecot/dovecot.conf").read_bytes() == before
    assert mailwizard("exercise", "check").returncode == 2      # nothing going any more
