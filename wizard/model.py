"""The vocabulary steps are written in: plain, frozen data that the engine interprets.

A step says what it needs, what it writes, how it is proven and how it is undone. It holds no
control flow: adding a chapter means adding a module under `steps/` and its explanation under
`assets/explain/`, nothing here.

Strings may hold placeholders such as `{maildomain}`, `{fqdn}` or `{compatibility_level}`;
`Answers.values()` and `Platform.values()` fill them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar


@dataclass(frozen=True)
class Setting:
    """One `name = value` line of a config file. `why` becomes a comment above it."""

    name: str
    value: str
    why: str = ""
    one_per_line: bool = False      # a comma list written one item per indented line (E18)
    each: str = ""                  # a value holding a blank-separated list: one line per item,
                                    # `{each}` filled with it (the aliases the answers choose)


@dataclass(frozen=True)
class Block:
    """A named section of dovecot.conf (`passdb { ... }`, `service lmtp { ... }`), which may
    hold settings and further blocks. A later step replaces a block by its name."""

    name: str
    items: tuple["Setting | Block", ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Extend:
    """Adds items to a comma list an earlier step set (`smtpd_recipient_restrictions`), right
    after the item `after` (at the end when it is "" or not in the list); the rest stays as it was."""

    name: str
    items: str                      # a comma list, may hold placeholders; "" adds nothing
    after: str = ""
    why: str = ""


@dataclass(frozen=True)
class Remove:
    """Takes a setting or block out of the file again (the tutorial comments it out)."""

    name: str
    why: str = ""


@dataclass(frozen=True)
class UserTable:
    """users.db: one `address:hash` line per mail user from the answers.

    The hash keeps its `{SHA512-CRYPT}` prefix until the step that names the scheme in the
    passdb; a clear password is never written (the tutorial starts with one)."""

    scheme_prefix: bool = True


@dataclass(frozen=True)
class Service:
    """One service of Postfix's master.cf: its line and its `-o name=value` overrides.

    A step's service replaces the box's entry of the same name and type, or is added at the end
    of the file; every other line of the box's own master.cf stays byte for byte as it was."""

    name: str                       # "submission", or a port: "2525"
    command: str = "smtpd"
    type: str = "inet"
    private: str = "n"
    unpriv: str = "-"
    chroot: str = "y"               # as Debian runs its smtpd services
    wakeup: str = "-"
    maxproc: str = "-"
    options: tuple[tuple[str, str], ...] = ()   # (name, value): `-o name=value`
    why: str = ""
    replaces: tuple[str, ...] = ()  # other names of the same entry ("submission" for "587")


@dataclass(frozen=True)
class FileFragment:
    """What a step adds to a config file.

    `start_empty`: from this step on the file is rebuilt from nothing (the tutorial's
    `> main.cf`); before the first such step the file is the one the box had.
    `format`: "conf" (name = value), "map" (a Postfix lookup table: key value), "master"
    (Postfix's master.cf: `Service` entries written into the box's own file, which is kept) or
    "script" (the file is `source`, a text under assets/, with the answers filled in).
    `mode`/`group`: the file's permissions from this step on (the last step that says wins).
    """

    path: str
    settings: tuple["Setting | Block | Remove | Service | Extend", ...] = ()
    start_empty: bool = False
    table: UserTable | None = None
    format: str = "conf"            # "conf", "map", "master" or "script" (see above)
    mode: int | None = None
    group: str | None = None
    source: str = ""                # for format="script": its text under assets/ ("hooks/x.sh")


# ---- things a step makes sure exist ------------------------------------------------------------

@dataclass(frozen=True)
class SystemUser:
    """A system user and group (reused when they exist, never duplicated)."""

    name: str
    group: str
    home: str = "/nonexistent"


@dataclass(frozen=True)
class Directory:
    path: str
    owner: str
    group: str
    mode: int = 0o755


@dataclass(frozen=True)
class Certificate:
    """A TLS certificate and key; a self-signed pair for `common_name` only when the box has
    none that match (a certificate the user already has is kept)."""

    cert: str
    key: str
    common_name: str = "{fqdn}"


@dataclass(frozen=True)
class MailAliases:
    """The local alias file Postfix's default alias_maps reads, made (with `newaliases`) when the
    box has none; an existing one is never touched beyond building its missing .db."""

    path: str = "/etc/aliases"
    lines: tuple[str, ...] = ("postmaster: root",)


