"""What a stranger can make the server's SMTP ports do: relay, give away addresses, smuggle a
second message, log in without TLS. Every dialogue runs through the one dialogue engine
(wizard/net/dialogue.py) from the audit's vantage point, stops before a message where it
can, and never logs in."""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager

from wizard.audit.tls import reachable
from wizard.audit.model import REQUIRED, Row, Target, broken, informed, judged, untested
from wizard.net.dialogue import Dialogue, DialogueError, Reply, Transcript, open_channel, telnet_line
from wizard.statuses import RECOMMENDED

CLOSED = ("Connection refused", "cannot connect")


class PortClosed(DialogueError):
    """Nothing answers on the port (refused), as opposed to a dialogue that went wrong."""


@contextmanager
def smtp_session(target: Target, port: int, transcript: Transcript, tls: str = ""):
    """A greeted SMTP dialogue on `port`, after EHLO (and STARTTLS when `tls` is "starttls",
    TLS at once when "implicit"); yields (dialogue, the last EHLO reply, the greeting)."""
    transcript.add("C", telnet_line(target.host, port, target.via))
    try:
        channel = open_channel(target.connect_to, port, target.timeout, target.via, target.ssh_config)
    except DialogueError as exc:
        raise PortClosed(str(exc)) from None
    with Dialogue(channel, transcript, target.timeout) as talk:
        try:
            if tls == "implicit":
                talk.start_tls(target.host)
            greeting = talk.read_reply()
        except DialogueError as exc:
            why_not = reachable(target, port) if tls == "implicit" else ""
            if why_not or any(word in str(exc) for word in CLOSED):
                raise PortClosed(why_not or str(exc)) from None
            raise
        if greeting.code != "220":
            raise DialogueError(f"the server greeted with {greeting.last}")
        talk.send(f"EHLO {target.helo}")
        ehlo = talk.read_reply()
        if tls == "starttls":
            talk.send("STARTTLS")
            if talk.read_reply().code != "220":
                raise DialogueError("STARTTLS was refused")
            talk.start_tls(target.host)
            talk.send(f"EHLO {target.helo}")
            ehlo = talk.read_reply()
        yield talk, ehlo, greeting
        try:
            talk.send("QUIT")
            talk.read_reply()
        except DialogueError:
            pass


def port_tls(port: int) -> str:
    return {465: "implicit", 587: "starttls"}.get(port, "")


# ---- the open-relay battery (nmap's smtp-open-relay set) --------------------------------------

def relay_variants(target: Target, address: str) -> list[tuple[str, str]]:
    """Sixteen (MAIL FROM, RCPT TO) pairs, as nmap's smtp-open-relay script sends them: null,
    local and address-literal senders; a recipient outside, hidden behind %-hacks, quotes,
    source routes, bang paths and literals of the server's own address."""
    outside = target.sender.split("@")[-1] or "example.net"
    to = f"relaytest-{secrets.token_hex(3)}"
    local_from = f"relaytest@{target.domain}"
    literal_from = f"relaytest@[{address}]"
    server = target.host
    recipients = [
        f"{to}%{outside}@[{address}]", f"{to}%{outside}@{server}", f'"{to}@{outside}"', f'"{to}%{outside}"',
        f"{to}@{outside}@[{address}]", f'"{to}@{outside}"@[{address}]', f"{to}@{outside}@{server}",
        f"@[{address}]:{to}@{outside}", f"@{server}:{to}@{outside}", f"{outside}!{to}",
        f"{outside}!{to}@[{address}]", f"{outside}!{to}@{server}",
    ]
    return ([("", f"{to}@{outside}"), (local_from, f"{to}@{outside}"), (f"relaytest@{server}", f"{to}@{outside}"),
             (literal_from, f"{to}@{outside}")]
            + [(literal_from, rcpt) for rcpt in recipients])


