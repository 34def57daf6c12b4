"""Ansible over two boxes, each with its own filesystem, network and systemd: the booted
`systemd-nspawn` boxes of Debian 12 and 13, each in its own lab with its own domain, reached by
the collection's `nsenter` connection. The classroom playbook walks both (the tutorial's server,
every step proven) in one play, grades both and writes the class sheet; a second play changes
nothing; main.cf edited by hand on one box shows in `--check --diff` and nothing changes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from booted import PROJECT, Booted
from conftest import REPO, mailwizard
from fixture_data import ANSWERS
from test_ansible import ansible_home  # noqa: F401  (the fixture: the collection built and installed)

pytestmark = pytest.mark.daemons
RELEASES = ("bookworm", "trixie")
DOMAINS = {"bookworm": "example.test", "trixie": "example.org"}


def lab_of(release: str) -> str:
    return f"a{release[0]}{os.getpid() % 100000}"


def answers_of(release: str) -> str:
    return ANSWERS.replace("example.test", DOMAINS[release]) + f'[lab]\nname = "{lab_of(release)}"\n'


@pytest.fixture(scope="module")
def boxes(tmp_path_factory):
    """Both boxes made, their labs up, booted; all of it removed after."""
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
        yield made
    finally:
        for release, box in made.items():
            box.remove()
            if release in host_answers:
                mailwizard("lab", "down", "--answers", str(host_answers[release]))


def classroom(env: dict, inventory: Path, class_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "--forks", "2",
                           str(REPO / "ansible/playbooks/classroom.yml"), "-e", f"class_dir={class_dir}",
                           "-e", f"mailwizard_controller_command={Path(sys.executable).parent / 'mailwizard'}", *flags],
                          env=env, capture_output=True, text=True, timeout=2400)


def recap(out: str, host: str) -> dict[str, int]:
    found = re.search(rf"^{host}\s*:\s*(.*)$", out, re.M)
    assert found, out[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(1))}


def test_one_play_walks_and_grades_both_boxes_and_a_second_changes_nothing(ansible_home, boxes, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {release: {
        "ansible_connection": "mailwizard.box.nsenter", "mailwizard_nsenter_pid": box.leader,
        "ansible_python_interpreter": "/usr/bin/python3", "mailwizard_command": f"{PROJECT}/.venv/bin/mailwizard",
        "mailwizard_answers": tomllib.loads(answers_of(release)), "mailwizard_answers_file": "/root/answers.json",
        "mailwizard_lab": True, "mailwizard_through": "next-steps",
    } for release, box in boxes.items()}}}))
    class_dir = tmp_path / "class"
    first = classroom(ansible_home, inventory, class_dir)
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-2000:]
    for release, box in boxes.items():
        counts = recap(first.stdout, release)
        assert counts["failed"] == 0 and counts["changed"] >= 1 and counts["unreachable"] == 0, counts
        assert box.path("/root/answers.json").stat().st_mode & 0o777 == 0o600
        assert box.run("cat", "/proc/1/comm").stdout.strip() == "systemd", "each box has its own systemd"
    rows = {row["box"]: row for row in csv.DictReader(io.StringIO((class_dir / "class.csv").read_text()))}
    tutorial = rows["bookworm"]["passing"]
    failing = [(release, c["chapter"], [(p["probe"], p["got"][:300]) for p in c["probes"] if p["status"] == "failed"])
               for release in RELEASES for c in json.loads((class_dir / f"{release}.json").read_text())["chapters"]
               if c["now"] == "failing"]
    assert set(rows) == set(RELEASES) and int(tutorial) >= 15 and not failing, failing
    for release in RELEASES:
        assert rows[release]["maildomain"] == DOMAINS[release] and rows[release]["failing"] == "0"
        assert rows[release]["passing"] == tutorial and int(rows[release]["probes_met"]) > 20
    assert "<testsuite" in (class_dir / "class.xml").read_text() and (class_dir / "index.html").exists()
    assert f"mail.{DOMAINS['trixie']}" in (class_dir / "trixie-report.html").read_text()

    # Again: both finished, nothing changes, no step runs again.
    second = classroom(ansible_home, inventory, class_dir)
    assert second.returncode == 0, second.stdout[-3000:]
    for release in RELEASES:
        assert recap(second.stdout, release)["changed"] == 0, second.stdout[-3000:]

    # A hand edit on one box: --check --diff shows it and what the walk would put back; nothing changes.
    edited = boxes["trixie"].path("/etc/postfix/main.cf")
    edited.write_text(edited.read_text() + "# edited by hand\nsmtpd_banner = $myhostname ESMTP edited\n")
    checked = classroom(ansible_home, inventory, class_dir, "--check", "--diff", "--limit", "trixie,localhost")
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "smtpd_banner = $myhostname ESMTP edited" in checked.stdout and "/etc/postfix/main.cf" in checked.stdout
    assert "smtpd_banner = $myhostname ESMTP edited" in edited.read_text(), "check mode changed nothing"
