"""Why a mail did (not) arrive: one message followed through Postfix's and Dovecot's logs.

A message is found by its queue id, its Message-ID or an address (the latest message from or to
it, or a refusal at our own door that names it). Its log lines, in order, are the path
(smtpd → cleanup → qmgr → smtp/lmtp/local → Dovecot's delivery); the last word Postfix said of
each recipient becomes one sentence: what happened, and what to do. Only logs are read: the
daemons need not run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from wizard.logs import DOVECOT_LOG, MAIL_LOG, message_of
from wizard.logscan import Hit, LogSet, Part
from wizard.system import System, systemd_booted

QUEUE_ID = re.compile(r"^(?:[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{12,20})$")
_LINE_QID = re.compile(r"\bpostfix/[\w/-]+\[\d+\]: ([0-9A-Za-z]{6,20}): ")
_STATUS = re.compile(r"to=<([^>]*)>.*?relay=([^,]+),.*?dsn=([\d.]+), status=(\w+) \((.*)\)$")
DELIVERED, DEFERRED, BOUNCED, REFUSED, QUEUED = "delivered", "deferred", "bounced", "refused", "in the queue"


@dataclass
class Trace:
    target: str
    queue_id: str = ""
    path: list[str] = field(default_factory=list)      # the message's log lines, in order
    outcome: str = ""
    verdict: str = ""                                   # one sentence: what happened, what to do
    others: int = 0                                     # further messages that matched an address


def why(system: System, target: str) -> tuple[Trace | None, list[str], str]:
    """`target` followed through the box's logs: (its Trace or None, what of the logs could not
    be read, when the logs begin)."""
    logs = open_logs(system)
    found = trace(logs, target)
    return found, logs.missing, first_stamp(logs)


def open_logs(system: System) -> LogSet:
    """The mail logs that exist (rotated ones first), to be searched, never read whole."""
    logs = LogSet()
    for base in (MAIL_LOG, DOVECOT_LOG):
        found = [path for path in (f"{base}.2.gz", f"{base}.1", base) if system.path(path).exists()]
        logs.parts += [Part(path, system.path(path)) for path in found]
        if base == MAIL_LOG and (not found or (systemd_booted() and not system.sandbox)):
            # No mail.log, or one Postfix may have stopped writing (the box's own main.cf back
            # after a reset, on a box without rsyslog): the journal's lines since it last grew.
            since = None if not found else _last_written(system.path(base))
            logs.add_lines(JOURNAL, _journal(system, logs.missing if not found else [], since))
    return logs


JOURNAL = "the journal"


def _last_written(path: Path) -> str | None:
    try:
        stamp = path.stat().st_mtime - 60          # a minute's overlap: repeated lines are left out
    except OSError:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def first_stamp(logs: LogSet) -> str:
    """When the readable logs begin (their first line's time stamp), or ""."""
    match = re.match(r"^(\w{3} [ \d]\d [\d:]{8}|\d{4}-\d\d-\d\dT[\d:]+)", logs.first_line())
    return match.group(1) if match else ""


def _journal(system: System, missing: list[str], since: str | None) -> list[str]:
    """Where no mail.log is kept (Debian 13 without rsyslog): the journal's postfix lines."""
    done = system.query(["journalctl", "--no-pager", "-q", "-o", "short", "--since", since or "-14d",
                         "SYSLOG_IDENTIFIER=postfix/smtpd", "+", "SYSLOG_IDENTIFIER=postfix/cleanup",
                         "+", "SYSLOG_IDENTIFIER=postfix/qmgr", "+", "SYSLOG_IDENTIFIER=postfix/smtp",
                         "+", "SYSLOG_IDENTIFIER=postfix/lmtp", "+", "SYSLOG_IDENTIFIER=postfix/local",
                         "+", "SYSLOG_IDENTIFIER=postfix/bounce", "+", "SYSLOG_IDENTIFIER=postfix/submission/smtpd"])
    if not done.ok:
        missing.append(f"no {MAIL_LOG}, and the journal could not be read")
        return []
    return done.stdout.splitlines()


def _grep(logs: LogSet, needles, fold: bool = False, start: tuple[int, int] = (0, 0),
          postfix_only: bool = False) -> list[Hit]:
    """The lines holding a needle, in order; the journal's only where no log file has the same.
    `postfix_only`: not in Dovecot's own log (a needle only Postfix's lines can hold)."""
    within = None
    if postfix_only:
        within = {i for i, part in enumerate(logs.parts) if not part.name.startswith(DOVECOT_LOG)}
    hits = logs.grep(needles, fold, start, within)
    journal = {i for i, part in enumerate(logs.parts) if part.name == JOURNAL}
    if not journal:
        return hits
    known = {message_of(hit.line) for hit in hits if hit.place[0] not in journal}
    return [hit for hit in hits if hit.place[0] not in journal or message_of(hit.line) not in known]


# A message's lines before the first one that names its Message-ID or address (smtpd's `client=`)
# come moments before it: they are looked for this far back. Should the message's own lines reach
# back to the edge of that, all the logs before are searched too (a queue long backed up).
LOOK_BACK = 8 << 20


def trace(logs: LogSet | list[str], target: str) -> Trace | None:
    """The message `target` names, followed; None when the logs know nothing of it. One search
    through all the logs for the target, then the message's own lines and Dovecot's from where
    the message first shows."""
    logs = LogSet.of_lines(logs) if isinstance(logs, list) else logs
    target = target.strip()
    result = Trace(target)
    refusal = None
    if QUEUE_ID.match(target):
        named = []
    elif target.startswith("<"):
        named = _grep(logs, [f"message-id={target}"], postfix_only=True)
    else:
        named = _address_lines(_grep(logs, [f"<{target}>"], fold=True, postfix_only=True), target.lower())
        refusal = next((hit for hit in reversed(named) if "NOQUEUE: reject:" in hit.line), None)
        named = [hit for hit in named if _qid(hit.line)]
        if not named and refusal:
            return _refused(result, refusal, others=0)
        named = named or _grep(logs, [f"message-id=<{target}>"], postfix_only=True)   # a Message-ID looks like an address
    ids = list(dict.fromkeys(qid for hit in named for qid in _qid(hit.line)))    # in order of first mention
    if not QUEUE_ID.match(target) and not ids:
        return None
    qid = ids[-1] if ids else target
    own = _own_lines(logs, qid, first=next((hit.place for hit in named if qid in _qid(hit.line)), None))
    if refusal and (not own or refusal.place > own[-1].place):
        return _refused(result, refusal, others=len(ids))
    if not own:
        return None             # a queue id the logs never saw
    result.queue_id, result.others = qid, max(0, len(ids) - 1)
    path = [hit.line for hit in own]
    result.path = path + _dovecot_lines(logs, path, own[0].place)
    result.outcome, result.verdict = verdict(result.path, qid)
    return result


def _own_lines(logs: LogSet, qid: str, first: tuple[int, int] | None) -> list[Hit]:
    """The queue id's lines: all the logs' for a queue id asked for; for one found by a
    Message-ID or an address, from a little before where it was first named (see LOOK_BACK;
    near a part's start, from the part before: a message received just before the log rotated)."""
    everything = (0, 0)
    if first is None:
        return _grep(logs, [f": {qid}: "], postfix_only=True)
    part, offset = first
    start = (part, offset - LOOK_BACK) if offset >= LOOK_BACK else (max(0, part - 1), 0)
    own = _grep(logs, [f": {qid}: "], start=start, postfix_only=True)
    if start != everything and own and own[0].place[0] == start[0] and \
            own[0].place[1] < start[1] + LOOK_BACK // 2:
        own = _grep(logs, [f": {qid}: "], postfix_only=True)
    return own


def _address_lines(hits: list[Hit], address: str) -> list[Hit]:
    """The lines that name `address` as a sender or recipient, or refuse it at the door."""
    marks = (f"from=<{address}>", f"to=<{address}>", f"orig_to=<{address}>")
    return [hit for hit in hits if (_qid(hit.line) and any(mark in hit.line.lower() for mark in marks))
            or "NOQUEUE: reject:" in hit.line]


def _refused(result: Trace, refusal: Hit, others: int) -> Trace:
    result.path = [refusal.line]
    result.outcome, result.verdict = REFUSED, refused_verdict(refusal.line)
    result.others = others
    return result


def _qid(line: str) -> list[str]:
    match = _LINE_QID.search(line)
    return [match.group(1)] if match and match.group(1) != "NOQUEUE" else []


def _dovecot_lines(logs: LogSet, own: list[str], first: tuple[int, int]) -> list[str]:
    """Dovecot's own lines of the delivery, found by the LMTP session id Postfix logged as the
    reply: after the message's first line (in dovecot.log, or just before Postfix's in mail.log)."""
    sessions = {m.group(1) for line in own
                for m in [re.search(r"status=sent \(250 2\.0\.0 <[^>]*> (\S+) Saved\)", line)] if m}
    if not sessions:
        return []
    return [hit.line for hit in _grep(logs, [f"<{session}>" for session in sessions], start=first)
            if " lmtp(" in f" {hit.line}"]


# ---- what the last word means --------------------------------------------------------------------

def verdict(path: list[str], qid: str) -> tuple[str, str]:
    statuses = [m for line in path for m in [_STATUS.search(line)] if m and f": {qid}: " in line]
    if not statuses:
        return QUEUED, (f"{qid} was taken in but nothing has been tried yet (or the log stops here): "
                        f"`postqueue -p` shows it, `postqueue -f` tries it now")
    to, relay, dsn, status, text = statuses[-1].groups()
    if status == "sent":
        return DELIVERED, delivered_verdict(to, relay, text)
    if status == "deferred":
        return DEFERRED, f"deferred for {to}: {deferred_reason(text)} Postfix tries again by itself."
    return BOUNCED, f"bounced for {to} ({dsn}): {bounced_reason(text)}"


def delivered_verdict(to: str, relay: str, text: str) -> str:
    if "dovecot-lmtp" in relay:
        return f"delivered: Dovecot took it into {to}'s mailbox over LMTP ({text})."
    if relay == "local":
        return f"delivered: into the local mailbox of {to} ({text})."
    queued = re.search(r"queued as (\S+)", text)
    return (f"delivered: {relay} accepted it for {to}" + (f" (its queue id {queued.group(1)})" if queued else "")
            + f": \"{text}\". What happens next is that server's business.")


def deferred_reason(text: str) -> str:
    held = re.match(r"delivery temporarily suspended: (.*)", text)
    if held:        # Postfix holds mail for a destination that just failed, with that failure's reason
        return deferred_reason(held.group(1)) + " (Postfix holds mail for it since that last failure.)"
    if "SASL authentication failed" in text:
        said = re.search(r"said: (5\d\d[ -].*|4\d\d[ -].*)", text)
        if said:
            return (f"the relay host refused this server's login ({said.group(1)}): check [relay] user "
                    "and password (Postfix reads them from /etc/postfix/sasl_passwd), then run the "
                    "relay-host step again.")
        return (f"Postfix could not log in to the relay host ({text}): the SASL modules for PLAIN and "
                "LOGIN (Debian's libsasl2-modules) are missing, or the relay offers no mechanism "
                "Postfix may use.")
    if "TLS is required, but" in text:
        return (f"the relay host would not encrypt ({text}): the password is never sent in clear; check "
                "the relay host's name and port with your provider (587 with STARTTLS, usually).")
    if "Connection timed out" in text:
        return (f"the other server did not answer ({text}). Outbound port 25 is likely blocked, "
                "as many cloud and home providers do: send through their relay host, or ask them to open it.")
    if "Connection refused" in text:
        return f"the other server refused the connection ({text}): it is down or not a mail server."
    if re.search(r"Host or domain name not found|Name service error|Host not found", text):
        return f"its domain cannot be looked up ({text}): check the address, and this box's resolver."
    if re.search(r":25: (No route to host|Network is unreachable)", text):
        return (f"this server cannot reach port 25 of the other one ({text}): outbound port 25 is likely "
                "blocked (a firewall here, or the provider): send through a relay host, or have it opened.")
    if re.search(r"No route to host|Network is unreachable", text):
        return f"the network does not reach it ({text}): check this box's routes and firewall."
    if re.search(r"greylist", text, re.I):
        return f"greylisted ({text}): the other server asks to retry later, which is normal once."
    said = re.search(r"said: (4\d\d[ -].*)", text)
    if said:
        return f"the other server asked to retry later: {said.group(1)}."
    return f"{text}."


def bounced_reason(text: str) -> str:
    said = re.search(r"said: (5\d\d[ -].*)", text)
    reply = said.group(1) if said else text
    if re.search(r"blocked using|block ?list|blacklist|listed|spamhaus|RBL", reply, re.I):
        listed = re.search(r"blocked using ([\w.-]+)", reply)
        return (f"the other server found this server's address on a block list"
                + (f" ({listed.group(1)})" if listed else "") + f": \"{reply}\". Look the address up at "
                "the list, fix what got it listed, and ask for removal.")
    if re.search(r"5\.7\.25|reverse DNS|PTR", reply):
        # The address it names says which record leads back: an IPv6 one wants AAAA.
        back = "an AAAA record" if re.search(r"\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}\b", reply) else "an A record"
        return (f"the other server wants reverse DNS: \"{reply}\". Ask your provider for a PTR record that "
                f"names this server (and {back} back).")
    if re.search(r"5\.7\.26|5\.7\.23|DMARC|SPF|DKIM|unauthenticated", reply, re.I):
        return (f"the other server could not authenticate the mail: \"{reply}\". Publish SPF, DKIM and "
                "DMARC (the dkim and dns-auth chapters), then send again.")
    if re.search(r"^530[ -]|Authentication required", reply):
        return (f"the relay host wants a login this server did not give: \"{reply}\". The password map "
                "has no entry for it: run the relay-host step again with [relay] user and password.")
    if re.search(r"5\.1\.1|User unknown|no such user|does not exist", reply, re.I):
        return f"no such mailbox there: \"{reply}\". Check the address."
    if "loops back to myself" in reply:
        return (f"\"{reply}\": this server believes it is the destination but has no mailbox for it; "
                "check mydestination and the domain's MX.")
    return f"\"{reply}\"."


def refused_verdict(line: str) -> str:
    # The client as Postfix names it, host[address]: an IPv6 address holds colons of its own.
    match = re.search(r"reject: (\w+) from (\S+\[[^\]]*\]|[^:]+): (\d{3} [\d.]+ .*?); from=<([^>]*)> to=<([^>]*)>", line)
    if not match:
        return f"refused at this server's door: {line.split('reject: ', 1)[-1]}"
    stage, client, reply, sender, rcpt = match.groups()
    why = "its restrictions"
    if "Relay access denied" in reply:
        why = ("the relay restrictions: only logged-in users may send to other domains (a client should "
               "use 587 and log in)")
    elif "User unknown" in reply or "5.1.1" in reply:
        why = "its list of mailboxes: there is no such recipient here"
    elif "Helo command rejected" in reply:
        why = "its HELO rules: the client must greet with a proper host name"
    elif re.search(r"blocked using|listed", reply):
        listed = re.search(r"blocked using ([\w.-]+)", reply)
        why = (f"the block list {listed.group(1) if listed else 'it checks'}: the client's address is "
               "listed there (a client on a block list is refused on port 25; people who log in on "
               "587 are not looked up)")
    return (f"refused at this server's own door, at {stage}, from {client}: \"{reply}\" — by {why}. "
            f"Nothing was queued (sender {sender or '<>'}, recipient {rcpt}).")


# ---- as the faces show it --------------------------------------------------------------------------

def not_found(target: str, since: str) -> str:
    """What both faces say when the logs know nothing of `target`."""
    return (f"no message for {target} in the logs" + (f" since {since}" if since else "")
            + ": check the address or id (`postqueue -p` lists what waits in the queue).")


def target_of_line(line: str) -> str:
    """The message a log line speaks of, as `why` takes it: its queue id; for a refusal at the
    door (nothing queued), the recipient; for Dovecot's delivery line, the Message-ID; else ""."""
    if "NOQUEUE: reject:" in line:
        match = re.search(r"to=<([^>]+)>", line)
        return match.group(1) if match else ""
    qid = _qid(line)
    if qid:
        return qid[0]
    match = re.search(r"msgid=(<[^>]+>)", line)
    return match.group(1) if match else ""


_PREFIX = re.compile(r"^(\w{3} [ \d]\d [\d:]{8}|\d{4}-\d\d-\d\dT[\d:.+-]+) \S+ (postfix/[\w/-]+)\[\d+\]: [0-9A-Za-z]+: ")


def path_line(line: str) -> str:
    """A log line as the path shows it: when, which part of Postfix (or Dovecot), what it said."""
    match = _PREFIX.match(line)
    if match:
        return f"{match.group(1)}  {match.group(2):<16} {line[match.end():]}"
    return line


def describe(found: Trace) -> list[str]:
    """The path, then the one line that says what happened and what to do."""
    head = (f"message {found.queue_id}" if found.queue_id else "no message was queued")
    if found.others:
        head += (f" (the latest of {found.others + 1} that name {found.target}; give a queue id for another)"
                 if found.queue_id else f" (the latest word on {found.target})")
    return [f"{found.target}: {head}", *[f"  {path_line(line)}" for line in found.path], found.verdict]
