"""Run a step's probe for real and judge it against its expectation.

Outcomes: `met` (the server did what the tutorial shows, failures included when they are the
point), `failed`, `inconclusive` (this box cannot tell, e.g. DNS is missing; the reason says why)
and `not-run` (sandbox, or no external vantage point).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from wizard.checks import run_requirement
from wizard.config import fill
from wizard.logs import MAIL_LOG, MailLog
from wizard.model import Bounced, Delivered, Probe, Refused, Relayed, Sendmail, SmtpMail
from wizard.probes.dialogue import Dialogue, DialogueError, Reply, Transcript, open_channel, telnet_line
from wizard.probes.watch import file_size, wait_for
from wizard.system import System

MET, FAILED, INCONCLUSIVE, NOT_RUN = "met", "failed", "inconclusive", "not-run"
DELIVERY_TIMEOUT = 20.0
REPLY_TIMEOUT = 10.0
MARKER_HEADER = "X-Mailwizard-Probe"


@dataclass
class ProbeResult:
    id: str
    title: str
    status: str
    expected: str
    actual: str = ""
    reason: str = ""
    transcript: list[str] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    erratum: str = ""
    seconds: float = 0.0

    def to_record(self) -> dict:
        return dict(self.__dict__)


def describe_expectation(expect, values: dict[str, str]) -> str:
    if isinstance(expect, Delivered):
        return f"delivered to {expect.mailbox}"
    if isinstance(expect, Relayed):
        return "handed to the recipient's server" + (
            f" and found in {fill(expect.mailbox, values)}" if fill(expect.mailbox, values) else "")
    if isinstance(expect, Bounced):
        return f"accepted, then bounced: \"{fill(expect.text, values)}\""
    if isinstance(expect, Refused):
        text = f" \"{expect.text}\"" if expect.text else ""
        return f"refused at {expect.stage} with {' or '.join(expect.codes)}{text}"
    return str(expect)


def _ask_nobody(question: str) -> str:
    return ""


class ProbeRunner:
    """`ask` answers the manual vantage point's questions (a person typing on another host)."""

    def __init__(self, system: System, values: dict[str, str], on_line=None,
                 delivery_timeout: float = DELIVERY_TIMEOUT, reply_timeout: float = REPLY_TIMEOUT,
                 ask=_ask_nobody):
        self.system = system
        self.values = values
        self.on_line = on_line
        self.ask = ask
        self.delivery_timeout = delivery_timeout
        self.reply_timeout = reply_timeout
        self.log = MailLog(system.path(MAIL_LOG))

    def run(self, probe: Probe) -> ProbeResult:
        title = fill(probe.title, self.values)
        result = ProbeResult(probe.id, title, FAILED, describe_expectation(probe.expect, self.values),
                             erratum=probe.erratum.text if probe.erratum else "")
        if self.system.sandbox:
            result.status, result.reason = NOT_RUN, "sandbox (--root): nothing is sent"
            return result
        via = self._via(probe)
        if via == "none":
            result.status = NOT_RUN
            result.reason = ("needs a host outside this server: run in the lab (`--lab`) or set "
                             "external.vantage to netns:NAME, ssh:user@host or manual")
            return result
        for requirement in probe.needs:
            check = run_requirement(self.system, requirement, self.values)
            if not check.ok:
                result.status = INCONCLUSIVE
                result.reason = f"cannot be shown here: {check.found}. {check.fix[:1].upper()}{check.fix[1:]}."
                return result
        started = time.monotonic()
        log_start = self._log_start = self.log.offset()
        transcript = Transcript(sink=self.on_line)
        try:
            if isinstance(probe.action, SmtpMail) and via == "manual":
                self._smtp_by_hand(probe, result, transcript)
            elif isinstance(probe.action, SmtpMail):
                self._smtp(probe, result, transcript, via)
            else:
                self._sendmail(probe, result, transcript)
        except DialogueError as exc:
            result.status, result.actual = FAILED, str(exc)
        result.transcript = transcript.lines
        result.seconds = round(time.monotonic() - started, 3)
        if result.status == FAILED:
            result.log_lines = self.log.lines_since(log_start)[-30:]
        return result

    def _via(self, probe: Probe) -> str:
        """Where the probe's connection starts: this box, or the configured outside vantage."""
        return "local" if probe.vantage == "local" else self.values.get("vantage", "none") or "none"

    # ---- actions -------------------------------------------------------------------------------
    def _marker(self, probe: Probe) -> str:
        return f"{probe.id}-{secrets.token_hex(6)}"

    def _message(self, body: str, marker: str) -> list[str]:
        lines = [f"Subject: {body}", f"{MARKER_HEADER}: {marker}", "", *body.splitlines()]
        return ["." + line if line.startswith(".") else line for line in lines]

    def _sendmail(self, probe: Probe, result: ProbeResult, transcript: Transcript) -> None:
        action: Sendmail = probe.action
        to = fill(action.to, self.values)
        marker = self._marker(probe)
        mailbox_start = self._mailbox_offset(probe.expect)
        transcript.add("C", f"$ sendmail {to}")
        message = self._message(fill(action.body, self.values), marker)
        for line in message:
            transcript.add("C", line)
        transcript.add("C", ".")
        done = self.system.run(["sendmail", "-i", to], input="\n".join(message) + "\n", timeout=30)
        if not done.ok:
            result.actual = done.describe()
            return
        self._await_delivery(probe, result, marker, mailbox_start, queue_id=None)

    def _stages(self, action: SmtpMail) -> list[tuple[str, str, str]]:
        return [
            ("HELO", f"HELO {fill(action.helo, self.values)}", "250"),
            ("MAIL", f"MAIL FROM:<{fill(action.mail_from, self.values)}>", "250"),
            ("RCPT", f"RCPT TO:<{fill(action.rcpt, self.values)}>", "250"),
            ("DATA", "DATA", "354"),
        ]

    def _smtp(self, probe: Probe, result: ProbeResult, transcript: Transcript, via: str) -> None:
        action: SmtpMail = probe.action
        marker = self._marker(probe)
        mailbox_start = self._mailbox_offset(probe.expect)
        refused_at = probe.expect.stage if isinstance(probe.expect, Refused) else None
        host = fill(probe.host, self.values)
        transcript.add("C", telnet_line(host, probe.port, via))
        channel = open_channel(host, probe.port, self.reply_timeout, via)
        with Dialogue(channel, transcript, self.reply_timeout) as talk:
            if not self._expect(talk.read_reply(), "220", "greeting", result):
                return
            for stage, line, code in self._stages(action):
                talk.send(line)
                reply = talk.read_reply()
                if stage == refused_at:
                    self._judge_refusal(probe.expect, reply, result)
                    talk.send("QUIT")
                    self._read_quietly(talk)
                    return
                if not self._expect(reply, code, stage, result):
                    talk.send("QUIT")
                    self._read_quietly(talk)
                    return
            for line in self._message(fill(action.body, self.values), marker):
                talk.send(line)
            talk.send(".")
            queued = talk.read_reply()
            if not self._expect(queued, "250", "end of DATA", result):
                return
            talk.send("QUIT")
            self._read_quietly(talk)
        match = re.search(r"queued as ([0-9A-Za-z]+)", queued.text)
        queue_id = match.group(1) if match else None
        if refused_at:
            result.status, result.actual = FAILED, f"accepted ({queued.last}), not refused at {refused_at}"
            return
        self._await_delivery(probe, result, marker, mailbox_start, queue_id)

    def _smtp_by_hand(self, probe: Probe, result: ProbeResult, transcript: Transcript) -> None:
        """The manual vantage point: a person types the session on another host; we judge it."""
        action: SmtpMail = probe.action
        marker = self._marker(probe)
        mailbox_start = self._mailbox_offset(probe.expect)
        refused_at = probe.expect.stage if isinstance(probe.expect, Refused) else None
        lines = [telnet_line(fill(probe.host, self.values), probe.port)]
        for stage, line, _code in self._stages(action):
            lines.append(line)
            if stage == refused_at:
                break
        if not refused_at:
            lines += self._message(fill(action.body, self.values), marker) + ["."]
        lines.append("QUIT")
        for line in lines:
            transcript.add("C", line)
        stage = refused_at or "end of DATA"
        typed = self.ask(f"On a host outside this server, type these lines:\n    " + "\n    ".join(lines)
                         + f"\nWhat did the server answer after {'the ' + stage + ' line' if refused_at else 'the final .'}? "
                         "(paste the line with its number)").strip()
        transcript.add("S", f"{typed}   (as typed by you)")
        if len(typed) < 3 or not typed[:3].isdigit():
            result.status = INCONCLUSIVE
            result.reason = "no server reply was given; run the step again to answer"
            return
        reply = Reply(typed[:3], [typed[4:]])
        if refused_at:
            self._judge_refusal(probe.expect, reply, result)
            return
        if not self._expect(reply, "250", "end of DATA", result):
            return
        match = re.search(r"queued as ([0-9A-Za-z]+)", typed)
        self._await_delivery(probe, result, marker, mailbox_start, match.group(1) if match else None)

    @staticmethod
    def _read_quietly(talk: Dialogue) -> None:
        try:
            talk.read_reply()
        except DialogueError:
            pass

    @staticmethod
    def _expect(reply: Reply, code: str, stage: str, result: ProbeResult) -> bool:
        if reply.code == code:
            return True
        result.status, result.actual = FAILED, f"{stage}: {reply.last}"
        return False

    @staticmethod
    def _judge_refusal(expect: Refused, reply: Reply, result: ProbeResult) -> None:
        result.actual = f"{expect.stage}: {reply.last}"
        if reply.code in expect.codes and expect.text.lower() in reply.text.lower():
            result.status = MET
        else:
            result.status = FAILED

    # ---- outcomes ------------------------------------------------------------------------------
    def _mailbox_offset(self, expect) -> int:
        if isinstance(expect, Delivered):
            return file_size(self.system.path(expect.mailbox))
        if isinstance(expect, Relayed) and fill(expect.mailbox, self.values):
            return file_size(Path(fill(expect.mailbox, self.values)))
        return 0

    def _await_relay(self, expect: Relayed, result: ProbeResult, marker: str, mailbox_start: int,
                     queue_id: str | None) -> None:
        mailbox = fill(expect.mailbox, self.values)
        if mailbox:
            # The lab's outside mailbox lies outside --root: it is the lab's, not the box's.
            if wait_for(Path(mailbox), re.compile(re.escape(marker)), start=mailbox_start,
                        timeout=self.delivery_timeout):
                result.status, result.actual = MET, f"delivered to {mailbox} on the outside host"
                return
            fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
            result.actual = (f"not in {mailbox} after {self.delivery_timeout:g} s"
                             + (f"; the log says: {fate}" if fate else ""))
            return
        if not queue_id:
            result.actual = "the server gave no queue id"
            return
        line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self._log_start)
        if line and "status=sent" in line:
            result.status, result.actual = MET, line.split(": ", 1)[-1]
        elif line and "status=deferred" in line:
            result.status, result.actual = INCONCLUSIVE, line.split(": ", 1)[-1]
            result.reason = ("the other server could not be reached (see the outbound port 25 "
                             "check); the test message was removed from the queue")
            self.system.run(["postsuper", "-d", queue_id])
        else:
            result.actual = line.split(": ", 1)[-1] if line else \
                f"no delivery attempt in the log after {self.delivery_timeout:g} s"

    def _await_delivery(self, probe: Probe, result: ProbeResult, marker: str, mailbox_start: int,
                        queue_id: str | None) -> None:
        expect = probe.expect
        if isinstance(expect, Relayed):
            self._await_relay(expect, result, marker, mailbox_start, queue_id)
            return
        if isinstance(expect, Delivered):
            found = wait_for(self.system.path(expect.mailbox), re.compile(re.escape(marker)),
                             start=mailbox_start, timeout=self.delivery_timeout)
            if found:
                result.status, result.actual = MET, f"delivered to {expect.mailbox}"
            else:
                fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
                result.actual = (f"not in {expect.mailbox} after {self.delivery_timeout:g} s"
                                 + (f"; the log says: {fate}" if fate else ""))
            return
        if isinstance(expect, Bounced):
            if not queue_id:
                result.actual = "the server gave no queue id"
                return
            line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self._log_start)
            if line is None:
                result.actual = f"no delivery attempt in the log after {self.delivery_timeout:g} s"
            elif "status=bounced" in line and fill(expect.text, self.values) in line:
                result.status, result.actual = MET, line.split(": ", 1)[-1]
            elif "status=deferred" in line:
                result.status = INCONCLUSIVE
                result.actual = line.split(": ", 1)[-1]
                result.reason = ("Postfix could not ask DNS where the mail goes, so the loop "
                                 "cannot be shown; the message was removed from the queue")
                self.system.run(["postsuper", "-d", queue_id])
            else:
                result.actual = line.split(": ", 1)[-1]
            return
        result.actual = "accepted, but a refusal was expected"
