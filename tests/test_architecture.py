"""The headless core never pulls in the UI toolkit (harlequin's rule)."""

import subprocess
import sys

CORE = ["wizard.engine", "wizard.cli", "wizard.config", "wizard.system", "wizard.state",
        "wizard.checks", "wizard.platform", "wizard.daemons", "wizard.probes.runner", "wizard.lab.network", "steps"]


def test_core_modules_do_not_import_textual_or_rich():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_steps_are_data_only():
    import steps
    from wizard.model import Step
    assert all(isinstance(s, Step) for s in steps.ALL_STEPS)
    ids = [s.id for s in steps.ALL_STEPS]
    assert ids[:4] == ["prereq", "install", "postfix-blank", "postfix-names"]
    assert len(set(ids)) == len(ids)
