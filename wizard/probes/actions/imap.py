"""`imap`: an IMAP session as the tutorial types it (greeting, STARTTLS or TLS at once, LOGIN,
commands, LOGOUT); the expectation judges the lines the server said."""

from __future__ import annotations

import secrets

from wizard.config import fill
from wizard.net.dialogue import Dialogue, DialogueError, open_channel, telnet_line
from wizard.net.imap import ImapClosed, ImapTalk, tagged_ok
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import FAILED, INCONCLUSIVE, MET


@action
class Imap(ActionHandler):
    kind = "imap"

    def run(self, ctx, probe, result, transcript, via):
        action, expect = probe.action, probe.expect
        judge = ctx.expectation(expect)
        user = fill(action.user, ctx.values)
        password = {"good": ctx.passwords.get(user), "wrong": "not-the-password-" + secrets.token_hex(3),
                    "none": ""}[action.password]
        if password is None:
            result.status = INCONCLUSIVE
            result.reason = (f"the answers give no clear password for {user} (only a hash), so the "
                             "wizard cannot log in; give it with --answers to prove this step")
            return
        host = fill(probe.host, ctx.values)
        port = probe.port if probe.port != 25 else (993 if action.tls == "imaps" else 143)
        transcript.add("C", telnet_line(host, port, via) + ("   (TLS from the first byte)" if action.tls == "imaps" else ""))
        try:
            sock = open_channel(host, port, ctx.reply_timeout, via, ctx.values.get("ssh_config", ""))
        except DialogueError as exc:
            transcript.add("S", f"({exc})")
            judge.judge_lines(ctx, expect, result, [], refused=True, why=str(exc))
            return
        handshake = ""          # why the TLS handshake failed, if it did
        with Dialogue(sock, transcript, ctx.reply_timeout) as talk:
            imap = ImapTalk(talk)
            try:
                if action.tls == "imaps":
                    try:
                        talk.start_tls(ctx.values.get("fqdn", host))
                    except DialogueError as exc:
                        handshake = str(exc)
                        raise
                if action.speaks_first:
                    self._before_greeting(imap, action)
                    raise ImapClosed("spoke first")
                imap.greeting()
                if action.tls == "starttls":
                    if not tagged_ok(imap.command("STARTTLS")):
                        raise ImapClosed("STARTTLS refused")
                    talk.start_tls(ctx.values.get("fqdn", host))
                logged_in = True
                if action.password != "none":
                    logged_in = tagged_ok(imap.login(user, password))
                if logged_in:
                    for command in action.commands:
                        imap.command(fill(command, ctx.values))
                imap.command("LOGOUT")
            except DialogueError:       # the server hung up, or TLS failed: judged below
                pass
            server_lines = imap.lines
        if getattr(expect, "tls_fails", False):
            result.status, result.actual = (MET, handshake) if handshake else \
                (FAILED, "the TLS handshake succeeded: " + (server_lines[0] if server_lines else "no reply"))
            return
        judge.judge_lines(ctx, expect, result, server_lines)

    @staticmethod
    def _before_greeting(imap: ImapTalk, action) -> None:
        """A client set up for the other port: it sends at once (STARTTLS, or its commands)."""
        for command in ("STARTTLS",) if action.tls == "starttls" else action.commands:
            imap.command(command)

    def travelled(self, probe, expect):
        return ["mua", "imap", "dovecot"] + (["maildir"] if expect.reaches_maildir(probe.expect) else [])

    def listens(self, probe):
        return "imap"