def try_relays(target: Target, port: int, pairs: list[tuple[str, str]]) -> tuple[list[tuple[str, str, Reply]], list[str]]:
    """Each pair in one dialogue, RSET between, stopping at RCPT: (from, to, the deciding reply)."""
    transcript = Transcript()
    verdicts = []
    with smtp_session(target, port, transcript, port_tls(port)) as (talk, _, _):
        for sender, rcpt in pairs:
            talk.send(f"MAIL FROM:<{sender}>")
            reply = talk.read_reply()
            if reply.code.startswith("2"):
                talk.send(f"RCPT TO:<{rcpt}>")
                reply = talk.read_reply()
            verdicts.append((sender, rcpt, reply))
            talk.send("RSET")
            talk.read_reply()
    return verdicts, transcript.lines


def relay_row(target: Target, port: int, address: str) -> Row:
    row_id, category = f"open-relay-{port}", ("exposure" if port == 25 else "submission")
    title = (f"no relaying for strangers on {port}: {len(relay_variants(target, address))} variants "
             "(nmap's smtp-open-relay set), without logging in")
    pairs = relay_variants(target, address)
    verdicts, evidence = [], []
    try:
        # Four dialogues of four: a server slows down after ten refusals in one dialogue.
        for start in range(0, len(pairs), 4):
            got, lines = try_relays(target, port, pairs[start:start + 4])
            verdicts += got
            evidence += lines
    except PortClosed as exc:
        if port == 25:
            return broken(row_id, category, title, REQUIRED, f"port 25 cannot be reached: {exc}")
        return untested(row_id, category, title, REQUIRED, f"nothing listens on {port} ({exc}); "
                        "the submission chapter opens it")
    except DialogueError as exc:
        return broken(row_id, category, title, REQUIRED, f"the dialogue broke off: {exc}", evidence)
    accepted = [(s, r, rep) for s, r, rep in verdicts if rep.code.startswith("2")]
    deferred = [(s, r, rep) for s, r, rep in verdicts if rep.code.startswith("4")]
    if accepted:
        s, r, rep = accepted[0]
        return judged(row_id, category, title, REQUIRED, False,
                      f"OPEN RELAY: {len(accepted)} of {len(verdicts)} accepted, e.g. MAIL FROM:<{s}> "
                      f"RCPT TO:<{r}> got {rep.last}",
                      "relay only for clients that logged in: smtpd_relay_restrictions = permit_mynetworks, "
                      "permit_sasl_authenticated, reject_unauth_destination, and mynetworks no wider than "
                      "this box (mynetworks_style = host)", evidence)
    if deferred:
        s, r, rep = deferred[0]
        return judged(row_id, category, title, REQUIRED, False,
                      f"all {len(verdicts)} refused, but {len(deferred)} only for now ({rep.last}): a relay "
                      "test (and a sender) reads 4xx as 'try again later'", 
                      "refuse relaying for good: reject_unauth_destination instead of Postfix's default "
                      "defer_unauth_destination in smtpd_relay_restrictions (the hardening chapter)",
                      evidence, partial=True)
    codes = sorted({rep.code for _, _, rep in verdicts})
    return judged(row_id, category, title, REQUIRED, True,
                  f"all {len(verdicts)} refused for good ({', '.join(codes)})", "", evidence)


# ---- what a stranger learns or is offered ----------------------------------------------------