@dataclass(frozen=True)
class DkimKey:
    """A 2048-bit RSA key that signs the mail of `domain` under `selector`, made only when the
    box has none at `path` (a key whose public half may be published is never replaced), readable
    by `owner` alone. Its private half is never shown; its public half is the DKIM record."""

    path: str                       # e.g. /var/lib/rspamd/dkim/{maildomain}.{dkim_selector}.key
    owner: str = "_rspamd"
    bits: int = 2048


@dataclass(frozen=True)
class AcmeCertificate:
    """A certificate for `name` from the ACME CA the answers choose, obtained by certbot (its
    standalone server on port 80, or the webroot of a web server already there). Its files stay
    under certbot's own directory; an existing one for the same name and CA is reused."""

    name: str = "{fqdn}"


@dataclass(frozen=True)
class DoveadmHashes:
    """Every mail user's password hash made by this box's own `doveadm pw -s SHA512-CRYPT`, as
    the tutorial makes it, wherever the clear password is at hand (a hash made before Dovecot
    was installed is made again; one the answers gave is kept, and said so)."""

    table: str = "/etc/dovecot/users.db"


Ensure = SystemUser | Directory | Certificate | MailAliases | DkimKey | AcmeCertificate | DoveadmHashes


@dataclass(frozen=True)
class Erratum:
    """Where today's Debian differs from the tutorial: one line the user reads.

    `on`: the boxes it is true of, "systemd" (systemd is PID 1) or "no-systemd" (a container or
    chroot where the daemons are started by their own commands); "" for every box."""

    ref: str
    text: str
    on: str = ""

    def true_of(self, systemd: bool) -> bool:
        return not self.on or self.on == ("systemd" if systemd else "no-systemd")


@dataclass(frozen=True)
class Requirement:
    """A prerequisite check by name (the table in wizard/checks/__init__.py) with its arguments."""

    check: str
    args: tuple[str, ...] = ()
    advisory: bool = False      # reported, but a failure does not hold the walk back


# ---- probes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpMail:
    """An SMTP session as the tutorial types it in telnet: HELO, MAIL, RCPT, DATA, QUIT.

    `ehlo`: greet with EHLO (to see what the server offers); `starttls`: switch to TLS first;
    `implicit_tls`: TLS from the first byte, before the greeting (port 465, RFC 8314);
    `auth`: log in with AUTH PLAIN as the first mail user; `helo=""`: skip the greeting (to see
    smtpd_helo_required at work); `rcpt=""`: stop after the greeting and AUTH (an `Offers` probe);
    `headers`: the message has the header lines a mail client writes (From, To, Date,
    Message-ID), as a signer and a strict receiver want them; the tutorial's sessions have none."""

    kind: ClassVar[str] = "smtp"   # its handler: wizard/probes/actions/smtp.py

    helo: str
    mail_from: str
    rcpt: str
    body: str
    ehlo: bool = False
    starttls: bool = False
    auth: bool = False
    implicit_tls: bool = False
    headers: bool = False


@dataclass(frozen=True)
class Sendmail:
    """A message handed to Postfix by the local `sendmail` command."""

    kind: ClassVar[str] = "sendmail"   # its handler: wizard/probes/actions/sendmail.py

    to: str
    body: str


@dataclass(frozen=True)
class Flush:
    """`postqueue -f`: Postfix tries every queued message again at once. The probe follows the
    mail held for `rcpt` that an earlier probe sent (`sent_by`: that probe's id)."""

    kind: ClassVar[str] = "flush"   # its handler: wizard/probes/actions/flush.py

    rcpt: str
    sent_by: str


@dataclass(frozen=True)
class HashTest:
    """`doveadm pw -t HASH`: Dovecot's own check of the user's hash in `table` against the
    password (given on doveadm's standard input, never on its command line)."""

    kind: ClassVar[str] = "hash-test"   # its handler: wizard/probes/actions/hash_test.py

    table: str
    user: str = "{mailuser_address}"


@dataclass(frozen=True)
class Imap:
    """An IMAP session as the tutorial types it: greeting, LOGIN, commands, LOGOUT.

    `tls`: "" (plain port 143), "starttls" (143 then STARTTLS) or "imaps" (993).
    `password`: "good" (the user's), "wrong", or "none" (no LOGIN at all)."""

    kind: ClassVar[str] = "imap"   # its handler: wizard/probes/actions/imap.py

    user: str = "{mailuser_address}"
    password: str = "good"
    commands: tuple[str, ...] = ('LIST "" "*"',)
    tls: str = ""
    speaks_first: bool = False      # sends its first command before any greeting, as a client
                                    # set up for the other port does (a TLS port hears no TLS)


