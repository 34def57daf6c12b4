"""Why a mail did (not) arrive: one message followed through Postfix's and Dovecot's logs.

A message is found by its queue id, its Message-ID or an address (the latest message from or to
it, or a refusal at our own door that names it). Its log lines, in order, are the path
(smtpd → cleanup → qmgr → smtp/lmtp/local → Dovecot's delivery); the last word Postfix said of
each recipient becomes one sentence: what happened, and what to do. Only logs are read: the
daemons need not run.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

from wizard.logs import DOVECOT_LOG, MAIL_LOG, message_of
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


def read_logs(system: System) -> tuple[list[str], list[str]]:
    """Every line of the mail logs that can be read (rotated ones first), and what could not."""
    lines, missing = [], []
    for base in (MAIL_LOG, DOVECOT_LOG):
        found = False
        for path in (f"{base}.2.gz", f"{base}.1", base):
            target = system.path(path)
            if not target.exists():
                continue
            found = True
            try:
                data = gzip.decompress(target.read_bytes()) if path.endswith(".gz") else target.read_bytes()
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                missing.append(f"{path} could not be read ({exc})")
                continue
            lines += data.decode("utf-8", errors="replace").splitlines()
        if base == MAIL_LOG and (not found or (systemd_booted() and not system.sandbox)):
            # No mail.log, or one Postfix may have stopped writing (the box's own main.cf back
            # after a reset, on a box without rsyslog): the journal's lines it does not hold.
            known = {message_of(line) for line in lines}
            lines += [line for line in _journal(system, missing if not found else [])
                      if message_of(line) not in known]
    return lines, missing


def first_stamp(lines: list[str]) -> str:
    """When the readable logs begin (their first line's time stamp), or ""."""
    for line in lines:
        match = re.match(r"^(\w{3} [ \d]\d [\d:]{8}|\d{4}-\d\d-\d\dT[\d:]+)", line)
        if match:
            return match.group(1)
    return ""


def _journal(system: System, missing: list[str]) -> list[str]:
    """Where no mail.log is kept (Debian 13 without rsyslog): the journal's postfix lines."""
    done = system.query(["journalctl", "--no-pager", "-q", "-o", "short", "--since", "-14d",
                         "SYSLOG_IDENTIFIER=postfix/smtpd", "+", "SYSLOG_IDENTIFIER=postfix/cleanup",
                         "+", "SYSLOG_IDENTIFIER=postfix/qmgr", "+", "SYSLOG_IDENTIFIER=postfix/smtp",
                         "+", "SYSLOG_IDENTIFIER=postfix/lmtp", "+", "SYSLOG_IDENTIFIER=postfix/local",
                         "+", "SYSLOG_IDENTIFIER=postfix/bounce", "+", "SYSLOG_IDENTIFIER=postfix/submission/smtpd"])
    if not done.ok:
        missing.append(f"no {MAIL_LOG}, and the journal could not be read")
        return []
    return done.stdout.splitlines()


def trace(lines: list[str], target: str) -> Trace | None:
    """The message `target` names, followed; None when the logs know nothing of it."""
    target = target.strip()
    result = Trace(target)
    if QUEUE_ID.match(target):
        ids = [target]
    elif target.startswith("<"):
        ids = _ids_for_message_id(lines, target)
    else:
        ids = _ids_for_address(lines, target.lower())
        refusal = _last_refusal(lines, target.lower())
        if refusal and (not ids or _later(lines, refusal, ids[-1])):
            result.path = [refusal]
            result.outcome, result.verdict = REFUSED, refused_verdict(refusal)
            result.others = len(ids)
            return result
        ids = ids or _ids_for_message_id(lines, f"<{target}>")   # a Message-ID looks like an address
    if not ids:
        return None
    qid = ids[-1]
    result.queue_id, result.others = qid, len(set(ids)) - 1
    own = [line for line in lines if f": {qid}: " in line]
    if not own:
        return None             # a queue id the logs never saw
    result.path = own + _dovecot_lines(lines, own)
    result.outcome, result.verdict = verdict(result.path, qid)
    return result


def _qid(line: str) -> list[str]:
    match = _LINE_QID.search(line)
    return [match.group(1)] if match and match.group(1) != "NOQUEUE" else []


def _ids_for_message_id(lines: list[str], wanted: str) -> list[str]:
    return [qid for line in lines if f"message-id={wanted}" in line for qid in _qid(line)]


def _ids_for_address(lines: list[str], address: str) -> list[str]:
    ids = []
    for line in lines:
        low = line.lower()
        if f"from=<{address}>" in low or f"to=<{address}>" in low or f"orig_to=<{address}>" in low:
            for qid in _qid(line):
                if qid not in ids:
                    ids.append(qid)
    return ids


def _last_refusal(lines: list[str], address: str) -> str:
    for line in reversed(lines):
        if "NOQUEUE: reject:" in line and (f"<{address}>" in line.lower()):
            return line
    return ""


def _later(lines: list[str], refusal: str, qid: str) -> bool:
    last_of_qid = max((i for i, line in enumerate(lines) if f": {qid}: " in line), default=-1)
    return lines.index(refusal) > last_of_qid


def _dovecot_lines(lines: list[str], own: list[str]) -> list[str]:
    """Dovecot's own lines of the delivery, found by the LMTP session id Postfix logged as the reply."""
    sessions = {m.group(1) for line in own
                for m in [re.search(r"status=sent \(250 2\.0\.0 <[^>]*> (\S+) Saved\)", line)] if m}
    return [line for line in lines if sessions and " lmtp(" in f" {line}"
            and any(f"<{session}>" in line for session in sessions)]


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
        return (f"the other server wants reverse DNS: \"{reply}\". Ask your provider for a PTR record that "
                "names this server (and an A record back).")
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
    match = re.search(r"reject: (\w+) from ([^:]+): (\d{3} [\d.]+ .*?); from=<([^>]*)> to=<([^>]*)>", line)
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