def vrfy_row(target: Target, port: int) -> Row:
    row_id = f"vrfy-expn-{port}"
    category = "exposure" if port == 25 else "submission"
    title = f"VRFY and EXPN on {port} do not tell a stranger which addresses exist"
    transcript = Transcript()
    try:
        with smtp_session(target, port, transcript, port_tls(port)) as (talk, _, _):
            talk.send(f"VRFY {target.user or 'postmaster@' + target.domain}")
            vrfy = talk.read_reply()
            talk.send(f"EXPN postmaster@{target.domain}")
            expn = talk.read_reply()
    except PortClosed as exc:
        return untested(row_id, category, title, RECOMMENDED, f"nothing listens on {port} ({exc})")
    except DialogueError as exc:
        return broken(row_id, category, title, RECOMMENDED, f"the dialogue broke off: {exc}", transcript.lines)
    told = [f"{word} answered {reply.last}" for word, reply in (("VRFY", vrfy), ("EXPN", expn))
            if reply.code.startswith("2")]
    return judged(row_id, category, title, RECOMMENDED, not told,
                  "; ".join(told) or f"VRFY {vrfy.code}, EXPN {expn.code}: both refused",
                  "disable_vrfy_command = yes in main.cf (Postfix never offers EXPN)", transcript.lines)


def admin_addresses_row(target: Target) -> Row:
    """postmaster@ and abuse@ take mail from outside (RFC 5321, RFC 2142); stopped at RCPT."""
    row_id, title = "postmaster-abuse", "postmaster@ and abuse@ the domain take mail from outside"
    transcript = Transcript()
    replies = {}
    try:
        with smtp_session(target, 25, transcript) as (talk, _, _):
            for local in ("postmaster", "abuse"):
                talk.send(f"MAIL FROM:<{target.sender}>")
                talk.read_reply()
                talk.send(f"RCPT TO:<{local}@{target.domain}>")
                replies[local] = talk.read_reply()
                talk.send("RSET")
                talk.read_reply()
    except DialogueError as exc:
        return broken(row_id, "identity", title, RECOMMENDED, f"the dialogue broke off: {exc}", transcript.lines)
    refused = [f"{local}@ {reply.last}" for local, reply in replies.items() if not reply.code.startswith("2")]
    return judged(row_id, "identity", title, RECOMMENDED, not refused,
                  "; ".join(refused) or "both accepted at RCPT",
                  "alias them to a person who reads them (the admin-addresses chapter)", transcript.lines)


def unknown_recipient_row(target: Target) -> Row:
    """A recipient that does not exist is refused for good (5xx), so its sender learns it now."""
    row_id, title = "unknown-recipient", "mail to an address of the domain that does not exist is refused for good"
    transcript = Transcript()
    nobody = f"nobody-{secrets.token_hex(4)}@{target.domain}"
    try:
        with smtp_session(target, 25, transcript) as (talk, _, _):
            talk.send(f"MAIL FROM:<{target.sender}>")
            talk.read_reply()
            talk.send(f"RCPT TO:<{nobody}>")
            reply = talk.read_reply()
            talk.send("RSET")
            talk.read_reply()
    except DialogueError as exc:
        return broken(row_id, "exposure", title, RECOMMENDED, f"the dialogue broke off: {exc}", transcript.lines)
    if reply.code.startswith("5"):
        return judged(row_id, "exposure", title, RECOMMENDED, True, f"refused: {reply.last}", "", transcript.lines)
    if reply.code.startswith("4"):
        return judged(row_id, "exposure", title, RECOMMENDED, False,
                      f"refused only for now ({reply.last}): the sender's server retries for days before "
                      "its user learns the address was wrong",
                      "unverified_recipient_reject_code = 550 in main.cf (the hardening chapter)", transcript.lines)
    return judged(row_id, "exposure", title, RECOMMENDED, False,
                  f"accepted ({reply.last}): a bounce will go to whoever the sender claims to be (backscatter)",
                  "refuse unknown recipients at RCPT (reject_unverified_recipient, or a recipient map)",
                  transcript.lines)


