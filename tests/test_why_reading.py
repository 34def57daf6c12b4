"""`why`'s reading of the logs, on lines as Postfix 3.7 and Dovecot 2.3 write them (copied from the
lab's): each outcome named, found by queue id, Message-ID or address, rotated and broken logs."""

from __future__ import annotations


import gzip

from pilot_wait import close_opening_dialogs
from wizard.system import System
from wizard.tracing import BOUNCED, DEFERRED, DELIVERED, REFUSED, open_logs, trace

HEAD = "Dec 02 05:18:57 mail postfix/"


def message(qid: str, to: str, relay: str, dsn: str, status: str, text: str, sender: str = "bob@ext.test",
            msgid: str = "<m1@ext.test>") -> list[str]:
    return [f"{HEAD}smtpd[26601]: {qid}: client=exthost.ext.test[192.0.2.50]",
            f"{HEAD}cleanup[26605]: {qid}: message-id={msgid}",
            f"{HEAD}qmgr[26600]: {qid}: from=<{sender}>, size=283, nrcpt=1 (queue active)",
            f"{HEAD}lmtp[26606]: {qid}: to=<{to}>, relay={relay}, delay=0.11, delays=0.09/0.01/0.01/0.01, "
            f"dsn={dsn}, status={status} ({text})"]


LMTP = message("5B8E91623B8", "alice@example.test", "mail.example.test[private/dovecot-lmtp]", "2.0.0", "sent",
               "250 2.0.0 <alice@example.test> 2JBGGUGqD2vvZwAAg+zDdQ Saved")
DOVECOT = ["Dec 02 05:18:57 lmtp(alice@example.test)<26607><2JBGGUGqD2vvZwAAg+zDdQ>: Info: "
           "msgid=<m1@ext.test>: saved mail to INBOX"]


def test_a_local_delivery_is_followed_into_dovecot():
    found = trace(LMTP + DOVECOT, "5B8E91623B8")
    assert found.outcome == DELIVERED and found.path[-1] == DOVECOT[0]
    assert found.verdict.startswith("delivered: Dovecot took it into alice@example.test's mailbox")
    assert trace(LMTP + DOVECOT, "<m1@ext.test>").queue_id == "5B8E91623B8"
    assert trace(LMTP + DOVECOT, "m1@ext.test").queue_id == "5B8E91623B8", "an address that is a Message-ID"
    assert trace(LMTP + DOVECOT, "ALICE@example.test").queue_id == "5B8E91623B8"
    assert trace(LMTP, "nobody@example.test") is None and trace(LMTP, "ABCDEF123") is None


def test_remote_outcomes_are_named_with_what_to_do():
    cases = {
        ("sent", "2.0.0", "250 2.0.0 Ok: queued as 9C1F2"): (DELIVERED, "its queue id 9C1F2"),
        ("deferred", "4.4.1", "connect to exthost.ext.test[192.0.2.50]:25: Connection timed out"):
            (DEFERRED, "Outbound port 25 is likely blocked"),
        ("deferred", "4.4.1", "connect to exthost.ext.test[192.0.2.50]:25: Connection refused"):
            (DEFERRED, "refused the connection"),
        ("deferred", "4.4.3", "Host or domain name not found. Name service error for name=ext.test type=MX"):
            (DEFERRED, "cannot be looked up"),
        ("deferred", "4.7.1", "host exthost.ext.test[192.0.2.50] said: 450 4.7.1 greylisted, try again"):
            (DEFERRED, "greylisted"),
        ("bounced", "5.7.26", "host exthost.ext.test[192.0.2.50] said: 550 5.7.26 Unauthenticated email is not "
                              "accepted (in reply to end of DATA command)"): (BOUNCED, "Publish SPF, DKIM and DMARC"),
        ("bounced", "5.7.1", "host mx.example.net[198.51.100.7] said: 554 5.7.1 Service unavailable; Client host "
                             "[203.0.113.5] blocked using zen.spamhaus.org"): (BOUNCED, "block list (zen.spamhaus.org)"),
        ("bounced", "5.1.1", "host exthost.ext.test[192.0.2.50] said: 550 5.1.1 <carol@ext.test>: User unknown"):
            (BOUNCED, "no such mailbox there"),
    }
    for (status, dsn, text), (outcome, words) in cases.items():
        lines = message("C9CD3162360", "carol@ext.test", "exthost.ext.test[192.0.2.50]:25", dsn, status, text,
                        sender="alice@example.test")
        found = trace(lines, "C9CD3162360")
        assert found.outcome == outcome and words in found.verdict, (text, found.verdict)


