"""Ansible over two boxes, each with its own filesystem, network and systemd: the booted
`systemd-nspawn` boxes of Debian 12 and 13, each in its own lab with its own domain. As in a
classroom, the controller is an outside host (the Debian 13 box's lab's outside namespace) and
reaches the Debian 13 box over real ssh (its own sshd, a key of the test's own); the Debian 12
box, which no ssh reaches, through the collection's `nsenter` connection.

The classroom playbook walks both (the tutorial's server, every step proven) in one play; the
Debian 13 box is killed mid-walk (its PID 1, as a power cut): Ansible's unreachable, the class
sheet says so, the other box finishes. Booted again, the next play resumes it at its first
unfinished step (no finished step runs again) while the finished box changes nothing; both pass,
the class sheet names both with the right counts; main.cf edited by hand on one box shows in
`--check --diff` and nothing changes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from booted import PROJECT, Booted
from conftest import REPO, mailwizard
from fixture_data import ANSWERS
from steps import ALL_STEPS
from test_ansible import ansible_home  # noqa: F401  (the fixture: the collection built and installed)

pytestmark = pytest.mark.daemons
RELEASES = ("bookworm", "trixie")
DOMAINS = {"bookworm": "example.test", "trixie": "example.org"}
OVER_SSH = "trixie"
STATE = "/var/lib/mailwizard/state.json"


def lab_of(release: str) -> str:
    return f"a{release[0]}{os.getpid() % 100000}"


def answers_of(release: str) -> str:
    return ANSWERS.replace("example.test", DOMAINS[release]) + f'[lab]\nname = "{lab_of(release)}"\n'


@pytest.fixture(scope="module")
def boxes(tmp_path_factory):
    """Both boxes made, their labs up, booted; the ssh box with Debian's sshd and the test's key
    for root; all of it removed after."""
    made: dict[str, Booted] = {}
    host_answers = {}
    try:
        for release in RELEASES:
            host_answers[release] = tmp_path_factory.mktemp(f"ansible-{release}") / "answers.toml"
            host_answers[release].write_text(answers_of(release))
            box = made[release] = Booted(tmp_path_factory.mktemp(f"ansible-booted-{release}") / "root", release)
            box.make()
            up = mailwizard("lab", "up", "--answers", str(host_answers[release]))
            assert up.returncode == 0, up.stdout + up.stderr
            name = lab_of(release)
            box.boot(f"{name}-mail", open(f"/etc/netns/{name}-mail/resolv.conf").read())
            # The packages, from the box's own repository, before the class: a walk in the lab
            # has no way to a mirror (and says so), as a classroom's boxes would not either.
            box.path("/root/packages.toml").write_text(answers_of(release))
            update = box.run("apt-get", "update", "-q", timeout=300)
            packages = box.mailwizard("run", "--through", "install", "--answers", "/root/packages.toml")
            assert update.returncode == 0 and packages.returncode == 0, packages.stdout[-3000:] + packages.stderr
        keys = tmp_path_factory.mktemp("ssh-keys")
        made_key = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "the class's controller",
                                   "-f", str(keys / "id")], capture_output=True, text=True, timeout=60)
        assert made_key.returncode == 0, made_key.stderr
        box = made[OVER_SSH]
        sshd = box.run("apt-get", "install", "-y", "-q", "openssh-server", timeout=600)
        assert sshd.returncode == 0, sshd.stdout[-3000:] + sshd.stderr
        box.path("/root/.ssh").mkdir(mode=0o700, exist_ok=True)
        box.path("/root/.ssh/authorized_keys").write_text((keys / "id.pub").read_text())
        box.path("/root/.ssh/authorized_keys").chmod(0o600)
        assert box.systemctl("is-active", "ssh") == "active", box.systemctl("status", "ssh")
        box.ssh_key = keys / "id"
        yield made
    finally:
        for release, box in made.items():
            box.remove()
            if release in host_answers:
                mailwizard("lab", "down", "--answers", str(host_answers[release]))


def classroom_argv(inventory: Path, class_dir: Path, *flags: str) -> list[str]:
    """The playbook, run from the ssh box's lab's outside host: the class's controller."""
    return ["ip", "netns", "exec", f"{lab_of(OVER_SSH)}-ext",
            str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "--forks", "2",
            str(REPO / "ansible/playbooks/classroom.yml"), "-e", f"class_dir={class_dir}",
            "-e", f"mailwizard_controller_command={Path(sys.executable).parent / 'mailwizard'}", *flags]