def auth_rows(target: Target) -> list[Row]:
    """AUTH is never offered before TLS; on 25 not at all once submission took it off."""
    rows = []
    for port in (25, 587):
        category = "exposure" if port == 25 else "submission"
        row_id, title = f"auth-before-tls-{port}", f"no login offered on {port} before TLS"
        transcript = Transcript()
        try:
            with smtp_session(target, port, transcript) as (talk, ehlo, _):
                offered = [line for line in ehlo.lines if line.upper().startswith("AUTH")]
        except PortClosed as exc:
            rows.append(untested(row_id, category, title, REQUIRED, f"nothing listens on {port} ({exc})"))
            continue
        except DialogueError as exc:
            rows.append(broken(row_id, category, title, REQUIRED, f"the dialogue broke off: {exc}", transcript.lines))
            continue
        rows.append(judged(row_id, category, title, REQUIRED, not offered,
                           f"offered in clear: {offered[0]}" if offered else "AUTH not offered before STARTTLS",
                           "smtpd_tls_auth_only = yes in main.cf", transcript.lines))
    # Once mail clients have 587, port 25 is for servers: no login there unless the answers keep it.
    if target.auth_on_25 == "no" and not rows[-1].status == "not_tested":
        row_id, title = "auth-off-25", "no login on 25 once mail clients send on 587 and 465"
        transcript = Transcript()
        try:
            with smtp_session(target, 25, transcript, "starttls") as (talk, ehlo, _):
                offered = [line for line in ehlo.lines if line.upper().startswith("AUTH")]
            rows.append(judged(row_id, "exposure", title, RECOMMENDED, not offered,
                               f"still offered after STARTTLS: {offered[0]}" if offered
                               else "AUTH not offered on 25, even after STARTTLS",
                               "smtpd_sasl_auth_enable = no in main.cf (logins on 587/465 only)", transcript.lines))
        except DialogueError as exc:
            rows.append(broken(row_id, "exposure", title, RECOMMENDED, f"the dialogue broke off: {exc}",
                               transcript.lines))
    return rows


VERSION = re.compile(r"\b\d+\.\d+(\.\d+)?\b")
SOFTWARE = re.compile(r"postfix|debian|ubuntu|exim|sendmail|dovecot", re.I)


def banner_row(target: Target) -> Row:
    """Port 25's greeting names the server, and no software version an attacker could look up."""
    row_id, title = "banner", "port 25's greeting gives no software version"
    transcript = Transcript()
    try:
        with smtp_session(target, 25, transcript) as (_, _, greeting):
            text = greeting.text
    except DialogueError as exc:
        return broken(row_id, "exposure", title, RECOMMENDED, f"no greeting: {exc}", transcript.lines)
    words = text.split()
    versions = [m.group(0) for m in VERSION.finditer(" ".join(words[1:]))]
    if versions:
        return judged(row_id, "exposure", title, RECOMMENDED, False, f"the greeting shows {versions[0]}: {text}",
                      "smtpd_banner = $myhostname ESMTP in main.cf", transcript.lines)
    named = SOFTWARE.findall(text)
    if named:
        return informed(row_id, "exposure", title,
                        f"no version, but it names the software ({', '.join(dict.fromkeys(named))}): {text}",
                        "smtpd_banner = $myhostname ESMTP says no more than a server must (the hardening chapter)",
                        transcript.lines)
    return judged(row_id, "exposure", title, RECOMMENDED, True, f"greets as: {text}", "", transcript.lines)


def greeting_name(target: Target) -> tuple[str, list[str]]:
    """The name port 25 greets with (its first word), and the dialogue."""
    transcript = Transcript()
    with smtp_session(target, 25, transcript) as (_, _, greeting):
        text = greeting.lines[0] if greeting.lines else ""
    return (text.split() or [""])[0].lower(), transcript.lines


# ---- SMTP smuggling ---------------------------------------------------------------------------

SMUGGLING_ENDS = {
    "<LF>.<CR><LF>": "\n.\r\n",
    "<LF>.<LF>": "\n.\n",
    "<CR><LF>.<LF>": "\r\n.\n",
    "<CR>.<CR><LF>": "\r.\r\n",
    "<CR><LF>.<CR>": "\r\n.\r",
}


