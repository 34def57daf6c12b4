"""Debian 13 (trixie): Postfix 3.10, Dovecot 2.4, Python 3.13, in a debootstrapped chroot.

The README's setup command makes the venv there; the wizard's `install` step installs Postfix and
Dovecot; then the same headless walk and the same independent client checks as on Debian 12 run in
the chroot's own lab. Dovecot 2.4 refuses the tutorial's 2.3 syntax, so a test shows that the
dialect the platform detects is what makes the walk possible. The teaching walk on Debian 13 (the
lessons meeting Dovecot 2.4's own errors) runs on a booted trixie, tests/test_systemd.py.
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from conftest import ANSWERS
from debian13 import PROJECT, Trixie
from final_checks import Box, confirm_final_server
from steps import ALL_STEPS
from wizard.answers import parse_answers
from wizard.config import render_file

pytestmark = pytest.mark.daemons

LAB = f"m13{os.getpid() % 100000}"
SECRET = "Trixie-Pass-2024"
INSIDE_ANSWERS = "/root/answers.toml"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
SNAKEOIL = "/etc/ssl/certs/ssl-cert-snakeoil.pem"


@pytest.fixture(scope="module")
def trixie(tmp_path_factory):
    box = Trixie(tmp_path_factory.mktemp("debian13") / "trixie")
    try:
        box.make()
        box.path(INSIDE_ANSWERS).write_text(
            ANSWERS.replace('"123456"', f'"{SECRET}"') + f'[lab]\nname = "{LAB}"\n')
        box.path(INSIDE_ANSWERS).chmod(0o600)
        yield box
    finally:
        box.remove(INSIDE_ANSWERS)


@pytest.fixture(scope="module")
def installed(trixie):
    """The wizard's own install step brought Postfix and Dovecot (outside the lab, as on a real
    box; apt reads the box's own repository of the .debs kept with the base)."""
    assert not trixie.path("/usr/sbin/dovecot").exists(), "the base must come without Dovecot"
    done = trixie.mailwizard("run", "--through", "install", "--yes", "-v", "--answers", INSIDE_ANSWERS)
    assert done.returncode == 0, done.stdout + done.stderr
    # The dkim chapter's signer and the certificate chapter's certbot (with the lab's CA, pebble),
    # as a person installs them before walking in the lab (whose namespaces reach no package
    # mirror; the step says so when one is missing there).
    rspamd = trixie.run("apt-get", "install", "-y", "-q", "rspamd", "certbot", "pebble", timeout=900)
    assert rspamd.returncode == 0, rspamd.stdout[-2000:] + rspamd.stderr[-2000:]
    return done.stdout


def test_the_wizard_installs_postfix_310_and_dovecot_24(trixie, installed):
    assert "installing postfix dovecot-core dovecot-imapd dovecot-lmtpd" in installed
    # apt's own progress came through as it happened (the TUI shows the same events).
    assert re.search(r"apt +\d+% Installing dovecot-core", installed), installed[-2000:]
    assert "found: Debian 13" in installed and "Dovecot 2.4" in installed and "(2.4 syntax)" in installed
    assert trixie.run("postconf", "-d", "-h", "mail_version").stdout.startswith("3.10")
    assert trixie.run("dovecot", "--version").stdout.startswith("2.4")


def test_the_tutorials_syntax_is_refused_by_dovecot_24_and_ours_is_accepted(trixie, installed):
    answers = parse_answers({"maildomain": "example.test", "mailhost": "mail",
                             "users": [{"address": "alice@example.test", "password": "x"}]})
    values = {**answers.values(), "compatibility_level": "3.9"}
    judged = {}
    taken = [step for step in ALL_STEPS if step.applies(values)]
    for dialect in ("2.3", "2.4"):
        text = render_file(DOVECOT_CONF, taken, values, users=answers.users, dovecot_dialect=dialect)
        trixie.path(f"/tmp/dovecot-{dialect}.conf").write_text(text)
        judged[dialect] = trixie.run("doveconf", "-n", "-c", f"/tmp/dovecot-{dialect}.conf")
    assert judged["2.3"].returncode != 0
    assert "The first setting must be dovecot_config_version" in judged["2.3"].stderr
    assert judged["2.4"].returncode == 0, judged["2.4"].stderr
    # Even with the version lines added, 2.4 knows none of the tutorial's renamed settings.
    patched = "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n" + \
        trixie.path("/tmp/dovecot-2.3.conf").read_text()
    trixie.path("/tmp/dovecot-2.3.conf").write_text(patched)
    again = trixie.run("doveconf", "-n", "-c", "/tmp/dovecot-2.3.conf")
    assert again.returncode != 0 and "Unknown setting" in again.stderr


@pytest.fixture(scope="module")
def lab(trixie, installed):
    """The chroot's own lab (its namespaces, DNS and outside server); removed with the chroot."""
    up = trixie.mailwizard("lab", "up", "--answers", INSIDE_ANSWERS)
    assert up.returncode == 0, up.stdout + up.stderr
    return trixie


def reload_postfix(trixie) -> None:
    """The wizard's own reload, inside the lab: it returns once the smtpd processes from before
    it are gone, so the next connection meets the new settings."""
    done = trixie.run("ip", "netns", "exec", f"{LAB}-mail", f"{PROJECT}/.venv/bin/python", "-c",
                      "from wizard.daemons import daemon; from wizard.system import System; "
                      "print(daemon(System(), 'postfix').reload().ok)")
    assert done.stdout.strip() == "True", done.stdout + done.stderr


