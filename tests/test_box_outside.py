"""An outside on the same box (`vantage = "box"`): a first-time admin with one machine still
meets the tutorial's outside sessions, from a network namespace the wizard makes for the walk.

The "box" here is the lab's mail namespace, walked without --lab (so the host's own routes and
interfaces are never touched): the wizard joins its outside namespace to it by a veth pair."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LAB_NAME, REPO, STATE_DIR, in_namespace, lab_answers

pytestmark = pytest.mark.daemons

OUTSIDE_ETC = Path("/etc/netns/mwoutside")


def on_the_box(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "MAILWIZARD_LAB"}
    return subprocess.run(["ip", "netns", "exec", f"{LAB_NAME}-mail", sys.executable, "-m", "wizard", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def probes() -> dict[str, dict]:
    state = json.loads((STATE_DIR / "state.json").read_text())
    return {f"{step}/{p['id']}": p for step, record in state["steps"].items() for p in record["probes"]}


def test_the_outside_probes_run_from_an_outside_on_the_same_box(lab_up):
    lab_up.write_text(lab_answers("box"))
    walk = on_the_box("run", "--answers", str(lab_up), "--through", "restrictions")
    assert walk.returncode == 0, walk.stdout[-4000:] + walk.stderr
    assert "the outside is simulated on this box: network namespace mwoutside (198.51.100.2)" in walk.stdout
    found = probes()
    for pid in ("postfix-names/test-g", "postfix-names/relay-denied", "postfix-names/forged-sender-denied",
                "dovecot-tls/imap-plain-refused", "dovecot-tls/imaps", "sasl/no-auth-no-relay",
                "tls-auth-only/auth-refused-in-clear", "tls-auth-only/no-auth-in-clear"):
        assert found[pid]["status"] == "met", (pid, found[pid])
        lines = found[pid]["transcript"]
        assert lines[0] == ("S: (the outside is simulated on this box: network namespace mwoutside "
                            "(198.51.100.2), which reaches this server at 198.51.100.1)"), (pid, lines[:2])
        assert lines[1].startswith("C: [netns:mwoutside] $ telnet mail.example.test"), (pid, lines[:2])
    # Refused as a stranger, not trusted as this box: the plaintext LOGIN and the relay.
    assert "PRIVACYREQUIRED" in " ".join(found["dovecot-tls/imap-plain-refused"]["transcript"])
    assert "Relay access denied" in found["postfix-names/relay-denied"]["actual"]
    # What needs a client with a name in public DNS is said, and not counted as met.
    nameless = [p for p in found.values() if "no name in public DNS" in p.get("reason", "")]
    assert nameless and all(p["status"] == "inconclusive" for p in nameless), nameless
    # Gone when the walk ended; and one a crash left behind goes with reset.
    assert not OUTSIDE_ETC.exists()
    in_namespace(f"{LAB_NAME}-mail", """
        from wizard.lab.box_outside import BoxOutside
        from wizard.system import System
        assert BoxOutside(System()).up("mail.example.test") == ""
    """)
    assert (OUTSIDE_ETC / "hosts").read_text().endswith("198.51.100.1 mail.example.test\n")
    reset = on_the_box("reset", "--yes")
    assert reset.returncode == 0 and "removed the outside simulated on this box (mwoutside)" in reset.stdout, \
        reset.stdout + reset.stderr
    assert not OUTSIDE_ETC.exists()
