"""The tutorial's final server, in the lab: every step from the start, twice, then a third run
that changes nothing; independent clients confirm what the probes claim; no clear password is
left anywhere on the box."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import LAB_NAME, STATE_DIR, in_namespace, mailwizard

pytestmark = pytest.mark.daemons

SECRET = "Zebra-Staple-4711"
MANAGED = ["/etc/postfix/main.cf", "/etc/postfix/virtual", "/etc/dovecot/dovecot.conf",
           "/etc/dovecot/users.db"]
TLS = """
import ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
"""


@pytest.fixture
def final_server(lab):
    lab.write_text(lab.read_text().replace('password = "123456"', f'password = "{SECRET}"'))
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 0, up.stdout + up.stderr
    return lab


def with_tls(ns: str, code: str) -> str:
    """A snippet run in a lab namespace, with `ctx`: TLS that accepts the self-signed certificate."""
    import textwrap

    return in_namespace(ns, TLS + textwrap.dedent(code))


def walk(answers: Path) -> str:
    run = mailwizard("run", "--lab", "--answers", str(answers))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_full_walk_twice_then_a_third_run_changes_nothing(final_server):
    first = walk(final_server)
    assert "[ok] next-steps" in first and "[FAIL]" not in first
    assert mailwizard("reset", "--yes").returncode == 0
    walk(final_server)
    files = {path: Path(path).read_bytes() for path in MANAGED}
    third = walk(final_server)
    assert third.count("done already") == third.count("[ok] "), third
    assert {path: Path(path).read_bytes() for path in MANAGED} == files
    state = json.loads((STATE_DIR / "state.json").read_text())
    hashes = [u["password_hash"] for u in state["answers"]["users"]]
    for fmt in ("md", "html"):
        report = mailwizard("report", "--format", fmt)
        assert report.returncode == 0, report.stderr
        for step_id, record in state["steps"].items():
            assert step_id in report.stdout
            for probe in record["probes"]:
                assert probe["id"] in report.stdout
        assert SECRET not in report.stdout and "$6$" not in report.stdout
        assert not any(h.split("}")[-1] in report.stdout for h in hashes)
    main_cf = Path("/etc/postfix/main.cf").read_text()
    assert "smtpd_recipient_restrictions =\n    permit_mynetworks,\n" in main_cf
    assert "    reject_unknown_helo_hostname,\n    reject_unknown_sender_domain,\n" in main_cf
    postconf = subprocess.run(["postconf", "-h", "smtpd_recipient_restrictions"], capture_output=True,
                              text=True).stdout
    assert len([r for r in postconf.replace(",", " ").split() if r]) == 10


def test_independent_clients_confirm_the_final_server(final_server):
    walk(final_server)
    mail_ns, ext_ns = f"{LAB_NAME}-mail", f"{LAB_NAME}-ext"
    imap = with_tls(mail_ns, f"""
        import imaplib
        with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
            print("imaps", m.login("alice@example.test", "{SECRET}")[0])
        with imaplib.IMAP4("127.0.0.1", 143) as m:
            m.starttls(ssl_context=ctx)
            print("starttls", m.login("alice@example.test", "{SECRET}")[0])
    """)
    assert imap.splitlines() == ["imaps OK", "starttls OK"]

    outside = with_tls(ext_ns, f"""
        import imaplib, smtplib
        with imaplib.IMAP4("mail.example.test", 143) as m:
            try:
                m.login("alice@example.test", "{SECRET}"); print("plaintext login accepted")
            except imaplib.IMAP4.error:
                print("plaintext login refused")
        with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test") as s:
            s.ehlo(); print("auth before tls", s.has_extn("auth"))
            try:
                s.sendmail("bob@ext.test", ["carol@ext.test"], "Subject: open relay?\\r\\n\\r\\nno\\r\\n")
                print("relayed without auth")
            except smtplib.SMTPRecipientsRefused as exc:
                print("relay refused", list(exc.recipients.values())[0][0])
            try:
                s.sendmail("bob@ext.test", ["nobody-at-all@example.test"], "Subject: x\\r\\n\\r\\nx\\r\\n")
                print("unknown recipient accepted")
            except smtplib.SMTPRecipientsRefused as exc:
                print("unknown recipient refused", list(exc.recipients.values())[0][0])
            s.sendmail("bob@ext.test", ["alice@example.test"], "Subject: inbound\\r\\nX-Check: lmtp\\r\\n\\r\\nin\\r\\n")
            s.sendmail("bob@ext.test", ["postmaster@example.test"], "Subject: pm\\r\\nX-Check: postmaster\\r\\n\\r\\npm\\r\\n")
        with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test") as s:
            s.starttls(context=ctx); s.ehlo(); print("auth after tls", s.has_extn("auth"))
            s.login("alice@example.test", "{SECRET}")
            s.sendmail("alice@example.test", ["bob@ext.test"], "Subject: out\\r\\nX-Check: relayed\\r\\n\\r\\nout\\r\\n")
    """).splitlines()
    assert outside[:3] == ["plaintext login refused", "auth before tls False", outside[2]]
    assert outside[2].startswith("relay refused") and outside[2].split()[-1] in ("454", "554")
    assert outside[3].startswith("unknown recipient refused") and outside[3].split()[-1] in ("450", "550")
    assert outside[4] == "auth after tls True"

    found = with_tls(mail_ns, f"""
        import imaplib, time
        wanted = {{"lmtp", "postmaster"}}
        for _ in range(150):
            with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
                m.login("alice@example.test", "{SECRET}"); m.select("INBOX")
                seen = {{w for w in wanted if m.search(None, "HEADER", "X-Check", w)[1][0].split()}}
            if seen == wanted:
                break
            time.sleep(0.1)
        print(sorted(seen))
    """)
    assert found == "['lmtp', 'postmaster']"
    sink = Path(f"/run/mailwizard-lab/{LAB_NAME}/mail/bob@ext.test")
    for _ in range(150):
        if "X-Check: relayed" in sink.read_text():
            break
        subprocess.run(["sleep", "0.1"])
    assert "X-Check: relayed" in sink.read_text(), "the authenticated relay reached the outside mailbox"

    added = mailwizard("user", "add", "dave@example.test", input="Dave-Pass-99\n")
    assert added.returncode == 0, added.stdout + added.stderr
    assert "dave@example.test" in mailwizard("user", "list").stdout
    dave = with_tls(mail_ns, """
        import imaplib
        with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
            print(m.login("dave@example.test", "Dave-Pass-99")[0])
    """)
    assert dave == "OK", "Dovecot saw the new user without a restart"

    leaks = subprocess.run(["grep", "-rl", "--binary-files=text", SECRET, "/etc", str(STATE_DIR),
                            "/var/log/mail.log", "/var/log/dovecot.log", f"/run/mailwizard-lab/{LAB_NAME}"],
                           capture_output=True, text=True)
    assert leaks.stdout == "", f"the clear password is written in: {leaks.stdout}"


def test_user_commands_refuse_what_makes_no_sense(final_server):
    assert mailwizard("run", "--lab", "--answers", str(final_server), "--through", "password-hash").returncode == 0
    users_db = Path("/etc/dovecot/users.db")
    before = users_db.read_bytes()
    for args, stdin, why in (
        (("user", "add", "alice@example.test"), "x\n", "exists already"),
        (("user", "add", "eve@elsewhere.test"), "x\n", "not in example.test"),
        (("user", "add", "bad address@example.test"), "x\n", "user part"),
        (("user", "add", "eve@example.test"), "\n", "password is empty"),
        (("user", "del", "alice@example.test"), "", "last mailbox"),
        (("user", "passwd", "nobody@example.test"), "x\n", "no mailbox"),
    ):
        run = mailwizard(*args, input=stdin)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert why in run.stderr, (args, run.stderr)
        assert users_db.read_bytes() == before
    with_arg = mailwizard("user", "add", "eve@example.test", "--password", "secret")
    assert with_arg.returncode == 2 and "unrecognized arguments" in with_arg.stderr
    state = json.loads((STATE_DIR / "state.json").read_text())
    assert [u["address"] for u in state["answers"]["users"]] == ["alice@example.test"]