@dataclass(frozen=True)
class Answered:
    """What the server must (and must not) say, and what its log must show meanwhile.

    `replies`: texts that must appear in the server's lines, in this order; `absent`: texts that
    must not; `log`: texts the daemon's log must gain (how a teaching step proves its error);
    `exists`: a path that must exist afterwards; `refused`: the connection itself is refused."""

    kind: ClassVar[str] = "answered"   # its handler: wizard/probes/expectations/answered.py

    replies: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    log: tuple[str, ...] = ()
    exists: str = ""
    refused: bool = False
    tls_fails: bool = False         # the TLS handshake itself must fail (TLS where plain is spoken)


@dataclass(frozen=True)
class InInbox:
    """The message lands in the user's Maildir and that very message is found over IMAP."""

    kind: ClassVar[str] = "in-inbox"   # its handler: wizard/probes/expectations/in_inbox.py

    user: str = "{mailuser_address}"
    maildir: str = "/var/vmail/{maildomain}/{mailuser}/mail"


@dataclass(frozen=True)
class Offers:
    """The server's EHLO reply (the last one, after STARTTLS when there is one) lists `words`
    and none of `absent` — e.g. AUTH only after STARTTLS."""

    kind: ClassVar[str] = "offers"   # its handler: wizard/probes/expectations/offers.py

    words: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivered:
    """The message appears in this mailbox file (matched by a marker the probe adds)."""

    kind: ClassVar[str] = "delivered"   # its handler: wizard/probes/expectations/delivered.py

    mailbox: str


@dataclass(frozen=True)
class Relayed:
    """Postfix hands the message to the recipient's own server (`status=sent` in the log).

    `mailbox` is where that server keeps it when the wizard can see it (the lab's external
    mailbox, `{ext_mailbox}`); on a real box the other server's acceptance is the proof.
    `shows`: texts the message must carry as it arrived there (the receiver's verdict, such as
    `spf=pass` in its Authentication-Results header); only the lab's receiver can be read.
    `via`: Postfix must have handed it to this relay host; a deferral is then a failure (the
    relay host is the user's to reach), not "cannot tell".
    """

    kind: ClassVar[str] = "relayed"   # its handler: wizard/probes/expectations/relayed.py

    mailbox: str = "{ext_mailbox}"
    shows: tuple[str, ...] = ()
    via: str = ""           # the relay host it must go through (`relay=HOST[...]` in the log)


@dataclass(frozen=True)
class Bounced:
    """Postfix accepts the message, then gives up on it with this text in the log; with
    `arrives`, its bounce must then reach that mailbox (the sender's, on the outside host)."""

    kind: ClassVar[str] = "bounced"   # its handler: wizard/probes/expectations/bounced.py

    text: str
    arrives: str = ""       # e.g. "{ext_mailbox}": known in the lab only ("" elsewhere: the log alone)


@dataclass(frozen=True)
class Queued:
    """Postfix accepts the message and keeps it: its delivery is deferred with this text in the
    log, and it stays in the queue (a later flush, `Flushed`, delivers it)."""

    kind: ClassVar[str] = "queued"   # its handler: wizard/probes/expectations/queued.py

    text: str
    any_of: tuple[str, ...] = ()    # and one of these (the same failure, as different boxes say it)


@dataclass(frozen=True)
class Flushed:
    """After a flush, the mail that waited for the recipient leaves the queue delivered, through
    `via` (a text of its log line: "dovecot-lmtp"); at least one message must have waited."""

    kind: ClassVar[str] = "flushed"   # its handler: wizard/probes/expectations/flushed.py

    via: str = ""


@dataclass(frozen=True)
class Refused:
    """The server refuses at a stage of the dialogue (an expected failure is a pass)."""

    kind: ClassVar[str] = "refused"   # its handler: wizard/probes/expectations/refused.py

    stage: str                      # "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA"
    codes: tuple[str, ...]          # e.g. ("454", "554")
    text: str = ""


