"""The README's first look at the tutorial, `run --lab` with nothing else, on a box that has
never had Postfix or Dovecot (a fresh Debian 13 chroot, its apt reading the small repository of
.debs that tests/debian13.py keeps): the lab's network reaches no package mirror, so what the walk
installs is installed first, on the box, once the person agrees; without consent nothing is made.
"""

from __future__ import annotations

import os

import pytest

from debian13 import Trixie

pytestmark = pytest.mark.daemons

LAB = f"mf{os.getpid() % 100000}"
WANTED = "postfix dovecot-core dovecot-imapd dovecot-lmtpd rspamd certbot"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    box = Trixie(tmp_path_factory.mktemp("fresh") / "trixie")
    try:
        box.make()
        yield box
    finally:
        if box.path(Trixie.PROJECT_BIN).exists():
            box.run(Trixie.PROJECT_BIN, "lab", "down", input="", env=(f"MAILWIZARD_LAB={LAB}",))
        box.remove()


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
