"""The tutorial's final server, in the lab: every step from the start, twice, then a third run
that changes nothing; independent clients confirm what the probes claim; no clear password is
left anywhere on the box."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import LAB_NAME, STATE_DIR, in_namespace, mailwizard
from final_checks import Box, confirm_final_server

pytestmark = pytest.mark.daemons

SECRET = "Zebra-Staple-4711"
MANAGED = ["/etc/postfix/main.cf", "/etc/postfix/virtual", "/etc/dovecot/dovecot.conf",
           "/etc/dovecot/users.db"]


@pytest.fixture
def final_server(lab):
    lab.write_text(lab.read_text().replace('password = "123456"', f'password = "{SECRET}"'))
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 0, up.stdout + up.stderr
    return lab


def walk(answers: Path) -> str:
    run = mailwizard("run", "--lab", "--answers", str(answers))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def assert_the_tutorials_lessons_were_met() -> None:
    """The tutorial's moments that only show what does not work, each with its server's reply,
    and from the outside host where the tutorial's reader sits there."""
    state = json.loads((STATE_DIR / "state.json").read_text())
    probe = {f"{s}/{p['id']}": p for s, record in state["steps"].items() for p in record["probes"]}
    outside = f"C: [netns:{LAB_NAME}-ext] $ telnet mail.example.test"
    for pid in ("dovecot-tls/imap-starttls", "dovecot-tls/imaps", "dovecot-tls/tls-on-143-fails",
                "dovecot-tls/starttls-on-993-fails", "dovecot-tls/plain-on-993-fails",
                "sasl/auth-offered", "tls-auth-only/auth-refused-in-clear", "tls-auth-only/relay-in-clear-denied",
                "tls-auth-only/relay-after-starttls", "restrictions/helo-required"):
        assert probe[pid]["status"] == "met", probe[pid]
        assert probe[pid]["transcript"][0].startswith(outside), (pid, probe[pid]["transcript"][:2])
    assert "TLS handshake failed" in probe["dovecot-tls/tls-on-143-fails"]["actual"]
    for pid, sent in (("starttls-on-993-fails", "C: a STARTTLS"), ("plain-on-993-fails", "C: a CAPABILITY")):
        lines = probe[f"dovecot-tls/{pid}"]["transcript"]
        assert sent in lines and not any(line.startswith("S: * OK") for line in lines), lines
    assert "Relay access denied" in probe["tls-auth-only/relay-in-clear-denied"]["actual"]
    # Before tls-auth-only, a login in clear still sends: the tutorial's gap, with a real mail.
    clear = probe["postfix-tls/auth-without-tls"]
    assert clear["status"] == "met" and "on the outside host" in clear["actual"], clear
    assert "C: STARTTLS" not in clear["transcript"] and any(l.startswith("C: AUTH") for l in clear["transcript"])
    assert "on the outside host" in probe["tls-auth-only/relay-after-starttls"]["actual"]
    assert "C: STARTTLS" in probe["tls-auth-only/relay-after-starttls"]["transcript"]
    hashed = probe["password-hash/hash-verified"]
    assert hashed["status"] == "met" and "S: {SHA512-CRYPT}… (verified)" in hashed["transcript"], hashed
    assert not any("$6$" in line for line in hashed["transcript"]), "no hash in the transcript"


def test_full_walk_twice_then_a_third_run_changes_nothing(final_server):
    first = walk(final_server)
    assert "[ok] next-steps" in first and "[FAIL]" not in first
    assert_the_tutorials_lessons_were_met()
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
    restrictions = [r.strip() for r in postconf.split(",") if r.strip()]
    # The tutorial's ten, and the lab's block list right after reject_unauth_destination.
    assert len(restrictions) == 11 and restrictions[5] == "reject_rbl_client bl.ext.test=127.0.0.[2..254]", restrictions


def test_independent_clients_confirm_the_final_server(final_server):
    walk(final_server)
    confirm_final_server(Box(LAB_NAME, in_namespace, mailwizard), SECRET)


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
