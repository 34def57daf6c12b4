"""The Dovecot chapters on the real Dovecot, in the lab: the direct path and the teaching path,
each twice; the same final files either way; every lesson's error really produced by Dovecot;
and independent clients (imaplib, smtplib, run inside the lab) agreeing with the probes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import LAB_NAME, STATE_DIR, in_namespace, mailwizard
from final_checks import tls_logins

pytestmark = pytest.mark.daemons

FINAL_FILES = ["/etc/postfix/main.cf", "/etc/dovecot/dovecot.conf", "/etc/dovecot/users.db"]
MAILDIR = Path("/var/vmail/example.test/alice/mail")


def state() -> dict:
    return json.loads((STATE_DIR / "state.json").read_text())


def walk(answers: Path, *extra: str) -> subprocess.CompletedProcess:
    run = mailwizard("run", "--lab", "--answers", str(answers), *extra)
    assert run.returncode == 0, run.stdout + run.stderr
    return run



def test_direct_and_teaching_paths_each_twice_leave_the_same_files(lab_up):
    walk(lab_up)
    assert_test_h_waited_in_the_queue_then_arrived(state()["steps"], ("virtual-lmtp", "test-h-waits"),
                                                   ("virtual-lmtp", "test-h-delivered"))
    direct = {path: Path(path).read_bytes() for path in FINAL_FILES}
    again = walk(lab_up)
    assert "[ok] password-hash: done already" in again.stdout
    assert {path: Path(path).read_bytes() for path in FINAL_FILES} == direct, "a second walk changes nothing"

    assert mailwizard("reset", "--yes").returncode == 0
    teaching = walk(lab_up, "--teaching")
    assert "> dovecot-imap.passdb:" in teaching.stdout
    for path in FINAL_FILES[:2]:
        assert Path(path).read_bytes() == direct[path], f"{path} differs between the two paths"
    # users.db: the same lines; only the salt of a freshly made hash may differ (reset forgot the
    # old one), and both hashes hold the same password.
    from passlib.hash import sha512_crypt
    before, after = direct["/etc/dovecot/users.db"].decode(), Path("/etc/dovecot/users.db").read_text()
    assert [l.split(":")[0] for l in before.splitlines()] == [l.split(":")[0] for l in after.splitlines()]
    for text in (before, after):
        assert sha512_crypt.verify("123456", text.splitlines()[-1].split(":", 1)[1])
    again = walk(lab_up)          # the walk remembers its mode
    assert "[ok] dovecot-imap.plaintext: done already" in again.stdout

    users_db = Path("/etc/dovecot/users.db")
    assert (users_db.stat().st_mode & 0o777) == 0o640
    assert "123456" not in users_db.read_text()
    assert "alice@example.test:$6$" in users_db.read_text()
    assert "scheme=SHA512-CRYPT /etc/dovecot/users.db" in Path("/etc/dovecot/dovecot.conf").read_text()


def test_each_lesson_meets_the_error_dovecot_really_gives(lab_up):
    walk(lab_up, "--teaching", "--through", "virtual-lmtp.dovecot")
    steps = state()["steps"]
    assert_test_h_waited_in_the_queue_then_arrived(steps, ("virtual-lmtp.postfix", "test-h-queued"),
                                                   ("virtual-lmtp.dovecot", "test-h-flushed"))
    expected = {
        ("dovecot-imap.empty", "no-imap"): ("Connection refused", None),
        ("dovecot-imap.protocols", "auth-broken"): ("S: * BYE Auth process broken", "No passdbs specified"),
        ("dovecot-imap.protocols", "tls-no-cert"): ("TLS handshake failed", "Can't load SSL certificate"),
        ("dovecot-imap.ssl", "no-passdb"): ("S: * BYE Auth process broken", "No passdbs specified"),
        ("dovecot-imap.passdb", "missing-uid"): ("S: * BYE Internal error occurred", "User is missing UID"),
        ("dovecot-imap.uid", "no-location"): ("S: * BYE Internal error occurred", "mail_location not set"),
        ("dovecot-imap.location", "imap-plaintext-refused"): ("S: a NO [PRIVACYREQUIRED]", None),
    }
    log = Path("/var/log/dovecot.log").read_text()
    for (step, probe_id), (reply, log_line) in expected.items():
        probe = {p["id"]: p for p in steps[step]["probes"]}[probe_id]
        assert probe["status"] == "met", (step, probe)
        assert any(reply in line for line in probe["transcript"]), (step, probe["transcript"])
        if log_line:
            assert log_line in log, f"Dovecot's own log lacks {log_line!r}"
    listing = {p["id"]: p for p in steps["dovecot-imap.location"]["probes"]}["imap-login"]
    assert 'S: * LIST (\\HasNoChildren) "." INBOX' in listing["transcript"]
    assert (MAILDIR).is_dir()
    assert not any("123456" in line for p in listing["transcript"] for line in [p]), "password masked"
    assert "123456" not in json.dumps(state())


def assert_test_h_waited_in_the_queue_then_arrived(steps: dict, waited: tuple[str, str],
                                                   delivered: tuple[str, str]) -> None:
    """The tutorial's Test H. Teaching: Postfix's half alone accepts the mail from outside and
    defers it for the missing LMTP socket; after Dovecot's half, a flush delivers that very
    message. Direct (both halves at once): the same, with Dovecot stopped for that one probe."""
    queued = {p["id"]: p for p in steps[waited[0]]["probes"]}[waited[1]]
    assert queued["status"] == "met", queued
    assert "status=deferred" in queued["actual"], queued
    assert re.search(r"private/dovecot-lmtp\]?: (No such file or directory|Connection refused)", queued["actual"]), queued
    # The line the explanations quote is the one Postfix wrote.
    from test_explanations import quoted_connect_lines

    for quote in (q for lines in quoted_connect_lines().values() for q in lines):
        pattern = re.escape(quote.replace("MAILHOST.MAILDOMAIN", "mail.example.test")).replace(
            re.escape("No such file or directory"), "(No such file or directory|Connection refused)")
        assert re.search(pattern, queued["actual"]), (quote, queued["actual"])
    if waited[0] == "virtual-lmtp":
        assert queued["transcript"][0] == "(dovecot stopped for this probe)", queued["transcript"]
        # From the outside host, as the tutorial sends Test H.
        assert queued["transcript"][1].startswith(f"C: [netns:{LAB_NAME}-ext] $ telnet mail.example.test 25"), \
            queued["transcript"]
        assert queued["transcript"][-1] == "(dovecot started again)", queued["transcript"]
    else:
        assert queued["transcript"][0].startswith(f"C: [netns:{LAB_NAME}-ext] $ telnet mail.example.test 25")
    queue_id = queued["actual"].split("; ")[-1].split()[0]
    flushed = {p["id"]: p for p in steps[delivered[0]]["probes"]}[delivered[1]]
    assert flushed["status"] == "met", flushed
    assert "C: $ postqueue -f" in flushed["transcript"], flushed["transcript"]
    assert any(queue_id in line for line in flushed["transcript"]), (queue_id, flushed["transcript"])
    assert "delivered on the flush through dovecot-lmtp" in flushed["actual"], flushed
    marker = next(line.split(": ", 2)[2] for line in queued["transcript"] if "X-Mailwizard-Probe:" in line)
    arrived = [f for folder in ("new", "cur") for f in (MAILDIR / folder).iterdir() if marker in f.read_text()]
    assert len(arrived) == 1, f"the message that waited ({marker}) is in the Maildir once"
    listing = subprocess.run(["postqueue", "-p"], capture_output=True, text=True).stdout
    assert queue_id not in listing, listing


def test_independent_clients_agree_after_the_walk(lab_up):
    walk(lab_up)
    mail_ns, ext_ns = f"{LAB_NAME}-mail", f"{LAB_NAME}-ext"
    assert tls_logins(in_namespace, mail_ns, "123456") == ["imaps OK", "starttls OK"]

    refused = in_namespace(ext_ns, """
        import imaplib
        with imaplib.IMAP4("mail.example.test", 143) as m:
            try:
                m.login("alice@example.test", "123456")
                print("logged in")
            except imaplib.IMAP4.error as exc:
                print("refused", exc)
    """)
    assert refused.startswith("refused"), refused

    in_namespace(ext_ns, """
        import smtplib
        with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test") as s:
            s.sendmail("bob@ext.test", ["alice@example.test"],
                       "Subject: from smtplib\\r\\nX-Independent: yes\\r\\n\\r\\nhello from outside\\r\\n")
    """)
    found = in_namespace(mail_ns, """
        import imaplib, ssl, time
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        for _ in range(100):
            with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
                m.login("alice@example.test", "123456"); m.select("INBOX")
                hits = m.search(None, "HEADER", "X-Independent", "yes")[1][0].split()
                if hits:
                    print(m.fetch(hits[0], "(BODY[TEXT])")[1][0][1].decode().strip()); break
            time.sleep(0.1)
    """)
    assert found == "hello from outside"
    assert any(b"X-Independent: yes" in p.read_bytes() for sub in ("new", "cur") for p in MAILDIR.glob(f"{sub}/*")), "in the Maildir itself"


def test_without_a_vantage_point_the_outside_logins_are_proven_from_this_box(lab_up):
    """The probes the tutorial types on EXTHOST that prove as much from the server itself (the
    TLS logins, the wrong ports, HELO required) run here when the walk has no vantage point, and
    say so, instead of not at all; those only an outside client can prove (a relay refused, a
    plain LOGIN refused: Dovecot trusts localhost) are not run. Against a walked lab's daemons."""
    walk(lab_up)
    found = json.loads(in_namespace(f"{LAB_NAME}-mail", f"""
        import json
        from pathlib import Path
        from wizard.probes.runner import ProbeRunner
        from wizard.session import SessionOptions, peek_session
        from wizard.system import System

        engine = peek_session(SessionOptions(answers={str(lab_up)!r}, lab=True))
        values = {{**engine.values(), "vantage": "none"}}
        passwords = {{u.address: u.password for u in engine.answers.users if u.password}}
        out = []
        for step in engine.steps:
            for probe in step.probes:
                if probe.vantage.startswith("external") and step.id in ("dovecot-tls", "restrictions"):
                    result = ProbeRunner(System(Path("/")), values, passwords=passwords).run(probe)
                    out.append([probe.id, probe.vantage, result.status, result.transcript[:2]])
        print(json.dumps(out))
    """))
    here = [row for row in found if row[1] == "external-else-local"]
    assert [row[0] for row in here] == ["imap-starttls", "imaps", "tls-on-143-fails", "starttls-on-993-fails",
                                        "plain-on-993-fails", "helo-required"], found
    for probe_id, _, status, first_lines in here:
        assert status == "met", (probe_id, first_lines)
        assert first_lines[0] == "S: (no outside vantage point: sent from this box instead)", (probe_id, first_lines)
        assert first_lines[1].startswith("C: $ telnet localhost "), (probe_id, first_lines)
    outside_only = {row[0]: row[2] for row in found if row[1] == "external"}
    assert "imap-plain-refused" in outside_only and "outside-relay-denied" in outside_only, found
    assert set(outside_only.values()) == {"not-run"}, outside_only
