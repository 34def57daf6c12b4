"""The password-hash chapter's hash is made by the box's own `doveadm pw -s SHA512-CRYPT`, as
the tutorial makes it, even when the answers were first read on a box without Dovecot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, STATE_DIR, mailwizard

pytestmark = pytest.mark.daemons

USERS_DB = "/etc/dovecot/users.db"


def recorded_hash() -> str:
    state = json.loads((STATE_DIR / "state.json").read_text())
    return state["answers"]["users"][0]["password_hash"]


def run_without_doveadm(*args: str) -> subprocess.CompletedProcess:
    """mailwizard as on a fresh box, where Dovecot's doveadm is not there yet: in a mount
    namespace of its own (gone when it ends) in which doveadm is /bin/false."""
    command = " ".join([sys.executable, "-m", "wizard", *args])
    return subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount --bind /bin/false /usr/bin/doveadm && exec {command}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_a_hash_made_before_dovecot_was_there_is_made_again_by_doveadm(box):
    first = run_without_doveadm("run", "--answers", str(box), "--through", "install")
    assert first.returncode == 0, first.stdout + first.stderr
    before = recorded_hash()
    assert subprocess.run(["doveadm", "pw", "-t", before], input="123456\n", capture_output=True,
                          text=True).returncode == 0, "the first hash is a good one"
    walk = mailwizard("run", "--answers", str(box), "--through", "password-hash")
    assert walk.returncode == 0, walk.stdout + walk.stderr
    said = walk.stdout + walk.stderr
    assert "$ doveadm pw -s SHA512-CRYPT" in said and "{SHA512-CRYPT}$6$…" in said, said
    made = recorded_hash()
    assert made != before and made.startswith("{SHA512-CRYPT}$6$")
    # users.db holds doveadm's hash (the scheme named in the passdb, so without the prefix),
    # and neither the hash nor the password was printed.
    lines = open(USERS_DB).read().splitlines()
    assert "alice@example.test:" + made.removeprefix("{SHA512-CRYPT}") in lines, lines
    assert made.split("$")[-1] not in said and "123456" not in said
    state = json.loads((STATE_DIR / "state.json").read_text())
    probes = {p["id"]: p["status"] for p in state["steps"]["password-hash"]["probes"]}
    assert probes["hash-verified"] == "met" and probes["hash-login"] == "met", probes
    # Made once: the next run keeps it (a new salt would be a change for nothing), and the
    # steps that wrote users.db before are not stale for it: the walk goes on.
    again = mailwizard("run", "--answers", str(box), "--through", "sasl")
    assert again.returncode == 0 and recorded_hash() == made, again.stdout + again.stderr
    assert "[ok] dovecot-imap: done already" in again.stdout and "[ok] sasl\n" in again.stdout, again.stdout


def test_a_hash_given_in_the_answers_stays_as_given_and_is_said_so(box):
    given = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT"], input="123456\n123456\n",
                           capture_output=True, text=True, start_new_session=True).stdout.strip()
    box.write_text(box.read_text().replace('password = "123456"', f'password_hash = "{given}"'))
    walk = mailwizard("run", "--answers", str(box), "--through", "password-hash")
    assert walk.returncode == 0, walk.stdout + walk.stderr
    assert "the answers hold only its hash (password_hash)" in walk.stdout, walk.stdout
    assert "$ doveadm pw -s SHA512-CRYPT" not in walk.stdout
    assert recorded_hash() == given
