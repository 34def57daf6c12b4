"""The blocklists chapter and the block-list checks on real Postfix in the lab: the lab's DNS
serves a block list (RFC 5782) listing the outside host's second address. A listed client is
refused at RCPT with the list's name, an unlisted one delivers, a user who logs in on 587 from
the listed address still sends; the checks tell listed, refused to answer (Spamhaus' trap) and
a list that does not answer apart, and Postfix refuses nobody on a list's error answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import in_namespace, LAB_NAME, mailwizard, ok

pytestmark = pytest.mark.daemons

LISTED, UNLISTED = "192.0.2.53", "192.0.2.50"     # the outside host's two addresses



def send_from(source: str, tag: str) -> str:
    """A mail from the outside host, starting from `source`, to alice here; the server's verdict."""
    return in_namespace(f"{LAB_NAME}-ext", f"""
        import smtplib
        try:
            with smtplib.SMTP("mail.example.test", 25, timeout=20, source_address=("{source}", 0)) as client:
                client.sendmail("bob@ext.test", ["alice@example.test"],
                                "From: bob@ext.test\\r\\nSubject: {tag}\\r\\n\\r\\n{tag}\\r\\n")
            print("accepted")
        except smtplib.SMTPRecipientsRefused as refused:
            print(refused.recipients)
    """)


def fresh_smtpd() -> None:
    """An smtpd process remembers a list's answers while it lives: new ones see the list anew.
    The wizard's own reload returns once the smtpd processes from before it have gone."""
    assert in_namespace(f"{LAB_NAME}-mail", """
        from wizard.daemons import daemon
        from wizard.system import System
        print(daemon(System(), "postfix").reload().ok)
    """) == "True"


def check_line(answers: Path) -> str:
    done = mailwizard("check", "--lab", "--answers", str(answers))
    return next(line for line in done.stdout.splitlines() if "block lists" in line)


def test_listed_clients_are_refused_on_25_and_the_checks_tell_a_refusing_list(lab_up, tmp_path):
    answers = lab_up
    said = ok("run", "--lab", "--answers", str(answers), "--through", "blocklists")
    for probe in ("listed-client-refused", "unlisted-client-delivers", "listed-user-sends"):
        assert f"[ok] {probe}" in said, said
    main_cf = Path("/etc/postfix/main.cf").read_text()
    assert re.search(r"reject_unauth_destination,\n\s+reject_rbl_client bl\.ext\.test=127\.0\.0\.\[2\.\.254\],\n"
                     r"\s+reject_unknown_client_hostname", main_cf), main_cf

    # By hand, with Python's smtplib (not our probes): refused with the list's name and reason.
    refused = send_from(LISTED, "bl-by-hand")
    assert "blocked using bl.ext.test" in refused and "listed by the mailwizard lab" in refused, refused
    why = mailwizard("why", "alice@example.test", "--lab", "--answers", str(answers))
    last = why.stdout.strip().splitlines()[-1]
    assert why.returncode == 1 and "refused at this server's own door" in last, why.stdout
    assert f"from ns.ext.test[{LISTED}]" in last and "by the block list bl.ext.test" in last, last
    assert send_from(UNLISTED, "clean-by-hand") == "accepted"

    # The checks: not listed; then the server's own address listed (with the reason).
    assert "bl.ext.test: not listed" in check_line(answers)
    ok("lab", "list", "192.0.2.25", "--answers", str(answers))
    line = check_line(answers)
    assert "192.0.2.25 is LISTED" in line and "listed by the mailwizard lab" in line and "ask for removal" in line, line
    ok("lab", "unlist", "192.0.2.25", "--answers", str(answers))

    # Spamhaus' trap: the list answers 127.255.255.254 to everything. The check says it refuses
    # to answer; Postfix counts it as no listing, so nobody is refused (nor protected).
    ok("lab", "blocklist-refuses", "--answers", str(answers))
    try:
        line = check_line(answers)
        assert "refused to answer" in line and "public or shared resolver" in line and "unbound" in line, line
        fresh_smtpd()
        assert send_from(LISTED, "bl-refusing") == "accepted"
    finally:
        ok("lab", "blocklist-answers", "--answers", str(answers))
    fresh_smtpd()
    assert "blocked using bl.ext.test" in send_from(LISTED, "bl-again")

    # A list that does not exist: its test entry gets no answer.
    other = tmp_path / "other.toml"
    other.write_text(answers.read_text() + '\n[blocklists]\nlists = ["bl.ext.test", "nowhere.ext.test"]\n')
    done = mailwizard("check", "--lab", "--answers", str(other))
    assert "nowhere.ext.test does not answer for its test entry 127.0.0.2" in done.stdout, done.stdout

    # Undo: the tutorial's restrictions again.
    ok("undo", "blocklists", "--lab", "--answers", str(answers))
    assert "reject_rbl_client" not in Path("/etc/postfix/main.cf").read_text()
    assert send_from(LISTED, "bl-after-undo") == "accepted"
