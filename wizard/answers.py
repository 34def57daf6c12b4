"""The answers: the names the tutorial leaves as placeholders, validated on entry.

Every value that ends up in a config file is checked here, so that no answer can carry a second
line into main.cf or dovecot.conf. Passwords are hashed at once; the clear text is never kept.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_MAILDOMAIN = "example.test"
DEFAULT_MAILHOST = "mail"
DEFAULT_EXTERNAL = "bob@ext.test"

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Local parts we accept: the dot-atom of RFC 5322 minus characters that mean something in
# Postfix or Dovecot tables (":", "#", "," and blanks).
_LOCAL_PART = re.compile(r"^[a-z0-9!$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!$%&'*+/=?^_`{|}~-]+)*$")
_VANTAGE = re.compile(r"^(box|local|manual|none|netns:[A-Za-z0-9_.-]{1,32}|ssh:[A-Za-z0-9_.-]+@[A-Za-z0-9_.:-]+)$")

KNOWN_TOP = {"maildomain", "mailhost", "users", "external", "lab", "static_address", "dkim", "dmarc",
             "submission", "certificate", "relay", "blocklists", "aliases"}
KNOWN_ALIASES = {"to", "addresses", "pure_virtual"}
# RFC 2142's addresses for a mail service: postmaster (mail), abuse (everyone). Others the
# answers may add: hostmaster (DNS), webmaster (web), security, noc, info, support, sales.
DEFAULT_ALIASES = ("postmaster", "abuse")
KNOWN_BLOCKLISTS = {"lists"}
# Well-known DNS block lists of clients' addresses, free for a small server that queries through
# its own resolver. Each has terms of use, so none is chosen for the user: naming one agrees.
SUGGESTED_BLOCKLISTS = ("zen.spamhaus.org", "bl.spamcop.net")
MAX_BLOCKLISTS = 5
KNOWN_RELAY = {"host", "port", "user", "password", "spf"}
# The port a relay host takes mail from its customers on: submission (RFC 6409).
DEFAULT_RELAY_PORT = 587
KNOWN_CERTIFICATE = {"ca", "email", "webroot", "trust"}
# The ACME CAs known by name; any other https:// directory URL may be given instead.
ACME_DIRECTORIES = {
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
CA_CHOICES = ("none", "lab", *ACME_DIRECTORIES)
CERTBOT_LIVE = "/etc/letsencrypt/live"      # where certbot keeps the current certificate of each name
KNOWN_SUBMISSION = {"auth_on_25"}
KNOWN_DKIM = {"selector"}
KNOWN_DMARC = {"policy", "report"}
DMARC_POLICIES = ("none", "quarantine", "reject")
# `known` (what the last walk used) holds the DKIM selector under this key; an address has no blank.
KNOWN_SELECTOR = "dkim selector"
KNOWN_USER = {"address", "password", "password_hash"}
KNOWN_EXTERNAL = {"address", "vantage", "host", "ssh_config"}
KNOWN_LAB = {"name", "mail_address", "ext_address", "dns_address"}
# TEST-NET-1 (RFC 5737): addresses that never leave this box, used only between lab namespaces.
DEFAULT_LAB = {"name": "mwlab", "mail_address": "192.0.2.25", "ext_address": "192.0.2.50",
               "dns_address": "192.0.2.53"}
_LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")


class AnswersError(ValueError):
    """An answer is not usable; the message names it and says what to do."""


def check_domain(value: str, what: str = "maildomain") -> str:
    value = value.strip().lower().rstrip(".")
    if not value or len(value) > 253:
        raise AnswersError(f"{what}: a domain name has 1 to 253 characters, got {len(value)}.")
    labels = value.split(".")
    if len(labels) < 2:
        raise AnswersError(f"{what}: '{value}' needs at least two labels, like example.test.")
    for label in labels:
        if not _LABEL.match(label):
            raise AnswersError(
                f"{what}: '{label}' is not a valid DNS label in '{value}'. Use letters, digits "
                "and hyphens (not first or last), at most 63 characters per label.")
    return value


def check_hostlabel(value: str, what: str = "mailhost") -> str:
    value = value.strip().lower()
    if not _LABEL.match(value):
        raise AnswersError(
            f"{what}: '{value}' must be one DNS label (letters, digits, inner hyphens), like 'mail'; "
            "the domain is added from maildomain.")
    return value


def check_address(value: str, what: str) -> tuple[str, str]:
    value = value.strip()
    if value.count("@") != 1:
        raise AnswersError(f"{what}: '{value}' is not an address of the form user@domain.")
    local, domain = value.split("@")
    local = local.lower()
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        raise AnswersError(
            f"{what}: the user part '{local}' may hold letters, digits and . _ - + (no blanks, "
            "':', '#' or ','), at most 64 characters.")
    return local, check_domain(domain, what)


def check_password(value: str, what: str) -> str:
    if not value:
        raise AnswersError(f"{what}: the password is empty; give one or a password_hash.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise AnswersError(f"{what}: the password holds a control character (newline, tab, NUL...).")
    if len(value) > 256:
        raise AnswersError(f"{what}: the password is longer than 256 characters.")
    return value


_HASH = re.compile(r"^(\{[A-Z0-9-]+\})?\$(6|5|2[aby]|y)\$[./A-Za-z0-9$=,]+$")


def check_hash(value: str, what: str) -> str:
    value = value.strip()
    if not _HASH.match(value):
        raise AnswersError(
            f"{what}: password_hash must be a crypt hash such as $6$... (SHA512-CRYPT); "
            "make one with `doveadm pw -s SHA512-CRYPT`.")
    return value if value.startswith("{") else "{SHA512-CRYPT}" + value


DOVEADM_PW = ("doveadm", "pw", "-s", "SHA512-CRYPT")


def hash_password(password: str) -> str:
    return make_hash(password)[0]


# What made a hash (MailUser.hashed_by): the box's Dovecot, passlib, the answers themselves,
# or the walk before this one (its hash kept for an unchanged password).
BY_DOVEADM, BY_PASSLIB, BY_ANSWERS, BY_LAST_WALK = " ".join(DOVEADM_PW), "passlib", "given", "kept"


def doveadm_hash(password: str) -> tuple[str, str]:
    """(hash, "") from this box's `doveadm pw -s SHA512-CRYPT`, or ("", why not)."""
    import shutil
    import subprocess

    doveadm = shutil.which("doveadm", path="/usr/bin:/usr/sbin:/bin:/sbin")
    if not doveadm:
        return "", "Dovecot's doveadm is not installed on this box"
    try:
        # No controlling terminal (a new session): doveadm reads the password, twice, from
        # its standard input; it never appears on a command line.
        done = subprocess.run([doveadm, *DOVEADM_PW[1:]], input=f"{password}\n{password}\n",
                              capture_output=True, text=True, timeout=10, start_new_session=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return "", f"doveadm pw did not run ({exc})"
    made = done.stdout.strip()
    if done.returncode == 0 and made.startswith("{SHA512-CRYPT}$6$") and verify_password(password, made):
        return made, ""
    return "", f"doveadm pw gave no usable hash (exit {done.returncode}: {done.stderr.strip()[:200]})"


def make_hash(password: str) -> tuple[str, str]:
    """A SHA512-CRYPT hash of `password` and what made it: `doveadm pw -s SHA512-CRYPT`, as the
    tutorial does, where Dovecot is installed; passlib otherwise (the same scheme and rounds:
    before Dovecot's install step, or where doveadm refuses)."""
    made, _ = doveadm_hash(password)
    if made:
        return made, BY_DOVEADM
    from passlib.hash import sha512_crypt

    return "{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash(password), BY_PASSLIB


def verify_password(password: str, stored: str) -> bool:
    from passlib.hash import sha512_crypt

    secret = stored.split("}", 1)[1] if stored.startswith("{") else stored
    try:
        return secret.startswith("$6$") and sha512_crypt.verify(password, secret)
    except ValueError:
        return False


@dataclass(frozen=True)
class MailUser:
    local: str
    domain: str
    password_hash: str
    # Kept in memory only, so probes can log in as the tutorial does; never written anywhere.
    password: str = field(default="", repr=False, compare=False)
    hashed_by: str = field(default="", repr=False, compare=False)     # BY_DOVEADM, BY_PASSLIB …

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"


@dataclass(frozen=True)
class Relay:
    """The relay host ("smarthost") all outgoing mail goes through, where port 25 is closed."""

    host: str
    port: int = DEFAULT_RELAY_PORT
    user: str = ""
    spf: str = ""           # the SPF mechanism that covers the relay's senders ("" : a:HOST)
    # Kept in memory only (like a mail user's password): never in the state or the replay file.
    password: str = field(default="", repr=False, compare=False)

    @property
    def nexthop(self) -> str:
        """As relayhost and the password map write it: brackets, so no MX lookup is done."""
        return f"[{self.host}]:{self.port}"


@dataclass(frozen=True)
class Aliases:
    """The administrative addresses (RFC 2142) and the mailbox that reads them; `pure_virtual`:
    no local delivery at all, root's and the daemons' mail goes there too."""

    to: str = ""                    # an address of a mail user; "" : the first user
    addresses: tuple[str, ...] = DEFAULT_ALIASES
    pure_virtual: bool = False


@dataclass(frozen=True)
class Answers:
    maildomain: str = DEFAULT_MAILDOMAIN
    mailhost: str = DEFAULT_MAILHOST
    users: tuple[MailUser, ...] = ()
    external_address: str = DEFAULT_EXTERNAL
    vantage: str = "none"
    exthost: str = ""                       # [external] host; "": learned from the vantage point
    lab: tuple[tuple[str, str], ...] = tuple(DEFAULT_LAB.items())
    static_address: bool | None = None      # asked, never guessed: no check can see it
    ssh_config: str = ""                     # for vantage ssh:..: an ssh_config file (ssh -F)
    dkim_selector: str = ""                  # "" until parsed: then given, remembered or dated
    dmarc_policy: str = "none"               # cautious: receivers report, nothing is refused yet
    dmarc_report: str = ""                   # rua address; "" means postmaster@maildomain
    auth_on_25: bool = False                 # keep AUTH on port 25 for old clients (off by default)
    certificate: tuple[tuple[str, str], ...] = ()   # [certificate]: ca, email, webroot, trust as given
    relay: "Relay | None" = None             # [relay]: a relay host for all outgoing mail
    blocklists: tuple[str, ...] | None = None    # [blocklists] lists; None: not given (none; the lab's in a lab)
    aliases: "Aliases | None" = None         # [aliases]: who reads the administrative addresses
    source: str = field(default="defaults", compare=False)

    @property
    def fqdn(self) -> str:
        return f"{self.mailhost}.{self.maildomain}"

    @property
    def extuser(self) -> str:
        return self.external_address.split("@")[0]

    @property
    def extdomain(self) -> str:
        return self.external_address.split("@")[1]

    def values(self) -> dict[str, str]:
        """The placeholders steps may use in their fragments and probes."""
        first = self.users[0] if self.users else None
        return {
            "maildomain": self.maildomain,
            "mailhost": self.mailhost,
            "fqdn": self.fqdn,
            "mailuser": first.local if first else "",
            "mailuser_address": first.address if first else "",
            "extuser": self.extuser,
            "extdomain": self.extdomain,
            "external_address": self.external_address,
            # Given, or learned by the walk (WalkContext.values); the guess until then.
            "exthost": f"{self.exthost or 'exthost'}.{self.extdomain}",
            "exthost_given": f"{self.exthost}.{self.extdomain}" if self.exthost else "",
            "ext_mailbox": "",          # known only in the lab, where the outside is ours
            "vantage": self.vantage,
            "static_address": {True: "yes", False: "no", None: ""}[self.static_address],
            "ssh_config": self.ssh_config,
            "dkim_selector": self.dkim_selector or dated_selector(),
            "dmarc_policy": self.dmarc_policy,
            "dmarc_report": self.dmarc_report or f"postmaster@{self.maildomain}",
            "auth_on_25": "yes" if self.auth_on_25 else "no",
            **self.certificate_values(),
            **self.relay_values(),
            **self.blocklist_values(),
            **self.alias_values(),
        }

    def alias_values(self) -> dict[str, str]:
        aliases = self.aliases or Aliases()
        first = self.users[0].address if self.users else f"postmaster@{self.maildomain}"
        to = aliases.to or first
        return {"aliases": " ".join(aliases.addresses) or "-", "aliases_to": to,
                "aliases_to_local": to.split("@")[0], "aliases_to_domain": to.split("@")[1],
                "pure_virtual": "yes" if aliases.pure_virtual else "no"}

    def blocklist_values(self) -> dict[str, str]:
        lists = self.blocklists or ()
        # Only real listings count: a list's error answers (Spamhaus' 127.255.255.x to queries
        # through public resolvers) must never be taken for "listed", or all mail is refused.
        rules = "".join(f"reject_rbl_client {name}=127.0.0.[2..254], " for name in lists)
        return {"blocklists_on": "yes" if lists else "no", "blocklists": " ".join(lists) or "-",
                "blocklist_first": lists[0] if lists else "", "blocklist_restrictions": rules,
                "listed_client": ""}       # an address a list lists, to send from: only the lab has one

    def relay_values(self) -> dict[str, str]:
        relay = self.relay
        if relay is None:
            return {"relay": "no", "relay_host": "", "relay_port": "", "relay_user": "",
                    "relay_nexthop": "", "spf_relay": "", "relay_password": ""}
        return {"relay": "yes", "relay_host": relay.host, "relay_port": str(relay.port),
                "relay_user": relay.user, "relay_nexthop": relay.nexthop,
                "spf_relay": " " + (relay.spf or f"a:{relay.host}"),
                # Filled by the walk (answers, environment, the box, or asked): see Question.
                "relay_password": ""}

    def secrets(self) -> dict[str, str]:
        """The secrets the answers gave (asked at run time when they give none)."""
        return {"relay_password": self.relay.password} if self.relay and self.relay.password else {}

    def in_a_lab(self) -> "Answers":
        """These answers as a lab walk takes them: the lab's own CA and block list where the
        answers choose none (on a real box none is chosen for the user: choosing one agrees to
        its terms)."""
        answers = self
        if "ca" not in dict(answers.certificate):
            answers = replace(answers, certificate=answers.certificate + (("ca", "lab"),))
        if answers.blocklists is None:      # the lab's own block list, served by the lab's DNS
            answers = replace(answers, blocklists=(f"bl.{answers.extdomain}",))
        return answers

    def certificate_values(self) -> dict[str, str]:
        """The [certificate] choices as values. No `ca` given: none (see in_a_lab)."""
        given = dict(self.certificate)
        ca = given.get("ca") or "none"
        live = f"{CERTBOT_LIVE}/{self.fqdn}"
        # The root a client verifies the served chain against: "" is the system's trust store,
        # a staging CA's is trusted by nobody, the lab's is set by the lab.
        root = {"letsencrypt": "", "letsencrypt-staging": "untrusted", "lab": ""}.get(ca, given.get("trust", ""))
        return {"acme_ca": ca, "acme": "no" if ca == "none" else "yes",
                "acme_server": ACME_DIRECTORIES.get(ca, ca if ca.startswith("https://") else ""),
                "acme_email": given.get("email") or f"postmaster@{self.maildomain}",
                "acme_webroot": given.get("webroot", ""), "acme_trust": given.get("trust", ""),
                "tls_cert": f"{live}/fullchain.pem", "tls_key": f"{live}/privkey.pem", "tls_root": root}

    def to_record(self) -> dict:
        """What the state file keeps: names and hashes, never a clear password."""
        return {
            "maildomain": self.maildomain,
            "mailhost": self.mailhost,
            "users": [{"address": u.address, "password_hash": u.password_hash} for u in self.users],
            "external": {"address": self.external_address, "vantage": self.vantage,
                         **({"host": self.exthost} if self.exthost else {}), **({"ssh_config": self.ssh_config} if self.ssh_config else {})},
            "lab": dict(self.lab),
            **({} if self.static_address is None else {"static_address": self.static_address}),
            "dkim": {"selector": self.values()["dkim_selector"]},
            "dmarc": {"policy": self.dmarc_policy, **({"report": self.dmarc_report} if self.dmarc_report else {})},
            **({"submission": {"auth_on_25": True}} if self.auth_on_25 else {}),
            **({"certificate": dict(self.certificate)} if self.certificate else {}),
            **({"relay": self._relay_record()} if self.relay else {}),
            **({"blocklists": {"lists": list(self.blocklists)}} if self.blocklists is not None else {}),
            **({"aliases": self._aliases_record()} if self.aliases is not None else {}),
        }

    def _aliases_record(self) -> dict:
        return {**({"to": self.aliases.to} if self.aliases.to else {}),
                "addresses": list(self.aliases.addresses), "pure_virtual": self.aliases.pure_virtual}

    def _relay_record(self) -> dict:
        relay = self.relay
        return {"host": relay.host, "port": relay.port, "user": relay.user,
                **({"spf": relay.spf} if relay.spf else {})}

    def to_toml(self) -> str:
        """These answers as an answers file: what `run --answers` needs to rebuild this walk.
        Passwords appear as hashes only (JSON's string escapes are valid TOML)."""
        q = json.dumps
        lines = ["# The answers of a mailwizard walk. Replay it with: mailwizard run --answers THIS_FILE",
                 f"maildomain = {q(self.maildomain)}", f"mailhost = {q(self.mailhost)}"]
        if self.static_address is not None:
            lines.append(f"static_address = {'true' if self.static_address else 'false'}")
        for user in self.users:
            lines += ["", "[[users]]", f"address = {q(user.address)}", f"password_hash = {q(user.password_hash)}"]
        lines += ["", "[external]", f"address = {q(self.external_address)}", f"vantage = {q(self.vantage)}"]
        if self.exthost:
            lines.append(f"host = {q(self.exthost)}")
        if self.ssh_config:
            lines.append(f"ssh_config = {q(self.ssh_config)}")
        lines += ["", "[dkim]", f"selector = {q(self.values()['dkim_selector'])}",
                  "", "[dmarc]", f"policy = {q(self.dmarc_policy)}"]
        if self.dmarc_report:
            lines.append(f"report = {q(self.dmarc_report)}")
        if self.auth_on_25:
            lines += ["", "[submission]", "auth_on_25 = true"]
        if self.certificate:
            lines += ["", "[certificate]"] + [f"{key} = {q(value)}" for key, value in self.certificate]
        if self.blocklists is not None:
            lines += ["", "[blocklists]", f"lists = {q(list(self.blocklists))}"]
        if self.aliases is not None:
            lines += ["", "[aliases]"] + ([f"to = {q(self.aliases.to)}"] if self.aliases.to else []) + [
                f"addresses = {q(list(self.aliases.addresses))}",
                f"pure_virtual = {'true' if self.aliases.pure_virtual else 'false'}"]
        if self.relay:
            lines += ["", "[relay]", f"host = {q(self.relay.host)}", f"port = {self.relay.port}",
                      f"user = {q(self.relay.user)}"]
            if self.relay.spf:
                lines.append(f"spf = {q(self.relay.spf)}")
            lines.append("# password: asked at run time (it is never written into this file)")
        lines += ["", "[lab]"] + [f"{key} = {q(value)}" for key, value in self.lab]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_record(cls, record: dict, source: str = "state") -> "Answers":
        return parse_answers(record, source=source)


def _unknown(keys, known, where: str) -> None:
    extra = sorted(set(keys) - known)
    if extra:
        raise AnswersError(
            f"{where}: unknown key '{extra[0]}' (known: {', '.join(sorted(known))}). "
            "Check its spelling or remove it.")


def _require_essentials(data: dict, source: str) -> None:
    """A walk needs the mail domain and at least one mailbox: without them every config file
    would be written for a domain nobody chose, so the file is refused before anything is."""
    missing = []
    if "maildomain" not in data:
        missing.append('maildomain (your mail domain: maildomain = "example.org")')
    if not data.get("users"):
        missing.append("a mailbox (a [[users]] table with its address and password)")
    if missing:
        raise AnswersError(
            f"{source}: missing {' and '.join(missing)}. A walk cannot start without the mail "
            "domain and at least one mailbox; add them (the README's example answers show both) "
            "and run again. Nothing was written.")


def parse_answers(data: dict, source: str = "answers", known: dict[str, str] | None = None,
                  hash_passwords: bool = True) -> Answers:
    """`known`: hashes from an earlier walk; a password that matches one keeps that hash, so the
    same answers render the same users.db every time (a fresh salt would look like a change)."""
    known = known or {}
    if not isinstance(data, dict):
        raise AnswersError("the answers must be a TOML table")
    _unknown(data.keys(), KNOWN_TOP, "answers")
    maildomain = check_domain(_str(data.get("maildomain", DEFAULT_MAILDOMAIN), "maildomain"))
    mailhost = check_hostlabel(_str(data.get("mailhost", DEFAULT_MAILHOST), "mailhost"))
    _require_essentials(data, source)
    users = []
    raw_users = data.get("users", [])
    if not isinstance(raw_users, list):
        raise AnswersError("users: write each user as a [[users]] table.")
    seen = set()
    for i, raw in enumerate(raw_users, 1):
        where = f"users[{i}]"
        if not isinstance(raw, dict):
            raise AnswersError(f"{where}: write each user as a [[users]] table.")
        _unknown(raw.keys(), KNOWN_USER, where)
        if "address" not in raw:
            raise AnswersError(f"{where}: 'address' is missing.")
        local, domain = check_address(_str(raw["address"], f"{where}.address"), f"{where}.address")
        if domain != maildomain:
            raise AnswersError(f"{where}.address: '{local}@{domain}' is not in maildomain {maildomain}.")
        hashed_by = ""
        if "password_hash" in raw:
            hashed = check_hash(_str(raw["password_hash"], f"{where}.password_hash"), f"{where}.password_hash")
            hashed_by = BY_ANSWERS
        elif "password" in raw:
            password = check_password(_str(raw["password"], f"{where}.password"), f"{where}.password")
            previous = known.get(f"{local}@{domain}", "")
            if not hash_passwords:
                hashed = ""
            elif previous and verify_password(password, previous):
                hashed, hashed_by = previous, BY_LAST_WALK
            else:
                hashed, hashed_by = make_hash(password)
        else:
            raise AnswersError(f"{where}: give a password or a password_hash.")
        if local in seen:
            raise AnswersError(f"{where}.address: {local}@{domain} is listed twice.")
        seen.add(local)
        users.append(MailUser(local, domain, hashed, password if "password_hash" not in raw else "", hashed_by))
    external = data.get("external", {})
    if not isinstance(external, dict):
        raise AnswersError("external: write it as an [external] table.")
    _unknown(external.keys(), KNOWN_EXTERNAL, "external")
    ext_local, ext_domain = check_address(
        _str(external.get("address", DEFAULT_EXTERNAL), "external.address"), "external.address")
    if ext_domain == maildomain or ext_domain.endswith("." + maildomain):
        raise AnswersError(
            f"external.address: {ext_local}@{ext_domain} must be outside {maildomain}: it stands "
            "for somebody on another server.")
    # Named by nobody: an outside simulated on this box, so one machine meets the outside lessons.
    vantage = _str(external.get("vantage", "box"), "external.vantage").strip()
    if not _VANTAGE.match(vantage):
        raise AnswersError(
            f"external.vantage: '{vantage}' is not one of box, local, manual, none, netns:NAME, ssh:user@host.")
    exthost = external.get("host", "")
    exthost = check_hostlabel(_str(exthost, "external.host"), "external.host") if exthost != "" else ""
    lab = parse_lab(data.get("lab", {}))
    static = data.get("static_address")
    if static is not None and not isinstance(static, bool):
        raise AnswersError("static_address: write true or false (no quotes): does your provider "
                           "give this server a fixed public address?")
    ssh_config = _str(external.get("ssh_config", ""), "external.ssh_config").strip()
    if ssh_config and not ssh_config.startswith("/"):
        raise AnswersError("external.ssh_config: give the ssh_config file as an absolute path.")
    selector = parse_dkim(data.get("dkim", {}), known.get(KNOWN_SELECTOR, ""))
    policy, report = parse_dmarc(data.get("dmarc", {}))
    auth_on_25 = parse_submission(data.get("submission", {}))
    certificate = parse_certificate(data.get("certificate", {}))
    relay = parse_relay(data.get("relay"))
    blocklists = parse_blocklists(data.get("blocklists"))
    aliases = parse_aliases(data.get("aliases"), maildomain, users)
    if relay and relay.host in (f"{mailhost}.{maildomain}", maildomain):
        raise AnswersError(f"relay.host: {relay.host} is this server itself; give your provider's "
                           "relay host (its \"smarthost\"), like smtp.provider.net.")
    return Answers(maildomain, mailhost, tuple(users), f"{ext_local}@{ext_domain}", vantage,
                   exthost, tuple(lab.items()), static, ssh_config, selector, policy, report, auth_on_25,
                   tuple(certificate.items()), relay, blocklists, aliases, source)


def parse_aliases(raw, maildomain: str, users: list) -> Aliases | None:
    """[aliases]: to (one of the mail users; default the first), addresses (local parts;
    default postmaster and abuse), pure_virtual (true: no local mailboxes at all)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AnswersError("aliases: write it as an [aliases] table.")
    _unknown(raw.keys(), KNOWN_ALIASES, "aliases")
    to = ""
    if "to" in raw:
        local, domain = check_address(_str(raw["to"], "aliases.to"), "aliases.to")
        to = f"{local}@{domain}"
        if to not in {u.address for u in users}:
            raise AnswersError(f"aliases.to: {to} is not one of the mail users; give the address of a "
                               "mailbox here (a person reads these addresses).")
    addresses = raw.get("addresses", list(DEFAULT_ALIASES))
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise AnswersError('aliases.addresses: write a list of names in quotes, like ["postmaster", "abuse"].')
    names = []
    for address in addresses:
        local = address.strip().lower()
        if not _LOCAL_PART.match(local) or len(local) > 64:
            raise AnswersError(f"aliases.addresses: '{address}' is not the user part of an address "
                               "(letters, digits and . _ - +), like 'abuse'.")
        if local in {u.local for u in users}:
            raise AnswersError(f"aliases.addresses: {local}@{maildomain} is a mailbox already; an alias "
                               "of the same name would take its mail away.")
        names.append(local)
    if "postmaster" not in names:
        raise AnswersError("aliases.addresses: postmaster must stay (RFC 5321: every mail domain takes "
                           "mail for it).")
    pure = raw.get("pure_virtual", False)
    if not isinstance(pure, bool):
        raise AnswersError("aliases.pure_virtual: write true or false (no quotes): should this server "
                           "keep no local mailboxes at all (root's mail goes to the aliases' reader)?")
    return Aliases(to, tuple(dict.fromkeys(names)), pure)


def parse_blocklists(raw) -> tuple[str, ...] | None:
    """[blocklists] lists: the DNS block lists port 25 checks clients against ([] for none)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AnswersError("blocklists: write it as a [blocklists] table.")
    _unknown(raw.keys(), KNOWN_BLOCKLISTS, "blocklists")
    lists = raw.get("lists", [])
    if not isinstance(lists, list) or not all(isinstance(name, str) for name in lists):
        raise AnswersError('blocklists.lists: write a list of names in quotes, like ["zen.spamhaus.org"] '
                           "(or [] for none).")
    if len(lists) > MAX_BLOCKLISTS:
        raise AnswersError(f"blocklists.lists: at most {MAX_BLOCKLISTS} lists (each costs a DNS lookup "
                           "for every client that connects).")
    names = tuple(dict.fromkeys(check_domain(_str(name, "blocklists.lists"), "blocklists.lists") for name in lists))
    return names


_SPF_MECHANISM = re.compile(r"^(a|mx|include|ip4|ip6|exists):[A-Za-z0-9._:/%{}-]+$")


def parse_relay(raw) -> Relay | None:
    """[relay]: host (a name, optionally with :port), port (587), user, password, spf. No table,
    no relay: mail goes straight to each recipient's server, as in the tutorial."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AnswersError("relay: write it as a [relay] table.")
    _unknown(raw.keys(), KNOWN_RELAY, "relay")
    if "host" not in raw:
        raise AnswersError("relay.host: give the relay host your provider names for outgoing mail, "
                           "like smtp.provider.net (or leave out [relay] to send directly).")
    host = _str(raw["host"], "relay.host").strip().strip("[]").lower()
    port_text = ""
    if host.count(":") == 1:
        host, port_text = host.split(":")
        host = host.strip("[]")
    if re.match(r"^[0-9.]+$", host) or ":" in host:
        raise AnswersError(f"relay.host: '{host}' is an address, not a host name; give the name your "
                           "provider gives (its TLS certificate and your password are for that name).")
    host = check_domain(host, "relay.host")
    port = raw.get("port", port_text or DEFAULT_RELAY_PORT)
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise AnswersError(f"relay.port: '{port}' is not a port (1 to 65535); relay hosts take mail "
                           "from their customers on 587 (or 2525).")
    if port == 465:
        raise AnswersError("relay.port: 465 (TLS from the first byte) is not supported by the relay-host "
                           "chapter; give the port where your provider offers STARTTLS, 587 as a rule.")
    user = _str(raw.get("user", ""), "relay.user").strip()
    if not user:
        raise AnswersError("relay.user: the relay host needs a login; give the user name your "
                           "provider gave you (often your address).")
    if any(c.isspace() or c == ":" or ord(c) < 32 for c in user) or len(user) > 256:
        raise AnswersError("relay.user: a user name without blanks or ':' (Postfix's password map "
                           "separates the user from the password with ':').")
    password = ""
    if "password" in raw:
        password = _str(raw["password"], "relay.password")
        if not password or password != password.strip() or any(ord(c) < 32 or c == "\x7f" for c in password):
            raise AnswersError("relay.password: give it without control characters and without blanks "
                               "at either end (or leave it out: it is then asked at run time).")
        if len(password) > 256:
            raise AnswersError("relay.password: longer than 256 characters.")
    spf = _str(raw.get("spf", ""), "relay.spf").strip()
    if spf and not _SPF_MECHANISM.match(spf):
        raise AnswersError(f"relay.spf: '{spf}' is not one SPF mechanism; write what your provider "
                           "says to add, like include:spf.provider.net.")
    return Relay(host, port, user, spf, password)


def parse_certificate(raw) -> dict[str, str]:
    """Which ACME CA (if any) issues the server's certificate, the account address it knows, and
    how its HTTP-01 challenge is answered (certbot's own server on port 80, or a webroot)."""
    if not isinstance(raw, dict):
        raise AnswersError("certificate: write it as a [certificate] table.")
    _unknown(raw.keys(), KNOWN_CERTIFICATE, "certificate")
    out = {}
    if "ca" in raw:
        ca = _str(raw["ca"], "certificate.ca").strip()
        if ca.lower() in CA_CHOICES:
            ca = ca.lower()
        elif not re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$", ca):
            raise AnswersError(f"certificate.ca: '{ca}' is not a CA mailwizard knows; write one of "
                               f"{', '.join(CA_CHOICES)}, or the https:// URL of an ACME directory.")
        out["ca"] = ca
    if "email" in raw:
        local, domain = check_address(_str(raw["email"], "certificate.email").strip(), "certificate.email")
        out["email"] = f"{local}@{domain}"
    for key in ("webroot", "trust"):
        if key in raw:
            path = _str(raw[key], f"certificate.{key}").strip()
            if path and (not path.startswith("/") or any(c in path for c in "\n\"'{}")):
                raise AnswersError(f"certificate.{key}: give it as an absolute path "
                                   + ("(the web server's document root, e.g. /var/www/html)." if key == "webroot"
                                      else "(a PEM file of the CA that signs the ACME server and its certificates)."))
            if path:
                out[key] = path
    return out


def parse_submission(raw) -> bool:
    if not isinstance(raw, dict):
        raise AnswersError("submission: write it as a [submission] table.")
    _unknown(raw.keys(), KNOWN_SUBMISSION, "submission")
    keep = raw.get("auth_on_25", False)
    if not isinstance(keep, bool):
        raise AnswersError("submission.auth_on_25: write true or false (no quotes): should port 25 still "
                           "offer AUTH to old mail clients once 587 and 465 exist?")
    return keep


def dated_selector() -> str:
    """The default DKIM selector: the month the key was made (`mw202612`), so a later key gets a
    new name and both can be published while receivers move over."""
    import time

    return time.strftime("mw%Y%m", time.gmtime())


def parse_dkim(raw, remembered: str = "") -> str:
    """The selector: as given; else the one the last walk used (its key is on the box and
    maybe in DNS: a month later the dated default must not make a second key); else dated."""
    if not isinstance(raw, dict):
        raise AnswersError("dkim: write it as a [dkim] table.")
    _unknown(raw.keys(), KNOWN_DKIM, "dkim")
    if "selector" not in raw:
        return remembered or dated_selector()
    selector = _str(raw["selector"], "dkim.selector").strip().lower()
    if not _LABEL.match(selector):
        raise AnswersError(f"dkim.selector: '{selector}' is not a DNS label (letters, digits and inner "
                           "hyphens, at most 63 characters), like 'mw202612'; it becomes "
                           "SELECTOR._domainkey in your zone.")
    return selector


def parse_dmarc(raw) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise AnswersError("dmarc: write it as a [dmarc] table.")
    _unknown(raw.keys(), KNOWN_DMARC, "dmarc")
    policy = _str(raw.get("policy", "none"), "dmarc.policy").strip().lower()
    if policy not in DMARC_POLICIES:
        raise AnswersError(f"dmarc.policy: '{policy}' is not a DMARC policy; write one of "
                           f"{', '.join(DMARC_POLICIES)} (start with none: receivers only report).")
    report = _str(raw.get("report", ""), "dmarc.report").strip()
    if report:
        local, domain = check_address(report, "dmarc.report")
        report = f"{local}@{domain}"
    return policy, report


def parse_lab(raw) -> dict[str, str]:
    """The lab's namespace prefix and addresses: one private /24, nothing routed beyond it."""
    import ipaddress

    if not isinstance(raw, dict):
        raise AnswersError("lab: write it as a [lab] table.")
    _unknown(raw.keys(), KNOWN_LAB, "lab")
    lab = {key: _str(raw.get(key, default), f"lab.{key}").strip() for key, default in DEFAULT_LAB.items()}
    if not _LAB_NAME.match(lab["name"]):
        raise AnswersError(f"lab.name: '{lab['name']}' must be 1 to 10 lower-case letters or digits, "
                           "starting with a letter (network interface names are short).")
    addresses = []
    for key in ("mail_address", "ext_address", "dns_address"):
        try:
            address = ipaddress.IPv4Address(lab[key])
        except ValueError:
            raise AnswersError(f"lab.{key}: '{lab[key]}' is not an IPv4 address like 192.0.2.25.") from None
        if not address.is_private:
            raise AnswersError(f"lab.{key}: {address} is a public address; the lab keeps its traffic "
                               "on addresses no one routes, like 192.0.2.0/24 (the default).")
        addresses.append(address)
    networks = {ipaddress.IPv4Network(f"{a}/24", strict=False) for a in addresses}
    if len(networks) != 1 or len(set(addresses)) != 3:
        raise AnswersError("lab: mail_address, ext_address and dns_address must be three different "
                           "addresses in one /24, like 192.0.2.25, .50 and .53.")
    return lab


LAB_EXAMPLE = "the lab's own example answers, made for this walk"


def lab_example() -> Answers:
    """The answers `--lab` walks with when none are given: the lab's domains and one mailbox whose
    password is made for this walk (held in memory to log in with and shown once; only its hash
    is stored). For a walk of one's own, an answers file or the wizard's form."""
    import secrets

    return parse_answers({"maildomain": DEFAULT_MAILDOMAIN, "mailhost": DEFAULT_MAILHOST,
                          "users": [{"address": f"alice@{DEFAULT_MAILDOMAIN}",
                                     "password": secrets.token_urlsafe(12)}],
                          "external": {"address": DEFAULT_EXTERNAL}}, source=LAB_EXAMPLE)


def _str(value, what: str) -> str:
    if not isinstance(value, str):
        raise AnswersError(f"{what}: expected a string in quotes, got {type(value).__name__}.")
    if "\x00" in value or "\n" in value or "\r" in value:
        raise AnswersError(f"{what}: a newline or NUL character is not allowed here.")
    return value


def load_answers(path: str | Path, known: dict[str, str] | None = None,
                 hash_passwords: bool = True) -> Answers:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AnswersError(f"{path}: no such answers file. Make one to fill in with `mailwizard answers init {path}`.") from None
    except PermissionError:
        raise AnswersError(f"{path}: cannot read it (permission denied).") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AnswersError(f"{path}: not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnswersError(f"{path}: not valid TOML ({exc}). Fix that line and run again.") from None
    return parse_answers(data, source=str(path), known=known, hash_passwords=hash_passwords)


# ---- the TUI's answers form: the same rules, one field at a time ------------------------------
FORM_FIELDS = ("maildomain", "mailhost", "address", "password", "password_again",
               "external_address", "vantage", "external_host", "static_address", "certificate_ca",
               "certificate_email")


def field_problem(name: str, fields: dict[str, str], previous: Answers | None = None) -> str:
    """What is wrong with one field of the form as typed so far ("" when it is fine)."""
    value = fields.get(name, "")
    try:
        if name == "maildomain":
            check_domain(value)
        elif name == "mailhost":
            check_hostlabel(value)
        elif name == "address":
            local, domain = check_address(value, "address")
            if domain != fields.get("maildomain", ""):
                return f"address: {local}@{domain} is not in {fields.get('maildomain') or 'the mail domain'}."
        elif name == "password":
            if value or not _known_user(fields.get("address", ""), previous):
                check_password(value, "password")
        elif name == "password_again":
            if value != fields.get("password", ""):
                return "the two passwords differ."
        elif name == "external_address":
            _, domain = check_address(value, "external address")
            mine = fields.get("maildomain", "")
            if mine and (domain == mine or domain.endswith("." + mine)):
                return f"external address: it must be outside {mine}: it stands for somebody elsewhere."
        elif name == "vantage":
            if not _VANTAGE.match(value.strip()):
                return f"vantage: '{value}' is not one of box, local, manual, none, netns:NAME, ssh:user@host."
        elif name == "external_host" and value.strip():
            check_hostlabel(value, "external host")
        elif name in ("certificate_ca", "certificate_email") and value.strip():
            parse_certificate({name.removeprefix("certificate_"): value.strip()})
    except AnswersError as exc:
        return str(exc)
    return ""


def _known_user(address: str, previous: Answers | None) -> MailUser | None:
    for user in previous.users if previous else ():
        if user.address == address:
            return user
    return None


def answers_from_form(fields: dict[str, str], previous: Answers | None = None,
                      known: dict[str, str] | None = None) -> Answers:
    """The form's answers, checked by the same rules as an answers file. The first user is the
    form's; further users and the lab settings of `previous` are kept. An empty password keeps
    the user's known hash."""
    for name in FORM_FIELDS:
        problem = field_problem(name, fields, previous)
        if problem:
            raise AnswersError(problem)
    first: dict[str, str] = {"address": fields["address"]}
    kept = _known_user(fields["address"], previous)
    if fields.get("password"):
        first["password"] = fields["password"]
    else:
        first["password_hash"] = kept.password_hash
    others = [{"address": u.address, "password_hash": u.password_hash}
              for u in (previous.users[1:] if previous else ()) if u.address != fields["address"]]
    data: dict = {"maildomain": fields["maildomain"], "mailhost": fields["mailhost"],
                  "users": [first, *others],
                  "external": {"address": fields["external_address"], "vantage": fields["vantage"].strip()}}
    if fields.get("external_host", "").strip():
        data["external"]["host"] = fields["external_host"].strip()
    if previous is not None:
        data["lab"] = dict(previous.lab)
        if previous.ssh_config:
            data["external"]["ssh_config"] = previous.ssh_config
        if previous.dkim_selector:
            data["dkim"] = {"selector": previous.dkim_selector}
        data["dmarc"] = {"policy": previous.dmarc_policy,
                         **({"report": previous.dmarc_report} if previous.dmarc_report else {})}
        if previous.auth_on_25:
            data["submission"] = {"auth_on_25": True}
    if fields.get("static_address") in ("yes", "no"):
        data["static_address"] = fields["static_address"] == "yes"
    # The CA and its account address; webroot and trust, which the form does not show, are kept.
    certificate = dict(previous.certificate) if previous is not None else {}
    for key in ("ca", "email"):
        value = fields.get(f"certificate_{key}", "").strip()
        if value:
            certificate[key] = value
        else:
            certificate.pop(key, None)
    if certificate:
        data["certificate"] = certificate
    answers = parse_answers(data, source="the answers form", known=known)
    if kept and not fields.get("password") and kept.password:
        users = (replace(answers.users[0], password=kept.password),) + answers.users[1:]
        answers = replace(answers, users=users)
    if previous is not None:        # not on the form: kept (the relay's password too)
        answers = replace(answers, relay=previous.relay, blocklists=previous.blocklists,
                          aliases=previous.aliases)
    return answers


def form_fields(answers: Answers | None) -> dict[str, str]:
    """The form prefilled from `answers` (passwords are never shown, only kept)."""
    if answers is None:
        return {"maildomain": "", "mailhost": "mail", "address": "", "password": "",
                "password_again": "", "external_address": "", "vantage": "box", "external_host": "",
                "static_address": "",
                "certificate_ca": "", "certificate_email": ""}
    first = answers.users[0] if answers.users else None
    certificate = dict(answers.certificate)
    return {"maildomain": answers.maildomain, "mailhost": answers.mailhost,
            "address": first.address if first else "", "password": "", "password_again": "",
            "external_address": answers.external_address, "vantage": answers.vantage,
            "external_host": answers.exthost,
            "static_address": {True: "yes", False: "no", None: ""}[answers.static_address],
            "certificate_ca": certificate.get("ca", ""), "certificate_email": certificate.get("email", "")}
