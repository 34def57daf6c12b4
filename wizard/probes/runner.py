"""Run a step's probe for real and judge it against its expectation.

Outcomes: `met` (the server did what the tutorial shows, failures included when they are the
point), `failed`, `inconclusive` (this box cannot tell, e.g. DNS is missing; the reason says why)
and `not-run` (sandbox, or no external vantage point).
"""

from __future__ import annotations

import base64
import re
import secrets
import ssl
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from wizard.acme import facts_of_file, facts_of_pem
from wizard.checks import run_requirement
from wizard.config import fill
from wizard.lab import box_outside
from wizard.logs import DOVECOT_LOG, MAIL_LOG, DaemonLog, MailLog
from wizard.mailauth import dkim_record_text, key_lookup, verify_dkim
from wizard.model import (Answered, AuditCheck, AuditPassed, Bounced, Delivered, DkimSigned, Flush, Flushed, HashTest, Imap, InInbox, Offers, Probe, Queued,
                          Refused, Relayed, Sendmail, SmtpMail, Trusted)
from wizard.net.imap import ImapClosed, ImapTalk, tagged_ok
from wizard.net.dialogue import Dialogue, DialogueError, Reply, Transcript, open_channel, telnet_line
from wizard.net.watch import file_size, wait_for
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
    transcript_extra: list[str] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    erratum: str = ""
    seconds: float = 0.0
    notice_lag: float | None = None   # delivered (file written) → noticed by the wizard, seconds

    def to_record(self) -> dict:
        return dict(self.__dict__)


# ---- what an SMTP probe types (the benchmarks' floor sends the very same lines) ------------------

