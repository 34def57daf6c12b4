"""`mailwizard audit` against the real Postfix and Dovecot in the lab, from its outside host.

The tutorial's server has the findings the public testers report (a smuggled message taken,
TLS 1.0 on port 25, relaying and unknown recipients refused only for now, VRFY offered); the
full walk without its last chapter still has them; the hardening chapter fixes exactly those,
and a full walk then fails no required check. Then each check is made to fail the way it
happens in life — an open relay, VRFY on, TLS 1.0 on 587, the smuggling defence off, SPF without
the server, a DKIM key in DNS that no longer signs, a PTR gone, an expired certificate — and the
audit names each with its fix. Bad input ends in rows that say why, never a traceback."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import LAB_NAME, REPO, STATE_DIR, in_namespace, lab_answers, mailwizard, ok

pytestmark = pytest.mark.daemons

MAIN_CF = Path("/etc/postfix/main.cf")

# What the hardening chapter is for: the rows it turns from a finding into a pass.
HARDENING_FIXES = {
    "open-relay-25", "unknown-recipient", "vrfy-expn-25", "smtp-smuggling", "banner",
    *(f"tls-version-{p}" for p in (25, 587, 465)),
    *(f"tls-ciphers-{p}" for p in (25, 587, 465, 143, 993)),
    *(f"tls-cipher-order-{p}" for p in (25, 587, 465, 143, 993)),
}
# What a full walk in the lab still cannot have, each row saying why.
LAB_CANNOT_HAVE = {"dmarc", "dnssec", "mta-sts", "tls-rpt", "caa", "tls-kex-hash"}


def audit(*args: str) -> tuple[int, dict]:
    done = mailwizard("audit", "--lab", "--format", "json", *args, timeout=240)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


MAIL_LOG = Path("/var/log/mail.log")


def verdict_kept(start: int, address: str, seconds: float = 30.0) -> None:
    """Until Postfix's address verification has delivered its verdict on `address` (bounded)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with MAIL_LOG.open("rb") as log:
            log.seek(start)
            said = log.read().decode(errors="replace")
        if any(f"to=<{address}>" in line and "status=undeliverable" in line for line in said.splitlines()):
            return
        time.sleep(0.1)
    raise AssertionError(f"Postfix never logged its verification of {address}:\n{said[-3000:]}")


def statuses(record: dict) -> dict[str, str]:
    return {name: test["status"] for name, test in record["results"]["tests"].items()}


def verdict(record: dict, name: str) -> str:
    test = record["results"]["tests"][name]
    return f"{test['verdict']} — fix: {test['fix']}"


def postfix_conf(**settings: str) -> None:
    """Change main.cf as an admin would, with postconf, and reload Postfix."""
    subprocess.run(["postconf", "-e", *[f"{k}={v}" for k, v in settings.items()]], check=True)
    subprocess.run(["postfix", "reload"], check=True, capture_output=True)
    # The reload is done once the smtpd processes from before it are gone (they finish their client).
    in_namespace(f"{LAB_NAME}-mail", """
        from wizard.daemons import daemon
        from wizard.system import System
        print(daemon(System(), "postfix").reload().ok)
    """)


@pytest.fixture
def outside_lab(box: Path):
    """The suite's lab, up, with its outside host as the vantage point; taken down whatever happens."""
    from conftest import remove_lab

    box.write_text(lab_answers(f"netns:{LAB_NAME}-ext"))
    try:
        assert mailwizard("lab", "up", "--answers", str(box)).returncode == 0
        yield box
    finally:
        remove_lab(box)


