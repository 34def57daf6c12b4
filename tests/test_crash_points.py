"""SIGKILL at every point where the wizard writes a file, saves its state or reloads a daemon.

A first walk lists the points it passes (MAILWIZARD_CRASH_LOG). Then the walk is killed at each
point in turn, every run resuming the last: after each kill every config file holds either the
box's original or one of our renders — never a mix —, the state file parses, `status` tells the
truth, and the next run carries on. The last run finishes the walk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import STATE_DIR, mailwizard
from steps import ALL_STEPS
from wizard.answers import Answers
from wizard.config import extends_box, managed_paths, render_file
from wizard.platform import detect
from wizard.system import System

pytestmark = pytest.mark.daemons

# Every chapter that needs no lab: those after it sign with rspamd and ask the lab's DNS and
# receiver (their files and keys are rolled back in test_dkim and test_dns_auth).
THROUGH = "submission"
STEPS = ALL_STEPS[: [s.id for s in ALL_STEPS].index(THROUGH) + 1]


def walk(answers: Path, through: str = THROUGH, **env) -> int:
    return mailwizard("run", "--answers", str(answers), "--through", through, env=env).returncode


def step_of_each(points: list[str]) -> dict[str, str]:
    """The step each point belongs to: the one named in it, or the step that was running."""
    ids = {s.id for s in STEPS}
    current, owner = STEPS[0].id, {}
    for point in points:
        named = [part for part in point.split(":") if part in ids]
        current = named[-1] if named else current
        owner[point] = current
    return owner


def whole_files_only(originals: dict[str, bytes | None]) -> None:
    record = json.loads((STATE_DIR / "state.json").read_text())["answers"]
    answers = Answers.from_record(record)
    values = {**answers.values(), **detect(System()).values()}
    for path in managed_paths(STEPS):
        box_text = (originals[path] or b"").decode() if extends_box(path, STEPS) else None
        # As the walk renders them: only the chapters the answers take (the relay host without
        # [relay] is passed over and writes nothing).
        renders = {render_file(path, [s for s in STEPS[:k] if s.applies(values)], values,
                               users=answers.users, box_text=box_text)
                   for k in range(len(STEPS) + 1)}
        allowed = {r.encode() for r in renders if r is not None} | {originals[path]}
        current = Path(path).read_bytes() if Path(path).exists() else None
        assert current in allowed, f"{path} is neither the original nor one of our renders"


def status_tells_the_truth() -> None:
    status = mailwizard("status")
    assert status.returncode == 0, status.stderr
    assert "changed by hand" not in status.stdout, status.stdout
    state = json.loads((STATE_DIR / "state.json").read_text())
    for line in status.stdout.splitlines():
        if line.strip().startswith("[       done]"):
            step_id = line.split("]")[1].split()[0]
            assert state["steps"][step_id]["status"] == "passed"


def test_kill_at_every_point_then_resume(box, pristine):
    originals = {path: pristine.files.get(path) if path in pristine.files else
                 (Path(path).read_bytes() if Path(path).exists() else None) for path in managed_paths(STEPS)}
    log = box.with_name("points.log")
    assert walk(box, MAILWIZARD_CRASH_LOG=str(log)) == 0
    points = list(dict.fromkeys(log.read_text().split()))
    owner = step_of_each(points)
    assert mailwizard("reset", "--yes").returncode == 0

    killed, not_reached = [], []
    for point in points:
        # Walk only as far as the point's step, so the points of later steps stay ahead of us.
        code = walk(box, owner[point], MAILWIZARD_CRASH_AT=point)
        if code == 0:
            # after-step:X comes right after X's final state save; once a kill there has saved it,
            # a resumed walk finds X done and does not pass that point again.
            not_reached.append(point)
            continue
        assert code == -9, (point, code)
        killed.append(point)
        state_file = STATE_DIR / "state.json"
        if state_file.exists():
            json.loads(state_file.read_text())          # parses, whatever moment the kill hit
            whole_files_only(originals)
            status_tells_the_truth()
    assert walk(box) == 0, "the walk finishes after every kill"
    final = mailwizard("status").stdout
    assert f"progress: {len(STEPS)}/{len(ALL_STEPS)} steps done" in final
    print(f"\ncrash points: {len(points)} listed, {len(killed)} killed, not reached on resume: {not_reached}")
    kinds = {p.split(":")[0] for p in killed}
    assert {"write", "state", "reload"} <= kinds, kinds
    assert len(killed) >= 30, f"only {len(killed)} kill points covered"