@dataclass(frozen=True)
class DkimSigned:
    """The message lands in `maildir` with a DKIM-Signature of `{maildomain}` under
    `{dkim_selector}` that verifies against the key: `key="made"` the public half of the key the
    dkim chapter made (`path`), `key="dns"` the record the resolver returns."""

    kind: ClassVar[str] = "dkim-signed"   # its handler: wizard/probes/expectations/dkim_signed.py

    maildir: str = "/var/vmail/{maildomain}/{mailuser}/mail"
    path: str = ""                  # the private key, for key="made"
    key: str = "made"               # "made" or "dns"


@dataclass(frozen=True)
class Trusted:
    """The TLS handshake (after STARTTLS, or at once on 465 and 993) verifies: the served chain
    leads to `root` (a CA file; "" means the system's trust store) and the certificate names
    `name`. Python's ssl does the verifying; the serial, issuer and expiry seen are reported."""

    kind: ClassVar[str] = "trusted"   # its handler: wizard/probes/expectations/trusted.py

    root: str = "{tls_root}"
    name: str = "{fqdn}"
    newest: str = ""        # a certificate file: what is served must be it (certbot's latest)


@dataclass(frozen=True)
class AuditCheck:
    """One check of `mailwizard audit` (wizard/audit), sent as the audit sends it: "relay-25",
    "unknown-recipient", "vrfy-25", "smuggling", "banner", "tls-25" (a TLS port's rows)... — the
    names `mailwizard audit --check` takes."""

    kind: ClassVar[str] = "audit-check"   # its handler: wizard/probes/actions/audit_check.py

    check: str


@dataclass(frozen=True)
class AuditPassed:
    """The audit's rows for the probe's check are `passed`: `rows` names them (every row of the
    check when empty)."""

    kind: ClassVar[str] = "audit-passed"   # its handler: wizard/probes/expectations/audit_passed.py

    rows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expect:
    """An expectation of a kind a handler brings: one module in wizard/probes/expectations/
    (KIND.py, its dashes as underscores) says how it is described and judged. `args` are its
    words as "name=value" texts (templates like the rest: "text=status=sent")."""

    kind: str
    args: tuple[str, ...] = ()

    def arg(self, name: str, default: str = "") -> str:
        return next((a.split("=", 1)[1] for a in self.args if a.split("=", 1)[0] == name), default)


Expectation = (Delivered | Relayed | Bounced | Queued | Flushed | Refused | Answered | InInbox | Offers
               | DkimSigned | Trusted | AuditPassed | Expect)


@dataclass(frozen=True)
class Probe:
    """A real dialogue with the server and the outcome it must have."""

    id: str
    title: str
    action: SmtpMail | Sendmail | Imap | Flush | HashTest | AuditCheck
    expect: Expectation
    vantage: str = "local"          # "local"; "external": from EXTHOST (see Answers.vantage), not
                                    # run without one; "external-else-local": from EXTHOST when the
                                    # walk has a vantage point, else from this box (and said so)
    host: str = "localhost"         # may hold placeholders, e.g. "{fqdn}"
    port: int = 25
    needs: tuple[Requirement, ...] = ()   # unmet: the probe says why it cannot tell
    erratum: Erratum | None = None
    expect_24: Expectation | None = None  # what Dovecot 2.4 answers, where it differs from 2.3
    when: tuple[str, str] = ()            # (value, wanted): run only when the answers give it that value
    source: str = ""                      # the vantage point's address to start from ("" : its own)
    family: str = ""                      # "4" or "6": connect over this address family alone, to
                                          # the host's A or AAAA record ("": whichever it has)
    each: str = ""                        # a value holding a blank-separated list: the probe runs
                                          # once per item, `{each}` filled with it (id PROBE:ITEM)
    without: str = ""                     # a daemon stopped for this probe alone and started again
                                          # right after, whatever came of it ("dovecot": mail waits)
    until: str = ""                       # the chapter that changes on purpose what this probe
                                          # proves (AUTH on 25, until submission takes it away):
                                          # once that chapter is walked, a grade leaves it out

    def in_dialect(self, dovecot_dialect: str) -> "Probe":
        if dovecot_dialect == "2.4" and self.expect_24 is not None:
            return replace(self, expect=self.expect_24)
        return self


# ---- what a step asks the person at run time ---------------------------------------------------

