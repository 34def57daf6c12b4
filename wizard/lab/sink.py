"""The external host's mail server in the lab: accepts mail for EXTDOMAIN into mbox files.

Built on aiosmtpd, a maintained SMTP server library, so the protocol side (EHLO, pipelining,
dot-stuffing, size limits) is not ours to get wrong. Each recipient's mail is appended to
`MAILDIR/<address>` in mbox format, where the wizard and the tests look for it.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP


class MailboxHandler:
    def __init__(self, domain: str, maildir: Path):
        self.domain = domain.lower()
        self.maildir = maildir

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 <{address}>: this host only takes mail for {self.domain}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
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


async def serve(listen: str, port: int, hostname: str, handler: MailboxHandler) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=hostname, ident="ESMTP lab mail server"), listen, port)
    print("ready", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the lab's external mail server")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--maildir", required=True)
    args = parser.parse_args(argv)
    maildir = Path(args.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.listen, args.port, args.hostname, MailboxHandler(args.domain, maildir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
