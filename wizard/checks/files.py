"""The checks of the box's files and commands: a command installed, a file's owner, group and mode."""

from __future__ import annotations

import shutil


from wizard.checks.result import SBIN_PATH, CheckContext
from wizard.outcomes import CheckResult


def check_command(ctx: CheckContext, name: str) -> CheckResult:
    found = shutil.which(name, path=SBIN_PATH)
    if found:
        return CheckResult(f"command {name}", True, found)
    package = {"postfix": "postfix", "sendmail": "postfix", "postconf": "postfix",
               "dovecot": "dovecot-core", "doveadm": "dovecot-core"}.get(name)
    fix = (f"install it with the `install` step or `apt-get install {package}`" if package
           else f"install the package that provides {name}")
    return CheckResult(f"command {name}", False, "not found", "installed", fix)


def check_owned_by(ctx: CheckContext, path: str, owner: str, group: str) -> CheckResult:
    import grp
    import pwd

    name = f"{path} belongs to {owner}:{group}"
    target = ctx.system.path(path)
    try:
        st = target.stat()
    except FileNotFoundError:
        return CheckResult(name, False, f"{path} does not exist", f"{owner}:{group}",
                           f"mkdir {path}; chown {owner}:{group} {path}")
    try:
        have = f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}"
    except KeyError:
        have = f"{st.st_uid}:{st.st_gid}"
    if ctx.system.sandbox or have == f"{owner}:{group}":
        return CheckResult(name, True, have)
    return CheckResult(name, False, have, f"{owner}:{group}", f"chown {owner}:{group} {path}")


def check_private_file(ctx: CheckContext, path: str, group: str) -> CheckResult:
    """Readable by root and `group` only: never by every user of the box."""
    import grp

    name = f"{path} is not world-readable"
    target = ctx.system.path(path)
    try:
        st = target.stat()
    except FileNotFoundError:
        return CheckResult(name, False, f"{path} does not exist", "a file", "run the step that writes it")
    mode = st.st_mode & 0o777
    try:
        have_group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        have_group = str(st.st_gid)
    if mode & 0o007 == 0 and (ctx.system.sandbox or have_group == group):
        return CheckResult(name, True, f"mode {mode:o}, group {have_group}")
    return CheckResult(name, False, f"mode {mode:o}, group {have_group}", f"mode 640, group {group}",
                       f"chown root:{group} {path}; chmod 0640 {path}")


def check_owner_only(ctx: CheckContext, path: str, owner: str) -> CheckResult:
    """A secret (a private key) readable by its owner alone: mode 600 or tighter."""
    import pwd

    name = f"{path} is readable by {owner} only"
    try:
        st = ctx.system.path(path).stat()
    except FileNotFoundError:
        if ctx.system.sandbox:
            return CheckResult(name, True, "sandbox: no key is made there")
        return CheckResult(name, False, f"{path} does not exist", "a file", "run the step that makes it")
    try:
        have = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        have = str(st.st_uid)
    mode = st.st_mode & 0o777
    if mode & 0o077 == 0 and (ctx.system.sandbox or have == owner):
        return CheckResult(name, True, f"mode {mode:o}, owner {have}")
    return CheckResult(name, False, f"mode {mode:o}, owner {have}", f"mode 600, owner {owner}",
                       f"chown {owner} {path}; chmod 0600 {path}")
