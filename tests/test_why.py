"""`mailwizard why` on real Postfix and Dovecot in the lab: each outcome provoked for real and
named — delivered here and there, bounced by the outside server with a 5xx, refused at our own
door, deferred because outbound 25 is blocked and because the outside server is down."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import in_namespace, LAB_NAME, mailwizard, ok
from wizard.system import pid_alive

pytestmark = pytest.mark.daemons

FQDN = "mail.example.test"



def send(sender: str, rcpt: str, tag: str, login: bool = False, port: int = 25) -> str:
    """One message from the outside host (smtplib), refused or not; the server's last reply."""
    return in_namespace(f"{LAB_NAME}-ext", f"""
        import smtplib, ssl
        try:
            with smtplib.SMTP("{FQDN}", {port}, timeout=20) as client:
                client.ehlo("exthost.ext.test")
                if {login!r}:
                    client.starttls(context=ssl._create_unverified_context())
                    client.login("alice@example.test", "123456")
                client.sendmail("{sender}", ["{rcpt}"],
                                "From: {sender}\\r\\nTo: {rcpt}\\r\\nMessage-ID: <{tag}@example.test>\\r\\n"
                                "Subject: {tag}\\r\\n\\r\\n{tag}\\r\\n")
            print("accepted")
        except smtplib.SMTPRecipientsRefused as refused:
            print(refused.recipients)
    """)


def why_until(answers: Path, target: str, words: str, timeout: float = 30.0):
    """`why` again until its last line has `words` (the mail takes its time); its output."""
    deadline = time.monotonic() + timeout
    while True:
        done = mailwizard("why", target, "--lab", "--answers", str(answers))
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if words in last or time.monotonic() > deadline:
            return done, last
        time.sleep(0.5)


def test_why_names_what_became_of_each_mail(lab_up):
    answers = lab_up
    ok("run", "--lab", "--answers", str(answers), "--through", "next-steps")

    # Delivered here, into Dovecot, found by its Message-ID.
    assert send("bob@ext.test", "alice@example.test", "why-local") == "accepted"
    done, last = why_until(answers, "<why-local@example.test>", "delivered")
    assert done.returncode == 0 and last.startswith("delivered: Dovecot took it into alice@example.test"), done.stdout
    assert "saved mail to INBOX" in done.stdout and "postfix/qmgr" in done.stdout

    # Delivered there: the outside server accepted it (sent after STARTTLS and a login, as at the
    # tutorial's end).
    assert send("alice@example.test", "bob@ext.test", "why-remote", login=True) == "accepted"
    done, last = why_until(answers, "<why-remote@example.test>", "delivered")
    # (The lab is dual-stack: Postfix takes either of the outside host's addresses.)
    assert re.search(r"delivered: exthost\.ext\.test\[(192\.0\.2\.50|2001:db8:25::50)\]:25 accepted it for bob@ext\.test",
                     last), done.stdout

    # Bounced with a 5xx: the strict outside server wants SPF/DKIM/DMARC this walk has not published.
    ok("lab", "strict", "--answers", str(answers))
    try:
        assert send("alice@example.test", "bob@ext.test", "why-bounced", login=True) == "accepted"
        done, last = why_until(answers, "<why-bounced@example.test>", "bounced")
        assert done.returncode == 1 and last.startswith("bounced for bob@ext.test (5.7."), done.stdout
        assert "Publish SPF, DKIM and DMARC" in last or "reverse DNS" in last, last
    finally:
        ok("lab", "lenient", "--answers", str(answers))

    # Refused at our own door: a stranger tries to relay; nothing is queued.
    refused = send("eve@ext.test", "carol@ext.test", "why-relay")
    assert "Relay access denied" in refused, refused
    done, last = why_until(answers, "carol@ext.test", "refused")
    assert done.returncode == 1 and "refused at this server's own door, at RCPT" in last, done.stdout
    assert "relay restrictions" in last

    # Deferred: outbound 25 blocked, as many providers do.
    ok("lab", "block-25", "--answers", str(answers))
    try:
        assert send("alice@example.test", "bob@ext.test", "why-blocked", login=True) == "accepted"
        done, last = why_until(answers, "<why-blocked@example.test>", "deferred")
        assert last.startswith("deferred for bob@ext.test: this server cannot reach port 25"), done.stdout
        assert "relay host" in last
    finally:
        ok("lab", "open-25", "--answers", str(answers))
    # Opened again, a flush delivers what waited (and Postfix counts the destination alive again).
    subprocess.run(["postqueue", "-f"], check=True, capture_output=True)
    done, last = why_until(answers, "<why-blocked@example.test>", "delivered")
    assert last.startswith("delivered:"), done.stdout

    # Deferred: the outside server is down (its process ended), so nothing listens there.
    record = json.loads((Path("/run/mailwizard-lab") / LAB_NAME / "lab.json").read_text())
    os.kill(record["pids"]["smtp"], signal.SIGTERM)
    deadline = time.monotonic() + 10          # until it has gone (its port closed with it)
    while pid_alive(record["pids"]["smtp"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert send("alice@example.test", "bob@ext.test", "why-down", login=True) == "accepted"
    done, last = why_until(answers, "<why-down@example.test>", "deferred")
    assert "the other server refused the connection" in last and "tries again by itself" in last, done.stdout

    # An id nobody sent: said so, exit 1, no traceback.
    unknown = mailwizard("why", "<never-sent@example.test>", "--lab", "--answers", str(answers))
    assert unknown.returncode == 1 and unknown.stdout.startswith("no message for <never-sent@example.test>")
    assert "Traceback" not in unknown.stderr
