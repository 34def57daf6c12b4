"""`mailwizard check` against DNS that is broken on purpose: each case is served by the lab's
DNS server and must come back as one clear line with its fix, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LAB_NAME, REPO, mailwizard

pytestmark = pytest.mark.daemons

FQDN, DOMAIN, ADDRESS = "mail.example.test", "example.test", "192.0.2.25"
REVERSE = "25.2.0.192.in-addr.arpa"
EXT_REVERSE = "50.2.0.192.in-addr.arpa"
OUTSIDE = "outside host's name"


def zone(answers: Path, *, drop=(), add=(), servfail=(), silent=False) -> None:
    """Rewrite the running lab's zone: drop (name, type) pairs, add records."""
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan, write_zone

    plan = LabPlan.from_answers(load_answers(answers))
    records = [r for r in plan.records() if (r[0], r[1]) not in drop] + [list(r) for r in add]
    write_zone(plan, records, servfail=servfail, silent=silent)


def check_lines(answers: Path, timeout: str = "1") -> dict[str, str]:
    run = mailwizard("check", "--lab", "--answers", str(answers), "--timeout", timeout)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 1), run.stdout + run.stderr
    lines = {}
    for line in run.stdout.splitlines():
        if ": " in line and line.split(": ", 1)[1][:4] in ("ok  ", "warn", "FAIL"):
            verdict = line.split(": ", 1)[1]
            lines[verdict[5:].split(":", 1)[0]] = verdict
    return lines



CASES = [
    # (case, zone change, check name, words the verdict must hold)
    ("healthy", {}, f"MX of {DOMAIN}", ["ok", f"MX {FQDN}"]),
    ("no A record (NXDOMAIN)", {"drop": [(FQDN, "A"), (FQDN, "AAAA")]}, f"A record of {FQDN}",
     ["warn", "does not exist (NXDOMAIN)", f"fix: add an A record for {FQDN}"]),
    ("no MX", {"drop": [(DOMAIN, "MX")]}, f"MX of {DOMAIN}",
     ["warn", f"{DOMAIN} has no MX record", f"fix: add `{DOMAIN}. MX 10 {FQDN}.`"]),
    ("MX to another host", {"drop": [(DOMAIN, "MX")], "add": [(DOMAIN, "MX", "10 mx.elsewhere.test.")]},
     f"MX of {DOMAIN}", ["warn", "MX mx.elsewhere.test", f"change the MX record of {DOMAIN} to {FQDN}"]),
    ("missing PTR", {"drop": [(REVERSE, "PTR")]}, "PTR of this server's address",
     ["warn", f"{REVERSE} does not exist (NXDOMAIN)", "reverse DNS"]),
    ("PTR to another name", {"drop": [(REVERSE, "PTR")], "add": [(REVERSE, "PTR", "dsl-25.isp.test.")]},
     "PTR of this server's address", ["warn", "points back to dsl-25.isp.test", f"reverse DNS of {ADDRESS} to {FQDN}"]),
    ("PTR to another name breaks FCrDNS", {"drop": [(REVERSE, "PTR")], "add": [(REVERSE, "PTR", "dsl-25.isp.test.")]},
     "forward-confirmed reverse DNS", ["warn", "does not lead back"]),
    ("SERVFAIL", {"servfail": [DOMAIN]}, f"MX of {DOMAIN}", ["warn", "SERVFAIL", "dig +trace"]),
    ("a server that never answers", {"silent": True}, f"MX of {DOMAIN}",
     ["warn", "within 1 s", "resolv.conf"]),
    # The outside host's name, learned from where the lab's outside is seen from the server.
    ("the outside host has a proper name", {}, OUTSIDE,
     ["ok  ", "exthost.ext.test (192.0.2.50 is exthost.ext.test: PTR and A agree",
      f"as netns:{LAB_NAME}-ext is seen from here"]),
    ("the outside host has no PTR", {"drop": [(EXT_REVERSE, "PTR")]}, OUTSIDE,
     ["warn", "192.0.2.50 has no PTR record", "set [external] host", "restrictions chapter refuses"]),
    ("the outside host's PTR names another host", {"drop": [(EXT_REVERSE, "PTR")],
                                                   "add": [(EXT_REVERSE, "PTR", "dsl-50.isp.test.")]},
     OUTSIDE, ["warn", "192.0.2.50 is dsl-50.isp.test by its PTR, but dsl-50.isp.test is", "fix: give"]),
]


