"""The lab, for real: namespaces, the lab DNS, the outside mail server, and the Postfix chapters'
probes "from outside" sent from the external namespace. All traffic stays inside namespaces
the tests create; nothing may be left behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from conftest import LAB_NAME, REPO, STATE_DIR, lab_answers, lab_leftovers, mailwizard
from wizard.system import pid_alive

pytestmark = pytest.mark.daemons

EXTERNAL_PROBES = ("test-f", "test-g", "relay-denied", "forged-sender-denied")


def probes_of(step: str) -> dict[str, dict]:
    state = json.loads((STATE_DIR / "state.json").read_text())
    return {p["id"]: p for p in state["steps"][step]["probes"]}


def test_lab_up_walk_down_twice_leaves_nothing(lab):
    assert lab_leftovers() == []
    for round_ in (1, 2):
        up = mailwizard("lab", "up", "--answers", str(lab))
        assert up.returncode == 0, up.stdout + up.stderr
        again = mailwizard("lab", "up", "--answers", str(lab))
        assert "up already" in again.stdout, f"lab up is idempotent; the first said:\n{up.stdout}\nthe second:\n{again.stdout}"

        walk = mailwizard("run", "--lab", "--answers", str(lab), "--through", "postfix-names")
        assert walk.returncode == 0, f"round {round_}:\n{walk.stdout}{walk.stderr}"
        probes = probes_of("postfix-names")
        for pid in ("test-b", "test-c", "test-d", "test-e", *EXTERNAL_PROBES):
            assert probes[pid]["status"] == "met", (pid, probes[pid])
        # Test D's loop needs the MX the lab DNS serves; relay is refused from the outside only.
        assert "loops back to myself" in probes["test-d"]["actual"]
        # ... and the bounce reaches the sender on the outside host, as the tutorial shows.
        assert f"the bounce arrived in /run/mailwizard-lab/{LAB_NAME}/mail/bob@ext.test" in probes["test-d"]["actual"]
        assert "Undelivered Mail Returned to Sender" in probes["test-d"]["actual"], probes["test-d"]
        assert "C: MAIL FROM:<root>" in probes["test-f"]["transcript"], "Test F as the tutorial types it"
        assert "C: MAIL FROM:<root@mail.example.test>" in probes["forged-sender-denied"]["transcript"]
        assert re.search(r"RCPT: (454 4\.7\.1|554 5\.7\.1) .*Relay access denied", probes["relay-denied"]["actual"])
        assert probes["test-g"]["transcript"][0].startswith(f"C: [netns:{LAB_NAME}-ext] $ telnet mail.example.test 25")
        mailbox = Path(f"/run/mailwizard-lab/{LAB_NAME}/mail/bob@ext.test")
        assert "Test F" in mailbox.read_text(), "Test F reached the outside host's mailbox"

        status = mailwizard("lab", "status", "--answers", str(lab))
        assert "postfix runs inside" in status.stdout, status.stdout

        down = mailwizard("lab", "down", "--answers", str(lab))
        assert down.returncode == 0, down.stdout + down.stderr
        assert "stopped postfix" in down.stdout
        assert lab_leftovers() == [], f"round {round_}"
        assert mailwizard("lab", "down", "--answers", str(lab)).returncode == 0, "down is idempotent"
        assert mailwizard("reset", "--yes").returncode == 0


def test_lab_down_clears_a_lab_that_crashed_half_built(lab):
    crashed = mailwizard("lab", "up", "--answers", str(lab), env={"MAILWIZARD_CRASH_AT": "lab:network"})
    assert crashed.returncode < 0 or crashed.returncode == 137, crashed
    assert lab_leftovers(), "the crash left a half-built lab to clear"
    down = mailwizard("lab", "down", "--answers", str(lab))
    assert down.returncode == 0, down.stdout + down.stderr
    assert lab_leftovers() == []


def test_lab_up_builds_afresh_a_lab_whose_server_stopped_and_says_which(lab):
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 0, up.stdout + up.stderr
    record = json.loads(Path(f"/run/mailwizard-lab/{LAB_NAME}/lab.json").read_text())
    dns = record["pids"]["dns"]
    os.kill(dns, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(dns) and time.monotonic() < deadline:     # gone, or a zombie: stopped
        time.sleep(0.05)
    status = mailwizard("lab", "status", "--answers", str(lab))
    assert f"broken: its dns server (pid {dns}) has stopped" in status.stdout, status.stdout
    again = mailwizard("lab", "up", "--answers", str(lab))
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(f"the lab was not whole (its dns server (pid {dns}) has stopped): "
                                   "taken down to be built afresh"), again.stdout
    assert "up already" in mailwizard("lab", "up", "--answers", str(lab)).stdout


def test_lab_up_refuses_a_namespace_it_did_not_make(lab):
    subprocess.run(["ip", "netns", "add", f"{LAB_NAME}-mail"], check=True)
    up = mailwizard("lab", "up", "--answers", str(lab))
    assert up.returncode == 2
    assert f"{LAB_NAME}-mail exists and was not made by this lab" in up.stderr
    leftovers = lab_leftovers()
    assert leftovers == [f"netns {LAB_NAME}-mail"], "nothing else was made"


def test_run_in_the_lab_needs_the_lab_up(lab):
    walk = mailwizard("run", "--lab", "--answers", str(lab))
    assert walk.returncode == 2
    assert "lab up" in walk.stderr
    assert not STATE_DIR.exists()


def test_the_lab_with_nothing_else_walks_the_whole_tutorial_on_its_own_answers(lab):
    """`mailwizard run --lab` without an answers file on a box with no walk: the lab is built, the
    walk runs on the lab's example answers to the last chapter, and the password made for it is
    shown once and stored only as a hash (the TUI's face: test_tui)."""
    env = {"MAILWIZARD_LAB": LAB_NAME}         # the suite's own lab, never a teacher's mwlab
    first = mailwizard("run", "--lab", env=env, timeout=900)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    assert f"building the lab '{LAB_NAME}' first" in first.stdout
    assert "(from the lab's own example answers, made for this walk)" in first.stdout
    password = re.search(r"alice@example\.test's password for this walk: (\S+) \(shown this once", first.stdout)
    assert password, first.stdout[:3000]
    password = password.group(1)
    assert first.stdout.count(password) == 1 and "--answers FILE" in first.stdout
    assert "[ok] next-steps" in first.stdout and "[ok] hardening" in first.stdout
    assert "[FAIL]" not in first.stdout
    assert probes_of("password-hash")["hash-login"]["status"] == "met", "the logins used it"
    kept = (STATE_DIR / "state.json").read_text() + (STATE_DIR / "answers.toml").read_text()
    assert password not in kept and "$6$" in kept
    again = mailwizard("run", "--lab", env=env, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr
    assert "password for this walk" not in again.stdout and "building the lab" not in again.stdout
    assert again.stdout.count("done already") == again.stdout.count("[ok] ")


def test_the_lab_with_nothing_else_on_a_box_without_the_packages_says_what_to_install(lab):
    """The lab's namespaces reach no package mirror: on a box where the walk's packages are
    missing (here: dpkg knows none, in a mount namespace of this test's own), `run --lab` with
    no answers names them and the apt command before it makes anything."""
    import os

    env = {**os.environ, "MAILWIZARD_LAB": LAB_NAME}
    done = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /bin/false /usr/bin/dpkg-query && "
                           f"exec {sys.executable} -m wizard run --lab"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "apt-get install postfix dovecot-core dovecot-imapd dovecot-lmtpd rspamd certbot" in done.stderr
    assert "reaches no package mirror" in done.stderr and "--yes" in done.stderr
    assert not STATE_DIR.exists() and lab_leftovers() == []


def test_lab_needs_root(lab):
    up = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                         sys.executable, "-m", "wizard", "lab", "up", "--answers", str(lab)],
                        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert up.returncode == 2
    assert "root" in up.stderr
    assert lab_leftovers() == []


def test_manual_vantage_asks_and_judges_what_the_person_typed(lab):
    """A person on another host types the lines the wizard shows; here the test is that person,
    typing them from the lab's outside namespace and pasting the server's answer back."""
    lab.write_text(lab_answers(vantage="manual"))
    assert mailwizard("lab", "up", "--answers", str(lab)).returncode == 0
    child = pexpect.spawn(sys.executable, ["-m", "wizard", "run", "--lab", "--answers", str(lab),
                                           "--through", "postfix-names", "--yes"],
                          cwd=str(REPO), encoding="utf-8", timeout=120)
    answered = []
    try:
        while True:
            index = child.expect([r"type these lines:\r\n((?:    .*\r\n)+)What did the server answer[^\r\n]*\r\n> ",
                                  pexpect.EOF])
            if index == 1:
                break
            lines = [line[4:] for line in child.match.group(1).splitlines()]
            reply = type_from_outside(lines)
            answered.append((lines, reply))
            child.sendline(reply)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    assert len(answered) == 3, answered        # Test G, the relay, the relay with a forged sender
    probes = probes_of("postfix-names")
    assert probes["test-g"]["status"] == "met"
    assert probes["relay-denied"]["status"] == "met"
    assert probes["forged-sender-denied"]["status"] == "met"
    assert "MAIL FROM:<root@mail.example.test>" in answered[2][0], answered[2]
    assert any("(as typed by you)" in line for line in probes["relay-denied"]["transcript"])


def type_from_outside(lines: list[str]) -> str:
    """Do what the person would: open the connection from the outside host and type the lines;
    return the server's reply to the last line before QUIT."""
    host, port = lines[0].split()[-2:]
    script = (
        "import socket,sys\n"
        f"s=socket.create_connection(({host!r},{port}),10); f=s.makefile('rb')\n"
        "def reply():\n"
        "    while True:\n"
        "        l=f.readline().decode().rstrip()\n"
        "        if l[3:4]!='-': return l\n"
        "reply(); last=''\n"
        f"body={lines[1:-1]!r}\n"
        "i=0\n"
        "while i<len(body):\n"
        "    s.sendall((body[i]+'\\r\\n').encode())\n"
        "    if body[i]=='DATA':\n"
        "        reply(); i+=1\n"
        "        while body[i]!='.':\n"
        "            s.sendall((body[i]+'\\r\\n').encode()); i+=1\n"
        "        continue\n"
        "    last=reply(); i+=1\n"
        "s.sendall(b'QUIT\\r\\n'); print(last)\n")
    done = subprocess.run(["ip", "netns", "exec", f"{LAB_NAME}-ext", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def sshd_outside(lab, tmp_path):
    """A real sshd on the lab's outside host, with a key of the test's own (the box's ~/.ssh and
    sshd configuration are not touched)."""
    if not Path("/usr/sbin/sshd").exists():
        pytest.fail("openssh-server is missing: `bash .ci/test` installs it")
    assert mailwizard("lab", "up", "--answers", str(lab)).returncode == 0
    keys = tmp_path / "ssh"
    keys.mkdir(mode=0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
    (keys / "sshd_config").write_text(
        f"ListenAddress 192.0.2.50:22\nHostKey {keys / 'host'}\nPidFile {keys / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "AllowTcpForwarding yes\n")
    (keys / "ssh_config").write_text(
        f"Host *\n  IdentityFile {keys / 'client'}\n  UserKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking no\n  LogLevel ERROR\n")
    made_run_sshd = not Path("/run/sshd").exists()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    server = subprocess.Popen(["ip", "netns", "exec", f"{LAB_NAME}-ext", "/usr/sbin/sshd", "-D", "-e",
                               "-f", str(keys / "sshd_config")], stderr=subprocess.PIPE, text=True)
    try:
        yield keys / "ssh_config"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if made_run_sshd:
            shutil.rmtree("/run/sshd", ignore_errors=True)


def test_ssh_vantage_point_sends_the_outside_probes_through_a_real_sshd(lab, sshd_outside):
    lab.write_text(lab_answers(vantage="ssh:root@192.0.2.50").replace(
        "[lab]", f'ssh_config = "{sshd_outside}"\n[lab]'))
    walk = mailwizard("run", "--lab", "--answers", str(lab), "--through", "postfix-names")
    assert walk.returncode == 0, walk.stdout + walk.stderr
    probes = probes_of("postfix-names")
    for pid in ("test-g", "relay-denied"):
        assert probes[pid]["status"] == "met", probes[pid]
        assert probes[pid]["transcript"][0] == "C: [ssh:root@192.0.2.50] $ telnet mail.example.test 25"
    assert "Relay access denied" in probes["relay-denied"]["actual"]
