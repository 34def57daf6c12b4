"""What a check is given (CheckContext: the box, the walk's values, its timeout); what it comes to is
wizard.outcomes.CheckResult."""

from __future__ import annotations

from dataclasses import dataclass, field

from wizard.system import System
from wizard.timeouts import DEFAULT_TIMEOUT

SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class CheckContext:
    system: System
    values: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
