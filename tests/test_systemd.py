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
import subprocess
import sys
from contextlib import contextmanager

import pytest

from booted import BOUND, PROJECT, Booted
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


# Where Postfix's master runs: Debian 12 starts it in an instance unit, Debian 13 in postfix.service.
POSTFIX_UNIT = {"bookworm": "postfix@-", "trixie": "postfix"}


def clock(box: Booted) -> str:
    """Now, as the box's journal counts it (a mark for `no_start_limit_met`)."""
    return box.run("date", "+%s").stdout.strip()


def no_start_limit_met(box: Booted, since: str) -> None:
    for unit in ("dovecot", "postfix", "postfix@-", "rspamd"):
        shown = box.systemctl("show", unit, "-p", "Result")
        assert shown != "Result=start-limit-hit", f"{unit}: {shown}"
    journal = box.run("journalctl", f"--since=@{since}", "--no-pager", "-o", "cat", timeout=60).stdout
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
    for unit in (POSTFIX_UNIT[box.release], "dovecot"):
        assert box.systemctl("is-active", unit) == "active", unit
        assert box.systemctl("is-enabled", unit) in ("enabled", "enabled-runtime"), unit
    assert box.systemctl("show", "dovecot", "-p", "MainPID") != "MainPID=0"


@pytest.fixture(scope="module")
def walked(booted, installed):
    since = clock(booted)
    done = booted.mailwizard("run", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    done.since = since
    return done


def test_the_whole_walk_runs_through_systemctl_and_the_final_server_serves(booted, walked):
    box = booted
    assert walked.returncode == 0, walked.stdout[-5000:] + walked.stderr[-2000:]
    assert "[ok] next-steps" in walked.stdout and "[FAIL]" not in walked.stdout
    # ipv6 too: the box boots into the lab's mail namespace, dual-stack, and its Postfix (started
    # by systemd) listens and sends over both families.
    for step in ("submission", "dkim", "dns-auth", "certificate", "hardening", "ipv6"):
        assert f"[ok] {step}" in walked.stdout, walked.stdout[-3000:]
    audit = box.mailwizard("audit", "--lab", "--answers", INSIDE_ANSWERS)
    assert audit.returncode == 0 and "no required check failed" in audit.stdout, audit.stdout[-4000:]
    # The notes say what was done on this box, not on one without systemd.
    assert "systemd runs this box" in walked.stdout
    assert "postfix start" not in walked.stdout and "configure-instance.sh before" not in walked.stdout
    no_start_limit_met(box, walked.since)
    for unit in (POSTFIX_UNIT[box.release], "dovecot", "rspamd"):
        assert box.systemctl("is-active", unit) == "active", unit
    lab = lab_name(box.release)
    confirm_final_server(Box(lab, box.in_namespace, lambda *a, input=None: box.mailwizard(*a, input=input),
                             box.root, BOUND), SECRET)


@contextmanager
def port_held(box: Booted, port: int):
    """Another program holds `port` in the box's network (the lab's mail namespace)."""
    holder = subprocess.Popen(
        ["ip", "netns", "exec", f"{lab_name(box.release)}-mail", sys.executable, "-c",
         "import socket, sys, time\n"
         "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         f"s.bind(('0.0.0.0', {port})); s.listen(); print('held', flush=True); time.sleep(300)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait(10)


def imap_greets(box: Booted) -> str:
    return box.in_namespace(f"{lab_name(box.release)}-mail", """
        import socket
        with socket.create_connection(("127.0.0.1", 143), timeout=5) as s:
            print(s.recv(200).decode().strip())
    """)


def test_a_reload_dovecot_refuses_is_rolled_back_with_its_reason_and_dovecot_keeps_serving(booted, walked):
    box = booted
    undo = box.mailwizard("undo", "dovecot-tls", "--lab", "--answers", INSIDE_ANSWERS)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    with port_held(box, 993):
        failed = box.mailwizard("run", "--lab", "--yes", "--through", "dovecot-tls", "--answers", INSIDE_ANSWERS)
    assert failed.returncode != 0
    # The daemon's reason, not a guess at the configuration: Dovecot said why it kept the old one.
    assert "[FAIL] dovecot-tls: dovecot did not reload" in failed.stdout, failed.stdout[-3000:]
    assert "Dovecot kept its old configuration" in failed.stdout and "993" in failed.stdout
    assert "Address already in use" in failed.stdout
    assert "putting the last good files back" in failed.stdout
    assert "reloading them failed too" not in failed.stdout
    assert box.systemctl("is-active", "dovecot") == "active"
    assert imap_greets(box).startswith("* OK")
    assert "ssl = required" not in box.path("/etc/dovecot/dovecot.conf").read_text()


def test_a_unit_systemd_left_failed_is_named_and_cleared_before_it_is_judged(booted, walked):
    box = booted
    for _ in range(8):      # more starts than systemd allows in 10 s: it refuses and fails the unit
        box.run("systemctl", "restart", "dovecot", timeout=60)
    assert box.systemctl("show", "dovecot", "-p", "Result") == "Result=start-limit-hit"
    walk = box.mailwizard("run", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    assert walk.returncode == 0, walk.stdout[-4000:] + walk.stderr[-1000:]
    assert "dovecot was in systemd's failed state (systemd refused to start it" in walk.stdout
    assert "systemctl reset-failed dovecot" in walk.stdout
    assert "[ok] dovecot-tls" in walk.stdout and "[ok] certificate" in walk.stdout
    assert box.systemctl("is-active", "dovecot") == "active"
    assert imap_greets(box).startswith("* OK")


def steps_undone(box: Booted, bound: int = 45) -> list[str]:
    """`undo` until nothing is left (bounded by more than the walk's steps); what each said."""
    said = []
    for _ in range(bound):
        done = box.mailwizard("undo", "--lab", "--answers", INSIDE_ANSWERS)
        if "nothing to undo" in done.stderr:
            return said
        assert done.returncode == 0, f"undo after {len(said)}: {done.stdout[-3000:]}{done.stderr[-1000:]}"
        said.append(done.stdout)
    raise AssertionError(f"still something to undo after {bound} undos")


def test_every_step_undone_one_by_one_keeps_clear_of_the_start_limit(booted, walked):
    """Debian 13 met systemd's start limit at `sasl` when Dovecot was restarted after each step."""
    box = booted
    since = clock(box)
    said = steps_undone(box)
    assert len(said) >= 20
    # The chapter that stopped Dovecot (apt had started it) leaves it running again.
    assert any("dovecot runs, as before the walk" in text or "dovecot started again" in text for text in said)
    no_start_limit_met(box, since)
    for unit in (POSTFIX_UNIT[box.release], "dovecot", "rspamd"):
        assert box.systemctl("is-active", unit) == "active", unit


def test_the_teaching_walk_under_systemd(booted, walked):
    box = booted
    since = clock(box)
    reset = box.mailwizard("reset", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    walk = box.mailwizard("run", "--lab", "--teaching", "--yes", "--answers", INSIDE_ANSWERS)
    assert walk.returncode == 0, walk.stdout[-5000:] + walk.stderr[-2000:]
    for lesson in ("empty", "protocols", "ssl", "passdb", "uid", "location", "plaintext"):
        assert f"[ok] dovecot-imap.{lesson}" in walk.stdout
    if box.release == "trixie":     # the lessons meet Dovecot 2.4's own words for the errors
        assert "the log shows 'mail_driver not set'" in walk.stdout     # 2.3: mail_location not set
        assert "Cleartext authentication disallowed" in walk.stdout    # 2.3: Plaintext ... not allowed
    assert "[ok] dns-auth.unpublished" in walk.stdout and "[ok] dns-auth.published" in walk.stdout
    # Test H waits in the queue for the LMTP socket, then a flush delivers it (postqueue under systemd).
    assert "[ok] virtual-lmtp.postfix" in walk.stdout and "[ok] virtual-lmtp.dovecot" in walk.stdout
    assert "delivered on the flush through dovecot-lmtp" in walk.stdout, walk.stdout[-3000:]
    assert "[ok] certificate" in walk.stdout and "[FAIL]" not in walk.stdout
    no_start_limit_met(box, since)


def test_reset_leaves_the_services_as_the_box_had_them(booted, walked):
    box = booted
    since = clock(box)
    reset = box.mailwizard("reset", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    # apt started all three and enabled them; the box keeps them so, and says so.
    for name in ("postfix", "dovecot", "rspamd"):
        assert f"{name} runs, as before the walk" in reset.stdout or f"{name} started again" in reset.stdout, \
            reset.stdout
    for unit in (POSTFIX_UNIT[box.release], "dovecot", "rspamd"):
        assert box.systemctl("is-active", unit) == "active", unit
    for unit in ("postfix", "dovecot", "rspamd"):
        assert box.systemctl("is-enabled", unit) == "enabled", unit
    if box.release == "trixie":
        # Debian 13's packaged key is a link the walk moved aside; Dovecot's own files need it.
        assert "put back the box's own /etc/dovecot/private/dovecot.pem" in reset.stdout
        assert box.path("/etc/dovecot/private/dovecot.pem").is_symlink()
    no_start_limit_met(box, since)


def test_without_rsyslog_the_daemons_lines_are_read_from_the_journal(booted, walked):
    """After the reset Postfix runs on Debian's own main.cf: it logs to syslog, which on this
    box (no rsyslog) is the journal only, while the walk's old mail.log stays behind."""
    box = booted
    assert box.run("dpkg-query", "-W", "-f=${Status}", "rsyslog").stdout != "install ok installed"
    window = box.run(f"{PROJECT}/.venv/bin/python", "-c", """
import subprocess, time
from wizard.logs import DaemonLog, MAIL_LOG
from wizard.system import System
log = DaemonLog(System(), MAIL_LOG)
mark = log.offset()
subprocess.run(["sendmail", "root"], input="Message-ID: <journal-only@example.test>\\nSubject: journal\\n\\nme\\n",
               text=True, check=True)
for _ in range(100):
    lines = log.lines_since(mark)
    if any("status=sent" in line for line in lines):
        break
    time.sleep(0.1)
print("\\n".join(lines))
""")
    assert window.returncode == 0, window.stderr
    # What the Log tab, a failed probe's lines and the exercises' hints read: the journal's lines.
    assert "postfix/local" in window.stdout and "status=sent" in window.stdout, window.stdout
    # `why` follows that message (known to the journal only) by its Message-ID.
    why = box.mailwizard("why", "journal-only@example.test", "--lab", "--answers", INSIDE_ANSWERS)
    assert why.returncode == 0, why.stdout + why.stderr
    assert "delivered" in why.stdout and "postfix/local" in why.stdout, why.stdout
