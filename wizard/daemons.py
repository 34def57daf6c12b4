"""Postfix and Dovecot as services: validate, (re)load, tell whether they run and answer.

With systemd (PID 1, as sd_booted(3) tells) everything goes through systemctl, by way of
`wizard.units` (which keeps clear of systemd's start limit and reports whose fault a failure
is); without it the daemons' own commands are used, as on a box or container where nothing
manages services.
Whether a daemon runs is told by `postfix status` or Dovecot's pid file, never by the process
list (a stopped daemon may linger there as a zombie).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

from wizard.logs import DOVECOT_LOG, MAIL_LOG, DaemonLog, MailLog
from wizard.net.dialogue import Dialogue, DialogueError, Transcript, connect
from wizard.platform import POSTFIX_PID
from wizard.system import CommandResult, System, in_other_netns, pid_alive, read_pid, systemd_booted
from wizard.units import Unit

POSTFIX_CONFIGURE_INSTANCE = "/usr/lib/postfix/configure-instance.sh"
POSTFIX_POST_INSTALL = "/usr/lib/postfix/sbin/post-install"
DOVECOT_PID = "/run/dovecot/master.pid"
POSTFIX_DIR = "/etc/postfix"
# Postfix's tools wait about 2 s before reading a main.cf younger than 2 s (they take it for a
# file still being edited). Ours is complete the moment it is renamed into place.
POSTFIX_FRESH_FILE_SECONDS = 2.5


def settle_seconds(path: str) -> float:
    """How far to date a freshly written config file back so its daemon reads it at once."""
    return POSTFIX_FRESH_FILE_SECONDS if path.startswith("/etc/postfix/") else 0.0


def let_dovecot_see_passwd_file() -> None:
    """Dovecot looks at a passwd-file at most once per second; past the second of a write, the
    next login sees the new users.db."""
    time.sleep(1.01 - time.time() % 1)


class DaemonError(Exception):
    pass


def postfix_prepares_its_chroot() -> bool:
    try:
        return "configure-instance" in Path(POSTFIX_POST_INSTALL).read_text(errors="replace")
    except OSError:
        return False


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RELOAD_WAIT = 5.0
RELOAD_SETTLE = 0.1         # for a daemon's log process to write what its master said last


def _uptime_ticks() -> int:
    try:
        return int(float(Path("/proc/uptime").read_text().split()[0]) * CLOCK_TICKS)
    except (OSError, ValueError, IndexError):
        return 0


def _wait_for_new_servers(master: int, since: int) -> None:
    """`postfix reload` only signals the master: smtpd processes started before it may still
    take the next connection with the old settings (a new milter, new TLS files). Wait, bounded,
    until every smtpd the master started before the reload has gone (a busy one ends its session
    first; after RELOAD_WAIT the walk goes on regardless)."""
    deadline = time.monotonic() + RELOAD_WAIT
    while time.monotonic() < deadline:
        old = [pid for pid, comm, parent, started in _processes()
               if parent == master and comm == "smtpd" and started <= since]
        if not old:
            return
        time.sleep(0.05)


def _children(parent: int | None) -> set[int]:
    return {pid for pid, _comm, ppid, _started in _processes() if parent and ppid == parent}


def _processes():
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        yield int(entry), comm, int(fields[1]), int(fields[19])


@dataclass
class Postfix:
    system: System
    name: str = "postfix"

    _unit: Unit | None = None
    _told: list[str] = field(default_factory=list)

    @property
    def unit(self) -> Unit:
        """Debian 12's postfix.service only groups the instances (a oneshot): the master runs in
        `postfix@-`. Debian 13's postfix.service runs the master itself."""
        if self._unit is None:
            grouping = self.system.query(["systemctl", "show", "postfix", "-p", "Type"]).stdout.strip()
            self._unit = Unit(self.system, "postfix", "postfix@-" if grouping == "Type=oneshot" else "postfix",
                              told=self._told)     # one list: what systemd and Postfix tell
        return self._unit

    @property
    def told(self) -> list[str]:
        """What the user should hear (drained by the caller)."""
        return self._told

    def running(self) -> bool:
        return self.system.query(["postfix", "status"]).ok

    def _prepare_chroot(self) -> None:
        # Debian runs smtp/smtpd chrooted in /var/spool/postfix; its systemd unit copies
        # resolv.conf, hosts and friends in before each start. Without systemd nobody does,
        # and outbound mail is deferred with "Host or domain name not found" (errata E6).
        # Debian 13's postfix-script runs the script itself (post-install calls it) and its
        # script refuses to be called from outside; Debian 12 leaves it to the init system.
        if Path(POSTFIX_CONFIGURE_INSTANCE).exists() and not postfix_prepares_its_chroot():
            # Once a session, and again only when what the script copies could differ: the
            # files it copies from /etc, or the settings that make it copy more (CA paths, a
            # passwd map). An eighth of a second saved on every other Postfix reload.
            key = _chroot_sources(self.system)
            if _CHROOT_PREPARED.get(str(self.system.root)) != key:
                self.system.run([POSTFIX_CONFIGURE_INSTANCE, "-"])
                _CHROOT_PREPARED[str(self.system.root)] = key

    def start(self) -> CommandResult:
        if systemd_booted():
            return self.unit.start()
        self._prepare_chroot()
        return self.system.run(["postfix", "start"], daemonizes=True, timeout=60)

    def stop(self) -> CommandResult:
        if systemd_booted():
            return self.unit.stop()
        return self.system.run(["postfix", "stop"])

    def reload(self) -> CommandResult:
        """Reload a running Postfix; start a stopped one."""
        if not self.running():
            return self.start()
        if in_other_netns(read_pid(self.system.path(POSTFIX_PID))):
            return self.restart()
        master = read_pid(self.system.path(POSTFIX_PID))
        since = _uptime_ticks()
        log_start = self._log().offset()
        if systemd_booted():
            done = self.unit.reload()
        else:
            self._prepare_chroot()
            done = self.system.run(["postfix", "reload"])
        if done.ok and master:
            _wait_for_new_servers(master, since)
        if done.ok:
            self._tell_reload_line(log_start)
        return done

    def _tell_reload_line(self, log_start: int) -> None:
        """The line the tutorial shows after `postfix reload`, read where this box writes it
        (the mail log; postfix-script logs there once maillog_file is set)."""
        said = [found.group(0) for line in self._said_in_log(log_start)
                if (found := re.search(r"\S*postfix-script\[\d+\]: refreshing the Postfix mail system", line))]
        if said:
            self.told.append(f"postfix reload: {MAIL_LOG} says {said[-1]}")

    def take_new_config(self) -> CommandResult:
        """After new files: Postfix reloads (a running master re-reads them at once)."""
        return self.reload()

    def restart(self) -> CommandResult:
        if systemd_booted():
            return self.unit.restart()
        if not self.running():
            return self.start()
        self.stop()
        return self.start()

    def prevalidate(self, files: dict[str, str]) -> str | None:
        """Judge candidate Postfix files before they replace the live ones; a complaint or None.

        main.cf and master.cf (the candidate, else the box's own) are put in a scratch directory
        with every candidate map, and Postfix's own tools judge them there: `postconf -n` and
        `postconf -M` (with their warnings: an unknown setting, an unused `-o`), `postmap` for
        each map, and `postfix check` when master.cf or a map is among them. A refused file
        never reaches /etc/postfix.
        """
        ours = {p: t for p, t in files.items() if p.startswith(POSTFIX_DIR + "/")}
        if not ours or shutil.which("postconf", path="/usr/sbin:/usr/bin") is None:
            return None
        with tempfile.TemporaryDirectory(prefix="mailwizard-postconf-") as scratch:
            for name in ("main.cf", "master.cf"):
                self._scratch_copy(scratch, name, ours.get(f"{POSTFIX_DIR}/{name}"))
            # Maps by their path below /etc/postfix (a/b → a_b); the
            # scratch directory is private (0700), as a password map must stay.
            maps = []
            for path, text in ours.items():
                if path not in (f"{POSTFIX_DIR}/main.cf", f"{POSTFIX_DIR}/master.cf"):
                    maps.append(Path(scratch, path[len(POSTFIX_DIR) + 1:].replace("/", "_")))
                    maps[-1].write_text(text)
            past = time.time() - POSTFIX_FRESH_FILE_SECONDS
            for item in Path(scratch).iterdir():
                os.utime(item, (past, past))
            checks = [["postconf", "-c", scratch, "-n"], ["postconf", "-c", scratch, "-M"],
                      *(["postmap", "-c", scratch, "-q", "mailwizard-check", f"texthash:{m}"] for m in maps)]
            if set(ours) - {f"{POSTFIX_DIR}/main.cf"} and str(self.system.root) not in _INSTALL_CHECKED:
                # `postfix check` costs a third of a second and judges the installation more
                # than the files (postconf -n and -M above judge those, -o lines included):
                # once a session is enough, here or after the write (validate).
                checks.append(["postfix", "-c", scratch, "check"])
            complaints: list[str] = []
            for argv in checks:
                log_start = self._log().offset()
                result = self.system.query(argv)
                lines = [line for line in result.stderr.splitlines() if line.strip()]
                if argv[0] == "postfix":
                    # postfix-script also runs postconf on the live /etc/postfix (its warnings
                    # name that path): those judge the box as it is, not the candidates.
                    lines = [line for line in lines if f"{POSTFIX_DIR}/" not in line]
                if argv[0] == "postfix" and not result.ok and not lines:
                    lines = self._said_in_log(log_start)
                lookup_missed = argv[0] == "postmap" and result.returncode == 1 and not lines
                if (not result.ok and not lookup_missed) or lines:
                    complaints += lines or [result.describe()]
        if complaints:
            unique = list(dict.fromkeys(line.replace("/usr/sbin/", "") for line in complaints))
            return "\n".join(unique).replace(scratch, POSTFIX_DIR)
        return None

    def _log(self) -> MailLog:
        return MailLog(Path(MAIL_LOG))

    def _said_in_log(self, start: int) -> list[str]:
        """What postfix-script said: with maillog_file set, it writes to the log, not stderr."""
        return [line for line in self._log().lines_since(start) if "postfix-script" in line][-5:]

    def _scratch_copy(self, scratch: str, name: str, candidate: str | None) -> None:
        target = Path(scratch, name)
        if candidate is not None:
            target.write_text(candidate)
            return
        for source in (self.system.path(f"{POSTFIX_DIR}/{name}"), Path(POSTFIX_DIR, name)):
            if source.exists():
                shutil.copyfile(source, target)
                return

    def validate(self) -> str | None:
        """`postfix check` on the live files, once a session. It judges the installation
        (ownership, permissions, directories) as much as the files, and a step changes no part
        of that: the files themselves were judged as candidates by `prevalidate` (and a bad
        one that still gets through is caught by the greeting after the reload). A third of a
        second saved on every later Postfix step."""
        key = str(self.system.root)
        if key in _INSTALL_CHECKED:
            return None
        log_start = self._log().offset()
        result = self.system.run(["postfix", "check"])
        complaints = [line for line in result.stderr.splitlines() if line.strip()]
        if not result.ok and not complaints:
            complaints = self._said_in_log(log_start)
        if not result.ok or complaints:
            return "\n".join(complaints) or result.describe()
        _INSTALL_CHECKED.add(key)
        return None

    def greeting(self, timeout: float = 5.0) -> str | None:
        """smtpd's 220 greeting on port 25, or None if none comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with Dialogue(connect("127.0.0.1", 25, 1.0), Transcript(), 2.0) as talk:
                    reply = talk.read_reply()
                    if reply.code == "220":
                        talk.send("QUIT")
                        return reply.last
            except DialogueError:
                pass
            time.sleep(0.05)
        return None


_INSTALL_CHECKED: set[str] = set()      # roots whose Postfix passed `postfix check` this session
_CHROOT_PREPARED: dict[str, str] = {}   # root → what configure-instance.sh last copied from
CHROOT_COPIES = ("localtime", "services", "resolv.conf", "hosts", "host.conf", "nsswitch.conf")
CHROOT_SETTINGS = ("smtp_tls_CApath", "smtpd_tls_CApath", "local_recipient_maps")


def _chroot_sources(system: System) -> str:
    """A digest of what Debian's configure-instance.sh copies into Postfix's chroot."""
    import hashlib

    digest = hashlib.sha256()
    for name in CHROOT_COPIES:
        for path in (Path("/etc", name), Path("/var/spool/postfix/etc", name)):
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"-")
    main_cf = system.read_text(f"{POSTFIX_DIR}/main.cf") or ""
    digest.update("".join(line for line in main_cf.splitlines(keepends=True)
                          if line.split("=")[0].strip() in CHROOT_SETTINGS).encode())
    return digest.hexdigest()


@dataclass
class RestartedDaemon:
    """What Dovecot and rspamd share: a service the walk (re)starts and waits for. Under systemd
    its unit does the work; without it, its own command, its pid file telling whether it runs.
    A start is waited for until the daemon answers (`_wait_started`) and what it complained of
    meanwhile is kept (`said_at_start`) for the step's failure; a stop is waited for until it has
    gone (bounded). A subclass says how it starts and stops on its own and what it answers on."""

    system: System
    said_at_start: list[str] = field(default_factory=list)   # its log's complaints during the last start
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    log_path: ClassVar[str] = ""
    pid_file: ClassVar[str] = ""
    stop_wait: ClassVar[float] = 10.0

    def __post_init__(self):
        self.unit = Unit(self.system, self.name)

    @property
    def told(self) -> list[str]:
        return self.unit.told

    def _pid(self) -> int | None:
        return read_pid(self.system.path(self.pid_file))

    def running(self) -> bool:
        if systemd_booted() and not self.system.sandbox:
            return self.unit.active()
        return pid_alive(self._pid())

    def start(self) -> CommandResult:
        if systemd_booted():
            return self._starting(self.unit.start)
        return self._starting(self._start_alone)

    def restart(self) -> CommandResult:
        if systemd_booted():
            return self._starting(self.unit.restart)
        if self.running():
            self.stop()
        return self.start()

    def stop(self) -> CommandResult:
        pid = self._pid()
        result = self.unit.stop() if systemd_booted() else self._stop_alone(pid)
        deadline = time.monotonic() + self.stop_wait
        while self._still_there(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        return result

    def _starting(self, action) -> CommandResult:
        """`action` (a start), waited for, with what the daemon logged meanwhile kept for a failure."""
        log = self._log()
        log_start = log.offset()
        result = action()
        if result.ok:
            self._wait_started()
        self.said_at_start = self._complaints(log.lines_since(log_start))
        return result

    def _log(self):
        return MailLog(self.system.path(self.log_path))

    def _still_there(self, pid: int | None) -> bool:
        return self.running()

    def _complaints(self, lines: list[str]) -> list[str]:
        return lines[-5:]

    # ---- what each daemon says for itself ---------------------------------------------------------
    def _start_alone(self) -> CommandResult:
        raise NotImplementedError

    def _stop_alone(self, pid: int | None) -> CommandResult:
        raise NotImplementedError

    def _wait_started(self) -> None:
        raise NotImplementedError


@dataclass
class Dovecot(RestartedDaemon):
    """Dovecot takes a walk's changes by reloading (`doveadm reload`, which `systemctl reload`
    runs too): the master re-reads its files, binds new listeners and replaces its services
    without stopping. A reload takes effect a moment after the command returns, so it is waited
    for (see `_wait_reloaded`): no probe may judge the old configuration. A master that cannot
    switch (a port it cannot bind) logs an error and keeps the old configuration: that is the
    step's failure, with Dovecot's words, and the walk puts the last good files back. A restart
    is left for a master running in another network namespace, said so."""

    name: ClassVar[str] = "dovecot"
    title: ClassVar[str] = "Dovecot"
    log_path: ClassVar[str] = DOVECOT_LOG
    pid_file: ClassVar[str] = DOVECOT_PID

    def _master(self) -> int | None:
        return self._pid()

    def _start_alone(self) -> CommandResult:
        return self.system.run(["dovecot"], daemonizes=True, timeout=30)

    def _stop_alone(self, master: int | None) -> CommandResult:
        if pid_alive(master) and not self.system.sandbox:
            # What `dovecot stop` does (doveadm sends the master SIGTERM, then waits), with the
            # wait in stop(): doveadm waits until the pid is gone, and a master that has exited
            # stays a zombie until its parent reaps it — seconds in a container whose first
            # process reaps lazily, for ever under one that never does.
            os.kill(master, signal.SIGTERM)
            return CommandResult(["kill", "-TERM", str(master)], 0, "", "")
        return self.system.run(["dovecot", "stop"])

    def _still_there(self, master: int | None) -> bool:
        # The master removes its pid file as it begins to shut down and lives on until its log
        # process has written the last lines: it is waited for by its pid, not by the file.
        return self.running() or (not self.system.sandbox and pid_alive(master))

    def reload(self) -> CommandResult:
        """A running Dovecot re-reads its files (a stopped one starts); returns once it has."""
        if not self.running():
            return self.start()
        master = self._master()
        if not systemd_booted() and in_other_netns(master):
            # Started outside the lab (or inside it, and we are out): its new listeners would
            # open where the probes do not look. Only a restart brings it here.
            self.told.append("Dovecot ran in another network namespace: restarted in this one")
            return self.restart()
        log_start, before = self._log().offset(), _children(master)
        result = self.unit.reload() if systemd_booted() else self.system.run(["doveadm", "reload"])
        if not result.ok:
            return result
        refused = self._wait_reloaded(master, before, log_start)
        if refused:     # a restart would not bind the port either: the walk puts the old files back
            return CommandResult(result.argv, 1, "", "Dovecot kept its old configuration: " + refused)
        self._wait_started()
        return result

    def take_new_config(self) -> CommandResult:
        return self.reload()

    def _log(self) -> DaemonLog:
        return DaemonLog(self.system, DOVECOT_LOG)

    def _wait_reloaded(self, master: int | None, before: set[int], log_start,
                       timeout: float = RELOAD_WAIT) -> str:
        """Until the master has switched and said so (bounded), and what it refused, if anything.
        The switch shows as a service process the master started after the signal (its log
        process is replaced on every reload, taken or refused); its words as "SIGHUP received"
        in its log, after which what it refused follows at once: it is read a moment later (a
        little longer where the journal carries the lines)."""
        deadline = time.monotonic() + timeout
        switched = said = False
        while time.monotonic() < deadline and master and not (switched and said):
            switched = switched or bool(_children(master) - before)
            said = switched and any("SIGHUP received" in line for line in self._log().lines_since(log_start))
            if not (switched and said):
                time.sleep(0.01 if not switched else 0.03)
        time.sleep(0.3 if systemd_booted() else RELOAD_SETTLE)
        said = self._log().lines_since(log_start)
        return "; ".join(line.split("master: ", 1)[-1] for line in said
                         if "master: Error:" in line or "master: Fatal:" in line
                         or "Config reload failed" in line)

    def _wait_started(self, timeout: float = 10.0) -> None:
        """Until the master's pid file names a live process and, when the config enables IMAP,
        143 answers (bounded). On a busy box the daemonized master may write its pid file a
        moment after `dovecot` returned."""
        wants_imap = "imap" in self.system.query(["doveconf", "-h", "protocols"]).stdout.split()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running() and (not wants_imap or self._answers_imap()):
                return
            time.sleep(0.02)

    @staticmethod
    def _answers_imap() -> bool:
        try:
            connect("127.0.0.1", 143, 0.5).close()
            return True
        except DialogueError:
            return False

    def prevalidate(self, files: dict[str, str]) -> str | None:
        """doveconf judges a candidate dovecot.conf before it replaces the live one."""
        conf = files.get("/etc/dovecot/dovecot.conf")
        if conf is None or shutil.which("doveconf", path="/usr/sbin:/usr/bin") is None:
            return None
        with tempfile.TemporaryDirectory(prefix="mailwizard-doveconf-") as scratch:
            candidate = Path(scratch, "dovecot.conf")
            candidate.write_text(conf)
            result = self.system.query(["doveconf", "-n", "-c", str(candidate)])
        if not result.ok:
            return (result.stderr.strip() or result.describe()).replace(str(candidate), "dovecot.conf")
        return None

    def validate(self) -> str | None:
        result = self.system.run(["doveconf", "-n"], changes_box=False)
        if not result.ok:
            return result.stderr.strip() or result.describe()
        return None


RSPAMD_PID = "/run/rspamd/rspamd.pid"
RSPAMD_LOG = "/var/log/rspamd/rspamd.log"
RSPAMD_MILTER = ("127.0.0.1", 11332)     # Debian's rspamd_proxy worker, in milter mode


@dataclass
class Rspamd(RestartedDaemon):
    """rspamd, the signer Postfix hands submitted mail to as a milter. Restarted after a change,
    like Dovecot, so no probe meets a worker that still runs the old configuration. Its first
    start on a box compiles its hyperscan databases (some seconds); later starts reuse them."""

    name: ClassVar[str] = "rspamd"
    title: ClassVar[str] = "rspamd"
    log_path: ClassVar[str] = RSPAMD_LOG
    pid_file: ClassVar[str] = RSPAMD_PID
    stop_wait: ClassVar[float] = 15.0

    def in_other_netns(self) -> bool:
        if systemd_booted():
            return False    # systemd starts it in the box's own network, whoever asks
        return in_other_netns(self._pid())

    def _start_alone(self) -> CommandResult:
        # What the systemd unit's RuntimeDirectory= would make.
        self.system.run(["install", "-d", "-o", "_rspamd", "-g", "_rspamd", "-m", "755", "/run/rspamd"])
        return self.system.run(["rspamd", "-u", "_rspamd", "-g", "_rspamd"], daemonizes=True, timeout=60)

    def _stop_alone(self, pid: int | None) -> CommandResult:
        return self.system.run(["kill", "-TERM", str(pid)]) if pid_alive(pid) else CommandResult(["kill"], 0, "", "")

    def _complaints(self, lines: list[str]) -> list[str]:
        return [line for line in lines if "cannot" in line or "error" in line.lower()][-5:]

    def take_new_config(self) -> CommandResult:
        return self.restart()

    def reload(self) -> CommandResult:
        return self.restart()

    def _wait_started(self, timeout: float = 60.0) -> None:
        """Until the milter port answers (bounded: the first start compiles for a while)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connect(*RSPAMD_MILTER, 0.5).close()
                return
            except DialogueError:
                time.sleep(0.1)

    def prevalidate(self, files: dict[str, str]) -> str | None:
        return None     # rspamd reads its local.d through includes: judged in place by validate()

    def validate(self) -> str | None:
        result = self.system.run(["rspamadm", "configtest"], changes_box=False)
        if not result.ok or "syntax OK" not in result.stdout:
            return (result.stdout + result.stderr).strip() or result.describe()
        return None