def test_the_hardening_chapter_fixes_what_the_audit_finds(outside_lab, tmp_path):
    answers = str(outside_lab)
    ok("run", "--lab", "--answers", answers, "--through", "next-steps")
    log_start = MAIL_LOG.stat().st_size
    code, tutorial = audit()
    found = statuses(tutorial)
    # Postfix verifies abuse@ in the background (RCPT got 450 meanwhile) and keeps the verdict; the
    # walk goes on only once it is kept, or the next chapter's alias could answer the probe first.
    verdict_kept(log_start, "abuse@example.test")
    assert code == 1
    # The findings of the issue, on exactly the tutorial's server.
    assert found["smtp-smuggling"] == "failed" and "SMUGGLED after <LF>.<CR><LF>" in verdict(tutorial, "smtp-smuggling")
    assert found["tls-version-25"] == "failed" and "TLS 1.0" in verdict(tutorial, "tls-version-25")
    assert found["open-relay-25"] == "warning" and "454 4.7.1" in verdict(tutorial, "open-relay-25")
    assert found["unknown-recipient"] == "warning" and "450 4.1.1" in verdict(tutorial, "unknown-recipient")
    assert found["vrfy-expn-25"] == "warning" and "VRFY answered 252" in verdict(tutorial, "vrfy-expn-25")
    assert found["tls-available-587"] == "not_tested", "the tutorial's server has no port 587"
    assert {name for name, status in found.items() if status != "passed"} >= \
        {name for name in HARDENING_FIXES if name in found and not name.endswith(("587", "465"))}

    ok("run", "--lab", "--answers", answers, "--through", "certificate")
    code, before = audit()
    assert code == 1
    ok("run", "--lab", "--answers", answers)          # the hardening chapter, proven by its probes
    code, after = audit()
    assert code == 0, json.dumps(after["results"]["tests"], indent=1)[:4000]
    left = {name: status for name, status in statuses(after).items() if status != "passed"}
    assert set(left) == LAB_CANNOT_HAVE, left
    assert all(after["results"]["tests"][name]["verdict"] for name in left)
    fixed = {name for name, status in statuses(before).items() if status != "passed"} - set(left)
    # The audit of the tutorial's server asked for abuse@ before the chapter that makes it; Postfix
    # kept Dovecot's "no such user" on disk for hours, until hardening's address_verify_map.
    assert fixed == HARDENING_FIXES | {"postmaster-abuse"}
    assert statuses(before)["vrfy-expn-587"] == "passed", "587 answers nobody who has not logged in"
    percent, passed, judged = (after["scoring"][k] for k in ("percentage", "required_passed", "required_judged"))
    assert judged > 30 and passed == judged - 1 and percent == round(100 * passed / judged)   # dmarc p=none

    # The same audit as text, as JUnit and in the report.
    text = mailwizard("audit", "--lab", timeout=240)
    assert text.returncode == 0 and "no required check failed" in text.stdout
    assert "[ warn] dmarc: p=none" in text.stdout
    junit = tmp_path / "audit.xml"
    ok("audit", "--lab", "--format", "junit", "--output", str(junit))
    suites = ET.parse(junit).getroot()
    assert {s.get("name") for s in suites} >= {"dns", "auth", "identity", "exposure", "transport", "submission",
                                               "certificates", "reputation"}
    assert sum(int(s.get("failures")) for s in suites) == 0
    assert suites.find(".//testcase[@name='smtp-smuggling']") is not None
    report = ok("report")
    assert "## The last audit (`mailwizard audit`)" in report and "no required check failed" in report
    assert_the_tui_shows_the_same_audit(outside_lab, statuses(after))

    assert_each_check_fails_for_real(outside_lab, tmp_path)