@dataclass(frozen=True)
class Question:
    """A value the answers may leave out, asked when the step runs (a password the replay file
    must never hold). Its answer fills `{name}`; it comes, in this order, from the answers, the
    environment variable MAILWIZARD_<NAME>, the box (what follows `kept_after` on a line of
    `kept_in`, the file an earlier run wrote it into) or the person, asked by the face."""

    name: str                       # the placeholder: "relay_password"
    text: str                       # the question, with placeholders
    kept_in: str = ""               # the file the answer is written into
    kept_after: str = ""            # the text before the answer on its line there
    given_as: str = ""              # where an answers file gives it: "[relay] password"
    secret: bool = True             # never shown, echoed, logged or reported


# ---- a chapter's own answers ----------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerField:
    """One key of a chapter's answers table, as data: `wizard.answers` parses, checks, records
    and describes every field by these words alone (the schema, `answers init`, the form)."""

    name: str
    help: str                       # one line: what the key is for (the schema's description)
    kind: str = "text"              # text | bool | int | list (of text)
    check: str = ""                 # a named check of the answers' own: domain, hostname, address,
                                    # label, local_part, path, login, secret, spf_mechanism
    hint: str = ""                  # added to a refusal: what to write instead
    choices: tuple[str, ...] = ()   # the values taken (lower-cased), unless `pattern` matches
    pattern: str = ""               # a value outside `choices` must match it whole
    lower: bool = False             # taken in lower case
    default: object = None          # when not given; a text may name other fields and the walk's
                                    # values ("postmaster@{maildomain}", "mw{this_month}")
    required: bool = False
    secret: bool = False            # never recorded, printed or written; asked when missing
    least: int | None = None        # int: the smallest; list: the fewest items
    most: int | None = None         # int: the largest; list: the most items
    refuse: tuple[tuple[object, str], ...] = ()     # values refused, with the reason
    in_lab: object = None           # a lab walk's value when none is given ({extdomain} filled)
    remembered: bool = False        # once walked, the walk's value is the default (a key made)
    splits_port: str = ""           # a value NAME:PORT gives its port to this field


@dataclass(frozen=True)
class ByValue:
    """A placeholder whose text depends on one field's value: `cases` (value, text), else
    `otherwise`. Texts are templates over the table's fields and the walk's values."""

    field: str
    cases: tuple[tuple[str, str], ...]
    otherwise: str


@dataclass(frozen=True)
class Each:
    """A placeholder made of a list field: `template` once per item (`{item}`), joined."""

    field: str
    template: str
    joined: str = ""


@dataclass(frozen=True)
class Rule:
    """What one field cannot check alone: its value (each item of a list) must, or must not, be
    among the words of `among` (a template: "{fqdn} {maildomain}", "{users}")."""

    field: str
    among: str
    problem: str                    # said when broken; {value} is the value (the item)
    inside: bool = True             # True: must be among them; False: must not


@dataclass(frozen=True)
class AnswersSection:
    """A chapter's table in the answers file (`[relay]`), as data. `values` are the placeholders
    the chapter's fragments and probes use, each a template over the table's fields (defaults
    filled in: a bool reads yes or no, a list its items with blanks between, an address field
    has `.local` and `.domain`, a list `.first`) and the walk's own values (`maildomain`, `fqdn`,
    `extdomain`, `mailuser_address`, `users`, `user_locals`). `absent`: the placeholders when the
    table is not given, for a chapter that is off without it (None: its defaults apply)."""

    key: str
    help: str
    fields: tuple[AnswerField, ...]
    values: tuple[tuple[str, "str | ByValue | Each"], ...]
    absent: tuple[tuple[str, str], ...] | None = None
    rules: tuple[Rule, ...] = ()

    def field(self, name: str) -> AnswerField:
        return next(f for f in self.fields if f.name == name)


# ---- DNS records a step asks for ----------------------------------------------------------------

@dataclass(frozen=True)
class DnsRecord:
    """A record the user publishes at the zone's registrar (the wizard cannot): shown as a
    zone-file line, checked through the resolver and at the zone's own servers, and in the lab
    published by the step itself. `value` is the record's data as a zone file writes it; a TXT
    value is given unquoted and split into strings of 255 characters when shown."""

    name: str                   # e.g. "_dmarc.{maildomain}"
    type: str                   # "TXT", "SRV", "MX", "A"
    value: str
    why: str = ""
    ttl: int = 3600


# ---- the step ----------------------------------------------------------------------------------

FILES_GO_BACK = "The files go back to how the previous step left them."

