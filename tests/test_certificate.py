"""The certificate chapter in the lab, against real Postfix, Dovecot, certbot and the lab's ACME CA
(pebble, validating HTTP-01 through the lab DNS): the failures a real box meets, each with its
message while mail keeps flowing; then every TLS port serving a chain that verifies against the
CA's root, a forced renewal reaching every port through the deploy hook alone, and undo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import in_namespace, LAB_NAME, mailwizard, ok, STATE_DIR

pytestmark = pytest.mark.daemons

FQDN = "mail.example.test"
LIVE = Path("/etc/letsencrypt/live") / FQDN
HOOK = Path("/etc/letsencrypt/renewal-hooks/deploy/mailwizard-reload")
ROOT = Path("/run/mailwizard-lab") / LAB_NAME / "acme" / "root.pem"
MAILDIR = Path("/var/vmail/example.test/alice/mail")
REPO = Path(__file__).resolve().parent.parent
SELF_SIGNED = "/etc/dovecot/dovecot.pem"



def refused_walk(answers: Path) -> str:
    done = mailwizard("run", "--lab", "--answers", str(answers))
    out = done.stdout + done.stderr
    assert done.returncode != 0 and re.search(r"\[(FAIL|REFUSED)\] certificate", out), out
    return out


def served_serials(trust: bool) -> dict[int, str]:
    """What a mail client on the outside host sees on each TLS port, with Python's own smtplib and
    imaplib (not the wizard's code): the serial, after verifying against the lab CA's root."""
    out = in_namespace(f"{LAB_NAME}-ext", f"""
        import imaplib, json, smtplib, ssl
        context = ssl.create_default_context(cafile={str(ROOT)!r}) if {trust!r} else ssl._create_unverified_context()
        seen = {{}}
        def serial(sock):
            # As Python's ssl writes it: even-length hex, a leading zero kept (as openssl does).
            return sock.getpeercert(binary_form=False)["serialNumber"] if {trust!r} \\
                else ssl.DER_cert_to_PEM_cert(sock.getpeercert(binary_form=True))[-80:]
        for port in (25, 587):
            with smtplib.SMTP("{FQDN}", port, timeout=20) as client:
                client.starttls(context=context)
                seen[port] = serial(client.sock)
        with smtplib.SMTP_SSL("{FQDN}", 465, timeout=20, context=context) as client:
            seen[465] = serial(client.sock)
        client = imaplib.IMAP4("{FQDN}", 143, timeout=20)
        client.starttls(ssl_context=context)
        seen[143] = serial(client.sock)
        client.logout()
        client = imaplib.IMAP4_SSL("{FQDN}", 993, ssl_context=context, timeout=20)
        seen[993] = serial(client.sock)
        client.logout()
        print(json.dumps(seen))
    """)
    return {int(port): serial for port, serial in json.loads(out).items()}


def mail_still_flows(tag: str) -> None:
    """A client on the outside sends on 587 (STARTTLS, login) and the mail arrives."""
    in_namespace(f"{LAB_NAME}-ext", f"""
        import smtplib, ssl
        with smtplib.SMTP("{FQDN}", 587, timeout=20) as client:
            client.starttls(context=ssl._create_unverified_context())
            client.login("alice@example.test", "123456")
            client.sendmail("alice@example.test", ["alice@example.test"],
                            "From: alice@example.test\\r\\nSubject: {tag}\\r\\n\\r\\n{tag}\\r\\n")
    """)
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(tag in p.read_text(errors="replace") for p in MAILDIR.glob("**/new/*")):
            return
        time.sleep(0.1)
    raise AssertionError(f"the mail {tag} did not arrive")


def still_self_signed() -> None:
    main_cf = Path("/etc/postfix/main.cf").read_text()
    assert f"smtpd_tls_cert_file = {SELF_SIGNED}" in main_cf and "letsencrypt" not in main_cf
    assert "letsencrypt" not in Path("/etc/dovecot/dovecot.conf").read_text()


def published_rows(plan_file: Path) -> list[list[str]]:
    return json.loads(plan_file.read_text()) if plan_file.exists() else []


def test_failures_say_why_then_every_port_serves_a_trusted_certificate_that_renews(lab_up):
    answers = lab_up
    ok("run", "--lab", "--answers", str(answers), "--through", "dns-auth")
    lab_dir = Path("/run/mailwizard-lab") / LAB_NAME

    # The lab's CA is down: one message that names it and the fix; nothing changed, mail flows.
    assert "stopped the lab's ACME CA" in ok("lab", "stop-ca", "--answers", str(answers))
    out = refused_walk(answers)
    assert "cannot be reached" in out and "lab up" in out and "keeps its previous certificate" in out, out
    still_self_signed()
    mail_still_flows("ca-down")
    assert "ACME CA (pebble)" in ok("lab", "up", "--answers", str(answers))

    # A firewall closes port 80 to the outside: the check sees it from the outside host.
    ok("lab", "block-80", "--answers", str(answers))
    try:
        out = refused_walk(answers)
        assert "port 80" in out and "firewall" in out and f"netns:{LAB_NAME}-ext" in out, out
        still_self_signed()
        mail_still_flows("port-80-closed")
    finally:
        ok("lab", "open-80", "--answers", str(answers))

    # A wrong A record: the CA goes elsewhere; the walk says which record to correct.
    from wizard.lab.network import LabPlan, publish
    from wizard.answers import load_answers

    plan = LabPlan.from_answers(load_answers(answers))
    rows = published_rows(lab_dir / "published.json")
    # Both of the name's addresses wrong (the lab is dual-stack, and a CA with one right address
    # takes it): port 80 cannot be reached from outside, and the walk names both records.
    publish(plan, rows + [[FQDN, "A", "192.0.2.99"], [FQDN, "AAAA", "2001:db8:25::99"]])
    try:
        out = refused_walk(answers)
        assert f"{FQDN}'s AAAA 2001:db8:25::99 and A 192.0.2.99 are not this box's: correct the record" in out, out
        still_self_signed()
    finally:
        publish(plan, rows)

    # Now for real: every port serves the CA's certificate, verified by a checking client.
    out = ok("run", "--lab", "--answers", str(answers), "-v")
    assert "[ok] certificate" in out and "[FAIL]" not in out, out
    for port in (25, 465, 587, 143, 993):
        assert re.search(rf"\[ok\] trusted-{port}: .*verified, names {FQDN}; serial", out), out
    first = served_serials(trust=True)
    assert len(set(first.values())) == 1, first
    state = json.loads((STATE_DIR / "state.json").read_text())
    probe_actuals = [p["actual"] for p in state["steps"]["certificate"]["probes"] if p["id"].startswith("trusted-")]
    assert len(probe_actuals) == 5 and all(f"serial {next(iter(first.values()))}" in a for a in probe_actuals)
    assert HOOK.stat().st_mode & 0o111, "the deploy hook is executable"

    # The key is root's alone and never shown.
    key = (LIVE / "privkey.pem").resolve()
    assert key.stat().st_mode & 0o077 == 0
    body = key.read_text().splitlines()[1]
    serial = next(iter(first.values()))
    for fmt in ("md", "html"):
        report = ok("report", "--lab", "--answers", str(answers), "--format", fmt)
        for text in (out, report, (STATE_DIR / "state.json").read_text()):
            assert body not in text and "PRIVATE KEY" not in text
        assert "The certificate the server serves" in report, report
        assert re.search(r"issued by: Pebble Intermediate CA", report) and f"serial: {serial}" in report, report
        assert re.search(r"valid until: \w+ +\d+ [\d:]+ \d{4} GMT \(4[45] days left", report), report

    # `check` watches it: the timer and hook in place, both daemons serving certbot's newest.
    check = ok("check", "--lab", "--answers", str(answers))
    # No systemd here (CI): certbot's cron job is what renews; under systemd its timer would be.
    assert re.search(r"ok\s+renewal of mail\.example\.test's certificate: /etc/cron\.d/certbot renews it", check), check
    assert re.search(r"ok\s+certificate served for mail\.example\.test: both daemons serve serial \w+, 4[45] days left",
                     check), check

    # The TUI's Checks screen shows the same watch (the other face, over the same engine).
    tui = subprocess.run(["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable,
                          str(REPO / "tests" / "tui_checks_scenario.py"), str(answers)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert tui.returncode == 0, tui.stdout[-3000:] + tui.stderr[-3000:]
    rows = {name: (place, found, fine) for place, name, found, fine in json.loads(tui.stdout.splitlines()[-1])["rows"]}
    place, found, fine = rows["certificate served for mail.example.test"]
    assert fine and place == "certificate (done)" and re.search(r"serial \w+, 4[45] days left", found), rows
    assert rows["renewal of mail.example.test's certificate"][2]

    # A forced renewal: a new certificate on every port, and nobody reloaded anything by hand.
    renewed = ok("lab", "renew", "--answers", str(answers))
    assert "Congratulations" in renewed or "renewed" in renewed, renewed
    second = served_serials(trust=True)
    assert len(set(second.values())) == 1 and set(second.values()) != set(first.values()), (first, second)
    check = ok("check", "--lab", "--answers", str(answers))
    assert f"both daemons serve serial {next(iter(second.values()))}" in check, check

    # The exercise: a renewal with the hook's reloads switched off. The ports serve the old
    # certificate; the exercise's check, its hint and `check` all say so; fixed by hand.
    lab = ["--lab", "--answers", str(answers)]
    hook_text = HOOK.read_text()
    started = ok("exercise", "start", "renewal-without-reload", *lab)
    assert "still get the old one" in started, started
    stale = served_serials(trust=True)
    assert set(stale.values()) == set(second.values()), "the old certificate is still served"
    failing = mailwizard("exercise", "check", *lab)
    assert failing.returncode != 0 and "not certbot's newest" in failing.stdout, failing.stdout
    assert "renewal-hooks/deploy" in failing.stdout, failing.stdout
    watched = mailwizard("check", *lab)
    assert re.search(r"FAIL certificate served for mail\.example\.test: Postfix on 465 serves serial \w+, but "
                     r"certbot's newest is \w+", watched.stdout), watched.stdout
    HOOK.write_text(hook_text)
    for reload in (["postfix", "reload"], ["doveadm", "reload"]):
        subprocess.run(reload, check=True, capture_output=True)
    fixed = ok("exercise", "check", *lab)
    assert "fixed: A renewal that never reached the daemons" in fixed, fixed
    third = served_serials(trust=True)
    assert len(set(third.values())) == 1 and set(third.values()) != set(second.values())

    # Undo: the self-signed certificate again, the hook gone, certbot's files kept (and said so).
    undone = ok("undo", "certificate", "--lab", "--answers", str(answers))
    still_self_signed()
    assert not HOOK.exists() and (LIVE / "fullchain.pem").exists(), undone
    assert "stay under /etc/letsencrypt" in undone, undone
    after = served_serials(trust=False)
    assert len(set(after.values())) == 1
    mail_still_flows("after-undo")

    # The lab's CA rebuilt, as a classroom does between two walks: it no longer knows certbot's
    # account (certbot 2.1 crashed on that). The walk says so, keeps the old account aside, and
    # gets its certificate with a new one.
    ok("lab", "stop-ca", "--answers", str(answers))
    ok("lab", "up", "--answers", str(answers))
    again = ok("run", "--lab", "--answers", str(answers))
    assert "no longer knows certbot's account" in again and "[ok] certificate" in again, again
    assert list(Path("/etc/letsencrypt/accounts").rglob("*.forgotten-*")), "the old account is kept aside"
    assert len(set(served_serials(trust=True).values())) == 1
    ok("undo", "certificate", "--lab", "--answers", str(answers))
    reset = ok("reset", "--yes")
    assert "certbot's certificate stays in /etc/letsencrypt/live/mail.example.test" in reset, reset


def test_with_ca_none_the_walk_passes_over_the_chapter_and_keeps_the_self_signed_certificate(lab_up):
    answers = lab_up
    answers.write_text(answers.read_text() + '[certificate]\nca = "none"\n')
    out = ok("run", "--lab", "--answers", str(answers), "--through", "certificate")
    assert re.search(r"\[ok\] certificate.*passed over", out) or "passed over: [certificate] ca = none" in out, out
    still_self_signed()
    assert not HOOK.exists() and not LIVE.exists()
    # The lab's own choices (its block list) hold for the lab's walk: status asks with --lab.
    status = ok("status", "--lab", "--answers", str(answers))
    assert re.search(r"\[\s*done\] certificate ", status), status
    # Choosing a CA later makes the chapter due again: it is no longer done.
    answers.write_text(answers.read_text().replace('ca = "none"', 'ca = "lab"'))
    status = ok("status", "--lab", "--answers", str(answers))
    assert re.search(r"\[\s*re-run\] certificate ", status), status


def test_a_web_server_on_port_80_answers_the_challenge_through_its_webroot(lab_up, tmp_path):
    """Port 80 already serves a web site: certbot cannot listen there, and with `webroot` it writes
    the challenge where that web server serves it, and pebble fetches it from there."""
    answers = lab_up
    webroot = tmp_path / "www"
    (webroot / "index.html").parent.mkdir()
    (webroot / "index.html").write_text("a web site\n")
    # On both families, as a web server on a dual-stack box listens (the CA tries AAAA first).
    web = subprocess.Popen(["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable, "-m", "http.server", "80", "--bind", "::",
                            "--directory", str(webroot)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ok("run", "--lab", "--answers", str(answers), "--through", "dns-auth")
        out = refused_walk(answers)
        assert "listens on port 80" in out and "[certificate] webroot" in out, out
        answers.write_text(answers.read_text() + f'[certificate]\nwebroot = "{webroot}"\n')
        out = ok("run", "--lab", "--answers", str(answers), "-v")
        assert "[ok] certificate" in out and "certbot answers through the webroot" in out, out
        assert len(set(served_serials(trust=True).values())) == 1
        assert "webroot_path" in (Path("/etc/letsencrypt/renewal") / f"{FQDN}.conf").read_text(), \
            "renewals answer through the web server too"
    finally:
        web.terminate()
        web.wait(10)
