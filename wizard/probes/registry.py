"""One handler for each kind of probe action and of expectation, found by the kind's name.

A handler is a module of its own: wizard/probes/actions/KIND.py carries an action out (an SMTP
session, an IMAP session, a flush …), wizard/probes/expectations/KIND.py describes and judges
an expectation (delivered, refused, queued …). Each registers itself with `@action` or
`@expectation`; the runner asks `action_for(probe.action)` and `expectation_for(probe.expect)`
and knows none of them. A new kind is one new module in its folder: the folders are read
whole the first time a handler is asked for, so nothing else lists it.

What an action asks of the expectation it runs against, it asks through the hooks of
`ExpectationHandler` (where to stop an SMTP session, how to judge the lines an IMAP session
got, what arrived after Postfix accepted the message), each with a default that says plainly
that this kind cannot be judged that way.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from typing import TYPE_CHECKING

from wizard.probes.result import FAILED

if TYPE_CHECKING:
    from wizard.model import Probe
    from wizard.net.dialogue import Reply, Transcript
    from wizard.outcomes import ProbeResult
    from wizard.probes.runner import ProbeRunner

FOLDERS = ("wizard.probes.actions", "wizard.probes.expectations")
_ACTIONS: dict[str, "ActionHandler"] = {}
_EXPECTATIONS: dict[str, "ExpectationHandler"] = {}
_loaded = threading.Lock()
_done = False


class UnknownKind(LookupError):
    pass


class ActionHandler:
    """Carries out one kind of action and leaves its outcome in the result."""

    kind = ""

    def run(self, ctx: "ProbeRunner", probe: "Probe", result: "ProbeResult", transcript: "Transcript",
            via: str) -> None:
        raise NotImplementedError

    # ---- what the diagram asks (wizard/flow.py) --------------------------------------------------
    def travelled(self, probe: "Probe", expect: "ExpectationHandler") -> list[str]:
        """The parts of the server the probe passes through, in order."""
        raise NotImplementedError

    def listens(self, probe: "Probe") -> str | None:
        """The listening part whose port the probe talks to ("smtpd", "imap"), if any."""
        return None


class ExpectationHandler:
    """Describes and judges one kind of expectation. The defaults say that an outcome of the
    kind asked for cannot be judged against this expectation."""

    kind = ""
    # It makes its own connection instead of the action's (a handshake that verifies: `trusted`).
    takes_the_action = False

    def describe(self, expect, values: dict[str, str]) -> str:
        return f"{expect.kind} {' '.join(getattr(expect, 'args', ()))}".strip()

    def run(self, ctx: "ProbeRunner", probe: "Probe", result: "ProbeResult", transcript: "Transcript",
            via: str) -> None:
        raise NotImplementedError

    # ---- what an SMTP session asks ---------------------------------------------------------------
    def mailbox_start(self, ctx: "ProbeRunner", expect) -> int:
        """Where in a mailbox file to look for the message from (read before it is sent)."""
        return 0

    def refused_at(self, expect) -> str | None:
        """The SMTP stage the server must refuse at (the session stops there), if any."""
        return None

    def judge_refusal(self, ctx: "ProbeRunner", expect, reply: "Reply", result: "ProbeResult") -> None:
        result.status, result.actual = FAILED, f"refused: {reply.last}"

    def judge_offer(self, ctx: "ProbeRunner", expect, ehlo: "Reply | None", result: "ProbeResult") -> None:
        result.actual = "the session ended before anything could be judged"

    def after_accepted(self, ctx: "ProbeRunner", expect, result: "ProbeResult", marker: str, start: int,
                       queue_id: str | None) -> None:
        """Postfix took the message (queue id known when it said one): what became of it."""
        result.actual = "accepted, but a refusal was expected"

    # ---- what other actions ask ----------------------------------------------------------------
    def judge_lines(self, ctx: "ProbeRunner", expect, result: "ProbeResult", lines: list[str],
                    refused: bool = False, why: str = "") -> None:
        """The lines a session got (IMAP, doveadm), or `refused` with `why`."""
        result.actual = why or f"{len(lines)} line(s) said; '{expect.kind}' does not judge a session's lines"

    def route(self, ctx: "ProbeRunner", expect) -> str:
        """The text a flushed message's log line must show (its way out), "" for any."""
        return ""

    def rows(self, expect) -> tuple[str, ...]:
        """The audit rows that must pass (every row of the check when empty)."""
        return ()

    # ---- what the diagram asks (wizard/flow.py) --------------------------------------------------
    def sends_out(self, expect) -> bool:
        """The message is one being sent out (it starts at the user's mail client)."""
        return False

    def signed(self, expect) -> bool:
        """Proven by the signer's work (the DKIM signature, or the receiver's verdict on it)."""
        return False

    def after_smtpd(self, expect) -> list[str]:
        """Where the accepted message goes on to (nothing: refused, bounced, only asked)."""
        return []

    def reaches_maildir(self, expect) -> bool:
        """An IMAP session that leaves something in the Maildir."""
        return False


def action(cls: type[ActionHandler]) -> type[ActionHandler]:
    _register(_ACTIONS, cls)
    return cls


def expectation(cls: type[ExpectationHandler]) -> type[ExpectationHandler]:
    _register(_EXPECTATIONS, cls)
    return cls


def _register(table: dict, cls: type) -> None:
    if not cls.kind or cls.kind in table:
        raise ValueError(f"{cls.__name__}: a handler needs a kind of its own (has {cls.kind!r})")
    table[cls.kind] = cls()


def action_for(value) -> ActionHandler:
    return _lookup(_ACTIONS, value.kind, "action", "actions")


def expectation_for(value) -> ExpectationHandler:
    return _lookup(_EXPECTATIONS, value.kind, "expectation", "expectations")


def describe(expect, values: dict[str, str]) -> str:
    return expectation_for(expect).describe(expect, values)


def kinds() -> dict[str, list[str]]:
    _load()
    return {"actions": sorted(_ACTIONS), "expectations": sorted(_EXPECTATIONS)}


def _lookup(table: dict, kind: str, what: str, folder: str):
    _load()
    try:
        return table[kind]
    except KeyError:
        raise UnknownKind(f"no handler for the {what} '{kind}': add wizard/probes/{folder}/"
                          f"{kind.replace('-', '_')}.py (known: {', '.join(sorted(table))})") from None


def _load() -> None:
    """Every module of the two folders imported once (each registers its handler)."""
    global _done
    if _done:
        return
    with _loaded:
        if _done:
            return
        for folder in FOLDERS:
            package = importlib.import_module(folder)
            for module in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{folder}.{module.name}")
        _done = True