def smtp_stages(action: SmtpMail, values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(stage, line, expected code) in the order the tutorial types them; the AUTH stage's line
    is a placeholder for `auth_plain`'s."""
    greet = "EHLO" if action.ehlo or action.starttls or action.auth or action.implicit_tls else "HELO"
    stages = []
    if action.helo:
        stages.append(("HELO", f"{greet} {fill(action.helo, values)}", "250"))
    if action.starttls:
        stages += [("STARTTLS", "STARTTLS", "220"), ("HELO", f"EHLO {fill(action.helo, values)}", "250")]
    if action.auth:
        stages.append(("AUTH", "AUTH PLAIN", "235"))
    if action.rcpt:
        stages += [
            ("MAIL", f"MAIL FROM:<{fill(action.mail_from, values)}>", "250"),
            ("RCPT", f"RCPT TO:<{fill(action.rcpt, values)}>", "250"),
            ("DATA", "DATA", "354"),
        ]
    return stages


def auth_plain(user: str, password: str) -> str:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return f"AUTH PLAIN {token}"


def message_lines(body: str, marker: str, sender: str = "", recipient: str = "") -> list[str]:
    """The probe's message, dot-stuffed, with the marker header it is found by. With a sender,
    it has the header lines a mail client writes (From, To, Date, Message-ID)."""
    client = []
    if sender:
        from email.utils import formatdate, make_msgid

        client = [f"From: <{sender}>", f"To: <{recipient}>", f"Date: {formatdate()}",
                  f"Message-ID: {make_msgid(domain=sender.rpartition('@')[2])}"]
    lines = [*client, f"Subject: {body}", f"{MARKER_HEADER}: {marker}", "", *body.splitlines()]
    return ["." + line if line.startswith(".") else line for line in lines]


def describe_expectation(expect, values: dict[str, str]) -> str:
    if isinstance(expect, Delivered):
        return f"delivered to {expect.mailbox}"
    if isinstance(expect, Relayed):
        via = fill(expect.via, values)
        return (f"handed to the relay host {via}" if via else "handed to the recipient's server") + (
            f" and found in {fill(expect.mailbox, values)}" if fill(expect.mailbox, values) else "")
    if isinstance(expect, Queued):
        reasons = " or ".join(f'"{r}"' for r in expect.any_of)
        return f"accepted, then held in the queue: \"{fill(expect.text, values)}\"" + (f", {reasons}" if reasons else "")
    if isinstance(expect, Flushed):
        via = fill(expect.via, values)
        return "the waiting mail delivered on the flush" + (f" through {via}" if via else "")
    if isinstance(expect, Bounced):
        back = fill(expect.arrives, values)
        return f"accepted, then bounced: \"{fill(expect.text, values)}\"" + (
            f", and the bounce found in {back}" if back else "")
    if isinstance(expect, Refused):
        text = f" \"{fill(expect.text, values)}\"" if expect.text else ""
        return f"refused at {expect.stage} with {' or '.join(expect.codes)}{text}"
    if isinstance(expect, Offers):
        parts = [f"EHLO lists {', '.join(expect.words)}"] if expect.words else []
        parts += [f"no {a}" for a in expect.absent]
        return "; ".join(parts)
    if isinstance(expect, InInbox):
        return f"delivered into {fill(expect.maildir, values)} and seen in INBOX over IMAP"
    if isinstance(expect, DkimSigned):
        against = "the key this step made" if expect.key == "made" else "the key published in DNS"
        return (f"delivered with a DKIM-Signature of {values.get('maildomain', '')} "
                f"(selector {values.get('dkim_selector', '')}) that verifies against {against}")
    if isinstance(expect, Trusted):
        root = fill(expect.root, values)
        against = "the system's trusted CAs" if not root else f"the CA in {root}"
        return f"a certificate for {fill(expect.name, values)} that verifies against {against}"
    if isinstance(expect, AuditPassed):
        return "the audit's rows pass" + (f": {', '.join(expect.rows)}" if expect.rows else "")
    if isinstance(expect, Answered):
        if expect.refused:
            return "the connection is refused (nothing listens)"
        if expect.tls_fails:
            return "the TLS handshake fails: this port speaks plain IMAP first"
        # Replies are templates like the rest ("{{SHA512-CRYPT}}" is the literal "{SHA512-CRYPT}").
        parts = [f"the server says {' … '.join(repr(fill(r, values)) for r in expect.replies)}"] \
            if expect.replies else []
        parts += [f"not {repr(fill(a, values))}" for a in expect.absent]
        parts += [f"the log shows {repr(fill(l, values))}" for l in expect.log]
        parts += [f"{fill(expect.exists, values)} exists"] if expect.exists else []
        return "; ".join(parts)
    return str(expect)


def _file_with(maildir: Path, marker: str) -> Path | None:
    """The message file under a Maildir (new/ or cur/ of any folder) that holds `marker`."""
    needle = marker.encode()
    for sub in ("new", "cur"):
        for path in sorted(maildir.glob(f"**/{sub}/*")):
            try:
                if needle in path.read_bytes():
                    return path
            except OSError:
                continue
    return None


def _why_verdict(system, queue_id: str) -> str:
    """`why`'s one line on this message, from the logs as they are now."""
    from wizard.tracing import open_logs, trace

    try:
        found = trace(open_logs(system), queue_id)
    except OSError as exc:          # the probe's own verdict stands; why's is a help
        return f"(the logs could not be followed: {exc})"
    return found.verdict if found else "(the logs say nothing of it yet)"


def _lag(path: Path) -> float | None:
    """Seconds since `path` was last written: how long a delivery waited to be noticed."""
    try:
        return round(max(0.0, time.time() - path.stat().st_mtime), 4)
    except OSError:
        return None


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

    def run(self, probe: Probe) -> ProbeResult:
        probe = probe.in_dialect(self.values.get("dovecot_dialect", "2.3"))
        probe, alone = self._from_here_when_alone(probe)
        title = fill(probe.title, self.values)
        result = ProbeResult(probe.id, title, FAILED, describe_expectation(probe.expect, self.values),
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
        self._log_start = self.log.offset()
        self._dovecot_start = self.dovecot_log.offset()
        marks = {name: log.offset() for name, log in self.daemon_logs.items()}
        transcript = Transcript(sink=self.on_line)
        if alone:
            transcript.add("S", "(no outside vantage point: sent from this box instead)")
        here = bool(self.values.get("outside_here")) and via.startswith("netns:")
        if here:
            transcript.add("S", f"({box_outside.describe()})")
        try:
            if isinstance(probe.expect, Trusted):
                self._trust(probe, result, transcript, via)
            elif isinstance(probe.action, Flush):
                self._flush(probe, result, transcript)
            elif isinstance(probe.action, HashTest):
                self._hash_test(probe, result, transcript)
            elif isinstance(probe.action, AuditCheck):
                self._audit(probe, result, transcript, via)
            elif isinstance(probe.action, Imap):
                self._imap(probe, result, transcript, via)
            elif isinstance(probe.action, SmtpMail) and via == "manual":
                self._smtp_by_hand(probe, result, transcript)
            elif isinstance(probe.action, SmtpMail):
                self._smtp(probe, result, transcript, via)
            else:
                self._sendmail(probe, result, transcript)
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

    # ---- actions -------------------------------------------------------------------------------
    def _marker(self, probe: Probe) -> str:
        return f"{probe.id}-{secrets.token_hex(6)}"

    def _message(self, body: str, marker: str) -> list[str]:
        return message_lines(body, marker)

    def _client_message(self, action: SmtpMail, marker: str) -> list[str]:
        body = fill(action.body, self.values)
        if not action.headers:
            return self._message(body, marker)
        return message_lines(body, marker, fill(action.mail_from, self.values), fill(action.rcpt, self.values))

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
        return smtp_stages(action, self.values)

    def _auth_line(self) -> tuple[str, str] | None:
        """AUTH PLAIN for the first mail user, and how the transcript shows it (masked)."""
        user = self.values.get("mailuser_address", "")
        password = self.passwords.get(user)
        if not password:
            return None
        return auth_plain(user, password), f"AUTH PLAIN ******** (user {user}, password masked)"

    def _smtp(self, probe: Probe, result: ProbeResult, transcript: Transcript, via: str) -> None:
        action: SmtpMail = probe.action
        marker = self._marker(probe)
        mailbox_start = self._mailbox_offset(probe.expect)
        refused_at = probe.expect.stage if isinstance(probe.expect, Refused) else None
        host = fill(probe.host, self.values)
        auth = self._auth_line() if action.auth else None
        if action.auth and auth is None:
            result.status = INCONCLUSIVE
            result.reason = ("the answers give no clear password for the mail user (only a hash), so "
                             "the wizard cannot log in; give it with --answers to prove this step")
            return
        source = fill(probe.source, self.values)
        transcript.add("C", telnet_line(host, probe.port, via, source)
                       + ("   (TLS from the first byte)" if action.implicit_tls else ""))
        channel = open_channel(host, probe.port, self.reply_timeout, via, self.values.get("ssh_config", ""),
                               source)
        with Dialogue(channel, transcript, self.reply_timeout) as talk:
            if action.implicit_tls:
                talk.start_tls(self.values.get("fqdn", host))
            if not self._expect(talk.read_reply(), "220", "greeting", result):
                return
            last_ehlo = None
            for stage, line, code in self._stages(action):
                if stage == "AUTH":
                    talk.send(auth[0], shown=auth[1])
                else:
                    talk.send(line)
                reply = talk.read_reply()
                if stage == "HELO":
                    last_ehlo = reply
                if stage == refused_at:
                    self._judge_refusal(probe.expect, reply, result)
                    talk.send("QUIT")
                    self._read_quietly(talk)
                    return
                if not self._expect(reply, code, stage, result):
                    talk.send("QUIT")
                    self._read_quietly(talk)
                    return
                if stage == "STARTTLS":
                    talk.start_tls(self.values.get("fqdn", host))
            if not action.rcpt:
                talk.send("QUIT")
                self._read_quietly(talk)
                self._judge_offers(probe.expect, last_ehlo, result)
                return
            for line in self._client_message(action, marker):
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

    @staticmethod
    def _judge_offers(expect, ehlo: Reply | None, result: ProbeResult) -> None:
        if not isinstance(expect, Offers) or ehlo is None:
            result.actual = "the session ended before anything could be judged"
            return
        keywords = [line.upper() for line in ehlo.lines]
        has = lambda word: any(k == word.upper() or k.startswith(word.upper() + " ") or
                               k.startswith(word.upper() + "=") for k in keywords)
        missing = [w for w in expect.words if not has(w)]
        present = [a for a in expect.absent if has(a)]
        offered = ", ".join(ehlo.lines[1:])
        if not missing and not present:
            result.status, result.actual = MET, f"EHLO lists {offered}"
        else:
            result.actual = f"EHLO lists {offered}" + (f"; missing {', '.join(missing)}" if missing else "") + \
                (f"; but offers {', '.join(present)}" if present else "")

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
        typed = self.ask("On a host outside this server, type these lines:\n    " + "\n    ".join(lines)
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

    def _judge_refusal(self, expect: Refused, reply: Reply, result: ProbeResult) -> None:
        result.actual = f"{expect.stage}: {reply.last}"
        if reply.code in expect.codes and fill(expect.text, self.values).lower() in reply.text.lower():
            result.status = MET
        else:
            result.status = FAILED

    # ---- IMAP ----------------------------------------------------------------------------------
    def _imap(self, probe: Probe, result: ProbeResult, transcript: Transcript, via: str) -> None:
        action: Imap = probe.action
        expect: Answered = probe.expect
        user = fill(action.user, self.values)
        password = {"good": self.passwords.get(user), "wrong": "not-the-password-" + secrets.token_hex(3),
                    "none": ""}[action.password]
        if password is None:
            result.status = INCONCLUSIVE
            result.reason = (f"the answers give no clear password for {user} (only a hash), so the "
                             "wizard cannot log in; give it with --answers to prove this step")
            return
        host = fill(probe.host, self.values)
        port = probe.port if probe.port != 25 else (993 if action.tls == "imaps" else 143)
        transcript.add("C", telnet_line(host, port, via) + ("   (TLS from the first byte)" if action.tls == "imaps" else ""))
        try:
            sock = open_channel(host, port, self.reply_timeout, via, self.values.get("ssh_config", ""))
        except DialogueError as exc:
            transcript.add("S", f"({exc})")
            self._judge_answered(expect, result, [], refused=True, why=str(exc))
            return
        handshake = ""          # why the TLS handshake failed, if it did
        with Dialogue(sock, transcript, self.reply_timeout) as talk:
            imap = ImapTalk(talk)
            try:
                if action.tls == "imaps":
                    try:
                        talk.start_tls(self.values.get("fqdn", host))
                    except DialogueError as exc:
                        handshake = str(exc)
                        raise
                if action.speaks_first:
                    self._imap_before_greeting(imap, action)
                    raise ImapClosed("spoke first")
                imap.greeting()
                if action.tls == "starttls":
                    if not tagged_ok(imap.command("STARTTLS")):
                        raise ImapClosed("STARTTLS refused")
                    talk.start_tls(self.values.get("fqdn", host))
                logged_in = True
                if action.password != "none":
                    logged_in = tagged_ok(imap.login(user, password))
                if logged_in:
                    for command in action.commands:
                        imap.command(fill(command, self.values))
                imap.command("LOGOUT")
            except DialogueError:       # the server hung up, or TLS failed: judged below
                pass
            server_lines = imap.lines
        if expect.tls_fails:
            result.status, result.actual = (MET, handshake) if handshake else \
                (FAILED, "the TLS handshake succeeded: " + (server_lines[0] if server_lines else "no reply"))
            return
        self._judge_answered(expect, result, server_lines)

    @staticmethod
    def _imap_before_greeting(imap: ImapTalk, action: Imap) -> None:
        """A client set up for the other port: it sends at once (STARTTLS, or its commands)."""
        for command in ("STARTTLS",) if action.tls == "starttls" else action.commands:
            imap.command(command)

    def _trust(self, probe: Probe, result: ProbeResult, transcript: Transcript, via: str) -> None:
        """The handshake a checking client makes: STARTTLS (SMTP or IMAP) or TLS at once, with
        the served chain verified against the expected root and the name checked."""
        expect: Trusted = probe.expect
        root, name = fill(expect.root, self.values), fill(expect.name, self.values)
        if root == "untrusted":
            result.status = INCONCLUSIVE
            result.reason = "a staging CA's certificates are trusted by no client, by design: nothing to verify"
            return
        host = fill(probe.host, self.values)
        action = probe.action
        at_once = action.implicit_tls if isinstance(action, SmtpMail) else action.tls == "imaps"
        transcript.add("C", telnet_line(host, probe.port, via) + ("   (TLS from the first byte)" if at_once else ""))
        channel = open_channel(host, probe.port, self.reply_timeout, via, self.values.get("ssh_config", ""))
        with Dialogue(channel, transcript, self.reply_timeout) as talk:
            if not at_once and isinstance(action, SmtpMail):
                talk.read_reply()
                talk.send(f"EHLO {fill(action.helo, self.values)}")
                talk.read_reply()
                talk.send("STARTTLS")
                if not self._expect(talk.read_reply(), "220", "STARTTLS", result):
                    return
            elif not at_once:
                imap = ImapTalk(talk)
                imap.greeting()
                if not tagged_ok(imap.command("STARTTLS")):
                    result.actual = "STARTTLS refused"
                    return
            talk.start_tls(name, verify_with=root)
        facts = facts_of_pem(self.system, ssl.DER_cert_to_PEM_cert(talk.peer_der))
        result.actual = f"verified, names {name}" + (f"; {facts.describe()}" if facts else "")
        newest = facts_of_file(self.system, fill(expect.newest, self.values)) if expect.newest else None
        if newest and facts and newest.serial != facts.serial:
            result.actual += (f" — but not certbot's newest certificate (serial {newest.serial}, valid until "
                              f"{newest.not_after}): the daemon was not reloaded after the renewal")
            return
        result.status = MET

    def _judge_answered(self, expect: Answered, result: ProbeResult, lines: list[str],
                        refused: bool = False, why: str = "") -> None:
        if refused or expect.refused:
            if refused and expect.refused:
                result.status, result.actual = MET, why
            else:
                result.actual = why if refused else f"connected: {lines[0] if lines else '(no greeting)'}"
            return
        text = "\n".join(lines)
        position, missing = 0, []
        for wanted in expect.replies:
            found = text.find(fill(wanted, self.values), position)
            if found < 0:
                missing.append(wanted)
            else:
                position = found + len(wanted)
        present = [a for a in expect.absent if fill(a, self.values) in text]
        log_missing = [entry for entry in expect.log
                       if not wait_for(self.dovecot_log.path, re.compile(re.escape(fill(entry, self.values))),
                                       start=self._dovecot_start, timeout=3.0)]
        exists = fill(expect.exists, self.values)
        absent_path = exists and not self.system.path(exists).exists()
        wanted_last = fill(expect.replies[-1], self.values) if expect.replies else ""
        last = next((l for l in lines if wanted_last and wanted_last in l), "") or \
            next((l for l in reversed(lines) if l.startswith(("a ", "* BYE", "* BAD"))), lines[-1] if lines else "")
        if len(last) > 90:
            last = last[:40] + " … " + last[-40:]
        if not (missing or present or log_missing or absent_path):
            said = [last] if last else (["the server said nothing and closed the connection"] if not lines else [])
            said += [f"the log says so ({', '.join(repr(fill(l, self.values)) for l in expect.log)})"] if expect.log else []
            said += [f"{exists} exists"] if exists else []
            result.status, result.actual = MET, "; ".join(said)
            return
        problems = [f"the server never said {m!r}" for m in missing] + [f"the server said {p!r}" for p in present]
        problems += [f"the log does not show {fill(l, self.values)!r}" for l in log_missing]
        problems += [f"{exists} does not exist"] if absent_path else []
        result.actual = f"{last}; " + "; ".join(problems) if last else "; ".join(problems)

    def _wait_in_maildir(self, maildir: str, marker: str) -> Path | None:
        folder = self.system.path(fill(maildir, self.values))
        deadline = time.monotonic() + self.delivery_timeout
        found = _file_with(folder, marker)
        while found is None and time.monotonic() < deadline:
            time.sleep(0.02)
            found = _file_with(folder, marker)
        return found

    def _await_signed(self, expect: DkimSigned, result: ProbeResult, marker: str, queue_id: str | None) -> None:
        """Delivered, then its DKIM-Signature checked by dkimpy against the key or DNS."""
        found = self._wait_in_maildir(expect.maildir, marker)
        if found is None:
            fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
            result.actual = (f"not in {fill(expect.maildir, self.values)} after {self.delivery_timeout:g} s"
                             + (f"; the log says: {fate}" if fate else ""))
            return
        result.notice_lag = _lag(found)
        selector, domain = self.values.get("dkim_selector", ""), self.values.get("maildomain", "")
        if expect.key == "made":
            from wizard.ensure import dkim_public_key

            public = dkim_public_key(self.system, fill(expect.path, self.values))
            if not public:
                result.actual = f"cannot read the key {fill(expect.path, self.values)}"
                return
            verdict = verify_dkim(found.read_bytes(), key_lookup(selector, domain, dkim_record_text(public)))
            against = "the key this step made"
        else:
            verdict = verify_dkim(found.read_bytes())
            against = "the record in DNS"
        signature = [line for line in found.read_text(errors="replace").splitlines()
                     if line.lower().startswith("dkim-signature:")]
        shown = Transcript(sink=self.on_line)
        for line in signature[:1]:
            shown.add("S", f"(as delivered) {line[:150]}")
        result.transcript_extra = shown.lines
        wanted = (verdict.domain, verdict.selector) == (domain, selector)
        if verdict.ok and wanted:
            result.status, result.actual = MET, f"{verdict.describe()} against {against}"
        elif verdict.ok:
            result.actual = (f"{verdict.describe()}, but the walk signs as d={domain} s={selector}")
        else:
            result.actual = verdict.describe()

    def _await_inbox(self, expect: InInbox, result: ProbeResult, marker: str, queue_id: str | None) -> None:
        """Delivered into the Maildir, then that very message found over IMAP by its marker."""
        maildir = self.system.path(fill(expect.maildir, self.values))
        deadline = time.monotonic() + self.delivery_timeout
        found = None
        while found is None and time.monotonic() < deadline:
            found = _file_with(maildir, marker)
            if found is None:
                time.sleep(0.02)
        if found is not None:
            result.notice_lag = _lag(found)
        if found is None:
            fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
            result.actual = (f"not in {fill(expect.maildir, self.values)} after {self.delivery_timeout:g} s"
                             + (f"; the log says: {fate}" if fate else ""))
            return
        user = fill(expect.user, self.values)
        password = self.passwords.get(user)
        if not password:
            result.status, result.actual = MET, f"in {found} (IMAP not checked: no clear password in the answers)"
            return
        transcript = Transcript(sink=self.on_line)
        transcript.add("C", "$ telnet localhost 143   (read it back as the user would)")
        with Dialogue(open_channel("localhost", 143, self.reply_timeout), transcript, self.reply_timeout) as talk:
            imap = ImapTalk(talk)
            try:
                imap.greeting()
                if tagged_ok(imap.login(user, password)):
                    imap.command("SELECT INBOX")
                    hits = imap.command(f"SEARCH HEADER {MARKER_HEADER} {marker}")
                    imap.command("LOGOUT")
                else:
                    hits = []
            except ImapClosed:
                hits = []
        result.transcript_extra = transcript.lines
        numbers = [l.split()[2:] for l in hits if l.startswith("* SEARCH")]
        if numbers and numbers[0]:
            result.status = MET
            result.actual = f"in {found.parent.parent.name}/{found.parent.name}; INBOX message {numbers[0][0]} over IMAP"
        else:
            result.actual = f"in {found}, but IMAP SEARCH did not find it"

    # ---- outcomes ------------------------------------------------------------------------------
    def _mailbox_offset(self, expect) -> int:
        if isinstance(expect, Delivered):
            return file_size(self.system.path(expect.mailbox))
        if isinstance(expect, Relayed) and fill(expect.mailbox, self.values):
            return file_size(Path(fill(expect.mailbox, self.values)))
        if isinstance(expect, Bounced) and fill(expect.arrives, self.values):
            return file_size(Path(fill(expect.arrives, self.values)))
        return 0

    def _await_relay(self, expect: Relayed, result: ProbeResult, marker: str, mailbox_start: int,
                     queue_id: str | None) -> None:
        mailbox = fill(expect.mailbox, self.values)
        via = fill(expect.via, self.values)
        if mailbox:
            # The lab's outside mailbox lies outside --root: it is the lab's, not the box's.
            if self._arrives(Path(mailbox), marker, mailbox_start, queue_id):
                result.notice_lag = _lag(Path(mailbox))
                self._judge_arrival(expect, result, Path(mailbox), mailbox_start, marker)
                if via and result.status == MET:
                    self._judge_route(via, result, queue_id)
                return
            fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
            result.actual = (f"not in {mailbox}" + (f"; the log says: {fate}" if fate
                                                    else f" after {self.delivery_timeout:g} s"))
            if fate and via and "status=deferred" in fate:
                result.reason = self._not_taken_by_relay(queue_id)
            elif fate:
                result.reason = "why: " + _why_verdict(self.system, queue_id)
            return
        if not queue_id:
            result.actual = "the server gave no queue id"
            return
        line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self._log_start)
        if line and "status=sent" in line and expect.shows:
            result.status, result.actual = INCONCLUSIVE, line.split(": ", 1)[-1]
            result.reason = ("the receiving server took it; its verdict (" + ", ".join(expect.shows) +
                             ") can only be read in the mail as it arrived there: look at its "
                             "Authentication-Results header")
        elif line and "status=sent" in line:
            result.status, result.actual = MET, line.split(": ", 1)[-1]
            if via:
                self._judge_route(via, result, queue_id)
        elif line and "status=deferred" in line and via:
            result.actual = line.split(": ", 1)[-1]
            result.reason = self._not_taken_by_relay(queue_id)
        elif line and "status=deferred" in line:
            result.status, result.actual = INCONCLUSIVE, line.split(": ", 1)[-1]
            result.reason = ("the other server could not be reached (see the outbound port 25 "
                             "check); the test message was removed from the queue")
            self.system.run(["postsuper", "-d", queue_id])
        else:
            result.actual = line.split(": ", 1)[-1] if line else \
                f"no delivery attempt in the log after {self.delivery_timeout:g} s"

    def _await_bounce(self, expect: Bounced, result: ProbeResult, marker: str, start: int) -> None:
        """The bounce Postfix wrote back to the sender: it carries the returned message's
        headers, the probe's marker among them, into the sender's mailbox outside."""
        mailbox = fill(expect.arrives, self.values)
        if not mailbox:
            result.status = MET
            return
        found = wait_for(Path(mailbox), re.compile(re.escape(marker)), start=start, timeout=self.delivery_timeout)
        if not found:
            result.actual += f"; but no bounce reached {mailbox} within {self.delivery_timeout:g} s"
            return
        from wizard.net.watch import read_since

        text = read_since(Path(mailbox), start)
        subject = next((line for line in text.splitlines() if line.lower().startswith("subject:")), "")
        shown = Transcript(sink=self.on_line)
        shown.add("S", f"(the bounce, in {mailbox}) {subject[:160]}")
        result.transcript_extra += shown.lines
        result.status = MET
        result.actual += f"; the bounce arrived in {mailbox}" + (f" ({subject[:120]})" if subject else "")

    def _fate_line(self, result: ProbeResult, queue_id: str | None) -> str | None:
        """The log line that tells what became of the accepted message; None (and the reason
        in `result`) when there is no queue id or no delivery attempt in time."""
        if not queue_id:
            result.actual = "the server gave no queue id"
            return None
        line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self._log_start)
        if line is None:
            result.actual = f"no delivery attempt in the log after {self.delivery_timeout:g} s"
        return line

    def _judge_queued(self, expect: Queued, result: ProbeResult, queue_id: str | None) -> None:
        """Deferred, with the reason the probe expects; the message is left in the queue."""
        line = self._fate_line(result, queue_id)
        if line is None:
            return
        result.actual = line.split(": ", 1)[-1]
        if "status=deferred" in line and fill(expect.text, self.values) in line and \
                (not expect.any_of or any(reason in line for reason in expect.any_of)):
            result.status = MET
            result.actual += f"; {queue_id} waits in the queue (`postqueue -p` lists it)"

    def _flush(self, probe: Probe, result: ProbeResult, transcript: Transcript) -> None:
        """`postqueue -f`, then each message that waited for the recipient must leave delivered."""
        rcpt = fill(probe.action.rcpt, self.values)
        sent_by = probe.action.sent_by
        held = [qid for qid in self._held_for(rcpt) if self._sent_by(qid, sent_by)]
        transcript.add("C", "$ postqueue -p")
        transcript.add("S", f"({len(held)} message(s) from {sent_by} wait for {rcpt}: {', '.join(held) or 'none'})")
        if not held:
            result.actual = f"nothing {sent_by} sent waited in the queue for {rcpt}: there was nothing to flush"
            return
        transcript.add("C", "$ postqueue -f")
        self.system.run(["postqueue", "-f"], changes_box=False)
        via = fill(probe.expect.via, self.values) if isinstance(probe.expect, Flushed) else ""
        fates = [(qid, self.log.wait_fate(qid, self.delivery_timeout, start=self._log_start)) for qid in held]
        for qid, line in fates:
            transcript.add("S", f"(the log) {line.split(': ', 1)[-1][:200]}" if line else f"(the log) nothing for {qid}")
        bad = [qid for qid, line in fates if not line or "status=sent" not in line or via not in line]
        if bad:
            line = dict(fates)[bad[0]]
            result.actual = f"{bad[0]} was not delivered: " + (line.split(": ", 1)[-1] if line else
                                                               f"no delivery attempt after {self.delivery_timeout:g} s")
            return
        result.status = MET
        result.actual = f"{len(held)} waiting message(s) delivered on the flush" + (f" through {via}" if via else "")

    def _audit(self, probe: Probe, result: ProbeResult, transcript: Transcript, via: str) -> None:
        """One check of the audit, sent as `mailwizard audit` sends it, from the probe's vantage."""
        from wizard.audit.battery import run_check, target_from_values

        target = replace(target_from_values(self.values, False, self.reply_timeout),
                         via=via, host=fill(probe.host, self.values))
        wanted = probe.expect.rows if isinstance(probe.expect, AuditPassed) else ()
        rows = [row for row in run_check(target, probe.action.check) if not wanted or row.id in wanted]
        for row in rows:
            transcript.add("S", f"({row.id}: {row.status}: {row.found})")
            for line in row.evidence:
                transcript.add("C" if line.startswith("C: ") else "S", line[3:] if line[1:3] == ": " else line)
        missing = [name for name in wanted if name not in {row.id for row in rows}]
        failing = [row for row in rows if row.status != "passed"]
        result.actual = "; ".join(f"{row.id} {row.status}: {row.found}" for row in failing) or \
            "; ".join(f"{row.id} passed" for row in rows)
        if missing:
            result.actual += f"; no row {', '.join(missing)}"
        if rows and not failing and not missing:
            result.status = MET

    def _hash_test(self, probe: Probe, result: ProbeResult, transcript: Transcript) -> None:
        """Dovecot's own verdict on the stored hash (what a LOGIN asks of it), the hash kept out
        of the transcript (no report shows a hash)."""
        action: HashTest = probe.action
        user, table = fill(action.user, self.values), fill(action.table, self.values)
        password = self.passwords.get(user)
        if password is None:
            result.status = INCONCLUSIVE
            result.reason = f"the answers give no clear password for {user}: nothing to test the hash with"
            return
        stored = next((line.split(":", 1)[1].split(":", 1)[0] for line in
                       (self.system.read_text(table) or "").splitlines() if line.startswith(f"{user}:")), "")
        transcript.add("C", f"$ doveadm pw -t '<the hash of {user} in {table}>'   (the password on stdin)")
        if not stored:
            result.actual = f"{table} has no line for {user}"
            return
        if not stored.startswith("{"):
            stored = "{SHA512-CRYPT}" + stored
        import subprocess

        done = subprocess.run(["doveadm", "pw", "-t", stored], input=password + "\n", capture_output=True,
                              text=True, timeout=self.reply_timeout, start_new_session=True)
        said = (done.stdout + done.stderr).replace(stored, stored.split("}", 1)[0] + "}…").strip()
        for line in said.splitlines():
            transcript.add("S", line)
        self._judge_answered(probe.expect, result, said.splitlines())

    def _sent_by(self, queue_id: str, probe_id: str) -> bool:
        """Whether the queued message carries the marker of that probe (`postcat -hq`: headers)."""
        headers = self.system.run(["postcat", "-hq", queue_id], changes_box=False).stdout
        return f"{MARKER_HEADER}: {probe_id}-" in headers

    def _held_for(self, rcpt: str) -> list[str]:
        """Queue ids of the messages Postfix holds for `rcpt` (`postqueue -j`, one JSON a line)."""
        import json

        listing = self.system.run(["postqueue", "-j"], changes_box=False).stdout
        held = []
        for line in listing.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if any(r.get("address", "").lower() == rcpt.lower() for r in entry.get("recipients", [])):
                held.append(entry.get("queue_id", ""))
        return [qid for qid in held if qid]

    def _not_taken_by_relay(self, queue_id: str) -> str:
        return (f"the relay host did not take it: {_why_verdict(self.system, queue_id)} (the message "
                f"stays queued; `mailwizard why {queue_id}` follows it)")

    def _arrives(self, mailbox: Path, marker: str, start: int, queue_id: str | None) -> bool:
        """The marker shows up in the outside mailbox, or Postfix logs that it could not deliver
        (deferred, bounced): whichever comes first, bounded by the delivery timeout."""
        pattern = re.compile(re.escape(marker))
        deadline = time.monotonic() + self.delivery_timeout
        while time.monotonic() < deadline:
            if wait_for(mailbox, pattern, start=start, timeout=0.25):
                return True
            fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
            if "status=deferred" in fate or "status=bounced" in fate:
                return bool(wait_for(mailbox, pattern, start=start, timeout=0))
        return False

    def _judge_route(self, via: str, result: ProbeResult, queue_id: str | None) -> None:
        """It arrived; it must have gone through the relay host, not straight to the receiver."""
        line = self.log.wait_fate(queue_id, self.delivery_timeout, start=self._log_start) if queue_id else None
        if line and f"relay={via}[" in line:
            result.actual += f"; through the relay host {via}"
            return
        result.status = FAILED
        result.actual = (f"it did not go through the relay host {via}: "
                         + (line.split(": ", 1)[-1] if line else "no delivery line in the log"))

    def _judge_arrival(self, expect: Relayed, result: ProbeResult, mailbox: Path, start: int, marker: str) -> None:
        """The message as the outside host keeps it: it must show the receiver's verdict."""
        from wizard.net.watch import read_since

        text = read_since(mailbox, start)
        at = text.find(marker)
        begin = text.rfind("\nFrom ", 0, at) + 1 if at >= 0 else 0
        message = text[begin:at]
        verdict = [line for line in message.splitlines() if line.lower().startswith("authentication-results:")]
        shown = Transcript(sink=self.on_line)
        for line in verdict[:1]:
            shown.add("S", f"(the outside host's verdict) {line[:200]}")
        result.transcript_extra = shown.lines
        missing = [text_ for text_ in expect.shows if text_ not in message]
        if missing:
            result.actual = (f"delivered to {mailbox}, but it does not show {', '.join(missing)}"
                             + (f": {verdict[0][:160]}" if verdict else ""))
            return
        said = f" with {', '.join(expect.shows)}" if expect.shows else ""
        result.status, result.actual = MET, f"delivered to {mailbox} on the outside host{said}"

    def _await_delivery(self, probe: Probe, result: ProbeResult, marker: str, mailbox_start: int,
                        queue_id: str | None) -> None:
        expect = probe.expect
        if isinstance(expect, InInbox):
            self._await_inbox(expect, result, marker, queue_id)
            return
        if isinstance(expect, DkimSigned):
            self._await_signed(expect, result, marker, queue_id)
            return
        if isinstance(expect, Relayed):
            self._await_relay(expect, result, marker, mailbox_start, queue_id)
            return
        if isinstance(expect, Delivered):
            found = wait_for(self.system.path(expect.mailbox), re.compile(re.escape(marker)),
                             start=mailbox_start, timeout=self.delivery_timeout)
            if found:
                result.notice_lag = _lag(self.system.path(expect.mailbox))
                result.status, result.actual = MET, f"delivered to {expect.mailbox}"
            else:
                fate = self.log.fate(queue_id, self._log_start) if queue_id else ""
                result.actual = (f"not in {expect.mailbox} after {self.delivery_timeout:g} s"
                                 + (f"; the log says: {fate}" if fate else ""))
            return
        if isinstance(expect, Queued):
            self._judge_queued(expect, result, queue_id)
            return
        if isinstance(expect, Bounced):
            line = self._fate_line(result, queue_id)
            if line is None:
                return
            if "status=bounced" in line and fill(expect.text, self.values) in line:
                result.actual = line.split(": ", 1)[-1]
                self._await_bounce(expect, result, marker, mailbox_start)
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