def test_full_walk_and_final_clients_on_debian_13(lab):
    trixie = lab
    snakeoil = hashlib.sha256(trixie.path(SNAKEOIL).read_bytes()).hexdigest()
    # As after a "No configuration" install: Postfix 3.10 finds no alias file.
    for name in ("/etc/aliases", "/etc/aliases.db"):
        trixie.path(name).unlink()
    walk = trixie.mailwizard("run", "--lab", "--yes", "--answers", INSIDE_ANSWERS)
    assert walk.returncode == 0, walk.stdout + walk.stderr
    assert "[ok] next-steps" in walk.stdout and "[FAIL]" not in walk.stdout
    # A fresh box: the answers were first read before Dovecot was installed (passlib's hash);
    # the password-hash chapter has trixie's own doveadm make it again, and shows its output.
    assert "$ doveadm pw -s SHA512-CRYPT" in walk.stdout, walk.stdout[-3000:]
    assert "{SHA512-CRYPT}$6$…" in walk.stdout and "is replaced by this one in users.db" in walk.stdout
    # Today's chapters on trixie too: Postfix 3.10's submission services, rspamd's signature,
    # the strict receiver's three passes.
    for step in ("admin-addresses", "submission", "dkim", "dns-auth", "blocklists", "certificate", "ipv6"):
        assert f"[ok] {step}" in walk.stdout, walk.stdout[-3000:]
    assert "[ok] listed-client-refused" in walk.stdout and "[ok] alias:abuse" in walk.stdout
    # `why` on trixie, which keeps no syslog: Postfix's own log file is read.
    why = trixie.mailwizard("why", "bob@ext.test", "--lab", "--answers", INSIDE_ANSWERS)
    # (The latest mail naming bob is the IPv6 chapter's, from him: in over LMTP.)
    assert why.returncode == 0 and "postfix/qmgr" in why.stdout and "delivered: Dovecot took it" in why.stdout, \
        why.stdout + why.stderr
    arrived = trixie.path(f"/run/mailwizard-lab/{LAB}/mail/bob@ext.test").read_text()
    assert re.search(r"^Authentication-Results: .*spf=pass.*dkim=pass.*dmarc=pass", arrived, re.M | re.S)
    assert "/etc/aliases was missing" in walk.stdout and "[ok] test-1" in walk.stdout
    assert trixie.path("/etc/aliases").read_text() == "postmaster: root\n"
    assert trixie.path("/etc/aliases.db").exists()
    assert "open database /etc/aliases.db" not in trixie.path("/var/log/mail.log").read_text()

    conf = trixie.path(DOVECOT_CONF).read_text()
    assert conf.index("dovecot_config_version") < conf.index("log_path")
    # The lab CA's certificate (certbot 4 and pebble on trixie), in 2.4's names.
    assert "mail_driver = maildir" in conf
    assert "ssl_server_key_file = /etc/letsencrypt/live/mail.example.test/privkey.pem" in conf
    # The %d/%n trap: 2.4 takes them silently and makes one directory every user shares.
    settings = "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))
    assert "%d" not in settings and "%n" not in settings
    assert trixie.path("/var/vmail/example.test/alice/mail").is_dir()
    assert not [p for p in trixie.path("/var/vmail").rglob("*") if "%" in p.name]
    # The symlinked-key trap: the packaged private/dovecot.pem points at the public snakeoil
    # certificate; the key was written to a file of its own, the certificate is untouched.
    key = trixie.path("/etc/dovecot/private/dovecot.pem")
    assert not key.is_symlink() and key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE KEY" in key.read_text()
    assert hashlib.sha256(trixie.path(SNAKEOIL).read_bytes()).hexdigest() == snakeoil

    # The hardening chapter in Dovecot 2.4's names and on Postfix 3.10, and the audit it passes,
    # from the lab's outside host.
    assert "[ok] hardening" in walk.stdout and "ssl_server_prefer_ciphers = server" in conf
    assert "smtpd_forbid_bare_newline = normalize" in trixie.path("/etc/postfix/main.cf").read_text()
    audit = trixie.mailwizard("audit", "--lab", "--answers", INSIDE_ANSWERS)
    assert audit.returncode == 0 and "no required check failed" in audit.stdout, audit.stdout[-4000:]
    assert "[ pass] tls-version-587" in audit.stdout and "[ pass] tls-ciphers-993" in audit.stdout
    assert "[ pass] smtp-smuggling" in audit.stdout and "[ pass] open-relay-25" in audit.stdout
    # The box's venv has no extra: what only sslyze could see is said not tested, never passed.
    assert "[  n/t] tls-details-587: not tested" in audit.stdout and "tls-ems-587" not in audit.stdout
    # And each check fails for real on Postfix 3.10 as on 3.7: the smuggling defence said off
    # (3.10's own default is normalize), mynetworks opened to the world, VRFY on.
    main_cf = trixie.path("/etc/postfix/main.cf")
    kept = main_cf.read_bytes()
    try:
        assert trixie.run("postconf", "-e", "smtpd_forbid_bare_newline=no", "mynetworks=0.0.0.0/0",
                          "disable_vrfy_command=no").returncode == 0
        reload_postfix(trixie)
        broken = trixie.mailwizard("audit", "--lab", "--answers", INSIDE_ANSWERS, "--check", "smuggling",
                                   "--check", "relay-25", "--check", "vrfy-25")
        assert broken.returncode == 1, broken.stdout[-3000:] + broken.stderr
        assert "[ FAIL] smtp-smuggling: SMUGGLED after <LF>.<CR><LF>" in broken.stdout, broken.stdout[-3000:]
        assert "[ FAIL] open-relay-25: OPEN RELAY" in broken.stdout and "[ warn] vrfy-expn-25" in broken.stdout
    finally:
        main_cf.write_bytes(kept)
        reload_postfix(trixie)

    confirm_final_server(Box(LAB, trixie.in_namespace, trixie.mailwizard, trixie.root), SECRET)
