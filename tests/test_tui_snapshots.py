"""Snapshots of the key screens at 80×24 and 120×40 (pytest-textual-snapshot; after an intended
change of the look, refresh them with `pytest tests/test_tui_snapshots.py --snapshot-update`).

The app runs in a sandbox (--root) at a fixed path, so the screens do not depend on the machine.
Screens that show a server's answers (a probe's transcript, a failure with its log lines) are fed
the events of a recorded real probe, as the engine emits them; the lab tests drive the same
screens against the real daemons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pilot_wait import settle
from sessions import answers_file, open_engine
from steps import ALL_STEPS
from wizard import events as ev
from wizard.outcomes import CheckResult, ProbeResult
from wizard.probes.result import FAILED, MET
from wizard.tui.app import WizardApp

ROOT = Path("/tmp/mailwizard-snapshots")
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

TRANSCRIPT = [
    "C: $ telnet localhost 25",
    "S: 220 mail.example.test ESMTP Postfix",
    "C: HELO exthost.ext.test",
    "S: 250 mail.example.test",
    "C: MAIL FROM:<bob@ext.test>",
    "S: 250 2.1.0 Ok",
    "C: RCPT TO:<root@mail.example.test>",
    "S: 250 2.1.5 Ok",
    "C: DATA",
    "S: 354 End data with <CR><LF>.<CR><LF>",
    "C: Subject: Test B",
    "C: .",
    "S: 250 2.0.0 Ok: queued as 4ZqK2x0Hn1z9sQ",
    "C: QUIT",
    "S: 221 2.0.0 Bye",
]
LOG = [
    "mail.log: Nov 27 12:00:01 mail postfix/smtpd[811]: connect from localhost[127.0.0.1]",
    "mail.log: Nov 27 12:00:01 mail postfix/smtpd[811]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: "
    "550 5.1.1 <nobody@mail.example.test>: Recipient address rejected: User unknown in local recipient table",
    "mail.log: Nov 27 12:00:01 mail postfix/smtpd[811]: disconnect from localhost[127.0.0.1]",
]


@pytest.fixture
def engine():
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir()
    engine = open_engine(ROOT)
    yield engine
    engine.close()
    shutil.rmtree(ROOT, ignore_errors=True)
    answers_file(ROOT).unlink(missing_ok=True)          # written beside the root by open_engine


def select(app, step_id: str, tab: str = "tab-explain") -> None:
    app.query_one("#steps").index = app.engine.index(step_id)
    app.query_one("#main").active = tab


@pytest.mark.parametrize("size", SIZES)
def test_step_list_and_explanation(snap_compare, engine, size):
    async def before(pilot):
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_changes_before_anything_is_written(snap_compare, engine, size):
    async def before(pilot):
        select(pilot.app, "postfix-names", "tab-changes")
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)


def recorded_probe(status: str, **changes) -> ProbeResult:
    fields = dict(id="test-b", title="SMTP to root@mail.example.test: delivered to /var/mail/root",
                  status=status, expected="delivered to /var/mail/root",
                  actual="delivered to /var/mail/root", transcript=TRANSCRIPT)
    fields.update(changes)
    return ProbeResult(**fields)


@pytest.mark.parametrize("size", SIZES)
def test_probe_transcript_as_it_happens(snap_compare, engine, size):
    async def before(pilot):
        app = pilot.app
        select(app, "postfix-names", "tab-probe")
        await pilot.pause()
        app.busy = True                     # as while the step runs: Cancel shows in the footer
        app.refresh_bindings()
        probe = ALL_STEPS[3].probes[1]
        app.show_event(ev.StepStarted("postfix-names", "Name the server: mydomain, myhostname, mydestination", ALL_STEPS[3]))
        app.show_event(ev.ProbeStarted("postfix-names", "Test B: SMTP to root", probe))
        for line in TRANSCRIPT:
            app.show_event(ev.ProbeLine("postfix-names", line, probe.id))
        app.show_event(ev.ProbeDone("postfix-names", recorded_probe(MET)))
        app.show_event(ev.ProbeStarted("postfix-names", "Test C: a local user", probe))
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_failure_with_its_log_lines(snap_compare, engine, size):
    async def before(pilot):
        app = pilot.app
        engine.step_logs["postfix-names"] = [(line, "reject" in line) for line in LOG]
        select(app, "postfix-names", "tab-log")
        app.show_event(ev.ProbeDone("postfix-names", recorded_probe(
            FAILED, actual="550 5.1.1 at RCPT", reason="the server refused the recipient")))
        app._show_log(engine.steps[3])
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_prerequisites(snap_compare, engine, size):
    from wizard.proving import Prerequisite

    engine.prerequisites = lambda timeout=None: [
        Prerequisite("prereq", CheckResult("A record of mail.example.test", True, "192.0.2.25",
                                           "this server's address")),
        Prerequisite("prereq", CheckResult("MX of example.test", False, "no MX record", "mail.example.test",
                     "add `example.test. MX 10 mail.example.test.` to the zone", advisory=True)),
        Prerequisite("prereq", CheckResult("port 25", False, "exim4 (pid 4242) listens", "free, or Postfix",
                     "apt-get purge exim4-base exim4-daemon-light")),
        Prerequisite("postfix-names/outside-to-root", CheckResult(
            "outside host reachable", True, "ext.test answers")),
    ]

    async def before(pilot):
        # The walk still first (its tab's underline drawn): a screen under a modal one is not
        # laid out again, so on a busy box the dimmed walk was caught with or without it.
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_resume_prompt(snap_compare, engine, size):
    engine.walk("postfix-names")
    main_cf = ROOT / "etc/postfix/main.cf"
    main_cf.write_text(main_cf.read_text() + "# edited by hand\n")

    async def before(pilot):
        await settle(pilot)

    assert snap_compare(WizardApp(engine), terminal_size=size, run_before=before)
