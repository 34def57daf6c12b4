"""Run a step's probe for real and judge it against its expectation.

Outcomes: `met` (the server did what the tutorial shows, failures included when they are the
point), `failed`, `inconclusive` (this box cannot tell, e.g. DNS is missing; the reason says why)
and `not-run` (sandbox, or no external vantage point).

The runner does what every probe needs (when it runs at all, from where, its requirements, the
logs' marks, the transcript) and hands the rest to the handlers of the probe's kinds of action
and expectation (wizard/probes/registry.py): it knows none of them. To them it offers what they
share: the walk's values and passwords, the logs, the waits on a Maildir and on Postfix's verdict.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from pathlib import Path

from wizard.checks import run_requirement
from wizard.config import fill
from wizard.lab import box_outside
from wizard.logs import DOVECOT_LOG, MAIL_LOG, DaemonLog, MailLog
from wizard.model import Probe
from wizard.net.dialogue import Dialogue, DialogueError, Reply, Transcript
from wizard.probes.registry import ExpectationHandler, action_for, describe, expectation_for
from wizard.outcomes import ProbeResult
from wizard.probes.result import (DELIVERY_TIMEOUT, FAILED, INCONCLUSIVE, MARKER_HEADER, MET,  # noqa: F401
                                  NOT_RUN, REPLY_TIMEOUT, auth_plain, file_with, lag, message_lines, smtp_stages)
from wizard.system import System

describe_expectation = describe          # the name the explanations' test and the report know


def _why_verdict(system, queue_id: str) -> str:
    """`why`'s one line on this message, from the logs as they are now."""
    from wizard.tracing import open_logs, trace

    try:
        found = trace(open_logs(system), queue_id)
    except OSError as exc:          # the probe's own verdict stands; why's is a help
        return f"(the logs could not be followed: {exc})"
    return found.verdict if found else "(the logs say nothing of it yet)"


def _ask_nobody(question: str) -> str:
    return ""


