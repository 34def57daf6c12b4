"""The answers: the names the tutorial leaves as placeholders, validated on entry.

Every value that ends up in a config file is checked here, so that no answer can carry a second
line into main.cf or dovecot.conf. Passwords are hashed at once; the clear text is never kept.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from wizard import sections
from wizard.answer_checks import (AnswersError, check_address, check_domain, check_hostlabel, check_password,
                                  text as _str)

if TYPE_CHECKING:
    from wizard.model import AnswersSection

DEFAULT_MAILDOMAIN = "example.test"
DEFAULT_MAILHOST = "mail"
DEFAULT_EXTERNAL = "bob@ext.test"

VANTAGE = re.compile(r"^(box|local|manual|none|netns:[A-Za-z0-9_.-]{1,32}|ssh:[A-Za-z0-9_.-]+@[A-Za-z0-9_.:-]+)$")

# The walk's own keys; each chapter after the tutorial adds its table (steps/*: AnswersSection).
KNOWN_CORE = {"maildomain", "mailhost", "users", "external", "lab", "static_address"}
KNOWN_USER = {"address", "password", "password_hash"}
KNOWN_EXTERNAL = {"address", "vantage", "host", "ssh_config"}
KNOWN_LAB = {"name", "mail_address", "ext_address", "dns_address", "mail_address6", "ext_address6"}
# TEST-NET-1 (RFC 5737) and IPv6's documentation prefix (RFC 3849): addresses that never leave
# this box, used only between lab namespaces. Both IPv6 addresses empty: a lab of IPv4 alone.
DEFAULT_LAB = {"name": "mwlab", "mail_address": "192.0.2.25", "ext_address": "192.0.2.50",
               "dns_address": "192.0.2.53", "mail_address6": "2001:db8:25::25",
               "ext_address6": "2001:db8:25::50"}
DOCUMENTATION_PREFIX6 = "2001:db8::/32"
_LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")


def walk_values(maildomain: str, mailhost: str, extdomain: str, addresses: tuple[str, ...]) -> dict[str, object]:
    """The walk's own values a chapter's table is held against and made into placeholders with
    (the answers', or the form's as typed so far): one list of them for both."""
    return {"maildomain": maildomain, "mailhost": mailhost, "fqdn": f"{mailhost}.{maildomain}",
            "extdomain": extdomain, "mailuser_address": addresses[0] if addresses else "",
            "users": addresses, "user_locals": tuple(a.partition("@")[0] for a in addresses),
            "this_month": time.strftime("%Y%m", time.gmtime())}


def chapter_sections() -> tuple[AnswersSection, ...]:
    """The chapters' own tables, as the chapters declare them (Step.answers), in walk order."""
    from steps import ALL_STEPS     # deferred: the chapters are data above this module

    return tuple(step.answers for step in ALL_STEPS if step.answers)


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
    # The chapters' own tables as given (checked, normalised): (key, ((field, value), ...)).
    tables: tuple[tuple[str, sections.Given], ...] = ()
    # Their secrets apart, by placeholder ("relay_password"): in memory only, like a user's password.
    kept_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    source: str = field(default="defaults", compare=False)
    declared: tuple[AnswersSection, ...] = field(default_factory=chapter_sections, compare=False, repr=False)

    @property
    def fqdn(self) -> str:
        return f"{self.mailhost}.{self.maildomain}"

    @property
    def extuser(self) -> str:
        return self.external_address.split("@")[0]

    @property
    def extdomain(self) -> str:
        return self.external_address.split("@")[1]

    def table(self, key: str) -> dict[str, object] | None:
        """A chapter's table as given (None: not given)."""
        given = dict(self.tables).get(key)
        return None if given is None else dict(given)

    def walk_values(self) -> dict[str, object]:
        """What a chapter's table may be held against and made into values with."""
        return walk_values(self.maildomain, self.mailhost, self.extdomain, tuple(u.address for u in self.users))

    def values(self) -> dict[str, str]:
        """The placeholders steps may use in their fragments and probes."""
        first = self.users[0] if self.users else None
        walk, tables = self.walk_values(), dict(self.tables)
        chapters = {}
        for section in self.declared:
            chapters.update(sections.values(section, tables.get(section.key), walk))
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
            # The lab's outside domains of one address family each (how a walk proves mail
            # leaves over each); named here for the titles of probes that run only there.
            "lab_dual_stack": "no",
            **{f"ext_only{family}_address": f"an address of the lab's IPv{family}-only domain" for family in "46"},
            **{f"ext_only{family}_mailbox": "" for family in "46"},
            "vantage": self.vantage,
            "static_address": {True: "yes", False: "no", None: ""}[self.static_address],
            "ssh_config": self.ssh_config,
            **chapters,
        }

    def secrets(self) -> dict[str, str]:
        """The secrets the answers gave (asked at run time when they give none)."""
        return dict(self.kept_secrets)

    def in_a_lab(self) -> "Answers":
        """These answers as a lab walk takes them: the lab's own CA and block list where the
        answers choose none (on a real box none is chosen for the user: choosing one agrees to
        its terms)."""
        walk, tables = self.walk_values(), dict(self.tables)
        for section in self.declared:
            table = sections.in_lab(section, tables.get(section.key), walk)
            if table is not None:
                tables[section.key] = table
        return replace(self, tables=self._ordered(tables))

    def _ordered(self, tables: dict) -> tuple:
        return tuple((s.key, tables[s.key]) for s in self.declared if s.key in tables)

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
            **{key: sections.record(self._section(key), given) for key, given in self._recorded()},
        }

    def _section(self, key: str) -> AnswersSection:
        return next(s for s in self.declared if s.key == key)

    def _recorded(self) -> list[tuple[str, sections.Given]]:
        """The tables given (with what a walk remembers though not given: the DKIM selector its
        key was made for)."""
        tables, out = dict(self.tables), []
        for section in self.declared:
            given = dict(tables.get(section.key) or ())
            if section.key in tables:
                out.append((section.key, tuple((f.name, given[f.name]) for f in section.fields if f.name in given)))
        return out

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
        for key, given in self._recorded():
            lines += sections.toml_lines(self._section(key), given)
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
                  hash_passwords: bool = True, declared: tuple[AnswersSection, ...] | None = None) -> Answers:
    """`known`: hashes from an earlier walk; a password that matches one keeps that hash, so the
    same answers render the same users.db every time (a fresh salt would look like a change).
    It also holds what the last walk remembered of the chapters' tables (`dkim.selector`).
    `declared`: the chapters' tables (default: the chapters')."""
    known = known or {}
    declared = chapter_sections() if declared is None else declared
    if not isinstance(data, dict):
        raise AnswersError("the answers must be a TOML table")
    _unknown(data.keys(), KNOWN_CORE | {s.key for s in declared}, "answers")
    maildomain = check_domain(_str(data.get("maildomain", DEFAULT_MAILDOMAIN), "maildomain"))
    mailhost = check_hostlabel(_str(data.get("mailhost", DEFAULT_MAILHOST), "mailhost"))
    _require_essentials(data, source)
    users = _parse_users(data.get("users", []), maildomain, known, hash_passwords)
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
    if not VANTAGE.match(vantage):
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
    answers = Answers(maildomain, mailhost, tuple(users), f"{ext_local}@{ext_domain}", vantage,
                      exthost, tuple(lab.items()), static, ssh_config, source=source, declared=declared)
    walk = answers.walk_values()
    tables, secrets = [], {}
    for section in declared:
        given = sections.parse(section, data.get(section.key), walk, known)
        if given is not None:
            public, secret = sections.split_secrets(section, given)
            tables.append((section.key, public))
            secrets.update(secret)
    return replace(answers, tables=tuple(tables), kept_secrets=tuple(secrets.items()))


