"""What the walk's work comes to, as plain values: a check's result, a probe's result, a file's
planned change (and its diff), a file changed by hand. A leaf: it imports nothing of ours, so the
events, the faces, the report and every collaborator of the engine can name them without
reaching into the modules that make them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    found: str
    expected: str = ""
    fix: str = ""
    advisory: bool = False        # a failure is reported but does not hold the walk back

    def line(self) -> str:
        mark = "ok  " if self.ok else ("warn" if self.advisory else "FAIL")
        text = f"{mark} {self.name}: {self.found}"
        if not self.ok and self.expected:
            text += f" (expected {self.expected})"
        if not self.ok and self.fix:
            text += f" — fix: {self.fix}"
        return text


@dataclass
class ProbeResult:
    id: str
    title: str
    status: str
    expected: str
    actual: str = ""
    reason: str = ""
    transcript: list[str] = field(default_factory=list)
    transcript_extra: list[str] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    erratum: str = ""
    seconds: float = 0.0
    notice_lag: float | None = None   # delivered (file written) → noticed by the wizard, seconds

    def to_record(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FileChange:
    path: str
    old: str | None
    new: str | None          # None: the original file comes back (or goes, if there was none)
    restore_original: bool = False
    secret: bool = False     # readable by root alone: the diff says that it changes, not how

    @property
    def diff(self) -> str:
        return unified_diff(self.path, self.old, self.new, self.secret)


@dataclass
class Drift:
    path: str
    expected_sha: str
    actual_sha: str | None


def unified_diff(path: str, old: str | None, new: str | None, secret: bool = False) -> str:
    if secret:
        if old == new:
            return ""
        counts = f"{len((old or '').splitlines())} line(s) before, {len((new or '').splitlines())} after"
        return (f"--- {path} (now)\n+++ {path} (after)\n"
                f"# {path} holds a secret (readable by root alone): its lines are not shown ({counts})\n")
    return "".join(difflib.unified_diff(
        (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
        fromfile=f"{path} (now)", tofile=f"{path} (after)"))
