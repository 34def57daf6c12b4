"""The dkim chapter against real Postfix, Dovecot and rspamd in the lab: the signature verifies,
the key is the signer's secret and is kept, rspamd down never stops mail, undo and reset take
the signing setup away again."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import in_namespace, LAB_NAME, mailwizard, ok, STATE_DIR, stop_rspamd

pytestmark = pytest.mark.daemons

SIGNING_CONF = Path("/etc/rspamd/local.d/dkim_signing.conf")
SELECTOR = "mwtest1"
KEY = Path(f"/var/lib/rspamd/dkim/example.test.{SELECTOR}.key")



BROKEN = Path("/etc/rspamd/local.d/options.inc")
MAILDIR = Path("/var/vmail/example.test/alice/mail")


def send_on_587_from_outside(tag: str) -> str:
    """A mail client on the outside host: STARTTLS, login, one message to alice (smtplib, not ours)."""
    marker = f"{tag}-{time.time_ns()}"
    in_namespace(f"{LAB_NAME}-ext", f"""
        import smtplib, ssl
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("mail.example.test", 587, timeout=20) as client:
            client.starttls(context=context)
            client.login("alice@example.test", "123456")
            client.sendmail("alice@example.test", ["alice@example.test"],
                            "From: alice@example.test\\r\\nSubject: {marker}\\r\\n\\r\\n{marker}\\r\\n")
    """)
    return marker


def wait_for_message(marker: str, timeout: float = 20.0) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in MAILDIR.glob("**/new/*"):
            text = path.read_text(errors="replace")
            if marker in text:
                return text
        time.sleep(0.1)
    return None


def dkim_line(out: str) -> str:
    return next(line for line in out.splitlines() if " dkim" in line and line.lstrip().startswith("["))


def test_dkim_signs_keeps_its_key_and_undoes_cleanly(lab_up):
    answers = lab_up
    # This walk also keeps AUTH on port 25 for old clients, as the answers may.
    answers.write_text(answers.read_text() + f'[dkim]\nselector = "{SELECTOR}"\n[submission]\nauth_on_25 = true\n')
    first = ok("run", "--lab", "--answers", str(answers), "--through", "dkim", "-v")
    assert "[ok] dkim" in first, first
    assert re.search(r"\[ok\] 25-auth-kept: .*AUTH", first) and re.search(r"\[skip\] 25-no-auth: .*auth_on_25 = yes", first)
    assert "\nsmtpd_sasl_auth_enable = yes\n" in Path("/etc/postfix/main.cf").read_text()
    assert re.search(rf"DKIM-Signature d=example\.test s={SELECTOR} verifies against the key this step made", first)

    # The key: the signer's alone, 2048 bits, never shown anywhere the wizard writes.
    st = KEY.stat()
    assert st.st_mode & 0o777 == 0o600 and KEY.owner() == "_rspamd"
    key_text = KEY.read_text()
    bits = subprocess.run(["openssl", "pkey", "-in", str(KEY), "-noout", "-text"], capture_output=True, text=True).stdout
    assert "2048 bit" in bits
    body = "".join(key_text.splitlines()[1:-1])
    report = ok("report")
    for text in (first, report, (STATE_DIR / "state.json").read_text(),
                 Path("/var/log/mail.log").read_text(errors="replace")):
        assert body[:40] not in text and "PRIVATE KEY" not in text
    assert f'selector = "{SELECTOR}"' in SIGNING_CONF.read_text()

    # Run again: the same key, nothing new.
    again = ok("run", "--lab", "--answers", str(answers), "--through", "dkim")
    assert "done already" in dkim_line(again) and KEY.read_text() == key_text

    # rspamd down: Postfix still takes mail on 587 and delivers it, unsigned; it never waits.
    stop_rspamd()
    marker = send_on_587_from_outside("rspamd-down")
    delivered = wait_for_message(marker)
    assert delivered is not None, "mail was held while rspamd was down"
    assert "DKIM-Signature" not in delivered

    # rspamd that cannot start: the step fails with rspamd's own words, the last good files stay.
    ok("undo", "dkim", "--answers", str(answers), "--lab")
    BROKEN.write_text("this is { not rspamd's syntax\n")
    try:
        broken = mailwizard("run", "--lab", "--answers", str(answers), "--through", "dkim")
        assert broken.returncode != 0 and "[FAIL] dkim" in broken.stdout, broken.stdout
        assert "rspamd check failed" in broken.stdout and "options.inc" in broken.stdout, broken.stdout
        assert not SIGNING_CONF.exists()
        assert "inet:127.0.0.1:11332" not in Path("/etc/postfix/main.cf").read_text()
    finally:
        BROKEN.unlink()

    # Undo: rspamd's config and the milter go, the key stays (it may be published).
    undone = ok("undo", "dkim", "--answers", str(answers), "--lab")
    assert not SIGNING_CONF.exists()
    assert "inet:127.0.0.1:11332" not in Path("/etc/postfix/main.cf").read_text()
    assert KEY.read_text() == key_text, undone
    # A walk again signs with the very same key.
    redo = ok("run", "--lab", "--answers", str(answers), "--through", "dkim")
    assert "[ok] dkim" in redo and KEY.read_text() == key_text

    reset = ok("reset", "--yes")
    assert not SIGNING_CONF.exists() and "stays" in reset and str(KEY) in reset