def _parse_users(raw_users, maildomain: str, known: dict[str, str], hash_passwords: bool) -> list[MailUser]:
    users = []
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
        hashed_by, password = "", ""
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
        users.append(MailUser(local, domain, hashed, password, hashed_by))
    return users


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
    _check_lab_ipv6(lab)
    return lab


def _check_lab_ipv6(lab: dict[str, str]) -> None:
    """The lab's IPv6 side: two addresses of one /64 in the documentation prefix, or none."""
    import ipaddress     # here, as in parse_lab: most commands never read a [lab]

    given = [key for key in ("mail_address6", "ext_address6") if lab[key]]
    if not given:
        return
    if len(given) == 1:
        raise AnswersError("lab: give mail_address6 and ext_address6 both (two addresses of one /64 "
                           "in 2001:db8::/32), or both empty for a lab without IPv6.")
    addresses = []
    for key in ("mail_address6", "ext_address6"):
        try:
            address = ipaddress.IPv6Address(lab[key])
        except ValueError:
            raise AnswersError(f"lab.{key}: '{lab[key]}' is not an IPv6 address like 2001:db8:25::25.") from None
        if address not in ipaddress.IPv6Network(DOCUMENTATION_PREFIX6):
            raise AnswersError(f"lab.{key}: {address} is outside {DOCUMENTATION_PREFIX6}; the lab keeps its "
                               "IPv6 traffic in the documentation prefix, which no one routes.")
        addresses.append(address)
    if addresses[0] == addresses[1] or \
            ipaddress.IPv6Network(f"{addresses[0]}/64", strict=False) != ipaddress.IPv6Network(f"{addresses[1]}/64", strict=False):
        raise AnswersError("lab: mail_address6 and ext_address6 must be two different addresses in one "
                           "/64, like 2001:db8:25::25 and 2001:db8:25::50.")


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
        text = raw.decode("utf-8")
        # The same fields as JSON, for what makes answers by program (an inventory, a CI).
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except UnicodeDecodeError:
        raise AnswersError(f"{path}: not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise AnswersError(f"{path}: not valid TOML ({exc}). Fix that line and run again.") from None
    except json.JSONDecodeError as exc:
        raise AnswersError(f"{path}: not valid JSON ({exc}). Fix that line and run again.") from None
    return parse_answers(data, source=str(path), known=known, hash_passwords=hash_passwords)


# ---- the answers described ---------------------------------------------------------------------
SCHEMA_ID = "https://mailwizard.invalid/schema/answers/1"


def answers_schema(declared: tuple[AnswersSection, ...] | None = None) -> dict:
    """The answers file as JSON Schema (draft 2020-12): the walk's own keys, then each chapter's
    table from its declaration. What only reading can check (a domain's labels, an address in
    the mail domain, a password hash) is left to `answers check`."""
    declared = chapter_sections() if declared is None else declared
    text = {"type": "string", "pattern": r"^[^\n\r\x00]*$"}
    properties = {
        "maildomain": {**text, "description": "Your mail domain (the tutorial's MAILDOMAIN), like example.org"},
        "mailhost": {**text, "default": DEFAULT_MAILHOST, "description": "This server's name in it: mail → mail.MAILDOMAIN"},
        "static_address": {"type": "boolean", "description": "Does your provider give this server a fixed public address?"},
        "users": {"type": "array", "minItems": 1, "description": "The mailboxes: an address and a password (or its hash) each",
                  "items": {"type": "object", "additionalProperties": False, "required": ["address"],
                            "properties": {"address": {**text, "description": "user@MAILDOMAIN"},
                                           "password": {**text, "writeOnly": True, "description": "Hashed at once; never kept in clear"},
                                           "password_hash": {**text, "description": "A SHA512-CRYPT hash ($6$...)"}},
                            "oneOf": [{"required": ["password"]}, {"required": ["password_hash"]}]}},
        "external": {"type": "object", "additionalProperties": False, "description": "Somebody on another server, and where the outside tests start",
                     "properties": {"address": {**text, "default": DEFAULT_EXTERNAL}, "vantage": {**text, "default": "box"},
                                    "host": text, "ssh_config": text}},
        "lab": {"type": "object", "additionalProperties": False, "description": "The classroom lab's names and addresses",
                "properties": {key: {**text, "default": value} for key, value in DEFAULT_LAB.items()}},
    }
    for section in declared:
        properties[section.key] = sections.schema(section)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "mailwizard answers", "type": "object", "additionalProperties": False,
            "required": ["maildomain", "users"], "properties": properties}


def chapters_example(declared: tuple[AnswersSection, ...] | None = None) -> str:
    """The chapters' tables, commented out, for `answers init` to add to its template."""
    declared = chapter_sections() if declared is None else declared
    lines = ["", "# The chapters after the tutorial take tables of their own; each may be left out",
             "# (its defaults shown). Take the \"# \" away from a table and the keys you set."]
    for section in declared:
        lines += sections.example_lines(section)
    return "\n".join(lines) + "\n"
