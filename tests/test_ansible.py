"""The Ansible collection (ansible/): built with ansible-galaxy, installed from its tarball, and
played by ansible-core against this host (connection local) in mailwizard's sandbox: `walk` walks
with every step proven and is `changed` only when a step wrote something (a second play changes
nothing); in check mode it writes nothing and shows the plan as diffs (a secret file's content
never); a bad answer fails the host with mailwizard's own words; `grade` reads, never changes.
Two booted hosts, real ssh and a host cut off mid-walk are in test_ansible_booted.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from fixture_data import ANSWERS

RELAY = '\n[relay]\nhost = "relay.ext.test"\nuser = "me@ext.test"\n'
SECRET = "Vault-Sesame-5"
MAILWIZARD = str(Path(sys.executable).parent / "mailwizard")


@pytest.fixture(scope="module")
def ansible_home(tmp_path_factory) -> dict:
    """The collection built and installed into a directory of the test's own; Ansible's own
    files (its home, its temporary files) there too, so the box keeps nothing of it."""
    home = tmp_path_factory.mktemp("ansible")
    env = dict(os.environ, ANSIBLE_HOME=str(home), ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
               ANSIBLE_REMOTE_TEMP=str(home / "remote"), ANSIBLE_COLLECTIONS_PATH=str(home / "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    bin_dir = Path(sys.executable).parent
    built = subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "build", str(REPO / "ansible"),
                            "--output-path", str(home)], env=env, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = next(home.glob("mailwizard-box-*.tar.gz"))
    installed = subprocess.run([str(bin_dir / "ansible-galaxy"), "collection", "install", str(tarball), "-p",
                                str(home / "collections")], env=env, capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env


def play(env: dict, tmp_path: Path, tasks: list[dict], *flags: str) -> list[dict]:
    """One play against localhost; each task's registered result, in order (written out by a last
    task, as a playbook keeps results)."""
    out = tmp_path / "results.json"
    registered = [{**task, "register": f"r{i}"} for i, task in enumerate(tasks)]
    keep = {"name": "keep the results", "check_mode": False, "ansible.builtin.copy": {
        "dest": str(out), "content": "{{ [" + ", ".join(f"r{i}" for i in range(len(tasks))) + "] | to_json }}"}}
    book = tmp_path / "play.json"
    book.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                 "vars": {"ansible_python_interpreter": sys.executable},
                                 "tasks": registered + [keep]}]))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(book), *flags],
                          env=env, capture_output=True, text=True, timeout=900)
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def walk_task(answers: Path, box: Path, **more) -> dict:
    return {"name": "walk", "mailwizard.box.walk": {"answers": str(answers), "root": str(box), "command": MAILWIZARD,
                                                    "through": "relay-host", **more}, "ignore_errors": True}


def test_a_play_walks_proves_and_changes_nothing_the_second_time(ansible_home, tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS + RELAY)
    secrets = {"secrets": {"relay_password": SECRET}}
    (planned,) = play(ansible_home, tmp_path, [{**walk_task(answers, box, **secrets), "check_mode": True, "diff": True}])
    # Check mode: the plan as diffs, nothing written, the secret file's content never shown.
    assert planned["changed"] and not planned.get("failed"), planned
    paths = [entry["before_header"] for entry in planned["diff"]]
    assert "/etc/postfix/main.cf" in paths and "/etc/postfix/sasl_passwd" in paths
    secret = next(e for e in planned["diff"] if e["before_header"] == "/etc/postfix/sasl_passwd")
    assert "holds a secret" in secret["prepared"]
    assert not box.exists(), "check mode wrote something"
    first, second, graded = play(ansible_home, tmp_path, [
        walk_task(answers, box, **secrets), walk_task(answers, box, **secrets),
        {"name": "grade", "mailwizard.box.grade": {"root": str(box), "command": MAILWIZARD}}])
    # The walk: changed, every step passed, its probes reported; the secret reached its file only.
    assert first["changed"] and not first.get("failed"), first.get("msg")
    assert first["steps"][-1] == {"step": "relay-host", "status": "passed", "message": ""}
    assert {p["status"] for p in first["probes"]} <= {"met", "not-run"} and first["summary"]["exit"] == 0
    assert SECRET in (box / "etc/postfix/sasl_passwd").read_text()
    assert SECRET not in json.dumps([planned, first, second, graded])
    # Again: nothing to do, nothing changed (idempotent).
    assert not second["changed"] and not second.get("failed"), second
    assert all(step["message"] == "done already" for step in second["steps"])
    # The grade: read-only, the chapters walked passing.
    assert not graded["changed"] and graded["grade"]["totals"]["passing"] >= 10 and graded["failing"] == 0


def test_a_bad_answer_fails_the_host_with_mailwizards_words_and_writes_nothing(ansible_home, tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS + '[dmarc]\npolicy = "strict"\n')
    (failed,) = play(ansible_home, tmp_path, [walk_task(answers, box)])
    assert failed["failed"] and "dmarc.policy" in failed["msg"] and "strict" in failed["msg"], failed
    assert failed["summary"]["exit"] == 2 and not box.exists()


def test_a_step_that_cannot_run_names_the_step_and_why(ansible_home, tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS + RELAY)
    (failed,) = play(ansible_home, tmp_path, [walk_task(answers, box)])     # no password for the relay
    assert failed["failed"] and failed["failed_step"]["step"] == "relay-host", failed
    assert failed["msg"].startswith("mailwizard: relay-host: no usable answer") and "[relay] password" in failed["msg"]
    assert failed["changed"], "the steps before it were walked"


def test_the_classroom_playbook_walks_every_box_and_gathers_one_class_sheet(ansible_home, tmp_path):
    """Two boxes (two sandboxes of this host, each with its own domain): one walks; one has a bad
    answer and fails alone, naming it, and is still in the class sheet (with nothing walked)."""
    import csv
    import io
    from xml.etree import ElementTree

    import tomllib

    good = tomllib.loads(ANSWERS)
    bad = {**tomllib.loads(ANSWERS.replace("example.test", "example.org")), "dmarc": {"policy": "strict"}}
    boxes = {"ada": good, "bob": bad}
    inventory = {"all": {"hosts": {name: {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "mailwizard_root": str(tmp_path / name), "mailwizard_answers": answers,
        "mailwizard_answers_file": str(tmp_path / f"{name}-answers.json"), "mailwizard_through": "postfix-names",
    } for name, answers in boxes.items()}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    class_dir = tmp_path / "class"

    def classroom(*flags):
        return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"),
                               str(REPO / "ansible/playbooks/classroom.yml"), "-e", f"class_dir={class_dir}",
                               "-e", f"mailwizard_command={MAILWIZARD}", *flags],
                              env=ansible_home, capture_output=True, text=True, timeout=900)

    first = classroom()
    assert first.returncode == 2, first.stdout[-3000:]          # a host failed: Ansible's own code
    assert "dmarc.policy" in first.stdout and "strict" in first.stdout
    assert re.search(r"ada\s*: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0", first.stdout), first.stdout[-1500:]
    assert re.search(r"bob\s*: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=1", first.stdout), first.stdout[-1500:]
    assert (tmp_path / "ada-answers.json").stat().st_mode & 0o777 == 0o600
    rows = {row["box"]: row for row in csv.DictReader(io.StringIO((class_dir / "class.csv").read_text()))}
    assert rows["ada"]["maildomain"] == "example.test" and rows["ada"]["passing"] == "4"
    assert rows["bob"]["chapters"] == "0", "a box with nothing walked: a grade of nothing, still listed"
    suites = [s.get("name") for s in ElementTree.parse(class_dir / "class.xml").getroot().iter("testsuite")]
    assert suites == ["ada", "bob"]
    page = (class_dir / "index.html").read_text()
    assert '<a href="ada-report.html">ada</a>' in page and 'data-box="bob"' in page
    assert "mail.example.test" in (class_dir / "ada-report.html").read_text()
    assert not (class_dir / "bob-report.html").exists(), "no walk, no report"
    # Again, on the finished box: nothing changes.
    again = classroom("--limit", "ada,localhost")
    assert again.returncode == 0 and re.search(r"ada\s*: ok=\d+\s+changed=0\s", again.stdout), again.stdout[-1500:]
    # Tags: `grade` grades and writes the class sheet, walks nothing; `walk` walks, grades nothing.
    for name in ("class.csv", "ada.json"):
        (class_dir / name).unlink()
    graded = classroom("--limit", "ada,localhost", "--tags", "grade")
    assert graded.returncode == 0 and "Walk, every step proven" not in graded.stdout, graded.stdout[-1500:]
    assert "ada" in (class_dir / "class.csv").read_text() and (class_dir / "ada.json").exists()
    walked = classroom("--limit", "ada,localhost", "--tags", "walk")
    assert walked.returncode == 0 and "Walk, every step proven" in walked.stdout, walked.stdout[-1500:]
    assert "Its grade now" not in walked.stdout and "One CSV" not in walked.stdout


def test_the_install_role_puts_mailwizard_on_a_host_from_a_wheelhouse_alone(ansible_home, tmp_path):
    """The controller makes a wheelhouse of the project (its dependencies as the suite keeps them,
    the project's own wheel built from them, nothing downloaded); the role installs from it with
    no index (the host downloads nothing), into a fresh venv, and a second play changes nothing."""
    from debian13 import wheelhouse as dependencies      # fetched by the controller (tests/caches.py)

    import shutil

    wheelhouse, project = tmp_path / "wheelhouse", tmp_path / "project"
    dependencies(wheelhouse, f"{sys.version_info.major}.{sys.version_info.minor}")
    # Built from a copy: building writes build/ beside the sources, which the checkout must not get.
    for part in ("wizard", "steps", "assets"):
        shutil.copytree(REPO / part, project / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, project / name)
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps",
                           "--no-index", "--find-links", str(wheelhouse), str(project), "-w", str(wheelhouse)],
                          capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    venv, link = tmp_path / "opt-mailwizard", tmp_path / "bin" / "mailwizard"
    link.parent.mkdir()
    book = tmp_path / "install.json"
    book.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                 "vars": {"ansible_python_interpreter": sys.executable},
                                 "roles": [{"role": "mailwizard.box.install", "mailwizard_wheelhouse": str(wheelhouse),
                                            "mailwizard_venv": str(venv), "mailwizard_link": str(link),
                                            "mailwizard_python": sys.executable, "mailwizard_venv_package": False}]}]))
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    first = subprocess.run([playbook, "-i", "localhost,", str(book)], env=ansible_home, capture_output=True,
                           text=True, timeout=900)
    assert first.returncode == 0 and re.search(r"localhost\s*: ok=\d+\s+changed=[1-9]", first.stdout), first.stdout[-3000:]
    installed = subprocess.run([str(link), "--version"], capture_output=True, text=True, timeout=60,
                               cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert installed.returncode == 0 and installed.stdout.startswith("mailwizard "), installed.stderr
    errata = subprocess.run([str(link), "errata"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert errata.returncode == 0 and errata.stdout == (REPO / "assets" / "errata.md").read_text(), \
        "the wheel carries its own files (wizard.assets)"
    again = subprocess.run([playbook, "-i", "localhost,", str(book)], env=ansible_home, capture_output=True,
                           text=True, timeout=900)
    assert again.returncode == 0 and re.search(r"localhost\s*: ok=\d+\s+changed=0", again.stdout), again.stdout[-3000:]


def test_every_plugin_of_the_collection_documents_itself(ansible_home):
    """ansible-doc reads each plugin's documentation (a YAML slip there breaks the plugin itself)."""
    doc = str(Path(sys.executable).parent / "ansible-doc")
    for kind, name, option in (("module", "walk", "secrets"), ("module", "grade", "box"),
                               ("connection", "nsenter", "leader")):
        shown = subprocess.run([doc, "-t", kind, f"mailwizard.box.{name}"], env=ansible_home, capture_output=True,
                               text=True, timeout=120)
        assert shown.returncode == 0 and option in shown.stdout, shown.stdout[-2000:] + shown.stderr[-2000:]