def classroom(env: dict, inventory: Path, class_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(classroom_argv(inventory, class_dir, *flags), env=env, capture_output=True, text=True,
                          timeout=2400)


def host_vars(release: str, box: Booted, tmp_path: Path) -> dict:
    common = {"ansible_python_interpreter": "/usr/bin/python3", "mailwizard_command": f"{PROJECT}/.venv/bin/mailwizard",
              "mailwizard_answers": tomllib.loads(answers_of(release)), "mailwizard_answers_file": "/root/answers.json",
              "mailwizard_lab": True, "mailwizard_through": "next-steps"}
    if release != OVER_SSH:
        return {**common, "ansible_connection": "mailwizard.box.nsenter", "mailwizard_nsenter_pid": box.leader}
    lab = json.loads(Path(f"/run/mailwizard-lab/{lab_of(release)}/lab.json").read_text())
    # No connection sharing: no ssh master lingers after the play; the box's host key learnt into
    # a file of the test's own (the controller's ~/.ssh untouched).
    return {**common, "ansible_connection": "ssh", "ansible_host": lab["plan"]["mail_address"], "ansible_user": "root",
            "ansible_ssh_private_key_file": str(box.ssh_key), "ansible_ssh_pipelining": True,
            "ansible_ssh_args": "-o ControlMaster=no",
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={tmp_path / 'known_hosts'} "
                                       "-o StrictHostKeyChecking=accept-new -o BatchMode=yes"}


def state_of(box: Booted) -> dict:
    return json.loads(box.path(STATE).read_text())


def passed(state: dict) -> list[str]:
    return [step for step, record in state["steps"].items() if record.get("status") == "passed"]


def kill_mid_walk(box: Booted, play: subprocess.Popen, at_least: int) -> dict:
    """Wait (bounded) until the box's walk has passed `at_least` steps, then cut the box off;
    the walk's state as the box left it."""
    deadline = time.monotonic() + 1500
    while time.monotonic() < deadline and play.poll() is None:
        try:
            if len(passed(state_of(box))) >= at_least:
                break
        except (OSError, ValueError):
            pass                      # not written yet (the file is replaced whole, never half-written)
        time.sleep(0.5)
    assert play.poll() is None, "the play ended before the box could be cut off"
    box.kill()
    return state_of(box)


def recap(out: str, host: str) -> dict[str, int]:
    found = re.search(rf"^{host}\s*:\s*(.*)$", out, re.M)
    assert found, out[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(1))}