def smuggle(target: Target, end_name: str, end: str) -> tuple[str, list[str]]:
    """One message whose body hides, after a non-standard end of data, a second transaction.
    The verdict: "smuggled" when the server answered the hidden commands as commands, "one"
    when it took one message, "refused" when it refused or dropped the dialogue."""
    transcript = Transcript()
    marker = secrets.token_hex(4)
    rcpt = f"postmaster@{target.domain}"
    hidden = (f"MAIL FROM:<smuggled-{marker}@{target.domain}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n"
              f"From: <smuggled-{marker}@{target.domain}>\r\nSubject: mailwizard audit: smuggled part {marker}\r\n"
              "\r\nIf this arrived as a message of its own, the server is open to SMTP smuggling.\r\n")
    body = (f"From: <{target.sender}>\r\nTo: <{rcpt}>\r\nSubject: mailwizard audit: SMTP smuggling test "
            f"{marker} ({end_name})\r\n\r\nA test of the mailwizard audit. Its hidden part follows.")
    with smtp_session(target, 25, transcript) as (talk, _, _):
        talk.send(f"MAIL FROM:<{target.sender}>")
        talk.read_reply()
        talk.send(f"RCPT TO:<{rcpt}>")
        if not talk.read_reply().code.startswith("2"):
            raise DialogueError(f"{rcpt} was refused, so nothing can be hidden in a mail to it")
        talk.send("DATA")
        if talk.read_reply().code != "354":
            raise DialogueError("DATA was refused")
        blob = body + end + hidden + ".\r\n"
        transcript.add("C", repr(blob)[1:-1][:400])
        talk.sock.sendall(blob.encode())
        replies = []
        try:
            replies.append(talk.read_reply())
            if replies[0].code.startswith("2"):
                # The hidden MAIL, RCPT and DATA answered as commands mean a second message;
                # a server that took one message says nothing more until it is spoken to.
                talk.timeout = min(talk.timeout, 1.0)
                replies.append(talk.read_reply())
        except DialogueError:
            pass
    codes = [r.code for r in replies]
    if not codes or not codes[0].startswith("2"):
        return "refused", transcript.lines
    # "one": the hidden part stayed inside the first message, as text.
    return ("smuggled" if len(codes) > 1 else "one"), transcript.lines


def smuggling_row(target: Target) -> Row:
    row_id, title = "smtp-smuggling", ("a second message hidden after a non-standard end of data is not "
                                       "taken (SMTP smuggling, CVE-2023-51764)")
    from concurrent.futures import ThreadPoolExecutor

    def attempt(item):
        try:
            return smuggle(target, *item)
        except DialogueError as exc:
            return "error", [f"(the test could not be made: {exc})"]

    # Each variant waits a moment for answers a second message would get: all at once.
    with ThreadPoolExecutor(len(SMUGGLING_ENDS)) as pool:
        outcomes = list(pool.map(attempt, SMUGGLING_ENDS.items()))
    evidence, smuggled, seen = [], [], []
    for end_name, (verdict, lines) in zip(SMUGGLING_ENDS, outcomes):
        evidence += [f"--- {end_name}: {verdict}", *lines]
        seen.append(f"{end_name} {verdict}")
        if verdict == "smuggled":
            smuggled.append(end_name)
    if not smuggled and any(verdict == "error" for verdict, _ in outcomes):
        return broken(row_id, "exposure", title, REQUIRED, "the test could not be made: " + "; ".join(seen), evidence)
    return judged(row_id, "exposure", title, REQUIRED, not smuggled,
                  (f"SMUGGLED after {', '.join(smuggled)}: the hidden MAIL FROM, RCPT TO and DATA were "
                   "answered as a second message" if smuggled else "; ".join(seen)),
                  "smtpd_forbid_bare_newline = normalize in main.cf (Postfix 3.5.24, 3.6.14, 3.7.10, 3.8.5 "
                  "and later; the default from 3.9): only CR LF . CR LF ends a message",
                  evidence)
