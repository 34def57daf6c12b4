"""`smtp`: an SMTP session as the tutorial types it in telnet (HELO or EHLO, STARTTLS, AUTH,
MAIL, RCPT, DATA, QUIT), from the probe's vantage point — or typed by a person on another host
(the manual vantage point), whose pasted reply is judged. The expectation says where the session
must be refused, what EHLO must offer, or what becomes of the accepted message."""

from __future__ import annotations

import re

from wizard.config import fill
from wizard.net.dialogue import Dialogue, Reply, open_channel, telnet_line
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import FAILED, INCONCLUSIVE, auth_plain, message_lines, smtp_stages


@action
class Smtp(ActionHandler):
    kind = "smtp"

    def run(self, ctx, probe, result, transcript, via):
        if via == "manual":
            self._by_hand(ctx, probe, result, transcript)
        else:
            self._session(ctx, probe, result, transcript, via)

    def _session(self, ctx, probe, result, transcript, via) -> None:
        action, expect = probe.action, probe.expect
        judge = ctx.expectation(expect)
        marker = ctx.marker(probe)
        mailbox_start = judge.mailbox_start(ctx, expect)
        refused_at = judge.refused_at(expect)
        host = fill(probe.host, ctx.values)
        if probe.family:
            host, problem = self._over_family(ctx, host, probe.family)
            if problem:
                result.actual, result.reason = problem, ("publish the record (the prerequisite checks "
                                                         "of this chapter say which), then run the step again")
                return
        auth = self._auth_line(ctx) if action.auth else None
        if action.auth and auth is None:
            result.status = INCONCLUSIVE
            result.reason = ("the answers give no clear password for the mail user (only a hash), so "
                             "the wizard cannot log in; give it with --answers to prove this step")
            return
        source = fill(probe.source, ctx.values)
        transcript.add("C", telnet_line(host, probe.port, via, source)
                       + ("   (TLS from the first byte)" if action.implicit_tls else ""))
        channel = open_channel(host, probe.port, ctx.reply_timeout, via, ctx.values.get("ssh_config", ""), source)
        with Dialogue(channel, transcript, ctx.reply_timeout) as talk:
            if action.implicit_tls:
                talk.start_tls(ctx.values.get("fqdn", host))
            if not ctx.expect_code(talk.read_reply(), "220", "greeting", result):
                return
            last_ehlo = None
            for stage, line, code in smtp_stages(action, ctx.values):
                if stage == "AUTH":
                    talk.send(auth[0], shown=auth[1])
                else:
                    talk.send(line)
                reply = talk.read_reply()
                if stage == "HELO":
                    last_ehlo = reply
                if stage == refused_at:
                    judge.judge_refusal(ctx, expect, reply, result)
                    talk.send("QUIT")
                    ctx.read_quietly(talk)
                    return
                if not ctx.expect_code(reply, code, stage, result):
                    talk.send("QUIT")
                    ctx.read_quietly(talk)
                    return
                if stage == "STARTTLS":
                    talk.start_tls(ctx.values.get("fqdn", host))
            if not action.rcpt:
                talk.send("QUIT")
                ctx.read_quietly(talk)
                judge.judge_offer(ctx, expect, last_ehlo, result)
                return
            for line in self._client_message(ctx, action, marker):
                talk.send(line)
            talk.send(".")
            queued = talk.read_reply()
            if not ctx.expect_code(queued, "250", "end of DATA", result):
                return
            talk.send("QUIT")
            ctx.read_quietly(talk)
        match = re.search(r"queued as ([0-9A-Za-z]+)", queued.text)
        queue_id = match.group(1) if match else None
        if refused_at:
            result.status, result.actual = FAILED, f"accepted ({queued.last}), not refused at {refused_at}"
            return
        judge.after_accepted(ctx, expect, result, marker, mailbox_start, queue_id)

    def _by_hand(self, ctx, probe, result, transcript) -> None:
        """The manual vantage point: a person types the session on another host; we judge it."""
        action, expect = probe.action, probe.expect
        judge = ctx.expectation(expect)
        marker = ctx.marker(probe)
        mailbox_start = judge.mailbox_start(ctx, expect)
        refused_at = judge.refused_at(expect)
        lines = [telnet_line(fill(probe.host, ctx.values), probe.port)]
        for stage, line, _code in smtp_stages(action, ctx.values):
            lines.append(line)
            if stage == refused_at:
                break
        if not refused_at:
            lines += message_lines(fill(action.body, ctx.values), marker) + ["."]
        lines.append("QUIT")
        for line in lines:
            transcript.add("C", line)
        stage = refused_at or "end of DATA"
        typed = ctx.ask("On a host outside this server, type these lines:\n    " + "\n    ".join(lines)
                        + f"\nWhat did the server answer after {'the ' + stage + ' line' if refused_at else 'the final .'}? "
                        "(paste the line with its number)").strip()
        transcript.add("S", f"{typed}   (as typed by you)")
        if len(typed) < 3 or not typed[:3].isdigit():
            result.status = INCONCLUSIVE
            result.reason = "no server reply was given; run the step again to answer"
            return
        reply = Reply(typed[:3], [typed[4:]])
        if refused_at:
            judge.judge_refusal(ctx, expect, reply, result)
            return
        if not ctx.expect_code(reply, "250", "end of DATA", result):
            return
        match = re.search(r"queued as ([0-9A-Za-z]+)", typed)
        judge.after_accepted(ctx, expect, result, marker, mailbox_start, match.group(1) if match else None)

    @staticmethod
    def _over_family(ctx, host: str, family: str) -> tuple[str, str]:
        """The host's address of one family, as DNS gives it (a literal is kept as it is), or
        why there is none: the probe then fails, never falls back to the other family."""
        from wizard.checks.dns import record_type
        from wizard.net.dialogue import is_address
        from wizard.resolver import lookup

        if is_address(host):
            return host, ""
        seen = lookup(host, record_type(family), ctx.reply_timeout)
        if not seen.records:
            return host, f"{host} cannot be reached over IPv{family}: {seen.problem}"
        return seen.records[0], ""

    @staticmethod
    def _auth_line(ctx) -> tuple[str, str] | None:
        """AUTH PLAIN for the first mail user, and how the transcript shows it (masked)."""
        user = ctx.values.get("mailuser_address", "")
        password = ctx.passwords.get(user)
        if not password:
            return None
        return auth_plain(user, password), f"AUTH PLAIN ******** (user {user}, password masked)"

    @staticmethod
    def _client_message(ctx, action, marker: str) -> list[str]:
        body = fill(action.body, ctx.values)
        if not action.headers:
            return message_lines(body, marker)
        return message_lines(body, marker, fill(action.mail_from, ctx.values), fill(action.rcpt, ctx.values))

    def travelled(self, probe, expect):
        action, value = probe.action, probe.expect
        # A probe sent on the box itself starts at smtpd; one from outside starts at the outside
        # client; mail being sent out starts at the user's mail client.
        sending = action.auth or expect.sends_out(value)
        path = ["mua"] if sending else (["client"] if probe.vantage.startswith("external") else [])
        path.append("smtpd")
        if action.auth:
            path.append("sasl")
        if expect.signed(value):          # the signer, proven by what reads its signature
            path.append("milter")
        return path + expect.after_smtpd(value)

    def listens(self, probe):
        return "smtpd"