def test_a_class_over_ssh_and_nsenter_survives_a_box_killed_mid_walk_and_a_second_play_changes_nothing(
        ansible_home, boxes, tmp_path):
    inventory, class_dir = tmp_path / "inventory.json", tmp_path / "class"
    inventory.write_text(json.dumps({"all": {"hosts": {r: host_vars(r, b, tmp_path) for r, b in boxes.items()}}}))
    killed = boxes[OVER_SSH]
    walked_by_hand = len(passed(state_of(killed)))      # the packages, before the class
    # The first play: the ssh box is cut off mid-walk, three steps into it; the other box finishes.
    play = subprocess.Popen(classroom_argv(inventory, class_dir), env=ansible_home, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        at_kill = kill_mid_walk(killed, play, walked_by_hand + 3)
        first, _ = play.communicate(timeout=2400)
    finally:
        if play.poll() is None:
            play.kill()
            play.wait(30)
    order = [step.id for step in ALL_STEPS if step.id in at_kill["steps"] or step.id in state_of(boxes["bookworm"])["steps"]]
    unfinished = [step for step in order if step not in passed(at_kill)]
    assert unfinished, "the walk finished before the box was cut off"
    assert play.returncode == 4, first[-5000:]                     # Ansible's code: a host unreachable
    assert recap(first, OVER_SSH)["unreachable"] == 1, first[-3000:]
    other = recap(first, "bookworm")
    assert other["failed"] == 0 and other["changed"] >= 1 and other["unreachable"] == 0, first[-3000:]
    rows = sheet(class_dir)
    assert rows[OVER_SSH]["reached"] == "no" and rows[OVER_SSH]["passing"] == "0", rows
    assert rows["bookworm"]["reached"] == "yes" and int(rows["bookworm"]["passing"]) >= 15, rows

    # Booted again: the next play resumes it at its first unfinished step; the finished box changes nothing.
    name = lab_of(OVER_SSH)
    killed.boot(f"{name}-mail", open(f"/etc/netns/{name}-mail/resolv.conf").read())
    second = classroom(ansible_home, inventory, class_dir)
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-2000:]
    assert recap(second.stdout, "bookworm")["changed"] == 0, second.stdout[-3000:]
    assert recap(second.stdout, OVER_SSH)["changed"] >= 1, second.stdout[-3000:]
    runs = [entry["step"] for entry in state_of(killed)["history"][len(at_kill["history"]):] if entry["kind"] == "run"]
    assert runs and runs[0] == unfinished[0], (runs, unfinished)
    assert not set(runs) & set(passed(at_kill)), "a step finished before the cut ran again"
    for release, box in boxes.items():
        assert box.path("/root/answers.json").stat().st_mode & 0o777 == 0o600
        assert box.run("cat", "/proc/1/comm").stdout.strip() == "systemd", "each box has its own systemd"
    rows = sheet(class_dir)
    tutorial = rows["bookworm"]["passing"]
    failing = [(release, c["chapter"], [(p["probe"], p["got"][:300]) for p in c["probes"] if p["status"] == "failed"])
               for release in RELEASES for c in json.loads((class_dir / f"{release}.json").read_text())["chapters"]
               if c["now"] == "failing"]
    assert set(rows) == set(RELEASES) and int(tutorial) >= 15 and not failing, failing
    for release in RELEASES:
        assert rows[release]["maildomain"] == DOMAINS[release] and rows[release]["failing"] == "0"
        assert rows[release]["reached"] == "yes" and rows[release]["passing"] == tutorial
        assert int(rows[release]["probes_met"]) > 20
    assert "<testsuite" in (class_dir / "class.xml").read_text() and (class_dir / "index.html").exists()
    assert f"mail.{DOMAINS[OVER_SSH]}" in (class_dir / f"{OVER_SSH}-report.html").read_text()

    # A hand edit on the ssh box: --check --diff shows it and what the walk would put back; nothing changes.
    edited = killed.path("/etc/postfix/main.cf")
    edited.write_text(edited.read_text() + "# edited by hand\nsmtpd_banner = $myhostname ESMTP edited\n")
    checked = classroom(ansible_home, inventory, class_dir, "--check", "--diff", "--limit", f"{OVER_SSH},localhost")
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "smtpd_banner = $myhostname ESMTP edited" in checked.stdout and "/etc/postfix/main.cf" in checked.stdout
    assert "smtpd_banner = $myhostname ESMTP edited" in edited.read_text(), "check mode changed nothing"


def sheet(class_dir: Path) -> dict[str, dict]:
    return {row["box"]: row for row in csv.DictReader(io.StringIO((class_dir / "class.csv").read_text()))}
