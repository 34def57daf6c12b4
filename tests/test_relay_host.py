"""The relay-host chapter on real Postfix in the lab: outbound port 25 closed for real (a rule in
the mail namespace), the outside host's relay server demanding STARTTLS and a login. A wrong
password leaves the mail deferred and `why` names the refused login; the right one (from the
environment, as a script gives it) carries Test F, the submission chapter's mail and the
strict receiver's SPF/DKIM/DMARC passes to the outside. The password never shows: not in output, state, replay file or report."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import LAB_NAME, mailwizard, ok

pytestmark = pytest.mark.daemons

PASSWORDS = Path("/etc/postfix/sasl_passwd")



def test_mail_leaves_through_the_relay_host_when_port_25_is_closed(lab_up, tmp_path):
    answers = lab_up
    ok("run", "--lab", "--answers", str(answers), "--through", "next-steps")
    user, password = (Path("/run/mailwizard-lab") / LAB_NAME / "relay-account").read_text().splitlines()[:2]
    assert "relay host:    relay.ext.test:587" in ok("lab", "status", "--answers", str(answers))
    ok("lab", "block-25", "--answers", str(answers))
    try:
        # The checks tell the blocked port and the way out.
        check = mailwizard("check", "--lab", "--answers", str(answers)).stdout
        assert re.search(r"outbound port 25 to ext\.test.*\[relay\] host", check), check

        # A wrong password: written, but the proof fails, and why says what to fix.
        wrong = tmp_path / "wrong.toml"
        wrong.write_text(answers.read_text() + f'\n[relay]\nhost = "relay.ext.test"\nuser = "{user}"\n'
                         'password = "not-the-Password-1"\n')
        done = mailwizard("run", "--lab", "--answers", str(wrong), "--through", "relay-host")
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert "[FAIL] test-f-relayed" in said and "the relay host refused this server's login" in said, said
        assert "not-the-Password-1" not in said
        queued = re.search(r"`mailwizard why (\w+)`", said).group(1)
        why = mailwizard("why", queued, "--lab", "--answers", str(answers))
        assert why.returncode == 1 and "535" in why.stdout and "[relay] user and password" in why.stdout, why.stdout

        # The right one, from the environment: Test F goes through the relay host, and so does
        # the submission chapter's mail from a logged-in user.
        right = tmp_path / "right.toml"
        right.write_text(answers.read_text() + f'\n[relay]\nhost = "relay.ext.test"\nuser = "{user}"\n')
        said = ok("run", "--lab", "--answers", str(right), "--through", "submission",
                  env={"MAILWIZARD_RELAY_PASSWORD": password})
        assert "[ok] test-f-relayed" in said and "through the relay host relay.ext.test" in said, said
        assert "[ok] 587-relay" in said and "[ok] 465-relay" in said, said
        assert password not in said
        log = Path("/var/log/mail.log").read_text(errors="replace")
        assert re.search(r"to=<bob@ext\.test>, relay=relay\.ext\.test\[192\.0\.2\.50\]:587.*status=sent", log)
        # The mail the wrong password left in the queue goes too (Postfix retries it; a flush asks now).
        subprocess.run(["postqueue", "-f"], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            why = mailwizard("why", queued, "--lab", "--answers", str(right))
            if why.returncode == 0:
                break
            time.sleep(0.5)
        assert why.returncode == 0 and "delivered: relay.ext.test" in why.stdout, why.stdout

        # The strict receiver sees the relay's address: SPF names the relay host, DKIM is ours.
        said = ok("run", "--lab", "--answers", str(right), "--through", "dns-auth")
        assert 'example.test. 3600 IN TXT "v=spf1 mx a:relay.ext.test -all"' in said, said
        assert "[ok] receiver-accepts" in said, said

        # The password: in the root-only map, nowhere else.
        assert PASSWORDS.stat().st_mode & 0o777 == 0o600 and PASSWORDS.stat().st_uid == 0
        assert f"[relay.ext.test]:587 {user}:{password}" in PASSWORDS.read_text()
        state_dir = Path("/var/lib/mailwizard")
        for kept in state_dir.rglob("*"):
            if kept.is_file() and "originals" not in kept.parts:
                assert password.encode() not in kept.read_bytes(), kept
        assert "asked at run time" in (state_dir / "answers.toml").read_text()
        for form in ("md", "html"):
            report = mailwizard("report", "--lab", "--answers", str(right), "--format", form)
            assert report.returncode == 0 and password not in report.stdout
            assert "sasl_passwd holds a secret" in report.stdout

        # A later session without the password reads it back from the map: nothing to redo.
        status = ok("status", "--lab", "--answers", str(right))
        assert re.search(r"\[\s*done\] relay-host", status), status

        # Undo: mail goes straight out again, the password file is gone.
        said = ok("undo", "relay-host", "--lab", "--answers", str(right))
        assert "the password file is removed" in said
        assert not PASSWORDS.exists()
        main_cf = Path("/etc/postfix/main.cf").read_text()
        assert "relayhost" not in main_cf and "smtp_sasl_password_maps" not in main_cf
    finally:
        ok("lab", "open-25", "--answers", str(answers))