@dataclass(frozen=True)
class Step:
    id: str
    title: str
    chapter: str
    explain: str                                # file under assets/explain/
    requires: tuple[Requirement, ...] = ()
    packages: tuple[str, ...] = ()              # Debian packages the step installs
    debconf: tuple[str, ...] = ()               # debconf-set-selections lines, before apt runs
    files: tuple[FileFragment, ...] = ()
    ensure: tuple[Ensure, ...] = ()              # users, directories, certificates to have
    reload: tuple[str, ...] = ()                # daemons to (re)load after writing: "postfix"
    stop: tuple[str, ...] = ()                  # daemons that must not run during this chapter
    probes: tuple[Probe, ...] = ()
    verify: tuple[Requirement, ...] = ()        # checks after the change, proof like the probes
    errata: tuple[Erratum, ...] = ()
    undo: str = FILES_GO_BACK                   # what undo does beyond the files (said when it undoes)
    tags: tuple[str, ...] = field(default_factory=tuple)
    lessons: tuple["Step", ...] = ()            # teaching mode: the same files, error by error
    tells: tuple[str, ...] = ()                 # told once the walk is through (client settings)
    publishes: tuple[DnsRecord, ...] = ()       # records for the zone (published by it in the lab)
    receiver: str = ""                          # "strict": the lab's outside server judges as providers do
    when: tuple[str, str] = ()                  # (value, wanted): the chapter applies only then
    otherwise: str = ""                         # why it is passed over when it does not apply
    asks: tuple[Question, ...] = ()             # values asked at run time when the answers lack them
    # A lesson only the wizard's lab can stage: what it needs from the lab. Elsewhere the lesson
    # is shown as not staged here (why, and how to see it), and the walk goes on.
    staged_by: str = ""
    answers: AnswersSection | None = None       # the chapter's own table in the answers file

    def __post_init__(self) -> None:
        # The direct path of a chapter with lessons writes what its lessons write, in their
        # order, so both paths end in the same files (and the step module stays plain data).
        if self.lessons and not self.files:
            object.__setattr__(self, "files", lesson_files(self.lessons))

    def touches(self, path: str) -> bool:
        return any(f.path == path for f in self.files)

    def applies(self, values: dict[str, str]) -> bool:
        """False for a chapter the answers leave out (`when`): it writes, installs and proves
        nothing, and the walk passes over it."""
        return not self.when or values.get(self.when[0]) == self.when[1]


def walk_order(steps: tuple[Step, ...], teaching: bool,
               walked: frozenset[str] = frozenset()) -> tuple[Step, ...]:
    """The steps a walk takes: a step with lessons becomes its lessons in teaching mode. A
    chapter already begun (`walked`: the ids the state has records of) keeps the form it was
    begun in, so the path can change for the chapters still ahead."""
    return tuple(part for step in steps for part in _taken_as(step, teaching, walked))


def _taken_as(step: Step, teaching: bool, walked: frozenset[str]) -> tuple[Step, ...]:
    if not step.lessons:
        return (step,)
    if any(lesson.id in walked for lesson in step.lessons):
        return step.lessons
    if step.id in walked:
        return (step,)
    return step.lessons if teaching else (step,)


def path_affects(steps: tuple[Step, ...], walked: frozenset[str]) -> tuple[Step, ...]:
    """The chapters a change of path still changes: those with lessons not yet begun."""
    return tuple(step for step in steps if step.lessons and step.id not in walked
                 and not any(lesson.id in walked for lesson in step.lessons))


def lesson_files(lessons: tuple[Step, ...]) -> tuple[FileFragment, ...]:
    """The direct path's fragments: every lesson's, in order, so both paths end in the same files."""
    return tuple(fragment for lesson in lessons for fragment in lesson.files)


# ---- exercises (break-and-fix, for the classroom) ---------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """Replace `old` by `new` in a finished server's file (placeholders allowed in both)."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Hint:
    """When the log shows `pattern` during a failed check, say `hint`."""

    log: str                # "mail", "dovecot", or "probe" (what the check's probes saw)
    pattern: str
    hint: str


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    symptom: str                        # as a user would report it; all `start` tells
    breaks: tuple[Edit, ...]
    reload: tuple[str, ...]
    check: tuple[Probe, ...]            # all met: fixed
    hints: tuple[Hint, ...]
    fix: str                            # shown by give-up
    publishes: tuple["DnsRecord", ...] = ()   # lab only: DNS records as a careless admin left them
    after: str = "next-steps"           # the server it breaks: the walk done through this step
    renews: bool = False                # lab only: certbot renews the certificate once it is broken
