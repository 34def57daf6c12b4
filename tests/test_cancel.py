"""Cancelling a running step stops it at a safe point: before its files are written (nothing
changed), or between two probes (files written and recorded, so undo and a re-run work)."""

from __future__ import annotations


from sessions import open_engine
from wizard import events as ev
from wizard.engine import CANCELLED_BEFORE, CANCELLED_DURING
from wizard.statuses import BLOCKED, FAILED as FAILED_STEP, PASSED


def sandbox(tmp_path, cancel_on):
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, cancel_on[0]) and (len(cancel_on) < 2 or event.step == cancel_on[1]):
            engine.request_cancel()

    engine = open_engine(tmp_path, emit=emit)
    return engine, events


def test_cancel_before_the_write_changes_nothing(tmp_path):
    engine, _ = sandbox(tmp_path, (type(None),))
    engine.walk("install")
    engine.emit = lambda e: engine.request_cancel() if isinstance(e, ev.CheckDone) else None
    outcome = engine.run_step(engine.steps[engine.index("postfix-blank")])
    assert (outcome.status, outcome.message) == (BLOCKED, CANCELLED_BEFORE)
    assert not (tmp_path / "etc/postfix/main.cf").exists()
    engine.emit = lambda e: None
    assert engine.run_step(engine.steps[engine.index("postfix-blank")]).status == PASSED, \
        "the next run starts afresh"
    engine.close()


def test_cancel_between_probes_keeps_the_files_and_a_rerun_or_undo_works(tmp_path):
    engine, events = sandbox(tmp_path, (ev.ProbeDone, "postfix-names"))
    outcomes = engine.walk("postfix-names")
    last = outcomes[-1]
    names = engine.steps[engine.index("postfix-names")]
    assert (last.step, last.status, last.message) == ("postfix-names", FAILED_STEP, CANCELLED_DURING)
    assert len(last.probes) < len(names.probes), "the probes after the cancel were not sent"
    assert "myhostname = mail.$mydomain" in (tmp_path / "etc/postfix/main.cf").read_text()
    assert engine.drift() == [], "what was written is recorded as ours"
    engine.emit = lambda e: None
    assert engine.run_step(names).status == PASSED
    engine.undo()
    assert "myhostname" not in (tmp_path / "etc/postfix/main.cf").read_text()
    engine.close()
