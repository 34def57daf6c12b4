"""Test D for real: with an MX record pointing at the server, mail to root@MAILDOMAIN bounces
with "loops back to myself". DNS comes from a server in a network namespace of our own; the
host's resolv.conf and routes are never touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.daemons


@pytest.fixture
def dns_namespace(box):
    name = f"mwtest{os.getpid()}"
    netns_etc = Path("/etc/netns") / name
    netns_dir_existed = netns_etc.parent.exists()
    subprocess.run(["ip", "netns", "add", name], check=True)
    server = None
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        netns_etc.mkdir(parents=True)
        (netns_etc / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        server = subprocess.Popen(
            ["ip", "netns", "exec", name, sys.executable, "-m", "wizard.lab.dnsserver",
             "--mail", "example.test", "mail.example.test", "127.0.0.1"],
            cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
        yield name
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        subprocess.run(["postfix", "stop"], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(netns_etc, ignore_errors=True)
        if not netns_dir_existed:
            shutil.rmtree(netns_etc.parent, ignore_errors=True)


def test_mail_for_the_bare_domain_loops_back_when_mx_points_here(box, dns_namespace):
    run = subprocess.run(
        ["ip", "netns", "exec", dns_namespace, sys.executable, "-m", "wizard.cli",
         "run", "--answers", str(box)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[ok] test-d:" in run.stdout
    state = json.loads(Path("/var/lib/mailwizard/state.json").read_text())
    probe = {p["id"]: p for p in state["steps"]["postfix-names"]["probes"]}["test-d"]
    assert probe["status"] == "met"
    assert "mail for example.test loops back to myself" in probe["actual"]
    assert "C: RCPT TO:<root@example.test>" in probe["transcript"]
