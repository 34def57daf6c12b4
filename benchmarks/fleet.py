"""The fleet benchmark: what a play of the Ansible collection adds of its own.

Two boxes (two sandboxes of this host, `--root`, each with its own domain) walked through the
tutorial's server by one play (`mailwizard.box.walk`, connection local, two forks), against the
same two walks run one after the other by hand (`mailwizard run --json`), in the same run. A
sandbox walk writes every file and proves nothing against a daemon, so it is short: what the play
adds (Ansible's start, the module's trip, its parsing of the events) shows at its largest. The
play's own seconds per host, `(play - walks) / hosts`, give it no credit for running the two
walks at once (two forks); the note gives them beside the ratio.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
OWN_SECONDS_PER_HOST = 3.0      # "a few seconds per host of its own"
BOXES = ("ada", "bob")


def fleet_measures(repo: Path, answers: str, runs: int) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="mwbench-fleet-") as scratch:
        scratch = Path(scratch)
        env = _ansible_env(scratch)
        _install_collection(repo, scratch, env)
        for name in BOXES:
            (scratch / f"{name}.toml").write_text(answers.replace("example.test", f"{name}.example.test"))
        by_hand, by_play = [], []
        for n in range(runs + 1):                   # interleaved; the first of each a warm-up
            took_hand = _by_hand(scratch, f"hand{n}")
            took_play = _by_play(scratch, f"play{n}", env)
            if n:
                by_hand.append(took_hand)
                by_play.append(took_play)
    hand, play = statistics.median(by_hand), statistics.median(by_play)
    own = (play - hand) / len(BOXES)
    target = (hand + OWN_SECONDS_PER_HOST * len(BOXES)) / hand
    return [{"name": "fleet: two boxes walked by one play", "unit": "s", "value": round(play, 4),
             "baseline": round(hand, 4), "ratio": round(play / hand, 3), "target": round(target, 3),
             "note": f"median of {runs}; baseline: the same two sandbox walks (tutorial's server) one after "
                     f"the other by hand; the play's own time ≈ {own:.2f} s a host (target: at most "
                     f"{OWN_SECONDS_PER_HOST:g} s a host)"}]


def _ansible_env(scratch: Path) -> dict:
    home = scratch / "ansible"
    return dict(os.environ, ANSIBLE_HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
                ANSIBLE_REMOTE_TEMP=str(home / "remote"), ANSIBLE_COLLECTIONS_PATH=str(home / "collections"),
                ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
                ANSIBLE_INVENTORY_UNPARSED_WARNING="0")


def _install_collection(repo: Path, scratch: Path, env: dict) -> None:
    home = Path(env["ANSIBLE_HOME"])
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(repo / "ansible"), "--output-path",
                    str(home)], env=env, capture_output=True, text=True, timeout=120, check=True)
    tarball = next(home.glob("mailwizard-box-*.tar.gz"))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                    str(home / "collections")], env=env, capture_output=True, text=True, timeout=120, check=True)


def _by_hand(scratch: Path, run: str) -> float:
    started = time.perf_counter()
    for name in BOXES:
        done = subprocess.run([str(BIN / "mailwizard"), "run", "--json", "--answers", str(scratch / f"{name}.toml"),
                               "--root", str(scratch / run / name), "--through", "next-steps"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"fleet: the walk by hand failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - started


def _by_play(scratch: Path, run: str, env: dict) -> float:
    inventory = {"all": {"hosts": {name: {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "answers": str(scratch / f"{name}.toml"), "root": str(scratch / run / name)} for name in BOXES}}}
    book = [{"hosts": "all", "gather_facts": False, "tasks": [{"name": "walk", "mailwizard.box.walk": {
        "answers": "{{ answers }}", "root": "{{ root }}", "through": "next-steps",
        "command": str(BIN / "mailwizard")}}]}]
    (scratch / "inventory.json").write_text(json.dumps(inventory))
    (scratch / "walk.json").write_text(json.dumps(book))
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(scratch / "inventory.json"), "--forks", "2",
                           str(scratch / "walk.json")], env=env, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"fleet: the play failed: {done.stdout[-3000:]}{done.stderr[-2000:]}")
    return took
