"""The lab's relay host ("smarthost"), as a provider runs one for customers whose port 25 it blocks.

On port 587 it demands STARTTLS, then a login (the account in the lab's `relay-account` file),
and only then takes mail, for any domain. It hands each message on at once to the recipient
domain's mail server on port 25 (found by its MX in the lab's DNS) and answers with that server's
own reply, so a refusal there is a refusal here and nothing waits in a queue of ours. Built on
aiosmtpd (STARTTLS, AUTH PLAIN/LOGIN and the protocol are the library's) and smtplib.
"""

from __future__ import annotations

import argparse
import asyncio
import smtplib
import ssl
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from wizard.lab.sink import serve_until_terminated

SUBMISSION_PORT = 587
FORWARD_TIMEOUT = 20.0


def read_account(path: Path) -> tuple[str, str]:
    user, password = path.read_text().splitlines()[:2]
    return user, password


class Authenticator:
    def __init__(self, account: Path):
        self.account = account

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = read_account(self.account)     # read each time: a teacher may change it
        ok = auth_data.login.decode(errors="replace") == user and auth_data.password.decode(errors="replace") == password
        return AuthResult(success=ok, handled=False)


def mail_server_of(domain: str) -> str:
    import dns.exception
    import dns.resolver

    try:
        answers = sorted(dns.resolver.resolve(domain, "MX", lifetime=5), key=lambda r: r.preference)
        return answers[0].exchange.to_text().rstrip(".")
    except dns.exception.DNSException:
        return domain


def forward(hostname: str, mail_from: str, rcpts: list[str], content: bytes) -> str:
    """Hand the message to the recipients' server (one domain per message is enough for the lab)."""
    domain = rcpts[0].rpartition("@")[2]
    server = mail_server_of(domain)
    try:
        with smtplib.SMTP(server, 25, local_hostname=hostname, timeout=FORWARD_TIMEOUT) as smtp:
            refused = smtp.sendmail(mail_from, rcpts, content)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return f"{code} {text.decode(errors='replace')}"
    except smtplib.SMTPResponseException as exc:
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
    except (OSError, smtplib.SMTPException) as exc:
        return f"451 4.4.1 {server} could not be reached from the relay host ({exc})"
    if refused:
        code, text = next(iter(refused.values()))
        return f"{code} {text.decode(errors='replace')}"
    return f"250 2.0.0 Ok: relayed to {server}"


class RelayHandler:
    def __init__(self, hostname: str):
        self.hostname = hostname

    async def handle_DATA(self, server, session, envelope):
        return await asyncio.get_running_loop().run_in_executor(
            None, forward, self.hostname, envelope.mail_from or "", list(envelope.rcpt_tos),
            envelope.original_content or b"")


async def serve(listen: list[str], port: int, hostname: str, cert: Path, key: Path, account: Path) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    await serve_until_terminated(
        lambda: SMTP(RelayHandler(hostname), hostname=hostname, ident="ESMTP lab relay host",
                     tls_context=context, require_starttls=True, auth_required=True,
                     auth_require_tls=True, authenticator=Authenticator(account)), listen, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the lab's relay host")
    parser.add_argument("--listen", required=True, action="append", help="an address (repeatable)")
    parser.add_argument("--port", type=int, default=SUBMISSION_PORT)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--account", required=True, help="a file: the user on line 1, the password on line 2")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, args.port, args.hostname, Path(args.cert), Path(args.key), Path(args.account)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
