"""The vocabulary steps are written in: plain, frozen data that the engine interprets.

A step says what it needs, what it writes, how it is proven and how it is undone. It holds no
control flow: adding a chapter means adding a module under `steps/` and its explanation under
`assets/explain/`, nothing here.

Strings may hold placeholders such as `{maildomain}`, `{fqdn}` or `{compatibility_level}`;
`Answers.values()` and `Platform.values()` fill them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Setting:
    """One `name = value` line of a config file. `why` becomes a comment above it."""

    name: str
    value: str
    why: str = ""


@dataclass(frozen=True)
class FileFragment:
    """What a step adds to a config file.

    `start_empty`: from this step on the file is rebuilt from nothing (the tutorial's
    `> main.cf`); before the first such step the file is the one the box had.
    """

    path: str
    settings: tuple[Setting, ...] = ()
    start_empty: bool = False


@dataclass(frozen=True)
class Erratum:
    """Where today's Debian differs from the tutorial: one line the user reads."""

    ref: str
    text: str


@dataclass(frozen=True)
class Requirement:
    """A prerequisite check by name (see wizard/checks.py) with its arguments."""

    check: str
    args: tuple[str, ...] = ()
    advisory: bool = False      # reported, but a failure does not hold the walk back


# ---- probes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpMail:
    """An SMTP session as the tutorial types it in telnet: HELO, MAIL, RCPT, DATA, QUIT."""

    helo: str
    mail_from: str
    rcpt: str
    body: str


@dataclass(frozen=True)
class Sendmail:
    """A message handed to Postfix by the local `sendmail` command."""

    to: str
    body: str


@dataclass(frozen=True)
class Delivered:
    """The message appears in this mailbox file (matched by a marker the probe adds)."""

    mailbox: str


@dataclass(frozen=True)
class Relayed:
    """Postfix hands the message to the recipient's own server (`status=sent` in the log).

    `mailbox` is where that server keeps it when the wizard can see it (the lab's external
    mailbox, `{ext_mailbox}`); on a real box the other server's acceptance is the proof.
    """

    mailbox: str = "{ext_mailbox}"


@dataclass(frozen=True)
class Bounced:
    """Postfix accepts the message, then gives up on it with this text in the log."""

    text: str


@dataclass(frozen=True)
class Refused:
    """The server refuses at a stage of the dialogue (an expected failure is a pass)."""

    stage: str                      # "RCPT", "MAIL", "HELO", "DATA"
    codes: tuple[str, ...]          # e.g. ("454", "554")
    text: str = ""


Expectation = Delivered | Relayed | Bounced | Refused


@dataclass(frozen=True)
class Probe:
    """A real dialogue with the server and the outcome it must have."""

    id: str
    title: str
    action: SmtpMail | Sendmail
    expect: Expectation
    vantage: str = "local"          # "local", or "external": from EXTHOST (see Answers.vantage)
    host: str = "localhost"         # may hold placeholders, e.g. "{fqdn}"
    port: int = 25
    needs: tuple[Requirement, ...] = ()   # unmet: the probe says why it cannot tell
    erratum: Erratum | None = None


# ---- the step ----------------------------------------------------------------------------------

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
    reload: tuple[str, ...] = ()                # daemons to (re)load after writing: "postfix"
    stop: tuple[str, ...] = ()                  # daemons that must not run during this chapter
    probes: tuple[Probe, ...] = ()
    errata: tuple[Erratum, ...] = ()
    undo: str = "The files go back to how the previous step left them."
    tags: tuple[str, ...] = field(default_factory=tuple)

    def touches(self, path: str) -> bool:
        return any(f.path == path for f in self.files)
