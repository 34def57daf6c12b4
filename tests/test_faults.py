"""Faults from the outside: a full disk, a read-only state directory, a peer that never answers,
an outside host that vanishes. Each ends in a clear message, nothing half-written, and a walk
that carries on once the fault is gone."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import ANSWERS, LAB_NAME, in_namespace, mailwizard
from wizard.model import Answered, Imap, Probe, Refused, SmtpMail
from wizard.probes.runner import FAILED, ProbeRunner
from wizard.system import System


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems under tmp_path; all are unmounted afterwards."""
    mounted = []

    def mount(relative: str, options: str) -> Path:
        target = tmp_path / relative
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.mark.daemons           # mounts tmpfs: needs root, like the daemon tests
def test_a_full_disk_leaves_the_old_file_whole_and_the_walk_resumes(tmp_path, tmpfs):
    root = tmp_path / "box"
    etc = tmpfs("box/etc", "size=64k")
    (etc / "postfix").mkdir()
    (etc / "postfix/main.cf").write_text("# the box's own main.cf\n")
    filler = etc / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k", "count=100"], capture_output=True)
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)

    full = mailwizard("run", "--root", str(root), "--answers", str(answers), "--through", "postfix-blank")
    assert full.returncode == 1, full.stdout + full.stderr
    assert "No space left on device" in full.stderr and "Nothing was half-written" in full.stderr
    assert "Traceback" not in full.stderr
    assert (etc / "postfix/main.cf").read_text() == "# the box's own main.cf\n"
    assert not list(etc.rglob("*.mailwizard-tmp")), "no temp file left on the full disk"

    filler.unlink()
    again = mailwizard("run", "--root", str(root), "--answers", str(answers), "--through", "postfix-blank")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "compatibility_level" in (etc / "postfix/main.cf").read_text()
    assert (etc / "postfix/main.cf.bak").read_text() == "# the box's own main.cf\n"


@pytest.mark.daemons           # mounts tmpfs: needs root, like the daemon tests
def test_a_read_only_state_directory_is_refused_before_anything_is_written(tmp_path, tmpfs):
    root = tmp_path / "box"
    tmpfs("box/var/lib/mailwizard", "ro,size=64k")
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    run = mailwizard("run", "--root", str(root), "--answers", str(answers))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Read-only file system" in run.stderr and "Traceback" not in run.stderr
    assert not (root / "etc/postfix/main.cf").exists()


def test_a_peer_that_never_answers_costs_one_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    values = {"exthost": "exthost.ext.test", "external_address": "bob@ext.test", "mailuser_address": "a@b.test",
              "vantage": "none", "fqdn": "mail.example.test"}
    runner = ProbeRunner(System(), values, reply_timeout=1.0)
    smtp = Probe(id="silent", title="a silent server", host="127.0.0.1", port=port,
                 action=SmtpMail(helo="x", mail_from="a@b.test", rcpt="c@d.test", body="x"),
                 expect=Refused("RCPT", ("554",)))
    imap = Probe(id="silent-imap", title="a silent IMAP server", host="127.0.0.1", port=port,
                 action=Imap(password="none"), expect=Answered(replies=("* OK",)))
    results = []
    worker = threading.Thread(target=lambda: results.extend(runner.run(p) for p in (smtp, imap)))
    worker.start()
    worker.join(30)
    listener.close()
    assert not worker.is_alive(), "a silent peer must not hold the probe"
    assert [r.status for r in results] == [FAILED, FAILED]
    assert "did not answer within 1 s" in results[0].actual
    assert any("no answer within 1 s" in line for line in results[1].transcript)


@pytest.mark.daemons
def test_the_outside_host_vanishing_fails_its_probes_clearly_and_the_server_still_serves(lab_up):
    subprocess.run(["ip", "netns", "del", f"{LAB_NAME}-ext"], check=True)
    walk = mailwizard("run", "--lab", "--answers", str(lab_up), "--through", "postfix-names")
    assert walk.returncode == 1, walk.stdout + walk.stderr
    assert "Traceback" not in walk.stderr
    assert f'Cannot open network namespace "{LAB_NAME}-ext"' in walk.stdout
    assert "[ok] test-b:" in walk.stdout          # the local proofs still hold
    greeting = in_namespace(f"{LAB_NAME}-mail", """
        import socket
        print(socket.create_connection(("127.0.0.1", 25), 5).makefile("rb").readline().decode().strip())
    """)
    assert greeting.startswith("220 ")
