"""What this box runs: Debian release, Postfix and Dovecot versions, the service manager.

Every render takes its dialect from here, so one teaching step can be written in the syntax of
whatever Postfix and Dovecot are installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wizard.dialect import dialect_for
from wizard.system import System, systemd_booted

FALLBACK_COMPATIBILITY_LEVEL = "3.6"


@dataclass(frozen=True)
class Platform:
    debian: str | None
    postfix: str | None
    dovecot: str | None
    systemd: bool
    compatibility_level: str

    @property
    def dovecot_dialect(self) -> str:
        """The dovecot.conf syntax to write: "2.3" (the tutorial's) or "2.4"."""
        return dialect_for(self.dovecot, self.debian)

    def values(self) -> dict[str, str]:
        return {"compatibility_level": self.compatibility_level,
                "dovecot_dialect": self.dovecot_dialect}

    def describe(self) -> str:
        return (f"Debian {self.debian or '?'}, Postfix {self.postfix or 'not installed'}, "
                f"Dovecot {self.dovecot or 'not installed'} ({self.dovecot_dialect} syntax), "
                f"{'systemd' if self.systemd else 'no systemd'}")


def detect(system: System) -> Platform:
    debian = _read("/etc/debian_version").strip() or None
    postfix = _first(system.query(["postconf", "-d", "-h", "mail_version"]).stdout)
    dovecot_out = system.query(["dovecot", "--version"])
    dovecot = _first(dovecot_out.stdout).split(" ")[0] if dovecot_out.ok else None
    return Platform(debian, postfix or None, dovecot or None, systemd_booted(),
                    _compatibility_level(postfix))


def _first(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _read(path: str) -> str:
    # The platform is the box's own, also when files are written into a sandbox.
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _compatibility_level(postfix_version: str | None) -> str:
    """The level a fresh install of this Postfix writes: its main.cf.proto carries it."""
    for source in ("/etc/postfix/main.cf.proto", "/usr/share/postfix/main.cf.dist"):
        m = re.search(r"^compatibility_level\s*=\s*([0-9.]+)\s*$", _read(source), re.M)
        if m:
            return m.group(1)
    return FALLBACK_COMPATIBILITY_LEVEL
