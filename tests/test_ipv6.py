"""IPv6, for real: the dual-stack lab (addresses from the documentation prefix, AAAA and ip6.arpa
PTR in its DNS), the ipv6 chapter's checks per address family, mail in over each family from the
outside namespace and out over each to the strict receiver; the IPv6 PTR taken away, then the
check and the probe say so with the fix. A box without a global IPv6 address passes over the
chapter and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import LAB_NAME, STATE_DIR, in_namespace, mailwizard, ok

pytestmark = pytest.mark.daemons

FQDN = "mail.example.test"
MAIL6 = "2001:db8:25::25"
EXT6 = "2001:db8:25::50"
REVERSE6 = "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.2.0.0.8.b.d.0.1.0.0.2.ip6.arpa"


def check_lines(answers: Path) -> dict[str, str]:
    run = mailwizard("check", "--lab", "--answers", str(answers), "--timeout", "2")
    assert "Traceback" not in run.stderr, run.stderr
    lines = {}
    for line in run.stdout.splitlines():
        if ": " in line and line.split(": ", 1)[1][:4] in ("ok  ", "warn", "FAIL"):
            verdict = line.split(": ", 1)[1]
            lines[verdict[5:].split(": ", 1)[0]] = verdict      # a name may hold "[2001:db8::25]:25"
    return lines


def probes_of(step: str) -> dict[str, dict]:
    state = json.loads((STATE_DIR / "state.json").read_text())
    return {p["id"]: p for p in state["steps"][step]["probes"]}


def without_the_ipv6_ptr(answers: Path) -> None:
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan, published, write_zone

    plan = LabPlan.from_answers(load_answers(answers))
    # The records the walk published (SPF, DKIM, DMARC) stay, as they would at a registrar.
    write_zone(plan, [r for r in plan.records() if (r[0], r[1]) != (REVERSE6, "PTR")] + published(plan))


def test_the_dual_stack_lab_and_the_chapter_prove_mail_over_each_family_and_a_missing_ptr_is_caught(lab_up):
    status = ok("lab", "status", "--answers", str(lab_up))
    assert f"{LAB_NAME}-mail" in status and MAIL6 in status and EXT6 in status, status
    assert "IPv4 and IPv6" in status

    lines = check_lines(lab_up)
    assert lines[f"AAAA record of {FQDN}"].startswith("ok") and MAIL6 in lines[f"AAAA record of {FQDN}"], lines
    assert lines["PTR of this server's IPv6 address"] == f"ok   PTR of this server's IPv6 address: {MAIL6} points back to {FQDN}"
    assert lines["forward-confirmed reverse DNS over IPv6"].startswith("ok"), lines

    walk = mailwizard("run", "--lab", "--answers", str(lab_up))
    assert walk.returncode == 0, walk.stdout[-5000:] + walk.stderr
    assert "[ok] ipv6" in walk.stdout
    probes = probes_of("ipv6")
    for pid in ("in-over-ipv6", "in-over-ipv4", "out-over-ipv6", "out-over-ipv4"):
        assert probes[pid]["status"] == "met", (pid, probes[pid])
    # In over each family: the outside host connected to the address of that family.
    assert f"$ telnet {MAIL6} 25" in probes["in-over-ipv6"]["transcript"][0], probes["in-over-ipv6"]["transcript"][:2]
    assert "$ telnet 192.0.2.25 25" in probes["in-over-ipv4"]["transcript"][0]
    # Out over each family: the receiver saw the mail come from the server's address of that family.
    rundir = Path("/run/mailwizard-lab") / LAB_NAME / "mail"
    six = (rundir / "bob@ipv6only.ext.test").read_text()
    four = (rundir / "bob@ipv4only.ext.test").read_text()
    assert f"([{MAIL6}])" in six and "spf=pass" in six and "dkim=pass" in six, six[:1500]
    assert "([192.0.2.25])" in four and "spf=pass" in four, four[:1500]
    assert "inet_protocols = all" in Path("/etc/postfix/main.cf").read_text()
    reached = check_lines(lab_up)[f"[{MAIL6}]:25 from outside"]
    assert reached.startswith("ok") and f"answers from netns:{LAB_NAME}-ext: 220 " in reached, reached

    # The provider forgot the IPv6 PTR: the check says so with the fix; the chapter walked
    # again is refused by the strict receiver, for that reason, over IPv6 alone.
    without_the_ipv6_ptr(lab_up)
    line = check_lines(lab_up)["PTR of this server's IPv6 address"]
    assert line.startswith("warn") and f"{REVERSE6} does not exist" in line, line
    assert f"fix: ask whoever gave you {MAIL6} (your provider) to set its reverse DNS to {FQDN}" in line, line
    ok("undo", "ipv6", "--lab", "--answers", str(lab_up))
    again = mailwizard("run", "--lab", "--answers", str(lab_up))
    assert again.returncode != 0, again.stdout[-3000:]
    probes = probes_of("ipv6")
    assert probes["out-over-ipv6"]["status"] == "failed", probes["out-over-ipv6"]
    assert "5.7.25" in probes["out-over-ipv6"]["actual"] and MAIL6 in probes["out-over-ipv6"]["actual"], probes["out-over-ipv6"]
    assert "Ask your provider for a PTR record that names this server (and an AAAA record back)" \
        in probes["out-over-ipv6"]["reason"], probes["out-over-ipv6"]
    assert probes["out-over-ipv4"]["status"] == "met", probes["out-over-ipv4"]["actual"] + " | " + probes["out-over-ipv4"].get("reason", "")

    # An SPF record that names the IPv4 address alone: judged for each of the server's addresses,
    # it fails for the IPv6 one (the published record is what pyspf reads).
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan, publish, published

    plan = LabPlan.from_answers(load_answers(lab_up))
    rows = [r for r in published(plan) if not (r[1] == "TXT" and "v=spf1" in r[2])]
    publish(plan, rows + [["example.test", "TXT", '"v=spf1 ip4:192.0.2.25 -all"']])
    said = in_namespace(f"{LAB_NAME}-mail", """
        from wizard.checks.dns import spf_problem
        from wizard.checks.result import CheckContext
        from wizard.system import System
        print(spf_problem(CheckContext(System(), {"fqdn": "mail.example.test"}, 2.0), "example.test", "v=spf1 mx -all"))
    """)
    assert said.startswith(f"SPF gives 'fail' for this server's address {MAIL6}"), said


def test_a_box_without_a_global_ipv6_address_passes_over_the_chapter_and_says_why(tmp_path):
    """This test box has loopback and, at most, unique-local IPv6: not an address the internet
    reaches. The chapter is passed over, with the reason, and writes nothing."""
    from conftest import ANSWERS

    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    sandbox = tmp_path / "box"
    walk = mailwizard("run", "--answers", str(answers), "--root", str(sandbox))
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr
    said = [line for line in walk.stdout.splitlines() if "ipv6" in line]
    assert said and "no global IPv6 address" in " ".join(said), walk.stdout[-3000:]
    main_cf = sandbox / "etc/postfix/main.cf"
    assert "inet_protocols" not in main_cf.read_text()


def test_a_lab_built_before_ipv6_is_said_to_be_so_and_built_afresh(lab):
    """A classroom's lab built by an earlier mailwizard (IPv4 alone) is not taken as whole:
    `lab status` says why, and `lab up` builds it afresh, dual-stack."""
    from dataclasses import asdict

    from wizard.answers import load_answers
    from wizard.lab.network import Lab, LabPlan
    from wizard.system import System

    ok("lab", "up", "--answers", str(lab))
    plan = LabPlan.from_answers(load_answers(lab))
    built = Lab(System(), plan)
    record = built.record()
    record["plan"] = {**asdict(plan), "mail_address6": "", "ext_address6": ""}
    built._save(record)
    status = ok("lab", "status", "--answers", str(lab))
    assert "broken: it was built with another mail_address6 (none)" in status, status
    up = ok("lab", "up", "--answers", str(lab))
    assert "taken down to be built afresh" in up and MAIL6 in up, up
    assert "IPv4 and IPv6" in ok("lab", "status", "--answers", str(lab))