def test_a_refusal_at_our_door_is_found_by_address_and_names_the_rule():
    refusal = (f"{HEAD}smtpd[26327]: NOQUEUE: reject: RCPT from exthost.ext.test[192.0.2.50]: 454 4.7.1 "
               "<bob@ext.test>: Relay access denied; from=<bob@ext.test> to=<bob@ext.test> proto=SMTP helo=<ext.test>")
    found = trace(LMTP + [refusal], "bob@ext.test")
    assert found.outcome == REFUSED and found.queue_id == "" and found.others == 1
    assert "at RCPT, from exthost.ext.test[192.0.2.50]" in found.verdict and "relay restrictions" in found.verdict
    # A later message for the same address is the latest word, not the old refusal.
    assert trace([refusal] + LMTP, "bob@ext.test").outcome == DELIVERED
    # A client that came over IPv6: its address holds colons, the rule is named all the same.
    over6 = refusal.replace("[192.0.2.50]", "[2001:db8:25::50]")
    found = trace(LMTP + [over6], "bob@ext.test")
    assert "at RCPT, from exthost.ext.test[2001:db8:25::50]: \"454 4.7.1" in found.verdict, found.verdict
    assert "relay restrictions" in found.verdict


def test_rotated_logs_are_read_and_an_unreadable_one_is_named(tmp_path):
    logs = tmp_path / "var/log"
    logs.mkdir(parents=True)
    (logs / "mail.log.2.gz").write_bytes(gzip.compress("\n".join(LMTP[:2]).encode()))
    (logs / "mail.log.1").write_text("\n".join(LMTP[2:]) + "\n")
    (logs / "mail.log").write_text("")
    logs = open_logs(System(tmp_path))
    assert trace(logs, "5B8E91623B8").outcome == DELIVERED and logs.missing == []
    (tmp_path / "var/log/mail.log.2.gz").write_bytes(b"not gzip at all")
    logs = open_logs(System(tmp_path))
    assert trace(logs, "5B8E91623B8").outcome == DELIVERED, "the readable part still tells"
    assert logs.missing and "mail.log.2.gz could not be read" in logs.missing[0]


def test_logs_are_searched_a_block_at_a_time_and_nothing_is_lost_at_the_seams(tmp_path, monkeypatch):
    """Blocks far smaller than the logs: every line that crosses a block's end, and one line
    longer than a block, is still found whole and in order, in plain and compressed parts."""
    from wizard import logscan

    monkeypatch.setattr(logscan, "BLOCK", 97)
    filler = [f"{HEAD}anvil[1]: statistics: max connection rate {n}/60s" for n in range(300)]
    long_line = f"{HEAD}smtpd[1]: 5B8E91623B8: warning: " + "x" * 500
    logs = tmp_path / "var/log"
    logs.mkdir(parents=True)
    (logs / "mail.log.2.gz").write_bytes(gzip.compress("\n".join(filler + LMTP[:1]).encode() + b"\n"))
    (logs / "mail.log.1").write_text("\n".join(filler + [long_line] + LMTP[1:3] + filler) + "\n")
    (logs / "mail.log").write_text("\n".join(filler + LMTP[3:]))         # no newline at its end
    (logs / "dovecot.log").write_text("\n".join(filler + DOVECOT) + "\n")
    found = trace(open_logs(System(tmp_path)), "5B8E91623B8")
    assert found.path == LMTP[:1] + [long_line] + LMTP[1:] + DOVECOT
    assert found.outcome == DELIVERED
    assert trace(open_logs(System(tmp_path)), "ALICE@example.test").path == found.path


