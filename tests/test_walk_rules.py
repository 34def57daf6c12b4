"""The walk's rules live in the engine: which step is done, open, locked or stale, which comes
next, and a locked step refused whoever asks (both faces only show these answers)."""

from __future__ import annotations

import pytest

from steps import ALL_STEPS
from wizard.context import EngineError
from wizard.statuses import LOCKED, PASSED, PENDING, STALE


@pytest.fixture
def engine(tmp_path, session):
    return session(tmp_path)


def statuses(engine):
    return [row.status for row in engine.views()]


def test_only_the_first_unfinished_step_is_open(engine):
    assert statuses(engine) == [PENDING] + [LOCKED] * (len(ALL_STEPS) - 1)
    assert engine.next_step().id == "prereq"
    engine.walk("install")
    assert statuses(engine)[:4] == [PASSED, PASSED, PENDING, LOCKED]
    assert engine.next_step().id == "postfix-blank"
    assert engine.view(engine.steps[3]).reason == ("postfix-names is locked: finish postfix-blank "
                                                   "(Start Postfix from an empty main.cf) first.")


def test_a_locked_step_is_refused_by_the_engine_with_its_reason(engine, tmp_path):
    locked = engine.steps[engine.index("postfix-names")]
    with pytest.raises(EngineError, match="postfix-names is locked: finish prereq"):
        engine.run_step(locked)
    assert not (tmp_path / "etc/postfix/main.cf").exists(), "nothing was written"
    assert engine.state.status_of("postfix-names") == PENDING


def test_titles_are_filled_and_a_done_step_goes_stale_when_the_answers_change(engine):
    import dataclasses

    engine.walk("postfix-names")
    rows = {row.step.id: row for row in engine.views()}
    assert "{" not in "".join(row.title for row in rows.values())
    assert engine.run_step(engine.steps[0]).status == PASSED, "a done step may run again"
    engine.set_answers(dataclasses.replace(engine.answers, mailhost="smtp"))
    assert {row.step.id: row.status for row in engine.views()}["postfix-names"] == STALE
    assert engine.next_step().id == "postfix-names"


def test_every_prerequisite_is_listed_once_where_it_is_first_needed(engine):
    rows = engine.prerequisites(timeout=0.5)
    places = [row.place for row in rows]
    assert places[0] == "prereq"
    assert any("/" in place for place in places), "the probes' own needs are there too"
    # The chapters these answers take: a chapter passed over (the certificate without a CA, the
    # relay host without [relay], block lists without [blocklists], IPv6 on a box without a
    # global IPv6 address) needs nothing, so `check` does not ask for port 80 or a relay host.
    taken = [s for s in ALL_STEPS if s.applies(engine.values())]
    assert [s.id for s in ALL_STEPS if s not in taken] == ["pure-virtual", "relay-host", "blocklists", "certificate", "ipv6"]
    requirements = [r for s in taken for r in s.requires] + [r for s in taken for p in s.probes for r in p.needs]
    records = [r for s in taken for r in s.publishes]
    assert len(rows) == len(set(requirements)) + len(set(records))
    assert not any(row.result.name.startswith("port 80") for row in rows)
    # The DNS records a chapter asks for are checked where that chapter is, and never hold the walk.
    record_rows = [row for row in rows if row.place == "dns-auth"]
    assert len(record_rows) == len(records) and all(row.result.advisory for row in record_rows)
    assert {row.result.name for row in record_rows} >= {"_dmarc.example.test TXT", "example.test TXT"}


def test_the_walk_s_values_read_the_box_once_a_step_and_never_in_between(engine, monkeypatch, tmp_path):
    """`values()` is a function of the answers, the state and what was read from the box at the
    step's start (the DKIM key's public half, answers kept in files): asked again and again, it
    touches no file; the next step reads the box again, and renders with what it found."""
    import builtins
    import os
    import subprocess

    from steps.dkim import KEY
    from wizard.config import fill

    def no_disk(*args, **kwargs):
        raise AssertionError(f"values() touched the disk: {args[:1]}")

    values = engine.values()
    with monkeypatch.context() as patched:
        for name in ("open", "stat", "lstat", "listdir", "scandir"):
            patched.setattr(builtins if name == "open" else os, name, no_disk)
        assert all(engine.values() == values for _ in range(3))
    assert values["dkim_public_key"] == "KEY-NOT-MADE-YET"
    # A key appears on the box (as the dkim step would make it): read at the next step's start.
    key = tmp_path / fill(KEY, values).lstrip("/")
    key.parent.mkdir(parents=True)
    made = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                           "-out", str(key)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert engine.values()["dkim_public_key"] == "KEY-NOT-MADE-YET", "read once a step, not at every call"
    engine.walk("dkim")
    public = engine.values()["dkim_public_key"]
    assert public.startswith("MI") and len(public) > 100, public[:80]