PROGRAMS = {"postfix": "/usr/sbin/postfix", "dovecot": "/usr/sbin/dovecot", "rspamd": "/usr/bin/rspamd"}


def as_found(service) -> dict | None:
    """Whether `service` runs (and, under systemd, starts at boot) now; None when not installed."""
    if not service.system.path(PROGRAMS[service.name]).exists():
        return None
    enabled = service.unit.enabled() if systemd_booted() and not service.system.sandbox else None
    return {"running": service.running(), "enabled": enabled}


def put_back(service, found: dict) -> list[str]:
    """`service` running or stopped (and enabled or not) as it was found; what was done."""
    done = []
    if found.get("running") and not service.running():
        if service.validate() is None and service.start().ok:
            done.append(f"{service.name} started again: it ran before the walk")
        else:
            done.append(f"{service.name} ran before the walk but does not start with the box's own files")
    elif not found.get("running") and service.running():
        service.stop()
        done.append(f"{service.name} stopped: it was stopped before the walk")
    if found.get("enabled") is not None and systemd_booted() and service.unit.enabled() != found["enabled"]:
        service.unit.set_enabled(found["enabled"])
        done.append(f"{service.name} {'enabled' if found['enabled'] else 'disabled'} at boot again, as it was")
    return done


def daemon(system: System, name: str):
    return {"postfix": Postfix, "dovecot": Dovecot, "rspamd": Rspamd}[name](system)