def test_a_compressed_part_is_read_whole_across_members_and_a_broken_one_is_named(tmp_path, monkeypatch):
    """A rotated part made of two gzip members with padding after them (as `cat` and some tools
    leave it), inflated a few bytes at a time: every line found, in order; a part cut short or
    with a wrong check sum is named as unreadable, never taken as ended."""
    from wizard import logscan, tracing

    monkeypatch.setattr(logscan, "BLOCK", 97)
    monkeypatch.setattr(logscan, "CHUNK", 61)
    filler = [f"{HEAD}anvil[1]: statistics: max connection rate {n}/60s" for n in range(400)]
    first, second = filler + LMTP[:2], filler + LMTP[2:] + filler
    logs = tmp_path / "var/log"
    logs.mkdir(parents=True)
    packed = gzip.compress("\n".join(first).encode() + b"\n") + gzip.compress("\n".join(second).encode() + b"\n")
    (logs / "mail.log.2.gz").write_bytes(packed + bytes(16))
    (logs / "mail.log").write_text("")
    opened = open_logs(System(tmp_path))
    assert trace(opened, "5B8E91623B8").path == LMTP and opened.missing == []
    assert opened.first_line() == filler[0]
    # Found by its address, the message's own lines are looked for from a little before the
    # first line naming it: inside the compressed part, reached by inflating up to there.
    monkeypatch.setattr(tracing, "LOOK_BACK", 45000)
    assert trace(open_logs(System(tmp_path)), "alice@example.test").path == LMTP
    (logs / "mail.log.2.gz").write_bytes(packed[:-40])
    opened = open_logs(System(tmp_path))
    trace(opened, "5B8E91623B8")
    assert opened.missing and "mail.log.2.gz could not be read" in opened.missing[0]
    wrong = bytearray(packed)
    wrong[-6] ^= 1                          # the second member's CRC
    (logs / "mail.log.2.gz").write_bytes(bytes(wrong))
    opened = open_logs(System(tmp_path))
    trace(opened, "5B8E91623B8")
    assert opened.missing and "mail.log.2.gz could not be read" in opened.missing[0]


def test_a_log_that_grows_or_rotates_between_two_questions_is_read_as_it_is_now(tmp_path):
    logs = tmp_path / "var/log"
    logs.mkdir(parents=True)
    (logs / "mail.log").write_text("\n".join(LMTP[:2]) + "\n")
    assert trace(open_logs(System(tmp_path)), "5B8E91623B8").outcome == "in the queue"
    with (logs / "mail.log").open("a") as grown:
        grown.write("\n".join(LMTP[2:]) + "\n")
    assert trace(open_logs(System(tmp_path)), "5B8E91623B8").outcome == DELIVERED
    (logs / "mail.log").rename(logs / "mail.log.1")             # rotated: a new, empty mail.log
    (logs / "mail.log").write_text(REFUSAL + "\n")
    assert trace(open_logs(System(tmp_path)), "5B8E91623B8").outcome == DELIVERED
    assert trace(open_logs(System(tmp_path)), "carol@ext.test").outcome == REFUSED


REFUSAL = (f"{HEAD}smtpd[26327]: NOQUEUE: reject: RCPT from exthost.ext.test[192.0.2.50]: 454 4.7.1 "
           "<carol@ext.test>: Relay access denied; from=<eve@ext.test> to=<carol@ext.test> proto=SMTP helo=<ext.test>")


def sandbox_with_logs(tmp_path):
    logs = tmp_path / "var/log"
    logs.mkdir(parents=True)
    (logs / "mail.log").write_text("\n".join(LMTP + [REFUSAL]) + "\n")
    (logs / "dovecot.log").write_text("\n".join(DOVECOT) + "\n")
    return tmp_path


def test_the_cli_says_what_happened_and_exits_by_it(tmp_path):
    from conftest import mailwizard

    root = str(sandbox_with_logs(tmp_path))
    delivered = mailwizard("why", "<m1@ext.test>", "--root", root)
    assert delivered.returncode == 0, delivered.stdout + delivered.stderr
    lines = delivered.stdout.splitlines()
    assert lines[0] == "<m1@ext.test>: message 5B8E91623B8"
    assert "postfix/qmgr" in lines[3] and "saved mail to INBOX" in lines[-2]
    assert lines[-1].startswith("delivered: Dovecot took it into alice@example.test's mailbox")
    refused = mailwizard("why", "carol@ext.test", "--root", root)
    assert refused.returncode == 1 and "refused at this server's own door" in refused.stdout.splitlines()[-1]
    unknown = mailwizard("why", "ABCDEF1234", "--root", root)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert unknown.stdout.startswith("no message for ABCDEF1234 in the logs since Dec 02 05:18:57")


