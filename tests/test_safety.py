"""What the wizard promises, checked after every single step of a full walk in the lab: never an
open relay, never a clear password on disk or in the process list, private files kept private;
and mail already on the box survives a walk, an undo and a reset, message by message."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LAB_NAME, REPO, STATE_DIR, in_namespace, mailwizard
from steps import ALL_STEPS

pytestmark = pytest.mark.daemons

SECRET = "Quokka-Lantern-902"
OPEN_RELAY_PROBE = """
import smtplib
try:
    with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test", timeout=10) as s:
        s.sendmail("bob@ext.test", ["carol@ext.test"], "Subject: relay?\\r\\n\\r\\nno\\r\\n")
    print("RELAYED")
except (smtplib.SMTPException, OSError) as exc:
    print("refused", type(exc).__name__)
"""


def private(path: str, mode: int, owner: str = "root", group: str | None = None) -> None:
    import grp
    import pwd

    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) & ~mode == 0, f"{path} is mode {stat.S_IMODE(st.st_mode):o}, wider than {mode:o}"
    assert pwd.getpwuid(st.st_uid).pw_name == owner, path
    if group:
        assert grp.getgrgid(st.st_gid).gr_name == group, path


def no_clear_password_anywhere() -> None:
    places = ["/etc", str(STATE_DIR), "/var/log/mail.log", "/var/log/dovecot.log", f"/run/mailwizard-lab/{LAB_NAME}"]
    found = subprocess.run(["grep", "-rl", "--binary-files=text", SECRET, *[p for p in places if Path(p).exists()]],
                           capture_output=True, text=True).stdout
    assert found == "", f"the clear password is in {found}"
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert SECRET not in processes


def test_security_invariants_hold_after_every_step(lab):
    """Walked in a lab the wizard did not name: its outside host is gateway.ext.test (its own A
    and PTR, no exthost), and the answers name a netns vantage point but no [external] host, so
    every probe from outside greets with the name learned from where the server sees it."""
    walk_answers = lab.read_text().replace('password = "123456"', f'password = "{SECRET}"')
    lab.write_text(walk_answers.replace('vantage = "none"', 'vantage = "none"\nhost = "gateway"'))
    assert mailwizard("lab", "up", "--answers", str(lab)).returncode == 0
    lab.write_text(walk_answers.replace('vantage = "none"', f'vantage = "netns:{LAB_NAME}-ext"'))
    assert "exthost" not in lab.read_text() and "host =" not in lab.read_text()
    checked = []
    for step in ALL_STEPS:
        run = mailwizard("run", "--lab", "--answers", str(lab), "--through", step.id)
        assert run.returncode == 0, run.stdout + run.stderr
        no_clear_password_anywhere()
        private(str(STATE_DIR), 0o700)
        private(str(STATE_DIR / "state.json"), 0o600)
        if Path("/etc/dovecot/users.db").exists():
            private("/etc/dovecot/users.db", 0o640, "root", "dovecot")
        if Path("/etc/dovecot/private/dovecot.pem").exists():
            private("/etc/dovecot/private/dovecot.pem", 0o600, "root")
        if Path("/etc/postfix/main.cf").read_text().startswith("# Written by mailwizard"):
            verdict = in_namespace(f"{LAB_NAME}-ext", OPEN_RELAY_PROBE)
            assert verdict.startswith("refused"), f"open relay after {step.id}"
        checked.append(step.id)
    assert checked == [s.id for s in ALL_STEPS]
    assert_the_outside_was_known_by_its_own_name(lab)


def assert_the_outside_was_known_by_its_own_name(answers: Path) -> None:
    import json

    state = json.loads((STATE_DIR / "state.json").read_text())
    greetings = {(step_id, probe["id"], line) for step_id, step in state["steps"].items()
                 for probe in step.get("probes", []) for line in probe.get("transcript", [])
                 if line.startswith(("C: EHLO ", "C: HELO "))}
    assert ("restrictions", "inbound-accepted", "C: HELO gateway.ext.test") in greetings, greetings
    assert [g for g in greetings if "exthost" in g[2]] == [], state.get("outside")
    restrictions = {p["id"]: p["status"] for p in state["steps"]["restrictions"]["probes"]}
    assert restrictions["unknown-recipient"] == restrictions["inbound-accepted"] == "met", restrictions
    check = mailwizard("check", "--lab", "--answers", str(answers))
    assert (f"outside host's name: gateway.ext.test (192.0.2.50 is gateway.ext.test: PTR and A agree, "
            f"as netns:{LAB_NAME}-ext is seen from here)") in check.stdout, check.stdout
    report = mailwizard("report")
    assert (f"netns:{LAB_NAME}-ext, seen as gateway.ext.test (192.0.2.50; PTR and A agree)"
            in report.stdout), report.stdout[:3000]


def test_the_wizard_refuses_to_change_a_box_without_root(box):
    for command in (["run", "--answers", str(box)], ["undo"], ["reset", "--yes"], ["user", "add", "x@example.test"]):
        done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                               "-m", "wizard", *command], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, command
        assert "run it as root" in done.stderr and "--root DIR" in done.stderr


def maildir_messages(root: Path) -> dict[str, int]:
    """Every message under root, by content hash (Dovecot may rename new/ to cur/ and add flags)."""
    counts: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.parent.name in ("new", "cur"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            counts[digest] = counts.get(digest, 0) + 1
    return counts


def test_mail_already_on_the_box_survives_walk_undo_and_reset(lab_up):
    mail = Path("/var/vmail/example.test/alice/mail")
    other = Path("/var/vmail/other.test/carol/mail")
    for maildir, n in ((mail, 5), (other, 3)):
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (maildir / "new" / f"170000000{i}.M{i}P1.old").write_text(
                f"From: someone@old.test\nSubject: kept {i}\n\nmessage {i} in {maildir}\n")
    # A box that already serves mail has its vmail account and owns its mail through it.
    subprocess.run(["groupadd", "vmail"], capture_output=True)
    subprocess.run(["useradd", "-g", "vmail", "-M", "-s", "/usr/sbin/nologin", "vmail"], capture_output=True)
    subprocess.run(["chown", "-R", "vmail:vmail", "/var/vmail"], check=True)
    before = {**maildir_messages(mail), **maildir_messages(other)}
    assert len(before) == 8

    assert mailwizard("run", "--lab", "--answers", str(lab_up)).returncode == 0
    for step in ("password-hash", "dovecot-tls", "vmail"):
        assert mailwizard("undo", step).returncode == 0, step
    assert mailwizard("reset", "--yes").returncode == 0
    after = {**maildir_messages(mail), **maildir_messages(other)}
    missing = {digest for digest in before if after.get(digest, 0) < before[digest]}
    assert not missing, f"{len(missing)} message(s) lost"
    assert Path("/var/vmail").exists(), "reset keeps a /var/vmail that holds mail"
