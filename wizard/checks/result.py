"""What a check comes to (CheckResult: found, expected, the fix in one line) and what it is given (CheckContext). A leaf."""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.system import System
from wizard.timeouts import DEFAULT_TIMEOUT



SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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
class CheckContext:
    system: System
    values: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
