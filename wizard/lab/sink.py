"""The external host's mail server in the lab: accepts mail for EXTDOMAIN into mbox files.

Built on aiosmtpd, a maintained SMTP server library, so the protocol side (EHLO, pipelining,
dot-stuffing, size limits) is not ours to get wrong. Each recipient's mail is appended to
`MAILDIR/<address>` in mbox format, where the wizard and the tests look for it.

Lenient (the tutorial's world) it takes any mail for its domain. Strict (the receiver file says
so; the chapters after the tutorial switch it on) it judges each message as the big mailbox
providers do, with authheaders (dkimpy, pyspf, the public suffix list): SPF for the connecting
address, the DKIM signature, DMARC alignment, and forward-confirmed reverse DNS. It refuses what
fails with the 5.7.x replies those providers give, naming what failed, and stamps an
Authentication-Results header (RFC 8601) on what it keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.smtp import SMTP


class MailboxHandler:
    def __init__(self, domain: str, maildir: Path, hostname: str = "", receiver_file: Path | None = None):
        self.domain = domain.lower()
        self.maildir = maildir
        self.hostname = hostname
        self.receiver_file = receiver_file

    def strict(self) -> bool:
        try:
            return self.receiver_file is not None and self.receiver_file.read_text().strip() == "strict"
        except OSError:
            return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = address.rpartition("@")[2].lower()
        if domain != self.domain and not domain.endswith("." + self.domain):
            return f"550 5.1.1 <{address}>: this host only takes mail for {self.domain} and its subdomains"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        if self.strict():
            verdict = await asyncio.get_running_loop().run_in_executor(
                None, judge, content, session.peer[0], envelope.mail_from or "", session.host_name or "",
                self.hostname)
            if verdict.refusal:
                return verdict.refusal
            content = f"Authentication-Results: {verdict.header}\r\n".encode() + content
        # As every server adds: who handed the message over, from which address (and so over
        # which address family) — what a walk reads to know how its mail left.
        received = (f"Received: from {session.host_name or 'unknown'} ([{session.peer[0]}])\r\n"
                    f"\tby {self.hostname or self.domain} with ESMTP; "
                    f"{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n")
        content = received.encode() + content
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        sender = envelope.mail_from or "MAILER-DAEMON"
        lines = content.replace(b"\r\n", b"\n").split(b"\n")
        quoted = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in lines)
        entry = f"From {sender} {stamp}\n".encode() + quoted.rstrip(b"\n") + b"\n\n"
        for rcpt in envelope.rcpt_tos:
            self._append(self.maildir / rcpt.lower(), entry)
        return "250 2.0.0 Ok: delivered"

    @staticmethod
    def _append(path: Path, entry: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, entry)
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Verdict:
    header: str             # the Authentication-Results value
    refusal: str = ""       # the SMTP reply when the message is refused


def _result(header: str, method: str) -> str:
    match = re.search(rf"\b{method}=([a-z]+)", header)
    return match.group(1) if match else "none"


def forward_confirmed(address: str) -> tuple[bool, str]:
    """The address's PTR names a host whose A (or, for IPv6, AAAA) record is this address again
    (FCrDNS)."""
    import dns.exception
    import dns.resolver
    import dns.reversename

    import ipaddress

    try:
        names = [r.to_text().rstrip(".") for r in dns.resolver.resolve(dns.reversename.from_address(address), "PTR", lifetime=5)]
    except dns.exception.DNSException:
        return False, f"{address} has no PTR record"
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    for name in names:
        try:
            found = {ipaddress.ip_address(r.to_text()) for r in dns.resolver.resolve(name, rdtype, lifetime=5)}
            if ipaddress.ip_address(address) in found:
                return True, name
        except dns.exception.DNSException:
            continue
    return False, f"the PTR of {address} ({', '.join(names)}) does not point back to it"


def judge(content: bytes, address: str, mail_from: str, helo: str, hostname: str) -> Verdict:
    """What a big provider decides about this message from this address."""
    import email.parser
    import email.policy

    import spf  # noqa: F401  (authheaders checks SPF only when pyspf is imported)
    from authheaders import authenticate_message

    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(content)
    if "@" not in (headers.get("From") or ""):
        return Verdict("", "550 5.7.1 The message has no valid From: header (RFC 5322 requires one); "
                           "mail without one is not accepted here")
    try:
        header = authenticate_message(content, hostname, spf=True, dkim=True, dmarc=True, ip=address,
                                      mail_from=mail_from, helo=helo)
    except Exception as exc:        # the library's own trouble: refused, and said why
        return Verdict("", f"550 5.7.1 This message could not be checked ({type(exc).__name__}: {exc})")
    value = header.split(":", 1)[1].strip() if header.lower().startswith("authentication-results:") else header
    value = " ".join(value.split())
    said = {method: _result(value, method) for method in ("spf", "dkim", "dmarc")}
    summary = f"spf={said['spf']} dkim={said['dkim']} dmarc={said['dmarc']}"
    confirmed, why = forward_confirmed(address)
    if not confirmed:
        return Verdict(value, f"550 5.7.25 {why}: mail from an address without forward-confirmed "
                              "reverse DNS is not accepted here")
    if said["spf"] != "pass" and said["dkim"] != "pass":
        return Verdict(value, f"550 5.7.26 Unauthenticated mail is not accepted here: neither SPF nor "
                              f"DKIM passes ({summary})")
    if said["dmarc"] == "fail":
        return Verdict(value, f"550 5.7.26 Mail that fails its domain's DMARC check is not accepted "
                              f"here ({summary})")
    return Verdict(value)


async def serve_until_terminated(protocol, listen: str | list[str], port: int) -> None:
    """A lab server: listen (on one address or several), say "ready" (what Lab waits for),
    serve until SIGTERM."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, listen, port)
    print("ready", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


async def serve(listen: list[str], port: int, hostname: str, handler: MailboxHandler) -> None:
    await serve_until_terminated(lambda: SMTP(handler, hostname=hostname, ident="ESMTP lab mail server"),
                                 listen, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the lab's external mail server")
    parser.add_argument("--listen", required=True, action="append", help="an address (repeatable)")
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--receiver-file", help="a file saying lenient or strict, read for each message")
    args = parser.parse_args(argv)
    maildir = Path(args.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    receiver = Path(args.receiver_file) if args.receiver_file else None
    asyncio.run(serve(args.listen, args.port, args.hostname,
                      MailboxHandler(args.domain, maildir, args.hostname, receiver)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
