"""The real binary in a real terminal (tmux), keys sent as a user types them and the screen read
back: not the headless driver. In a sandbox (--root), so nothing on the box changes."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest

from conftest import ANSWERS, REPO
from terminal import Terminal

SESSION = f"mwtui{os.getpid()}"


TERMINAL = Terminal(SESSION)
screen, wait_for, session_alive = TERMINAL.screen, TERMINAL.wait_for, TERMINAL.alive


@pytest.fixture
def terminal(tmp_path):
    assert shutil.which("tmux"), "tmux is installed by .ci/setup --test"
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    root = tmp_path / "root"
    root.mkdir()

    def start() -> None:
        command = (f"cd {REPO} && TERM=xterm-256color {sys.executable} -m wizard "
                   f"--root {root} --answers {answers}")
        TERMINAL.start(command)

    yield start, root
    TERMINAL.kill()


def test_walk_quit_and_resume_in_a_real_terminal(terminal):
    start, root = terminal
    start()
    wait_for("Follow the tutorial's lessons")    # a first start asks the path first
    TERMINAL.keys("s")
    wait_for("Check the prerequisites")
    shown = wait_for("^p palette")              # the footer is painted last
    assert "Follow the tutorial's lessons" not in shown, shown
    assert "r Run step" in shown, "the keys are in the footer"
    # At 80 columns a first-time admin still sees the way out and the way to help.
    footer = shown.rstrip().splitlines()[-1]
    assert "? Help" in footer and "q Quit" in footer, footer
    TERMINAL.keys("r")
    wait_for("✔ Check the prerequisites")
    TERMINAL.keys("n", "r")
    wait_for("✔ Install Postfix and Dovecot")
    TERMINAL.keys("q")
    deadline = time.monotonic() + 10
    while session_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not session_alive(), "q quits"

    start()
    shown = wait_for("An earlier walk finished 2 of")
    assert "Next: Start Postfix from an empty main.cf" in shown
    TERMINAL.keys("Enter")
    deadline = time.monotonic() + 30        # until the resume prompt has gone and the footer is back
    while "An earlier walk finished" in screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    wait_for("^p palette")
    TERMINAL.keys("r")       # resumed at the first unfinished step
    wait_for("✔ Start Postfix from an empty main")   # the list's scroll bar may take the end
    assert (root / "etc/postfix/main.cf").exists()
    TERMINAL.keys("?")
    wait_for("run the selected step")
    TERMINAL.keys("Escape", "q")


def test_no_color_gives_a_screen_in_greys_only(terminal, tmp_path):
    import re

    start, root = terminal
    answers = tmp_path / "answers.toml"
    TERMINAL.start(f"cd {REPO} && NO_COLOR=1 TERM=xterm-256color {sys.executable} -m wizard "
                   f"--root {root} --answers {answers}")
    wait_for("Follow the tutorial's lessons")    # the first start's question, then the screen
    TERMINAL.keys("s")
    wait_for("Path: straight")                  # the dialog is answered and the list repainted
    wait_for("Check the prerequisites")
    raw = TERMINAL.screen("-e")
    greys = set(range(232, 256)) | {0, 7, 8, 15, 16, 231}
    palette = [int(n) for n in re.findall(r"\x1b\[(?:\d+;)*[34]8;5;(\d+)", raw)]
    truecolour = re.findall(r"[34]8;2;(\d+);(\d+);(\d+)", raw)
    assert palette or truecolour, "the capture holds the screen's attributes"
    assert set(palette) <= greys, sorted(set(palette) - greys)
    assert all(r == g == b for r, g, b in truecolour), truecolour
    # The marks carry the meaning without colour: the open step and the locked one differ.
    shown = screen()
    assert re.search(r"^\s*· Check the prerequisites", shown, re.M), shown
    assert re.search(r"^\s*🔒 Install Postfix and Dovecot", shown, re.M), shown
    TERMINAL.keys("q")


@pytest.mark.parametrize("text,reason", [
    ('maildomain = "example.test"\nhostname = "not a host name!"\n', "hostname"),
    ("", "a mailbox"),      # an empty file: refused, never walked for example.test
])
def test_answers_that_cannot_be_read_end_the_start_with_their_reason(tmp_path, text, reason):
    """The session opens after the first frame now; a start that cannot open still ends with the
    reason on the terminal and exit code 2, as before."""
    answers = tmp_path / "answers.toml"
    answers.write_text(text)
    root = tmp_path / "root"
    root.mkdir()
    TERMINAL.start(f"cd {REPO} && TERM=xterm-256color {sys.executable} -m wizard --root {root} --answers {answers}; "
                   "echo EXIT=$?; sleep 60", width=100)
    try:
        shown = wait_for("EXIT=")
        assert "EXIT=2" in shown, shown
        joined = TERMINAL.screen("-J")     # wrapped lines as one
        assert "mailwizard: " in joined and reason in joined, joined
        assert not (root / "etc").exists() and not (root / "var").exists()
    finally:
        TERMINAL.kill()


def test_a_first_start_shows_the_selected_steps_explanation_under_the_path_question(terminal):
    """On a first start the path question comes over the walk, and the walk under it is whole:
    beside the question, the first step's explanation (it was once left empty until the
    question was answered)."""
    import re

    from wizard import resources

    start, root = terminal
    start()
    shown = wait_for("Follow the tutorial's lessons")
    explained = " ".join(re.sub(r"[*`#\[\]()]", " ", resources.read_text("explain", "prereq.md")).split())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        # The explanation's pane: what stands right of the walk's divider, below the question.
        beside = " ".join(line.split("│", 1)[1] for line in shown.splitlines() if "│" in line)
        words = re.sub(r"[*`#\[\]()]", " ", beside).split()
        runs = [" ".join(words[i:i + 5]) for i in range(len(words) - 4)]
        if any(run in explained for run in runs):
            break
        time.sleep(0.2)
        shown = screen()
    else:
        raise AssertionError(f"no line of prereq.md beside the path question:\n{shown}")
