"""The Postfix chapters against the real Postfix: walk, resume, undo, reset, lock, refusals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from steps import ALL_STEPS

from conftest import ANSWERS, REPO, STATE_DIR, mailwizard, postfix_running, smtp_greeting

MAIN_CF = Path("/etc/postfix/main.cf")
STATE = STATE_DIR / "state.json"

pytestmark = pytest.mark.daemons


def state() -> dict:
    return json.loads(STATE.read_text())


def probes_of(step: str) -> dict[str, dict]:
    return {p["id"]: p for p in state()["steps"][step]["probes"]}


def test_headless_walk_proves_postfix_names_with_transcripts(box):
    run = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
    assert run.returncode == 0, run.stdout + run.stderr
    for probe in ("test-1", "test-b", "test-c", "test-e"):
        assert f"[ok] {probe}:" in run.stdout
    # No DNS for example.test here: the loop-back probe says why rather than failing.
    assert "[??] test-d:" in run.stdout and "cannot be shown here" in run.stdout
    # The tutorial's line after `postfix reload`, read where this box writes it.
    assert re.search(r"^    postfix reload: /var/log/mail\.log says postfix/postfix-script\[\d+\]: "
                     r"refreshing the Postfix mail system$", run.stdout, re.M), run.stdout

    text = MAIN_CF.read_text()
    for line in ("mydomain = example.test", "myhostname = mail.$mydomain", "myorigin = $myhostname",
                 "mydestination = $myhostname", "maillog_file = /var/log/mail.log"):
        assert line + "\n" in text
    assert smtp_greeting() == "220 mail.example.test ESMTP Postfix"

    probes = probes_of("postfix-names")
    assert "S: 220 mail.example.test ESMTP Postfix" in probes["test-b"]["transcript"]
    assert "C: RCPT TO:<root>" in probes["test-b"]["transcript"]
    refused = [l for l in probes["test-e"]["transcript"] if l.startswith("S: 550 5.1.1")]
    assert refused and "User unknown in local recipient table" in refused[0]
    mailbox = Path("/var/mail/root").read_text()
    for marker_of in ("test-b", "test-c"):
        assert f"X-Mailwizard-Probe: {marker_of}-" in mailbox
    assert "X-Mailwizard-Probe: test-1-" in mailbox
    # The state file is private and holds no clear password.
    assert (STATE.stat().st_mode & 0o777) == 0o600
    assert "123456" not in STATE.read_text()


def test_status_reports_progress_and_drift(box):
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0
    status = mailwizard("status")
    done = [s.id for s in ALL_STEPS][: [s.id for s in ALL_STEPS].index("postfix-blank") + 1]
    assert f"progress: {len(done)}/{len(ALL_STEPS)} steps done" in status.stdout
    assert "drift: none" in status.stdout
    with MAIN_CF.open("a") as handle:
        handle.write("# a hand edit\n")
    status = mailwizard("status")
    assert "drift: /etc/postfix/main.cf was changed by hand" in status.stdout
    # A scripted run does not overwrite a hand edit without --yes, and keeps a copy of it.
    run = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
    assert run.returncode == 2
    assert "changed by hand" in run.stdout
    assert "# a hand edit" in MAIN_CF.read_text()
    saved = list((STATE_DIR / "hand-edits/etc/postfix").glob("main.cf.*"))
    assert saved and "# a hand edit" in saved[0].read_text()
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-names", "--yes").returncode == 0
    assert "# a hand edit" not in MAIN_CF.read_text()


def test_undo_steps_back_and_reset_restores_original_bytes(box, pristine):
    original = pristine.files[str(MAIN_CF)]
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-names").returncode == 0
    after_names = MAIN_CF.read_text()
    assert mailwizard("undo").returncode == 0
    after_undo = MAIN_CF.read_text()
    assert "mydomain" not in after_undo and "maillog_file = /var/log/mail.log" in after_undo
    assert after_names.startswith(after_undo)          # the previous render, exactly
    assert "[    pending] postfix-names" in mailwizard("status").stdout
    assert smtp_greeting().startswith("220 ")          # reloaded with the older render

    undo_blank = mailwizard("undo", "postfix-blank")
    assert undo_blank.returncode == 0, undo_blank.stdout + undo_blank.stderr
    assert MAIN_CF.read_bytes() == original

    assert mailwizard("run", "--answers", str(box), "--through", "postfix-names").returncode == 0
    refused = mailwizard("reset")                      # no terminal, no --yes: it asks first
    assert refused.returncode == 2 and "--yes" in refused.stdout
    assert MAIN_CF.read_bytes() != original
    reset = mailwizard("reset", "--yes")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert MAIN_CF.read_bytes() == original
    assert not Path("/etc/postfix/main.cf.bak").exists() or pristine.files["/etc/postfix/main.cf.bak"]
    assert not STATE.exists()
    assert "no walk yet" in mailwizard("status").stdout


def test_tutorial_backup_and_our_own_copy_of_the_original(box, pristine):
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0
    original = pristine.files[str(MAIN_CF)]
    assert (STATE_DIR / "originals/etc/postfix/main.cf").read_bytes() == original
    if pristine.files["/etc/postfix/main.cf.bak"] is None:
        assert Path("/etc/postfix/main.cf.bak").read_bytes() == original


def test_killed_between_steps_resumes_without_redoing(box, pristine):
    killed = mailwizard("run", "--answers", str(box), "--through", "postfix-names",
                        env={"MAILWIZARD_CRASH_AT": "after-step:postfix-blank"})
    assert killed.returncode == -9
    assert state()["steps"]["postfix-blank"]["status"] == "passed"
    assert "postfix-names" not in state()["steps"]
    first_marker = probes_of("postfix-blank")["test-1"]["transcript"]

    resumed = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
    assert resumed.returncode == 0, resumed.stdout
    assert "[ok] postfix-blank: done already" in resumed.stdout
    assert "[ok] test-1:" not in resumed.stdout        # its probe was not sent again
    assert "[ok] test-b:" in resumed.stdout
    assert probes_of("postfix-blank")["test-1"]["transcript"] == first_marker
    before = (pristine.files["/var/mail/root"] or b"").decode().count("X-Mailwizard-Probe: test-1-")
    assert Path("/var/mail/root").read_text().count("X-Mailwizard-Probe: test-1-") == before + 1


def test_killed_in_the_middle_of_a_write_leaves_a_whole_file(box):
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0
    before = MAIN_CF.read_bytes()
    killed = mailwizard("run", "--answers", str(box), "--through", "postfix-names",
                        env={"MAILWIZARD_CRASH_AT": "write:/etc/postfix/main.cf:postfix-names"})
    assert killed.returncode == -9
    assert MAIN_CF.read_bytes() == before              # the old file, whole
    assert Path("/etc/postfix/main.cf.mailwizard-tmp").exists()
    resumed = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
    assert resumed.returncode == 0, resumed.stdout
    assert not Path("/etc/postfix/main.cf.mailwizard-tmp").exists()
    assert "mydomain = example.test" in MAIN_CF.read_text()


def test_second_concurrent_run_is_refused(box):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from wizard.system import System; from wizard.state import StateStore;"
         "s = StateStore(System()); s.lock(); print('locked', flush=True); sys.stdin.read()"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
        assert second.returncode == 2
        assert f"another mailwizard (pid {holder.pid}) is working on this server" in second.stderr
        assert not MAIN_CF.read_text().startswith("# Written by mailwizard")
    finally:
        holder.communicate("", timeout=10)
    assert mailwizard("run", "--answers", str(box), "--through", "postfix-blank").returncode == 0


def test_sandbox_writes_the_same_files_under_root_and_touches_nothing_else(box, tmp_path, pristine):
    sandbox = tmp_path / "sandbox"
    run = mailwizard("run", "--answers", str(box), "--through", "postfix-names", "--root", str(sandbox))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sandbox:" in run.stdout and "[skip] test-b" in run.stdout
    written = sorted(str(p.relative_to(sandbox)) for p in sandbox.rglob("*") if p.is_file())
    assert written == ["etc/postfix/main.cf", "var/lib/mailwizard/answers.toml", "var/lib/mailwizard/lock",
                       "var/lib/mailwizard/state.json"]
    assert MAIN_CF.read_bytes() == pristine.files[str(MAIN_CF)]
    assert not STATE_DIR.exists()
    assert not postfix_running()

    live = mailwizard("run", "--answers", str(box), "--through", "postfix-names")
    assert live.returncode == 0, live.stdout
    assert (sandbox / "etc/postfix/main.cf").read_bytes() == MAIN_CF.read_bytes()


def test_a_whole_walk_in_the_sandbox_writes_only_the_managed_files(tmp_path, pristine):
    from wizard.config import managed_paths

    sandbox = tmp_path / "sandbox"
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    run = mailwizard("run", "--answers", str(answers), "--root", str(sandbox))
    assert run.returncode == 0, run.stdout + run.stderr
    written = sorted("/" + str(p.relative_to(sandbox)) for p in sandbox.rglob("*") if p.is_file())
    # The chapters these answers take: no [certificate] ca outside the lab, so no renewal hook.
    from wizard.answers import load_answers

    taken = [step for step in ALL_STEPS if step.applies(load_answers(answers).values())]
    expected = sorted(managed_paths(taken) + ["/var/lib/mailwizard/answers.toml", "/var/lib/mailwizard/lock",
                                              "/var/lib/mailwizard/state.json"])
    assert written == expected
    assert not STATE_DIR.exists(), "the sandbox keeps its state inside the sandbox"
    assert not Path("/var/vmail").exists() or pristine.had_var_vmail
