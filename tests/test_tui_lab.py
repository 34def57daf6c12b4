"""The Textual app driven by the Pilot against the real daemons in the lab: the Postfix chapters
by key, the probe transcript and the daemon log in their tabs, the mail-flow diagram following
the probes, a quit in the middle of a step's probes and a resume at exactly that step."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import LAB_NAME, REPO, mailwizard

pytestmark = pytest.mark.daemons


def test_the_app_walks_the_postfix_chapters_quits_mid_step_and_resumes(lab):
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 0, up.stdout + up.stderr
    run = subprocess.run(["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable,
                          str(REPO / "tests" / "tui_lab_scenario.py"), str(lab)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert seen["done"] == [[s, "passed"] for s in ("prereq", "install", "postfix-blank",
                                                     "postfix-names", "vmail")]
    transcript = "\n".join(seen["transcript"])
    assert "S: 220 mail.example.test ESMTP Postfix" in transcript
    assert "S: 550 5.1.1" in transcript and "✔ [met]" in transcript
    assert any("postfix/smtpd" in line for line in seen["log"]), seen["log"][:5]
    paths = dict((step, path) for step, path in seen["paths"] if step == "postfix-blank")
    assert paths["postfix-blank"] == ["sendmail", "local"]
    assert ["postfix-names", ["client", "smtpd"]] in seen["paths"], "a probe from outside"

    assert seen["after_quit"]["status"] == "failed"
    assert "cancelled during the probes" in seen["after_quit"]["message"]
    assert "Next: Dovecot as an IMAP server" in seen["resume_text"]
    assert seen["resumed_at"] == "dovecot-imap"
    assert seen["after_resume"] == "passed"
    assert [s for s, status in seen["states"].items() if status == "passed"] == [
        "prereq", "install", "postfix-blank", "postfix-names", "vmail", "dovecot-imap"]
