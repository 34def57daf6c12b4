"""`in-inbox`: the message lands in the user's Maildir and that very message is found over IMAP."""

from __future__ import annotations

from wizard.config import fill
from wizard.net.dialogue import Dialogue, Transcript, open_channel
from wizard.net.imap import ImapClosed, ImapTalk, tagged_ok
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MARKER_HEADER, MET


@expectation
class InInbox(ExpectationHandler):
    kind = "in-inbox"

    def describe(self, expect, values):
        return f"delivered into {fill(expect.maildir, values)} and seen in INBOX over IMAP"

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        """Delivered into the Maildir, then that very message found over IMAP by its marker."""
        found = ctx.arrived_in_maildir(expect.maildir, marker, result, queue_id)
        if found is None:
            return
        user = fill(expect.user, ctx.values)
        password = ctx.passwords.get(user)
        if not password:
            result.status, result.actual = MET, f"in {found} (IMAP not checked: no clear password in the answers)"
            return
        transcript = Transcript(sink=ctx.on_line)
        transcript.add("C", "$ telnet localhost 143   (read it back as the user would)")
        with Dialogue(open_channel("localhost", 143, ctx.reply_timeout), transcript, ctx.reply_timeout) as talk:
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

    def after_smtpd(self, expect):
        return ["lmtp", "dovecot", "maildir", "imap"]
