"""A render Postfix would not accept never stays: the last good file comes back, port 25 answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import engine_walk, mailwizard, notes, smtp_greeting
from steps import ALL_STEPS
from wizard.statuses import FAILED as FAILED_STEP
from wizard.model import Setting

MAIN_CF = Path("/etc/postfix/main.cf")

pytestmark = pytest.mark.daemons


def with_extra_setting(name: str, value: str):
    """The real steps, with one more setting injected into postfix-names' render."""
    k = [s.id for s in ALL_STEPS].index("postfix-names")
    names = ALL_STEPS[k]
    assert names.id == "postfix-names"
    fragment = names.files[0]
    bad = dataclasses.replace(fragment, settings=fragment.settings + (Setting(name, value),))
    return ALL_STEPS[:k] + (dataclasses.replace(names, files=(bad,)),)



def test_unknown_parameter_is_refused_before_it_is_written(box):
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0
    last_good = MAIN_CF.read_bytes()
    outcomes, events = engine_walk(box, with_extra_setting("smtpd_bogus_parameter", "yes"))
    assert outcomes[-1].status == FAILED_STEP
    assert "smtpd_bogus_parameter" in outcomes[-1].message
    assert any("nothing was written" in note for note in notes(events))
    assert MAIN_CF.read_bytes() == last_good
    assert smtp_greeting().startswith("220 ")


def test_render_that_kills_smtpd_is_rolled_back_and_postfix_still_answers(box):
    # postconf accepts this main.cf, but smtpd dies at start: with both restriction lists empty
    # it refuses to run (the same failure a blank main.cf gives at compatibility level 0).
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0
    last_good = MAIN_CF.read_bytes()
    outcomes, events = engine_walk(box, with_extra_setting("smtpd_relay_restrictions", ""))
    assert outcomes[-1].status == FAILED_STEP
    assert "no 220 greeting" in outcomes[-1].message
    assert any("putting the last good files back" in note for note in notes(events))
    assert MAIN_CF.read_bytes() == last_good
    # smtpd was throttled by its own crash; the wizard lifted the throttle (E5) after restoring.
    assert smtp_greeting().startswith("220 ")
    assert mailwizard("status").stdout.count("FAILED") == 1


def test_missing_prerequisite_refuses_the_step_with_how_to_fix(box):
    from wizard.model import Requirement, Step

    needs_a_tool = Step(id="needs-tool", title="needs a tool", chapter="test", explain="install.md",
                        requires=(Requirement("command", ("no-such-mailer-tool",)),))
    outcomes, events = engine_walk(box, (needs_a_tool,))
    assert outcomes[-1].status == "blocked"
    assert "no-such-mailer-tool: not found" in outcomes[-1].message
    assert "install the package that provides no-such-mailer-tool" in outcomes[-1].message
