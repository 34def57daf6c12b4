"""`trusted`: the handshake a checking client makes (STARTTLS on SMTP or IMAP, or TLS at once)
verifies: the served chain leads to the expected root and the certificate names the host. It
makes its own connection, on the action's port, instead of the action's session."""

from __future__ import annotations

import ssl

from wizard.acme import facts_of_file, facts_of_pem
from wizard.config import fill
from wizard.net.dialogue import Dialogue, open_channel, telnet_line
from wizard.net.imap import ImapTalk, tagged_ok
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import INCONCLUSIVE, MET


@expectation
class Trusted(ExpectationHandler):
    kind = "trusted"
    takes_the_action = True

    def describe(self, expect, values):
        root = fill(expect.root, values)
        against = "the system's trusted CAs" if not root else f"the CA in {root}"
        return f"a certificate for {fill(expect.name, values)} that verifies against {against}"

    def run(self, ctx, probe, result, transcript, via):
        expect = probe.expect
        root, name = fill(expect.root, ctx.values), fill(expect.name, ctx.values)
        if root == "untrusted":
            result.status = INCONCLUSIVE
            result.reason = "a staging CA's certificates are trusted by no client, by design: nothing to verify"
            return
        host = fill(probe.host, ctx.values)
        action = probe.action
        smtp = action.kind == "smtp"
        at_once = action.implicit_tls if smtp else action.tls == "imaps"
        transcript.add("C", telnet_line(host, probe.port, via) + ("   (TLS from the first byte)" if at_once else ""))
        channel = open_channel(host, probe.port, ctx.reply_timeout, via, ctx.values.get("ssh_config", ""))
        with Dialogue(channel, transcript, ctx.reply_timeout) as talk:
            if not at_once and smtp:
                talk.read_reply()
                talk.send(f"EHLO {fill(action.helo, ctx.values)}")
                talk.read_reply()
                talk.send("STARTTLS")
                if not ctx.expect_code(talk.read_reply(), "220", "STARTTLS", result):
                    return
            elif not at_once:
                imap = ImapTalk(talk)
                imap.greeting()
                if not tagged_ok(imap.command("STARTTLS")):
                    result.actual = "STARTTLS refused"
                    return
            talk.start_tls(name, verify_with=root)
        facts = facts_of_pem(ctx.system, ssl.DER_cert_to_PEM_cert(talk.peer_der))
        result.actual = f"verified, names {name}" + (f"; {facts.describe()}" if facts else "")
        newest = facts_of_file(ctx.system, fill(expect.newest, ctx.values)) if expect.newest else None
        if newest and facts and newest.serial != facts.serial:
            result.actual += (f" — but not certbot's newest certificate (serial {newest.serial}, valid until "
                              f"{newest.not_after}): the daemon was not reloaded after the renewal")
            return
        result.status = MET
