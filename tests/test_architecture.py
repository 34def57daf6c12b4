"""The house's shape as checks that fail when it is broken: the layers (import-linter's
contracts in pyproject.toml), the core never loading the UI toolkit, and steps that are data."""

from __future__ import annotations

import ast
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

CORE = ["wizard.engine", "wizard.cli", "wizard.config", "wizard.system", "wizard.state", "wizard.session",
        "wizard.checks", "wizard.platform", "wizard.daemons", "wizard.probes.runner", "wizard.lab.network", "wizard.audit.battery", "steps"]


def lint_imports(tree: Path, *contracts: str) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    only = [f"--contract={contract}" for contract in contracts]
    return subprocess.run([str(lint), "--no-cache", *only], cwd=tree, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def test_the_layers_hold():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "7 kept, 0 broken" in done.stdout, done.stdout


def contracts() -> dict[str, dict]:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def layer_modules() -> list[list[str]]:
    return [[name.strip() for name in layer.replace(":", "|").split("|")] for layer in contracts()["layers"]["layers"]]


def test_the_readme_lists_the_layers_the_contract_holds():
    """The README's map of the house is the contract itself, layer by layer."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- the layers, as in pyproject.toml -->\n```text\n", 1)[1].split("```", 1)[0]
    shown = [line.split("  ")[0].strip() for line in block.splitlines()]
    assert shown == [layer.strip() for layer in contracts()["layers"]["layers"]]


def test_every_module_of_the_package_is_in_a_layer():
    """The layers contract covers the whole of wizard/: a new module must be given its place."""
    listed = [name for layer in layer_modules() for name in layer]
    modules = [".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
               for path in (REPO / "wizard").rglob("*.py")]
    unplaced = sorted(m for m in modules if m != "wizard"
                      and not any(m == name or m.startswith(name + ".") for name in listed))
    assert not unplaced, f"not in any layer of pyproject.toml's layers contract: {unplaced}"
    assert len(listed) == len(set(listed)), "a module is in two layers"


def copy_of_the_code(tmp_path: Path) -> Path:
    for part in ("wizard", "steps", "assets"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    text = path.read_text()
    # After the module's docstring and `from __future__`, where an import would go.
    anchor = "from __future__ import annotations\n"
    path.write_text(text.replace(anchor, anchor + line + "\n", 1) if anchor in text else line + "\n" + text)


def test_each_contract_breaks_on_a_planted_violation(tmp_path):
    plantings = {
        "toolkit": ("wizard.config", "import rich"),
        "faces": ("wizard.tui.app", "import wizard.cli"),
        "engine": ("wizard.planning", "import wizard.engine"),
        "session": ("wizard.report", "import wizard.session"),
        "steps": ("steps.vmail", "import wizard.system"),
        # An upward import that makes no circle: a leaf of the mail records reaching for the form.
        "layers": ("wizard.mailauth", "import wizard.form"),
        # A circle inside one layer (the layers allow it; the acyclic contract does not).
        "acyclic": [("wizard.net.watch", "import wizard.net.imap"), ("wizard.net.imap", "import wizard.net.watch")],
    }
    for contract, planted in plantings.items():
        tree = copy_of_the_code(tmp_path / contract)
        for module, line in planted if isinstance(planted, list) else [planted]:
            plant(tree, module, line)
        done = lint_imports(tree, contract)       # that contract alone: the layers overlap the older ones
        assert done.returncode == 1, f"{contract}: {done.stdout}{done.stderr}"
        assert "0 kept, 1 broken" in done.stdout and module.rsplit(".", 1)[-1] in done.stdout, f"{contract}: {done.stdout}"


def test_core_modules_do_not_import_textual_or_rich():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_first_frame_needs_neither_the_engine_nor_the_walk():
    """What the launcher imports before the TUI's first frame (wizard.cli, wizard.tui.app)
    leaves the engine, the steps, the session and the walk's widgets to the opening worker."""
    heavy = ("wizard.engine", "wizard.session", "wizard.model", "steps", "wizard.tui.walk_view",
             "textual.widgets._markdown", "pexpect")
    code = ("import sys\nimport wizard.cli, wizard.tui.app\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout


# ---- steps are data ---------------------------------------------------------------------------

def model_constructors() -> set[str]:
    import wizard.model as model

    return {name for name, value in vars(model).items()
            if isinstance(value, type) and dataclasses.is_dataclass(value)}


ALLOWED_NODES = (ast.Module, ast.Expr, ast.ImportFrom, ast.alias, ast.Assign, ast.Name, ast.Load,
                 ast.Store, ast.Constant, ast.Tuple, ast.keyword, ast.Call, ast.JoinedStr,
                 ast.FormattedValue, ast.Attribute)


def not_data(source: str, constructors: set[str]) -> list[str]:
    """What in a step module is more than data: any statement but imports and assignments, any
    call but the model's constructors, any import but the model and other steps (whose values,
    `module.STEP`, may be named)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        where = f"line {getattr(node, 'lineno', '?')}"
        if not isinstance(node, ALLOWED_NODES):
            problems.append(f"{where}: {type(node).__name__}")
        elif isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            problems.append(f"{where}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in constructors):
            problems.append(f"{where}: a call to {ast.unparse(node.func)}")
        elif isinstance(node, ast.ImportFrom) and not (node.module == "wizard.model"
                                                       or (node.module or "").split(".")[0] == "steps"):
            problems.append(f"{where}: imports {node.module}")
        elif isinstance(node, ast.Expr) and not (isinstance(node.value, ast.Constant)
                                                 and isinstance(node.value.value, str)):
            problems.append(f"{where}: an expression statement")
    return problems


def test_steps_are_data_only():
    import steps
    from wizard.model import Step

    constructors = model_constructors()
    for path in sorted((REPO / "steps").glob("*.py")):
        assert not_data(path.read_text(), constructors) == [], path.name
    assert all(isinstance(s, Step) for s in steps.ALL_STEPS)
    ids = [s.id for s in steps.ALL_STEPS]
    assert ids[:4] == ["prereq", "install", "postfix-blank", "postfix-names"]
    assert len(set(ids)) == len(ids)


def test_the_data_check_catches_control_flow_in_a_step():
    constructors = model_constructors()
    clean = (REPO / "steps" / "vmail.py").read_text()
    planted = {
        "def": clean + "\ndef helper():\n    return 1\n",
        "lambda": clean + "\nPICK = lambda s: s\n",
        "if": clean + "\nif True:\n    X = 1\n",
        "for": clean + "\nfor i in (1, 2):\n    X = i\n",
        "a call": clean + "\nX = sorted((2, 1))\n",
        "a method call": clean + '\nX = ", ".join(("a", "b"))\n',
        "an import": "import os\n" + clean,
    }
    for what, source in planted.items():
        assert not_data(source, constructors), f"{what} went unnoticed"


def test_every_package_of_wizard_is_shipped_in_the_wheel():
    """pyproject.toml lists the packages a wheel holds: a new folder left out of it would be
    missing from every install but a checkout's."""
    import tomllib

    shipped = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "wizard").rglob("__init__.py")}
    assert found - {"wizard.assets"} <= shipped, f"not in pyproject.toml's packages: {sorted(found - shipped)}"