def test_the_tui_follows_a_mail_from_its_why_screen(tmp_path, session):
    import asyncio

    from wizard.tui.app import WizardApp
    from wizard.tui.screens import WhyScreen

    engine = session(sandbox_with_logs(tmp_path))
    seen = {}

    async def main():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            await close_opening_dialogs(app, pilot)
            await pilot.press("w")
            await pilot.pause()
            assert isinstance(app.screen, WhyScreen)
            await pilot.press(*"carol@ext.test", "enter")
            for _ in range(100):
                await pilot.pause(0.05)
                seen["verdict"] = str(app.screen.query_one("#why-verdict").render())
                if seen["verdict"].startswith("refused"):
                    break
            seen["path"] = str(app.screen.query_one("#why-path").render())

    try:
        asyncio.run(main())
    finally:
        engine.close()
    assert seen["verdict"].startswith("refused at this server's own door, at RCPT"), seen
    assert "relay restrictions" in seen["verdict"] and "postfix/smtpd    reject: RCPT from" in seen["path"]


def test_the_report_says_what_became_of_a_failed_probes_mail(tmp_path, session):

    from wizard.report import html_report, markdown

    bounced = message("C9CD3162360", "carol@ext.test", "exthost.ext.test[192.0.2.50]:25", "5.7.26", "bounced",
                      "host exthost.ext.test[192.0.2.50] said: 550 5.7.26 Unauthenticated email is not accepted",
                      sender="alice@example.test")
    root = sandbox_with_logs(tmp_path)
    (root / "var/log/mail.log").write_text("\n".join(bounced) + "\n")
    engine = session(root)
    try:
        engine.state.steps["sasl"] = {"status": "failed", "message": "a probe did not meet its expectation",
                                      "probes": [{"id": "relay", "title": "relay", "status": "failed",
                                                  "expected": "handed on", "actual": "bounced",
                                                  "transcript": ["S: 250 2.0.0 Ok: queued as C9CD3162360"]}]}
        text = markdown(engine)
        assert ("- what became of the mail (`mailwizard why`): bounced for carol@ext.test (5.7.26): the other "
                "server could not authenticate the mail") in text
        assert "what became of the mail: bounced for carol@ext.test" in html_report(engine)
    finally:
        engine.close()


def test_a_line_of_the_log_tab_opens_why_on_its_message(tmp_path, session):
    """Enter on a log line follows its message; `w` on the Log tab does the same for the
    highlighted line; a line that names no message says so."""
    import asyncio

    from wizard.tracing import target_of_line
    from wizard.tui.app import WizardApp
    from wizard.tui.log_lines import LogLines
    from wizard.tui.screens import WhyScreen

    assert target_of_line(LMTP[3]) == "5B8E91623B8" and target_of_line(REFUSAL) == "carol@ext.test"
    assert target_of_line(DOVECOT[0]) == "<m1@ext.test>" and target_of_line("postfix/master: reload") == ""
    engine = session(sandbox_with_logs(tmp_path))
    engine.step_logs["prereq"] = [(f"mail.log: {line}", False) for line in LMTP] + [(f"mail.log: {REFUSAL}", True)]
    seen = {}

    async def verdict(app, pilot, words: str) -> str:
        for _ in range(100):
            await pilot.pause(0.05)
            text = str(app.screen.query_one("#why-verdict").render())
            if text.startswith(words):
                return text
        return text

    async def main():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            await close_opening_dialogs(app, pilot)
            await pilot.press("l")
            await pilot.pause()
            lines = app.query_one(LogLines)
            seen["rows"] = lines.lines
            lines.focus()
            lines.highlighted = 3                       # lmtp's status=sent line
            await pilot.press("enter")
            await pilot.pause()
            seen["screen"] = type(app.screen).__name__
            seen["delivered"] = await verdict(app, pilot, "delivered")
            await pilot.press("escape")
            await pilot.pause()
            lines.focus()
            lines.highlighted = 4                       # the refusal, marked by a failed probe
            await pilot.press("w")
            await pilot.pause()
            seen["target"] = app.screen.query_one("#why-target").value
            seen["refused"] = await verdict(app, pilot, "refused")

    try:
        asyncio.run(main())
    finally:
        engine.close()
    assert seen["rows"][4].startswith("✘ mail.log:") and len(seen["rows"]) == 5, seen["rows"]
    assert seen["screen"] == WhyScreen.__name__
    assert seen["delivered"].startswith("delivered: Dovecot took it into alice@example.test"), seen
    assert seen["target"] == "carol@ext.test" and seen["refused"].startswith("refused at this server's own door")