def assert_the_tui_shows_the_same_audit(answers: Path, expected: dict[str, str]) -> None:
    """The other face: `s` in the app, against the same server, the same rows and verdicts."""
    run = subprocess.run(["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable,
                          str(REPO / "tests" / "tui_audit_scenario.py"), str(answers)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["rows"] == expected
    assert seen["title"].startswith("no required check failed")
    assert seen["marks"].count("✔") == sum(1 for s in expected.values() if s == "passed")
    assert "p=none" in seen["detail"] and "fix: once the reports show" in seen["detail"], seen["detail"]
    assert seen["back"] != "AuditScreen", "escape goes back to the walk"


def assert_each_check_fails_for_real(answers: Path, tmp_path: Path) -> None:
    kept = MAIN_CF.read_bytes()
    try:
        # An open relay, VRFY on, TLS 1.0 on 587 (with the CBC suites it needs: the old profile an
        # admin copies in for an old client), the smuggling defence off: one reload, one audit.
        postfix_conf(mynetworks="0.0.0.0/0", disable_vrfy_command="no", smtpd_tls_mandatory_protocols=">=TLSv1",
                     smtpd_tls_mandatory_exclude_ciphers="aNULL", smtpd_tls_exclude_ciphers="aNULL",
                     smtpd_forbid_bare_newline="no")
        code, broken = audit("--check", "relay-25", "--check", "vrfy-25", "--check", "tls-587",
                             "--check", "smuggling")
        found = statuses(broken)
        assert code == 1
        assert found["open-relay-25"] == "failed" and "OPEN RELAY" in verdict(broken, "open-relay-25")
        assert "mynetworks" in verdict(broken, "open-relay-25")
        assert found["vrfy-expn-25"] == "warning" and "disable_vrfy_command = yes" in verdict(broken, "vrfy-expn-25")
        assert found["tls-version-587"] == "failed" and "TLS 1.0" in verdict(broken, "tls-version-587")
        assert found["smtp-smuggling"] == "failed" and "smtpd_forbid_bare_newline" in verdict(broken, "smtp-smuggling")
        # An expired certificate on 25 (the others keep theirs).
        cert, key = expired_certificate(tmp_path)
        postfix_conf(smtpd_tls_cert_file=str(cert), smtpd_tls_key_file=str(key))
        code, expired = audit("--check", "tls-25")
        assert statuses(expired)["certificate-25"] == "failed", verdict(expired, "certificate-25")
        assert "EXPIRED" in verdict(expired, "certificate-25") and "renew" in verdict(expired, "certificate-25")
    finally:
        MAIN_CF.write_bytes(kept)
        subprocess.run(["postfix", "reload"], capture_output=True)

    plan = lab_plan(answers)
    try:
        # SPF without the server, a DKIM key in DNS that is not the one that signs, the PTR gone.
        zone_with(plan, spf="v=spf1 ip4:192.0.2.99 -all", dkim_key=other_public_key(tmp_path), ptr=False)
        code, dns = audit("--check", "spf", "--check", "dkim", "--check", "ptr")
        found = statuses(dns)
        assert found["spf"] == "failed" and "192.0.2.25 gets 'fail'" in verdict(dns, "spf"), verdict(dns, "spf")
        assert found["dkim-key"] == "passed", "a 2048-bit key is published, only not the one that signs"
        assert found["dkim-signature"] == "failed" and "does not verify" in verdict(dns, "dkim-signature")
        assert found["ptr-192.0.2.25"] == "failed" and "no PTR record" in verdict(dns, "ptr-192.0.2.25")
    finally:
        restore_zone(plan)
    code, healed = audit("--check", "spf", "--check", "dkim", "--check", "ptr", "--check", "relay-25",
                         "--check", "smuggling", "--check", "tls-25")
    healed_rows = {name: status for name, status in statuses(healed).items() if name != "tls-kex-hash"}
    assert code == 0 and set(healed_rows.values()) <= {"passed", "info"}, healed_rows


def lab_plan(answers: Path):
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan

    return LabPlan.from_answers(load_answers(answers))


def zone_with(plan, spf: str, dkim_key: str, ptr: bool) -> None:
    from wizard.lab.network import published, write_zone

    extra = published(plan)
    replaced = {(name.lower(), rdtype) for name, rdtype, _ in extra}
    records = [r for r in plan.records() if (r[0].lower(), r[1]) not in replaced] + extra
    changed = []
    for name, rdtype, value in records:
        if rdtype == "PTR" and value.rstrip(".") == plan.fqdn and not ptr:
            continue
        if rdtype == "TXT" and "v=spf1" in value and name.rstrip(".") == plan.maildomain:
            value = txt(spf)
        if rdtype == "TXT" and "._domainkey." in name:
            value = txt(f"v=DKIM1; k=rsa; p={dkim_key}")
        changed.append([name, rdtype, value])
    write_zone(plan, records=changed)


def txt(text: str) -> str:
    """A TXT value as a zone file writes it: quoted strings of at most 255 characters."""
    return " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))


def restore_zone(plan) -> None:
    from wizard.lab.network import write_zone

    write_zone(plan)


def other_public_key(tmp_path: Path) -> str:
    """A 2048-bit RSA key of nobody's, as a DKIM record's p= value."""
    key = tmp_path / "other.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64

    return base64.b64encode(der).decode()


def expired_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for the server's name that expired in 2020, from a CA of the test's own."""
    ca = tmp_path / "ca"
    ca.mkdir()
    (ca / "index.txt").write_text("")
    (ca / "serial").write_text("01\n")
    (ca / "ca.cnf").write_text("[ca]\ndefault_ca = ca_here\n[ca_here]\ndatabase = index.txt\nserial = serial\n"
                               "new_certs_dir = .\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n")
    run = lambda *argv: subprocess.run(argv, cwd=ca, check=True, capture_output=True)   # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-subj", "/CN=expired test CA", "-days", "3650")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=mail.example.test")
    run("openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr",
        "-out", "server.pem", "-notext", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z")
    return ca / "server.pem", ca / "server.key"


def test_bad_input_gives_rows_that_say_why_and_changes_nothing(outside_lab):
    answers = str(outside_lab)
    ok("run", "--lab", "--answers", answers, "--through", "postfix-tls")
    main_cf = hashlib.sha256(MAIN_CF.read_bytes()).hexdigest()
    state = (STATE_DIR / "state.json").read_bytes()

    # A domain that is not the walk's (it has no MX in the lab's DNS).
    code, other = audit("nowhere.test")
    assert other["domain"] == "nowhere.test"
    assert statuses(other)["mx"] == "failed" and "nowhere.test" in verdict(other, "mx")
    assert statuses(other)["dkim-key"] == "not_tested", "only the walk's own domain has a selector to look at"

    # A DNS server that never answers: every row that needs DNS says so; none blames the server.
    plan = lab_plan(outside_lab)
    from wizard.lab.network import write_zone

    try:
        write_zone(plan, silent=True)
        code, silent = audit("--timeout", "1")
    finally:
        restore_zone(plan)
    assert statuses(silent)["mx"] == "error" and "no DNS answer" in verdict(silent, "mx")
    assert statuses(silent)["spf"] == "error" and statuses(silent)["dmarc"] == "error"
    assert "summary" in silent["results"]["custom"]

    # A vantage point that cannot be reached: the dialogues fail with the reason; no finding.
    unreachable = Path(answers).read_text().replace(f"netns:{LAB_NAME}-ext", "netns:no-such-namespace")
    Path(answers).write_text(unreachable)
    done = mailwizard("audit", "--lab", "--answers", answers, "--check", "relay-25", "--check", "smuggling",
                      "--check", "tls-25", timeout=240)
    assert "Traceback" not in done.stderr, done.stderr
    assert "[error] open-relay-25" in done.stdout and "no-such-namespace" in done.stdout, done.stdout
    assert "[error] smtp-smuggling" in done.stdout and "[ FAIL]" not in done.stdout, done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("no required check failed"), done.stdout

    # A name the audit does not know, a timeout that is no time: refused before anything is sent.
    for args, said in ((["--check", "relay-99"], "the audit has no check relay-99"),
                       (["--timeout", "0"], "--timeout must be")):
        done = mailwizard("audit", "--lab", *args)
        assert done.returncode == 2 and said in done.stderr, done.stderr

    assert hashlib.sha256(MAIN_CF.read_bytes()).hexdigest() == main_cf
    assert (STATE_DIR / "state.json").read_bytes() == state


def test_the_audit_forms_carry_the_score_with_its_count():
    """The JSON is internet.nl's API v2 shape; a score never comes without the count of required
    checks passed; JUnit has a testsuite per category with failures, errors and skips."""
    from wizard.audit.model import Audit, Row, Target

    rows = [Row("spf", "auth", "SPF", "required", "passed", "ok"),
            Row("dmarc", "auth", "DMARC", "required", "failed", "none", fix="publish one"),
            Row("dnssec", "dns", "DNSSEC", "optional", "info", "unsigned"),
            Row("relay", "exposure", "relay", "required", "error", "no answer"),
            Row("587", "submission", "TLS", "required", "not_tested", "closed")]
    audit = Audit(Target("example.test", "mail.example.test", via="netns:x"), rows)
    record = json.loads(audit.to_json())
    assert record["scoring"] == {"percentage": 50, "required_passed": 1, "required_judged": 2}
    assert record["status"] == "failed" and not audit.ok
    assert record["results"]["categories"]["auth"]["status"] == "failed"
    assert record["results"]["tests"]["dmarc"]["fix"] == "publish one"
    assert "1 of 2 required checks passed (score 50%)" in audit.to_text()
    suites = {s.get("name"): s for s in ET.fromstring(audit.to_junit().split("?>", 1)[1])}
    assert suites["auth"].get("failures") == "1" and suites["exposure"].get("errors") == "1"
    assert suites["submission"].get("skipped") == "1"
    again = Audit.from_record(record)
    assert [(r.id, r.status) for r in again.rows] == [(r.id, r.status) for r in rows]
    assert again.summary() == audit.summary()


def test_what_only_sslyze_sees_is_judged_and_without_it_not_tested():
    """The rows from sslyze's findings (the extra), and without the extra one row that says what
    was not tested: never a pass for what could not be looked at."""
    from wizard.audit.tls import details_rows

    without = details_rows(587, None)
    assert [(r.id, r.status) for r in without] == [("tls-details-587", "not_tested")]
    assert "sslyze" in without[0].found and "setup --audit" in without[0].found
    healthy = {"ssl2": [], "ssl3": [], "groups": ["X25519", "secp256r1"], "compression": False,
               "secure_renegotiation": True, "client_renegotiation_dos": False, "ems": True, "errors": []}
    assert {r.status for r in details_rows(993, healthy)} == {"passed"}
    weak = dict(healthy, ssl3=["TLS_RSA_WITH_AES_128_CBC_SHA"], groups=["secp224r1", "X25519"],
                compression=True, ems=False)
    found = {r.id: r for r in details_rows(993, weak)}
    assert found["tls-legacy-993"].status == "failed" and "SSL 3" in found["tls-legacy-993"].found
    assert found["tls-groups-993"].status == "failed" and "secp224r1" in found["tls-groups-993"].found
    assert found["tls-compression-993"].status == "failed" and found["tls-ems-993"].status == "failed"
    on_25 = {r.id: r for r in details_rows(25, dict(healthy, groups=["secp224r1", "X25519"]))}
    assert on_25["tls-groups-25"].status == "warning", "phase-out on the opportunistic port warns"
    lost = {r.id: r.status for r in details_rows(143, {k: v for k, v in healthy.items() if k != "ems"}
                                                 | {"errors": ["ems: CONNECTIVITY_ISSUE"]})}
    assert lost["tls-ems-143"] == "error", "what sslyze could not tell is an error, not a pass"
    assert details_rows(465, {"error": "connection refused"})[0].status == "error"


def test_every_chapter_proves_itself_with_a_check_the_audit_has():
    from steps import ALL_STEPS
    from wizard.audit.battery import check_names
    from wizard.model import AuditCheck

    named = [p.action.check for s in ALL_STEPS for p in s.probes if isinstance(p.action, AuditCheck)]
    assert named and set(named) <= set(check_names()), set(named) - set(check_names())