def test_each_broken_dns_case_is_reported_with_its_fix(lab_up):
    for case, change, name, words in CASES:
        zone(lab_up, **change)
        lines = check_lines(lab_up)
        assert name in lines, f"{case}: no line for {name} in {list(lines)}"
        for word in words:
            assert word in lines[name], f"{case}: '{word}' not in: {lines[name]}"


def test_a_black_holed_dns_costs_about_one_timeout(lab_up):
    """Every check runs at once: nine DNS checks against a silent server end together.
    (The bound is a contract of the feature, far from the serial cost of ~9 timeouts.)"""
    zone(lab_up, silent=True)
    started = time.monotonic()
    lines = check_lines(lab_up, timeout="2")
    elapsed = time.monotonic() - started
    silent = [line for line in lines.values() if "within 2 s" in line]
    assert len(silent) >= 5, lines
    assert elapsed < 2 * 2.0, f"check took {elapsed:.1f} s with a 2 s timeout"


def test_a_stale_resolver_is_told_apart_from_the_authoritative_answer(lab_up):
    """The box's resolver (a second server in the mail namespace) still holds an old MX; the
    zone's own server has the right one. The check must say which answered what."""
    from wizard.answers import load_answers
    from wizard.lab.network import LabPlan

    plan = LabPlan.from_answers(load_answers(lab_up))
    stale = [r for r in plan.records() if (r[0], r[1]) != (DOMAIN, "MX")] + [[DOMAIN, "MX", "10 old-mx.example.test."]]
    stale_file = plan.rundir / "stale.json"
    import json
    stale_file.write_text(json.dumps({"records": stale}))
    resolver = subprocess.Popen(["ip", "netns", "exec", plan.mail_ns, sys.executable, "-m", "wizard.lab.dnsserver",
                                 "--listen", "127.0.0.53", "--zone", str(stale_file)],
                                cwd=REPO, stdout=subprocess.PIPE, text=True)
    resolv = Path("/etc/netns") / plan.mail_ns / "resolv.conf"
    try:
        assert resolver.stdout.readline().strip() == "ready"
        resolv.write_text("nameserver 127.0.0.53\n")
        line = check_lines(lab_up)[f"MX of {DOMAIN}"]
        assert "the system resolver says old-mx.example.test" in line, line
        assert f"the zone's own server ns.ext.test says {FQDN}" in line, line
    finally:
        resolver.terminate()
        resolver.wait(timeout=10)


def test_another_program_on_port_25_is_named_and_stops_the_walk(lab_up):
    """Port 25 taken (here by a stand-in for exim4): the check names the program and its pid,
    and the walk is refused before anything is installed or written."""
    squatter = subprocess.Popen(
        ["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable, "-c",
         "import socket, time\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         "s.bind(('0.0.0.0', 25)); s.listen(); print('ready', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert squatter.stdout.readline().strip() == "ready"
        line = check_lines(lab_up)["port 25"]
        assert line.startswith("FAIL") and f"(pid {squatter.pid}) listens on port 25" in line, line
        assert "fix: stop python" in line
        walk = mailwizard("run", "--lab", "--answers", str(lab_up))
        assert walk.returncode == 2, walk.stdout
        assert "[REFUSED] prereq" in walk.stdout
        assert not (Path("/var/lib/mailwizard/state.json").exists() and
                    "postfix-blank" in Path("/var/lib/mailwizard/state.json").read_text())
    finally:
        squatter.terminate()
        squatter.wait(timeout=10)


def test_an_outside_host_named_in_the_answers_is_judged_by_its_own_records(lab_up, tmp_path):
    """[external] host given: that name is judged (A, then the PTR of its address), nothing learned."""
    named = tmp_path / "named.toml"
    named.write_text(lab_up.read_text().replace('vantage = "none"', 'vantage = "none"\nhost = "exthost"'))
    line = check_lines(named)[OUTSIDE]
    assert line.startswith("ok  ") and "exthost.ext.test (from [external] host): 192.0.2.50 is exthost.ext.test" in line, line
    named.write_text(lab_up.read_text().replace('vantage = "none"', 'vantage = "none"\nhost = "gateway"'))
    line = check_lines(named)[OUTSIDE]
    assert line.startswith("warn") and "gateway.ext.test (from [external] host): gateway.ext.test does not exist" in line, line
    assert "set [external] host" in line
