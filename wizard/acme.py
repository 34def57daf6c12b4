"""A certificate from an ACME CA, by certbot from Debian's packages, and what is known of it.

certbot keeps its files under /etc/letsencrypt (the account, the certificates, the renewal
settings); mailwizard only asks it for a certificate, points the daemons at its `live/` names
and leaves everything there in place on undo and reset.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from wizard.system import System

LETSENCRYPT = Path("/etc/letsencrypt")
CERTBOT_TIMEOUT = 240
RENEW_WITHIN_DAYS = 14          # under this many days left: not reused, and `check` warns
RATE_LIMITS = "https://letsencrypt.org/docs/rate-limits/"

Note = Callable[[str], None]


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    issuer: str
    serial: str
    not_after: str           # as openssl prints it: "Jan 16 04:40:00 2027 GMT"
    days_left: int

    def describe(self) -> str:
        return f"serial {self.serial}, issued by {self.issuer}, valid until {self.not_after} ({self.days_left} days left)"


def facts_of_pem(system: System, pem: str) -> CertificateFacts | None:
    """Subject, issuer, serial and expiry of the first certificate in `pem` (openssl reads it)."""
    import datetime as dt

    done = system.run(["openssl", "x509", "-noout", "-subject", "-issuer", "-serial", "-enddate",
                       "-nameopt", "oneline"], input=pem, changes_box=False, timeout=20)
    if not done.ok:
        return None
    fields = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    not_after = fields.get("notAfter", "").strip()
    try:
        end = dt.datetime.strptime(not_after, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    days = (end - dt.datetime.now(dt.timezone.utc)).days
    return CertificateFacts(_cn(fields.get("subject", "")), _cn(fields.get("issuer", "")),
                            fields.get("serial", "").strip(), not_after, days)


def _cn(name: str) -> str:
    match = re.search(r"CN\s*=\s*([^,/]+)", name)
    return match.group(1).strip() if match else name.strip()


def facts_of_file(system: System, path: str) -> CertificateFacts | None:
    text = system.read_text(path)
    return facts_of_pem(system, text) if text else None


def renewal_server(system: System, name: str) -> str:
    """The ACME directory certbot renews `name` from (its renewal settings say)."""
    text = system.read_text(str(LETSENCRYPT / "renewal" / f"{name}.conf")) or ""
    match = re.search(r"^server\s*=\s*(\S+)", text, re.M)
    return match.group(1) if match else ""


def verifies(system: System, values: dict[str, str]) -> bool:
    """The live certificate leads to the root the walk trusts (always true for the system's
    store, which openssl uses when no root is given)."""
    live = Path(values["tls_cert"]).parent
    root = values.get("tls_root", "")
    if root == "untrusted":
        return True
    argv = ["openssl", "verify", "-untrusted", str(live / "chain.pem")]
    argv += ["-CAfile", root] if root else []
    return system.query(argv + [str(live / "cert.pem")]).ok


def reusable(system: System, values: dict[str, str]) -> CertificateFacts | None:
    """The certificate certbot has for this name, if it is from this CA, trusted and not due."""
    facts = facts_of_file(system, values["tls_cert"])
    if facts is None or renewal_server(system, values["fqdn"]) != values["acme_server"]:
        return None
    if facts.days_left < RENEW_WITHIN_DAYS or not verifies(system, values):
        return None
    return facts


def certbot_argv(values: dict[str, str], renew: bool) -> list[str]:
    name = values["fqdn"]
    argv = ["certbot", "certonly", "--non-interactive", "--agree-tos", "--email", values["acme_email"],
            "--server", values["acme_server"], "--cert-name", name, "--domains", name]
    if values.get("acme_webroot"):
        argv += ["--webroot", "--webroot-path", values["acme_webroot"]]
    else:
        argv += ["--standalone"]
    return argv + (["--force-renewal"] if renew else [])


def renew_argv(values: dict[str, str]) -> list[str]:
    """A forced renewal of the walk's certificate, as certbot's timer does it when one is due."""
    # Without a terminal certbot waits up to 8 minutes first (to spread the CA's load from timers);
    # a renewal asked for now should not.
    return ["certbot", "renew", "--force-renewal", "--cert-name", values["fqdn"], "--non-interactive",
            "--no-random-sleep-on-renew"]


def renew(system: System, values: dict[str, str], note: Note = lambda text: None) -> str:
    """Renew now; its deploy hooks run as after any renewal. A problem sentence, or ""."""
    done = _certbot(system, renew_argv(values), values, note)
    return "" if done.ok else why_not(done.stdout + "\n" + done.stderr, values, own_addresses(system))


# certbot 2.1, holding an account the CA no longer knows (a lab CA rebuilt, a private CA or a
# staging reset), is told accountDoesNotExist and then crashes on it (AttributeError).
FORGOTTEN_ACCOUNT = re.compile(r"accountDoesNotExist|account that does not exist|"
                               r"AttributeError: can't set attribute")


def accounts_dir(server: str) -> str:
    """Where certbot keeps its accounts at an ACME server (certbot's own rule: host and path)."""
    parsed = urlparse(server)
    return f"{LETSENCRYPT}/accounts/{parsed.netloc}{parsed.path}"


def _certbot(system: System, argv: list[str], values: dict[str, str], note: Note):
    """certbot once; again once with a new account if the CA forgot certbot's (the old one is
    moved aside, not deleted: its key stays on the box)."""
    done = system.run(argv, env=certbot_env(values), timeout=CERTBOT_TIMEOUT)
    held = accounts_dir(values["acme_server"])
    if done.ok or not FORGOTTEN_ACCOUNT.search(done.stdout + done.stderr) or not system.path(held).is_dir():
        return done
    aside = f"{held}.forgotten-{time.strftime('%Y%m%d%H%M%S')}"
    system.move(held, aside)
    note(f"the CA at {values['acme_server']} no longer knows certbot's account (the CA was rebuilt or "
         f"reset): certbot's old account moved aside to {aside}, and a new one made")
    return system.run(argv, env=certbot_env(values), timeout=CERTBOT_TIMEOUT)


def certbot_env(values: dict[str, str]) -> dict[str, str] | None:
    """certbot trusts the system's store; an ACME server signed by another CA (the lab's) is
    trusted through REQUESTS_CA_BUNDLE, for this run only."""
    trust = values.get("acme_trust", "")
    return {"REQUESTS_CA_BUNDLE": trust} if trust else None


def obtain(system: System, values: dict[str, str], note: Note) -> str:
    """A certificate for the mail host: reused when good, else asked for. A problem sentence
    that names the cause and the fix, or ""."""
    name, server = values["fqdn"], values["acme_server"]
    if values["acme_ca"] == "lab" and not server:
        return ("certificate.ca = lab names the lab's own CA, which only a lab walk has: run with --lab, "
                "or choose letsencrypt, letsencrypt-staging or the URL of an ACME directory.")
    if system.sandbox:
        note(f"sandbox: would ask certbot for a certificate for {name} from {server}")
        return ""
    found = reusable(system, values)
    if found:
        note(f"certbot's certificate for {name} from this CA is good: reused ({found.describe()})")
        return ""
    exists = system.path(values["tls_cert"]).exists()
    done = _certbot(system, certbot_argv(values, renew=exists), values, note)
    if not done.ok:
        return why_not(done.stdout + "\n" + done.stderr, values, own_addresses(system))
    facts = facts_of_file(system, values["tls_cert"])
    note(f"certbot got a certificate for {name} from {server}"
         + (f": {facts.describe()}" if facts else "")
         + f". Its files stay in {LETSENCRYPT} (certbot renews them there).")
    return ""


def own_addresses(system: System) -> set[str]:
    done = system.query(["ip", "-o", "addr", "show"])
    return set(re.findall(r"inet6? ([0-9a-fA-F.:]+)/", done.stdout))


def why_not(output: str, values: dict[str, str], ours: set[str]) -> str:
    """certbot's failure as one sentence: the cause, and what to do about it."""
    name, server = values["fqdn"], values["acme_server"]
    keep = " The server keeps its previous certificate."
    if "Could not bind TCP port 80" in output:
        return (f"port 80 on this server is taken by another program (a web server?), so certbot's own "
                f"server cannot answer the CA there: set [certificate] webroot to that web server's "
                f"document root, or stop it while the walk runs." + keep)
    if re.search(r"rateLimited|too many (certificates|failed authorizations|new orders)", output, re.I):
        detail = _detail(output) or "too many requests"
        return (f"the CA refused a new certificate for {name} for now (rate limit: {detail}); wait before "
                f"trying again ({RATE_LIMITS}), and use letsencrypt-staging while testing." + keep)
    challenge = re.search(r"dial tcp \[?([0-9a-fA-F.:]+?)\]?:(\d+): (?:connect: )?(.+)", output)
    if challenge:
        address, port, error = challenge.group(1), challenge.group(2), challenge.group(3).strip()
        if ours and address not in ours:
            return (f"the CA looked {name} up and went to {address}, which is not this server "
                    f"({', '.join(sorted(a for a in ours if not a.startswith(('127.', '::1'))))}): "
                    f"{name}'s {'AAAA' if ':' in address else 'A'} record is wrong; correct it at your DNS provider, wait for its TTL, "
                    "then run again." + keep)
        # CAs try the name's IPv6 address first (Let's Encrypt does): a web server or a firewall
        # rule for IPv4 alone fails there.
        family = (f" over IPv6 (the CA prefers {name}'s AAAA record): a web server listening on IPv4 "
                  f"alone, or a firewall with rules for one family, fails there; or" if ":" in address else ":")
        return (f"the CA could not reach port {port} of {name} at {address} ({error}){family} a firewall, here "
                f"or at your provider, blocks port {port} from outside. Open it (the HTTP-01 challenge "
                "needs it), then run again." + keep)
    if re.search(r"NXDOMAIN|no valid A records|DNS problem", output):
        return (f"the CA finds no address for {name} ({_detail(output) or 'DNS problem'}): publish its A "
                "record, wait for its TTL, then run again." + keep)
    unreachable = re.search(r"Requesting \S+: (.+)|(Connection refused|Name or service not known|"
                            r"Temporary failure in name resolution|timed out|certificate verify failed)", output)
    if unreachable:
        detail = (unreachable.group(1) or unreachable.group(2)).strip()
        return (f"the ACME CA at {server} cannot be reached ({detail}): check the URL and that this server "
                "can open HTTPS connections to it; in the lab, `mailwizard lab status` shows whether the "
                "lab's CA runs (`mailwizard lab up` starts it)." + keep)
    challenge_failed = _detail(output)
    if challenge_failed:
        return f"the CA did not validate {name}: {challenge_failed}." + keep
    if re.search(r"Another instance of Certbot is already running", output):
        return ("another certbot is running (its renewal timer, or another shell): wait until it "
                "has finished, then run again." + keep)
    if re.search(r"No space left on device", output):
        return (f"the disk holding {LETSENCRYPT} (or /var/log/letsencrypt) is full: free some space "
                "(`df -h` shows where), then run again." + keep)
    crashed = re.search(r"An unexpected error occurred:\s*(.+)|^(\w+(?:Error|Exception): .+)$", output, re.M)
    if crashed:
        # certbot's own traceback: one line of it names the error; the rest is in its log.
        what = (crashed.group(1) or crashed.group(2)).strip()
        return (f"certbot stopped on an error of its own ({what}); its full report is in "
                "/var/log/letsencrypt/letsencrypt.log. Run the step again once; if it stops the same "
                "way, `certbot --version` and that log are what to search for or report." + keep)
    tail = " ".join(line.strip() for line in output.strip().splitlines()[-3:])
    return f"certbot did not get a certificate: {tail}" + keep


def _detail(output: str) -> str:
    match = re.search(r"Detail:\s*(.+)", output)
    return match.group(1).strip() if match else ""
