"""The box the README promises, with systemd as PID 1: booted Debian 12 and Debian 13 containers.

Each release is one booted `systemd-nspawn` box (see tests/booted.py) whose network is the mail
namespace of a lab the host made. On it, as on a fresh Debian box: another MTA (exim4) already
holds port 25; the wizard's own install step replaces it only when told to; apt starts Postfix
and Dovecot itself; then the whole walk, every undo, a reset and the teaching walk run through
systemctl, and systemd's start limit is never met. The same independent clients as on the host
check the final server.
"""

from __future__ import annotations

import os
import re

import pytest

from booted import BOUND, Booted
from conftest import mailwizard
from fixture_data import ANSWERS
from final_checks import Box, confirm_final_server

pytestmark = pytest.mark.daemons

SECRET = "Booted-Pass-2024"
INSIDE_ANSWERS = "/root/answers.toml"


def lab_name(release: str) -> str:
    return f"s{release[0]}{os.getpid() % 100000}"


@pytest.fixture(scope="module", params=["bookworm", "trixie"])
def booted(request, tmp_path_factory):
    """A booted box of the release, in the mail namespace of its own lab; all of it removed after."""
    release = request.param
    name = lab_name(release)
    answers = ANSWERS.replace('"123456"', f'"{SECRET}"') + f'[lab]\nname = "{name}"\n'
    host_answers = tmp_path_factory.mktemp(f"systemd-{release}") / "answers.toml"
    host_answers.write_text(answers)
    host_answers.chmod(0o600)
    box = Booted(tmp_path_factory.mktemp(f"booted-{release}") / "root", release)
    try:
        box.make()
        box.path(INSIDE_ANSWERS).write_text(answers)
        box.path(INSIDE_ANSWERS).chmod(0o600)
        up = mailwizard("lab", "up", "--answers", str(host_answers))
        assert up.returncode == 0, up.stdout + up.stderr
        box.boot(f"{name}-mail", open(f"/etc/netns/{name}-mail/resolv.conf").read())
        yield box
    finally:
        box.remove()
        mailwizard("lab", "down", "--answers", str(host_answers))


def ok_inside(box: Booted, *args: str) -> str:
    done = box.mailwizard(*args)
    assert done.returncode == 0, f"mailwizard {' '.join(args)}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
    return done.stdout


def no_start_limit_met(box: Booted) -> None:
    for unit in ("dovecot", "postfix@-", "rspamd"):
        shown = box.systemctl("show", unit, "-p", "Result")
        assert shown != "Result=start-limit-hit", f"{unit}: {shown}"
    journal = box.run("journalctl", "-b", "--no-pager", "-o", "cat", timeout=60).stdout
    assert "Start request repeated too quickly" not in journal
    assert "start of the service was attempted too often" not in journal


@pytest.fixture(scope="module")
def installed(booted):
    """exim4 holds port 25, as on many Debian installs; the wizard's install step replaces it
    only with consent, and apt starts Postfix and Dovecot under systemd."""
    box = booted
    update = box.run("apt-get", "update", "-q", timeout=300)
    assert update.returncode == 0, update.stdout + update.stderr
    exim = box.run("apt-get", "install", "-y", "-q", "exim4-daemon-light", timeout=900)
    assert exim.returncode == 0, exim.stdout[-2000:] + exim.stderr[-2000:]
    assert box.systemctl("is-active", "exim4") == "active"
    refused = box.mailwizard("run", "--through", "install", "--answers", INSIDE_ANSWERS)
    installed = box.mailwizard("run", "--through", "install", "--yes", "-v", "--answers", INSIDE_ANSWERS)
    # The dkim chapter's signer and the certificate chapter's certbot, as a person installs them
    # before walking in the lab (the step says so when one is missing there).
    more = box.run("apt-get", "install", "-y", "-q", "rspamd", "certbot", timeout=900)
    assert more.returncode == 0, more.stdout[-2000:] + more.stderr[-2000:]
    return refused, installed


def test_apt_starts_the_services_and_exim4_is_replaced_only_with_consent(booted, installed):
    box, (refused, done) = booted, installed
    assert box.run("cat", "/proc/1/comm").stdout.strip() == "systemd"
    assert refused.returncode != 0
    assert "exim4 (from exim4-daemon-light) holds port 25" in refused.stdout + refused.stderr
    assert "--yes" in refused.stdout + refused.stderr
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "replacing exim4-daemon-light with Postfix" in done.stdout
    assert "found: Debian" in done.stdout and ", systemd" in done.stdout
    assert box.run("dpkg-query", "-W", "-f=${Status}", "exim4-daemon-light").stdout != "install ok installed"
    # apt started them (no policy-rc.d here), under systemd, before the wizard's first chapter.
    for unit in ("postfix@-", "dovecot"):
        assert box.systemctl("is-active", unit) == "active", unit
        assert box.systemctl("is-enabled", unit) in ("enabled", "enabled-runtime"), unit
    assert box.systemctl("show", "dovecot", "-p", "MainPID") != "MainPID=0"


@pytest.fixture(scope="module")
def walked(booted, installed):
    done = booted.mailwizard("run", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    return done


def test_the_whole_walk_runs_through_systemctl_and_the_final_server_serves(booted, walked):
    box = booted
    assert walked.returncode == 0, walked.stdout[-5000:] + walked.stderr[-2000:]
    assert "[ok] next-steps" in walked.stdout and "[FAIL]" not in walked.stdout
    for step in ("submission", "dkim", "dns-auth", "certificate"):
        assert f"[ok] {step}" in walked.stdout, walked.stdout[-3000:]
    # The notes say what was done on this box, not on one without systemd.
    assert "systemd runs this box" in walked.stdout
    assert "postfix start" not in walked.stdout and "configure-instance.sh before" not in walked.stdout
    no_start_limit_met(box)
    for unit in ("postfix@-", "dovecot", "rspamd"):
        assert box.systemctl("is-active", unit) == "active", unit
    lab = lab_name(box.release)
    confirm_final_server(Box(lab, box.in_namespace, lambda *a, input=None: box.mailwizard(*a, input=input),
                             box.root, BOUND), SECRET)
