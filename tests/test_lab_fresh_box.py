"""A box that has never had Postfix or Dovecot (a fresh Debian 13 chroot, its apt reading the
small repository of .debs that tests/debian13.py keeps), as a first-time admin with one machine
meets it:

- the README's first look at the tutorial, `run --lab` with nothing else: the lab's network
  reaches no package mirror, so what the walk installs is installed first, on the box, once the
  person agrees; without consent nothing is made;
- a whole walk with answers that name no vantage point: the box's own doveadm makes the hash
  (its output shown), and the tutorial's outside sessions run from an outside simulated on the box.
"""

from __future__ import annotations

import os

import pytest

from debian13 import Trixie

pytestmark = pytest.mark.daemons

LAB = f"mf{os.getpid() % 100000}"
WANTED = "postfix dovecot-core dovecot-imapd dovecot-lmtpd rspamd certbot"


def a_fresh_box(tmp_path_factory, name: str):
    box = Trixie(tmp_path_factory.mktemp(name) / "trixie")
    try:
        box.make()
        yield box
    finally:
        if box.path(Trixie.PROJECT_BIN).exists():
            box.run(Trixie.PROJECT_BIN, "lab", "down", input="", env=(f"MAILWIZARD_LAB={LAB}",))
        box.remove()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    yield from a_fresh_box(tmp_path_factory, "fresh")


@pytest.fixture(scope="module")
def one_machine(tmp_path_factory):
    yield from a_fresh_box(tmp_path_factory, "one-machine")


def installed(box: Trixie, package: str) -> bool:
    return "install ok installed" in box.run("dpkg-query", "-W", "-f=${Status}", package).stdout


def test_without_consent_nothing_is_installed_and_the_way_on_is_named(fresh):
    refused = fresh.run(Trixie.PROJECT_BIN, "run", "--lab", input="", env=(f"MAILWIZARD_LAB={LAB}",))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"`apt-get install {WANTED}`" in refused.stderr
    assert "reaches no package mirror" in refused.stderr and "--yes" in refused.stderr
    assert not installed(fresh, "postfix") and not installed(fresh, "dovecot-core")
    assert not fresh.path(f"/run/netns/{LAB}-mail").exists(), "no lab was built"
    assert not fresh.path("/var/lib/mailwizard/state.json").exists()


def test_at_a_terminal_the_wizard_asks_first_and_a_no_installs_nothing(fresh):
    """The wizard's own face (`mailwizard --lab`, no sub-command) passes the same door: at a
    terminal the question comes before any screen, and "n" leaves the box as it was."""
    import pexpect

    from debian13 import CHROOT_ENV

    child = pexpect.spawn("chroot", [str(fresh.root), *CHROOT_ENV, f"MAILWIZARD_LAB={LAB}", "TERM=xterm",
                                     Trixie.PROJECT_BIN, "--lab"], timeout=60, encoding="utf-8")
    try:
        child.expect(r"Install them now\? \[y/N\] ")
        assert f"`apt-get install {WANTED}`" in child.before
        child.sendline("n")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 2
    assert "Run `apt-get install" in child.before and "--yes" in child.before
    assert not installed(fresh, "postfix")
    assert not fresh.path(f"/run/netns/{LAB}-mail").exists(), "no lab was built"


def test_with_yes_the_packages_come_first_then_the_lab_walks_on_its_own_answers(fresh):
    walk = fresh.run(Trixie.PROJECT_BIN, "run", "--lab", "--yes", "--through", "postfix-names",
                     input="", env=(f"MAILWIZARD_LAB={LAB}",), timeout=1500)
    assert walk.returncode == 0, walk.stdout[-4000:] + walk.stderr[-3000:]
    out = walk.stdout
    assert f"installing {WANTED} for the lab (apt-get install {WANTED}):" in out
    for package in WANTED.split():
        assert installed(fresh, package), package
    # Then as on a box that had them: the lab built, the example answers, the walk inside the lab.
    assert out.index("installing") < out.index(f"building the lab '{LAB}' first") < out.index("[ok] postfix-names")
    assert "[ok] install" in out
    assert fresh.path(f"/run/netns/{LAB}-mail").exists()


OUTSIDE_PROBES = ("postfix-names/test-g", "postfix-names/relay-denied", "postfix-names/forged-sender-denied",
                  "dovecot-tls/imap-plain-refused", "dovecot-tls/imaps", "sasl/no-auth-no-relay",
                  "tls-auth-only/auth-refused-in-clear", "tls-auth-only/no-auth-in-clear")


def test_a_whole_walk_without_a_vantage_point_on_a_fresh_box(one_machine):
    """The box's network is the lab's mail namespace (inside the chroot), walked without --lab:
    the lab gives it DNS, and the host's routes and interfaces are never touched."""
    import json

    from conftest import ANSWERS

    answers = "/root/answers.toml"
    no_vantage = "\n".join(line for line in ANSWERS.splitlines() if not line.startswith("vantage"))
    assert "vantage" not in no_vantage
    one_machine.path(answers).write_text(no_vantage + f'\n[lab]\nname = "{LAB}"\n')
    up = one_machine.run(Trixie.PROJECT_BIN, "lab", "up", "--answers", answers, input="")
    assert up.returncode == 0, up.stdout + up.stderr
    assert not installed(one_machine, "postfix") and not installed(one_machine, "dovecot-core")

    walk = one_machine.run("ip", "netns", "exec", f"{LAB}-mail", Trixie.PROJECT_BIN, "run", "--yes",
                           "--answers", answers, "--through", "next-steps", input="", timeout=1500)
    assert walk.returncode == 0, walk.stdout[-5000:] + walk.stderr[-2000:]
    assert "installing postfix dovecot-core dovecot-imapd dovecot-lmtpd" in walk.stdout
    # The hash made by this box's own doveadm, its output shown (the scheme, never the digest).
    assert "$ doveadm pw -s SHA512-CRYPT" in walk.stdout and "{SHA512-CRYPT}$6$" in walk.stdout
    state = json.loads(one_machine.path("/var/lib/mailwizard/state.json").read_text())
    found = {f"{step}/{p['id']}": p for step, record in state["steps"].items() for p in record["probes"]}
    test_h = [pid for pid in found if pid.endswith("/test-h-waits")]
    assert test_h, "the straight path's Test H from outside"
    for pid in (*OUTSIDE_PROBES, *test_h):
        assert found[pid]["status"] == "met", (pid, found[pid])
        assert any(line.startswith("C: [netns:mwoutside] $ ") for line in found[pid]["transcript"]), \
            (pid, found[pid]["transcript"][:3])
    # What the box cannot simulate (a stranger with a name in public DNS) says so, never met.
    nameless = [p for p in found.values() if "no name in public DNS" in p.get("reason", "")]
    assert nameless and all(p["status"] == "inconclusive" for p in nameless), nameless
    assert not one_machine.path("/etc/netns/mwoutside").exists(), "the simulated outside went with the walk"
