"""Dovecot never keeps a configuration it cannot run, and bad answers never touch users.db."""

from __future__ import annotations

import dataclasses
import imaplib
import ssl
from pathlib import Path

import pytest

from conftest import engine_walk, mailwizard, notes
from steps import ALL_STEPS
from wizard.statuses import FAILED as FAILED_STEP
from wizard.model import Block, Setting

pytestmark = pytest.mark.daemons

DOVECOT_CONF = Path("/etc/dovecot/dovecot.conf")
USERS_DB = Path("/etc/dovecot/users.db")


def with_dovecot_extra(item):
    """The real steps through virtual-lmtp, with one more item in its dovecot.conf fragment."""
    k = [s.id for s in ALL_STEPS].index("virtual-lmtp")
    step = ALL_STEPS[k]
    files = tuple(dataclasses.replace(f, settings=f.settings + (item,)) if f.path == str(DOVECOT_CONF) else f
                  for f in step.files)
    return ALL_STEPS[:k] + (dataclasses.replace(step, files=files),)



def imap_greets() -> bool:
    with imaplib.IMAP4("127.0.0.1", 143, timeout=5) as m:
        return m.welcome.startswith(b"* OK")


def test_unknown_dovecot_setting_is_refused_before_it_is_written(box):
    assert mailwizard("run", "--answers", str(box), "--through", "dovecot-tls").returncode == 0
    last_good = DOVECOT_CONF.read_bytes()
    outcomes, events = engine_walk(box, with_dovecot_extra(Setting("no_such_dovecot_setting", "1")))
    assert outcomes[-1].status == FAILED_STEP
    assert "no_such_dovecot_setting" in outcomes[-1].message
    assert any("nothing was written" in note for note in notes(events))
    assert DOVECOT_CONF.read_bytes() == last_good
    assert imap_greets()


def test_a_config_dovecot_cannot_start_with_is_rolled_back_and_dovecot_still_serves(box):
    # doveconf accepts an IMAP listener on port 25, but Dovecot cannot bind it: Postfix holds it.
    assert mailwizard("run", "--answers", str(box), "--through", "dovecot-tls").returncode == 0
    last_good = DOVECOT_CONF.read_bytes()
    squatter = Block("service imap-login", (Block("inet_listener imap", (Setting("port", "25"),)),))
    master = dovecot_master()
    outcomes, events = engine_walk(box, with_dovecot_extra(squatter))
    assert outcomes[-1].status == FAILED_STEP, outcomes[-1]
    # Dovecot's own words for why it kept the old configuration, from its reload.
    assert "Dovecot kept its old configuration" in outcomes[-1].message, outcomes[-1].message
    assert "Address already in use" in outcomes[-1].message
    assert any("putting the last good files back" in note for note in notes(events))
    assert DOVECOT_CONF.read_bytes() == last_good
    assert imap_greets()
    assert dovecot_master() == master, "refused and rolled back by reloading: never stopped"


def dovecot_master() -> int:
    return int(Path("/run/dovecot/master.pid").read_text().split()[0])


def test_a_change_reaches_dovecot_by_a_reload_its_master_keeps_running(box):
    """Without systemd too, Dovecot takes each step's files by `doveadm reload`: the same master
    (no stop, no start) serves the new listener as soon as the step says it is done."""
    assert mailwizard("run", "--answers", str(box), "--through", "dovecot-imap").returncode == 0
    master = dovecot_master()
    walked = mailwizard("run", "--answers", str(box), "--through", "dovecot-tls")
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert dovecot_master() == master
    with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ssl._create_unverified_context(),
                           timeout=5) as m:
        assert m.welcome.startswith(b"* OK")


@pytest.mark.parametrize("user_table, why", [
    ('address = "alice@example.test"\npassword = "12\\n34"', "newline"),
    ('address = "alice"\npassword = "123456"', "not an address"),
    ('address = "alice@elsewhere.test"\npassword = "123456"', "not in maildomain"),
    ('address = "alice@example.test"\npassword = "123456"\n[[users]]\naddress = "alice@example.test"\n'
     'password = "654321"', "listed twice"),
])
def test_bad_user_answers_are_refused_and_users_db_is_unchanged(box, user_table, why):
    assert mailwizard("run", "--answers", str(box), "--through", "dovecot-imap").returncode == 0
    before = USERS_DB.read_bytes()
    bad = box.read_text().replace('address  = "alice@example.test"\npassword = "123456"', user_table)
    assert bad != box.read_text()
    bad_file = box.with_name("bad.toml")
    bad_file.write_text(bad)
    run = mailwizard("run", "--answers", str(bad_file))
    assert run.returncode == 2, run.stdout + run.stderr
    assert why in run.stderr
    assert USERS_DB.read_bytes() == before


def test_a_password_with_colon_blank_quote_and_umlaut_logs_in(box):
    """Such a password is safe (only its hash reaches users.db): it must work, not be refused."""
    password = 'pa:ss "wö rd'
    box.write_text(box.read_text().replace('password = "123456"', f"password = '{password}'"))
    run = mailwizard("run", "--answers", str(box), "--through", "password-hash")
    assert run.returncode == 0, run.stdout + run.stderr
    line = USERS_DB.read_text().splitlines()[-1]
    assert line.count(":") == 1 and line.startswith("alice@example.test:$6$")
    with imaplib.IMAP4("127.0.0.1", 143, timeout=10) as m:
        m.starttls()
        m._encoding = "utf-8"
        assert m.login("alice@example.test", password)[0] == "OK"


def test_a_stopped_dovecot_is_known_by_its_exit_not_by_its_reaping(box):
    """A master that has exited stays a zombie until its parent reaps it (a container's first
    process may take seconds, or never). The wizard stops Dovecot itself (SIGTERM to the master,
    as `dovecot stop` does) and waits for the exit only: here the master's parent is this test,
    which reaps it only after the stop has returned stopped. (`dovecot stop` waits for the
    reaping, up to its own limit: what that costs a walk is in the benchmark.)"""
    import subprocess

    from wizard.daemons import daemon
    from wizard.system import System, pid_alive

    assert mailwizard("run", "--answers", str(box), "--through", "dovecot-imap").returncode == 0
    dovecot = daemon(System(), "dovecot")
    assert dovecot.stop().ok and not dovecot.running()
    master = subprocess.Popen(["dovecot", "-F"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        dovecot._wait_started()
        assert dovecot_master() == master.pid and imap_greets()
        stopped = dovecot.stop()
        assert stopped.ok, stopped.describe()
        assert not dovecot.running() and not pid_alive(master.pid)
        assert "State:\tZ" in Path(f"/proc/{master.pid}/status").read_text(), "not reaped yet: nobody waited on it"
    finally:
        if master.poll() is None:
            master.kill()
        master.wait(timeout=10)
