"""The final server's checks with independent clients, shared by the Debian 12 walk (on this
host) and the Debian 13 walk (in a trixie chroot): the same clients, the same expectations."""

from __future__ import annotations

import re
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TLS = """
import ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
"""


@dataclass
class Box:
    """Where the final server runs: how to reach its lab namespaces, its files and its CLI."""

    lab_name: str
    in_namespace: Callable[[str, str], str]
    mailwizard: Callable[..., subprocess.CompletedProcess]
    root: Path = Path("/")
    bound: tuple[str, ...] = ()     # the host's own directories, bound into the box

    def path(self, inside: str) -> Path:
        if any(inside == b or inside.startswith(b + "/") for b in self.bound):
            return Path(inside)
        return self.root / inside.lstrip("/")


def tls_logins(in_namespace, mail_ns: str, password: str) -> list[str]:
    """imaplib logs in over IMAPS (993) and over STARTTLS (143), on the mail server's own box."""
    return in_namespace(mail_ns, TLS + textwrap.dedent(f"""
        import imaplib
        with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
            print("imaps", m.login("alice@example.test", "{password}")[0])
        with imaplib.IMAP4("127.0.0.1", 143) as m:
            m.starttls(ssl_context=ctx)
            print("starttls", m.login("alice@example.test", "{password}")[0])
    """)).splitlines()


def confirm_final_server(box: Box, secret: str) -> None:
    """Independent clients (imaplib, smtplib) confirm what the probes claimed about the final
    server; then `user add` works at once and the clear password is written nowhere."""
    mail_ns, ext_ns = f"{box.lab_name}-mail", f"{box.lab_name}-ext"

    def with_tls(ns: str, code: str) -> str:
        return box.in_namespace(ns, TLS + textwrap.dedent(code))

    assert tls_logins(box.in_namespace, mail_ns, secret) == ["imaps OK", "starttls OK"]

    outside = with_tls(ext_ns, f"""
        import imaplib, smtplib
        with imaplib.IMAP4("mail.example.test", 143) as m:
            try:
                m.login("alice@example.test", "{secret}"); print("plaintext login accepted")
            except imaplib.IMAP4.error:
                print("plaintext login refused")
        with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test") as s:
            s.ehlo(); print("auth before tls", s.has_extn("auth"))
            try:
                s.sendmail("bob@ext.test", ["carol@ext.test"], "Subject: open relay?\\r\\n\\r\\nno\\r\\n")
                print("relayed without auth")
            except smtplib.SMTPRecipientsRefused as exc:
                print("relay refused", list(exc.recipients.values())[0][0])
            try:
                s.sendmail("bob@ext.test", ["nobody-at-all@example.test"], "Subject: x\\r\\n\\r\\nx\\r\\n")
                print("unknown recipient accepted")
            except smtplib.SMTPRecipientsRefused as exc:
                print("unknown recipient refused", list(exc.recipients.values())[0][0])
            s.sendmail("bob@ext.test", ["alice@example.test"], "Subject: inbound\\r\\nX-Check: lmtp\\r\\n\\r\\nin\\r\\n")
            s.sendmail("bob@ext.test", ["postmaster@example.test"], "Subject: pm\\r\\nX-Check: postmaster\\r\\n\\r\\npm\\r\\n")
        with smtplib.SMTP("mail.example.test", 25, local_hostname="exthost.ext.test") as s:
            s.starttls(context=ctx); s.ehlo(); print("auth after tls on 25", s.has_extn("auth"))
        with smtplib.SMTP("mail.example.test", 587, local_hostname="exthost.ext.test") as s:
            s.ehlo(); print("auth before tls on 587", s.has_extn("auth"))
            s.starttls(context=ctx); s.ehlo()
            s.login("alice@example.test", "{secret}")
            s.sendmail("alice@example.test", ["bob@ext.test"],
                       "From: alice@example.test\\r\\nTo: bob@ext.test\\r\\nSubject: out\\r\\n"
                       "X-Check: relayed-587\\r\\n\\r\\nout\\r\\n")
        with smtplib.SMTP_SSL("mail.example.test", 465, local_hostname="exthost.ext.test", context=ctx) as s:
            s.login("alice@example.test", "{secret}")
            s.sendmail("alice@example.test", ["bob@ext.test"],
                       "From: alice@example.test\\r\\nTo: bob@ext.test\\r\\nSubject: out\\r\\n"
                       "X-Check: relayed-465\\r\\n\\r\\nout\\r\\n")
    """).splitlines()
    assert outside[:3] == ["plaintext login refused", "auth before tls False", outside[2]]
    assert outside[2].startswith("relay refused") and outside[2].split()[-1] in ("454", "554")
    assert outside[3].startswith("unknown recipient refused") and outside[3].split()[-1] in ("450", "550")
    # Port 25 is for servers once the submission chapter ran; mail clients log in on 587 and 465.
    assert outside[4:6] == ["auth after tls on 25 False", "auth before tls on 587 False"], outside

    found = with_tls(mail_ns, f"""
        import imaplib, time
        wanted = {{"lmtp", "postmaster"}}
        for _ in range(150):
            with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
                m.login("alice@example.test", "{secret}"); m.select("INBOX")
                seen = {{w for w in wanted if m.search(None, "HEADER", "X-Check", w)[1][0].split()}}
            if seen == wanted:
                break
            time.sleep(0.1)
        print(sorted(seen))
    """)
    assert found == "['lmtp', 'postmaster']"
    sink = box.path(f"/run/mailwizard-lab/{box.lab_name}/mail/bob@ext.test")
    for _ in range(150):
        if all(f"X-Check: relayed-{port}" in sink.read_text() for port in (587, 465)):
            break
        time.sleep(0.1)
    for port in (587, 465):
        assert f"X-Check: relayed-{port}" in sink.read_text(), f"the login on {port} relayed to the outside"
    # Any mail client's message is signed on the way out, and the strict receiver says so.
    for message in re.split(r"^From ", sink.read_text(), flags=re.M):
        if "X-Check: relayed-" in message:
            assert re.search(r"^Authentication-Results: .*dkim=pass.*dmarc=pass", message, re.M), message[:600]

    added = box.mailwizard("user", "add", "dave@example.test", input="Dave-Pass-99\n")
    assert added.returncode == 0, added.stdout + added.stderr
    assert "dave@example.test" in box.mailwizard("user", "list").stdout
    dave = with_tls(mail_ns, """
        import imaplib
        with imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx) as m:
            print(m.login("dave@example.test", "Dave-Pass-99")[0])
    """)
    assert dave == "OK", "Dovecot saw the new user without a restart"

    places = ["/etc", "/var/lib/mailwizard", "/var/log/mail.log", "/var/log/dovecot.log",
              f"/run/mailwizard-lab/{box.lab_name}"]
    leaks = subprocess.run(["grep", "-rl", "--binary-files=text", secret, *map(str, map(box.path, places))],
                           capture_output=True, text=True)
    assert leaks.stdout == "", f"the clear password is written in: {leaks.stdout}"