class ProbeRunner:
    """`ask` answers the manual vantage point's questions (a person typing on another host)."""

    def __init__(self, system: System, values: dict[str, str], on_line=None,
                 delivery_timeout: float = DELIVERY_TIMEOUT, reply_timeout: float = REPLY_TIMEOUT,
                 ask=_ask_nobody, passwords: dict[str, str] | None = None):
        self.passwords = passwords or {}     # clear, in memory only: for LOGIN as the tutorial does
        self.system = system
        self.values = values
        self.on_line = on_line
        self.ask = ask
        self.delivery_timeout = delivery_timeout
        self.reply_timeout = reply_timeout
        self.log = MailLog(system.path(MAIL_LOG))           # byte offsets: what a probe waits for
        self.dovecot_log = MailLog(system.path(DOVECOT_LOG))
        self.daemon_logs = {"mail.log": DaemonLog(system, MAIL_LOG), "dovecot.log": DaemonLog(system, DOVECOT_LOG)}
        self.log_start = self.dovecot_start = 0              # the logs' ends when the probe began

    def run(self, probe: Probe) -> ProbeResult:
        probe = probe.in_dialect(self.values.get("dovecot_dialect", "2.3"))
        probe, alone = self._from_here_when_alone(probe)
        title = fill(probe.title, self.values)
        result = ProbeResult(probe.id, title, FAILED, describe(probe.expect, self.values),
                             erratum=probe.erratum.text if probe.erratum else "")
        if probe.when and self.values.get(probe.when[0]) != probe.when[1]:
            result.status = NOT_RUN
            result.reason = f"not this walk's: the answers give {probe.when[0]} = {self.values.get(probe.when[0], '')}"
            return result
        if self.system.sandbox:
            result.status, result.reason = NOT_RUN, "sandbox (--root): nothing is sent"
            return result
        via = self._via(probe)
        if via == "none":
            result.status = NOT_RUN
            result.reason = ("needs a host outside this server: set external.vantage = \"box\" (an "
                             "outside simulated on this box, for one machine), or netns:NAME, ssh:user@host "
                             "or manual, or run in the lab (`--lab`)")
            return result
        for requirement in probe.needs:
            check = run_requirement(self.system, requirement, self.values)
            if not check.ok:
                result.status = INCONCLUSIVE
                result.reason = f"cannot be shown here: {check.found}. {check.fix[:1].upper()}{check.fix[1:]}."
                return result
        started = time.monotonic()
        self.log_start = self.log.offset()
        self.dovecot_start = self.dovecot_log.offset()
        marks = {name: log.offset() for name, log in self.daemon_logs.items()}
        transcript = Transcript(sink=self.on_line)
        if alone:
            transcript.add("S", "(no outside vantage point: sent from this box instead)")
        here = bool(self.values.get("outside_here")) and via.startswith("netns:")
        if here:
            transcript.add("S", f"({box_outside.describe()})")
        judge = expectation_for(probe.expect)
        try:
            (judge if judge.takes_the_action else action_for(probe.action)).run(self, probe, result, transcript, via)
        except DialogueError as exc:
            result.status, result.actual = FAILED, str(exc)
        if here and result.status == FAILED and any(said in result.actual for said in box_outside.NAMELESS_REFUSALS):
            result.status, result.reason = INCONCLUSIVE, box_outside.NAMELESS_REASON
        result.transcript = transcript.lines + result.transcript_extra
        result.transcript_extra = []
        result.seconds = round(time.monotonic() - started, 3)
        if result.status == FAILED:
            result.log_lines = [f"{name}: {line}" for name, log in self.daemon_logs.items()
                                for line in log.lines_since(marks[name])[-20:]]
        return result

    def _from_here_when_alone(self, probe: Probe) -> tuple[Probe, bool]:
        """A probe the tutorial types on EXTHOST that proves as much from this box: without a
        vantage point it runs here, to localhost, rather than not at all."""
        if probe.vantage != "external-else-local" or (self.values.get("vantage") or "none") != "none":
            return probe, False
        return replace(probe, vantage="local", host="localhost"), True

    def _via(self, probe: Probe) -> str:
        """Where the probe's connection starts: this box, or the configured outside vantage."""
        return "local" if probe.vantage == "local" else self.values.get("vantage", "none") or "none"

    # ---- what the handlers share ---------------------------------------------------------------
    @staticmethod
    def expectation(expect) -> ExpectationHandler:
        return expectation_for(expect)

    @staticmethod
    def marker(probe: Probe) -> str:
        return f"{probe.id}-{secrets.token_hex(6)}"

    @staticmethod
    def read_quietly(talk: Dialogue) -> None:
        try:
            talk.read_reply()
        except DialogueError:
            pass

    @staticmethod
    def expect_code(reply: Reply, code: str, stage: str, result: ProbeResult) -> bool:
        if reply.code == code:
            return True
        result.status, result.actual = FAILED, f"{stage}: {reply.last}"
        return False

    def wait_in_maildir(self, maildir: str, marker: str) -> Path | None:
        """The message file that holds `marker` under the Maildir, waited for (bounded)."""
        folder = self.system.path(fill(maildir, self.values))
        deadline = time.monotonic() + self.delivery_timeout
        found = file_with(folder, marker)
        while found is None and time.monotonic() < deadline:
            time.sleep(0.02)
            found = file_with(folder, marker)
        return found

    def arrived_in_maildir(self, maildir: str, marker: str, result: ProbeResult, queue_id: str | None) -> Path | None:
        """The message's file in the Maildir, waited for; when it never came, None and the
        result says where it was not and what the log says of it."""
        found = self.wait_in_maildir(maildir, marker)
        if found is None:
            result.actual = self.not_found_in(fill(maildir, self.values), queue_id)
        else:
            result.notice_lag = lag(found)
        return found

    def not_found_in(self, where: str, queue_id: str | None) -> str:
        fate = self.log.fate(queue_id, self.log_start) if queue_id else ""
        return f"not in {where} after {self.delivery_timeout:g} s" + (f"; the log says: {fate}" if fate else "")

    def fate_line(self, result: ProbeResult, queue_id: str | None) -> str | None:
        """The log line that tells what became of the accepted message; None (and the reason
        in `result`) when there is no queue id or no delivery attempt in time."""
        if not queue_id:
            result.actual = "the server gave no queue id"
            return None
        line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self.log_start)
        if line is None:
            result.actual = f"no delivery attempt in the log after {self.delivery_timeout:g} s"
        return line

    def why_verdict(self, queue_id: str) -> str:
        return _why_verdict(self.system, queue_id)
