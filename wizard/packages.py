"""Debian packages a step needs: debconf answered first, apt's progress streamed as events."""

from __future__ import annotations

import os
from typing import Callable

from wizard.config import fill
from wizard.context import WalkContext
from wizard.events import Note, Progress
from wizard.model import Step

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def installed(ctx: WalkContext, package: str) -> bool:
    out = ctx.system.query(["dpkg-query", "-W", "-f=${Status}", package])
    return out.ok and "install ok installed" in out.stdout


def install_packages(ctx: WalkContext, step: Step, values: dict[str, str],
                     confirm: Callable[[str, bool], bool] = lambda question, risky: not risky) -> str:
    """Install what `step` needs and is missing; the problem, or "" when all are there.

    Postfix replaces whatever other MTA holds port 25 (apt removes it: they conflict), but only
    once the user said yes to that (headless: --yes)."""
    if not step.packages:
        return ""
    missing = [p for p in step.packages if not installed(ctx, p)]
    if ctx.system.sandbox:
        ctx.emit(Note(step.id, "sandbox: packages are not installed"
                      + (f" (would install {' '.join(missing)})" if missing else "")))
        return ""
    if missing and ctx.lab:
        # The lab's namespaces reach nothing beyond the lab, so apt cannot fetch there.
        return (f"{' '.join(missing)} not installed, and the lab has no way to the package mirrors: "
                f"install it outside the lab (`apt-get install {' '.join(missing)}`), then run again.")
    if "postfix" in missing:
        problem = _make_way_for_postfix(ctx, step, confirm)
        if problem:
            return problem
    if missing:
        ctx.emit(Note(step.id, f"installing {' '.join(missing)}"))
        selections = "\n".join(fill(line, values) for line in step.debconf) + "\n"
        ctx.system.run(["debconf-set-selections"], input=selections)
        update = ctx.system.run(["apt-get", "update", "-q"], env=APT_ENV, timeout=600)
        if not update.ok:
            return f"apt-get update failed: {update.describe()[-400:]}"
        result = ctx.system.run(["apt-get", "install", "-y", "-q", "-o", "APT::Status-Fd=1",
                                 "-o", "Dpkg::Options::=--force-confold", *missing],
                                env=APT_ENV, timeout=1800,
                                on_line=lambda line: _show_progress(ctx, step.id, line))
        if not result.ok:
            return f"apt-get install failed: {result.describe()[-400:]}. Fix apt, then run again."
        ctx.forget_platform()
    else:
        ctx.emit(Note(step.id, "all packages are installed already"))
    ctx.emit(Note(step.id, f"found: {ctx.platform.describe()}"))
    return ""


def other_mta(system) -> tuple[str, str] | None:
    """(program, package) of a mail server other than Postfix that holds port 25 here."""
    from wizard.checks.ports import listeners

    for pid, program in listeners(25):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe.startswith("/usr/lib/postfix/"):
            continue
        owner = system.query(["dpkg-query", "-S", exe]).stdout.split(":")[0].strip()
        return program, owner or "an unknown package"
    return None


def install_outside_the_lab(system, packages: list[str], selections: str,
                            on_line: Callable[[str], None]) -> str:
    """`packages` installed on this box before a lab walk (whose network reaches no mirror), apt's
    questions answered by `selections` first; what failed, or ""."""
    system.run(["debconf-set-selections"], input=selections)
    update = system.run(["apt-get", "update", "-q"], env=APT_ENV, timeout=600)
    if not update.ok:
        return f"apt-get update failed: {update.describe()[-400:]}. Fix apt, then run again."
    result = system.run(["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confold", *packages],
                        env=APT_ENV, timeout=1800, on_line=on_line)
    if not result.ok:
        return f"apt-get install failed: {result.describe()[-400:]}. Fix apt, then run again."
    return ""


def _make_way_for_postfix(ctx: WalkContext, step: Step, confirm) -> str:
    holder = other_mta(ctx.system)
    if holder is None:
        return ""
    program, package = holder
    said = f"{program} (from {package}) holds port 25"
    if not confirm(f"{said}. Installing Postfix replaces it: apt removes {package}. Go ahead?", True):
        return (f"{said}: Postfix would replace it, and mailwizard does that only with your consent. "
                f"Run the step again and say yes (headless: --yes), or remove it yourself (`apt-get remove {package}`).")
    ctx.emit(Note(step.id, f"{said}: replacing {package} with Postfix, as you agreed"))
    return ""


def _show_progress(ctx: WalkContext, step_id: str, line: str) -> None:
    progress = apt_progress(step_id, line)
    if progress is not None:
        ctx.emit(progress)


def apt_progress(step_id: str, line: str) -> Progress | None:
    """apt's status lines (`pmstatus:PKG:PERCENT:WHAT`) as progress; other lines as they are."""
    kind, _, rest = line.partition(":")
    if kind in ("pmstatus", "dlstatus"):
        _, percent, what = (rest.split(":", 2) + ["", ""])[:3]
        try:
            return Progress(step_id, what, float(percent))
        except ValueError:
            return None
    return Progress(step_id, line.strip()) if line.strip() else None
