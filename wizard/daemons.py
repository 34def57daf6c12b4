"""Postfix and Dovecot as services: validate, (re)load, tell whether they run and answer.

With systemd (PID 1, as sd_booted(3) tells) everything goes through systemctl; without it the
daemons' own commands are used, as on a box or container where nothing manages services.
Whether a daemon runs is told by `postfix status` or Dovecot's pid file, never by the process
list (a stopped daemon may linger there as a zombie).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from wizard.probes.dialogue import Dialogue, DialogueError, Transcript, connect
from wizard.system import CommandResult, System, pid_alive, read_pid, systemd_booted

POSTFIX_CONFIGURE_INSTANCE = "/usr/lib/postfix/configure-instance.sh"
POSTFIX_POST_INSTALL = "/usr/lib/postfix/sbin/post-install"
DOVECOT_PID = "/run/dovecot/master.pid"
POSTFIX_PID = "/var/spool/postfix/pid/master.pid"
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


def in_other_netns(pid: int | None) -> bool:
    """True when `pid` runs in another network namespace than we do (e.g. inside the lab):
    reloading it would leave it listening where our probes do not look."""
    if not pid:
        return False
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return False


def postfix_prepares_its_chroot() -> bool:
    try:
        return "configure-instance" in Path(POSTFIX_POST_INSTALL).read_text(errors="replace")
    except OSError:
        return False


@dataclass
class Postfix:
    system: System
    name: str = "postfix"

    def running(self) -> bool:
        return self.system.query(["postfix", "status"]).ok

    def _prepare_chroot(self) -> None:
        # Debian runs smtp/smtpd chrooted in /var/spool/postfix; its systemd unit copies
        # resolv.conf, hosts and friends in before each start. Without systemd nobody does,
        # and outbound mail is deferred with "Host or domain name not found" (errata E6).
        # Debian 13's postfix-script runs the script itself (post-install calls it) and its
        # script refuses to be called from outside; Debian 12 leaves it to the init system.
        if Path(POSTFIX_CONFIGURE_INSTANCE).exists() and not postfix_prepares_its_chroot():
            self.system.run([POSTFIX_CONFIGURE_INSTANCE, "-"])

    def start(self) -> CommandResult:
        if systemd_booted():
            return self.system.run(["systemctl", "start", "postfix"])
        self._prepare_chroot()
        return self.system.run(["postfix", "start"], daemonizes=True, timeout=60)

    def stop(self) -> CommandResult:
        if systemd_booted():
            return self.system.run(["systemctl", "stop", "postfix"])
        return self.system.run(["postfix", "stop"])

    def reload(self) -> CommandResult:
        """Reload a running Postfix; start a stopped one."""
        if not self.running():
            return self.start()
        if in_other_netns(read_pid(self.system.path(POSTFIX_PID))):
            return self.restart()
        if systemd_booted():
            return self.system.run(["systemctl", "reload", "postfix"])
        self._prepare_chroot()
        return self.system.run(["postfix", "reload"])

    def restart(self) -> CommandResult:
        if systemd_booted():
            return self.system.run(["systemctl", "restart", "postfix"])
        if not self.running():
            return self.start()
        self.stop()
        return self.start()

    def prevalidate(self, files: dict[str, str]) -> str | None:
        """Judge a candidate main.cf before it replaces the live one; a complaint or None.

        postconf reads the candidate from a scratch directory beside a copy of master.cf, so a
        refused render never reaches /etc/postfix.
        """
        main_cf = files.get("/etc/postfix/main.cf")
        if main_cf is None or shutil.which("postconf", path="/usr/sbin:/usr/bin") is None:
            return None
        with tempfile.TemporaryDirectory(prefix="mailwizard-postconf-") as scratch:
            candidate = Path(scratch, "main.cf")
            candidate.write_text(main_cf)
            past = time.time() - POSTFIX_FRESH_FILE_SECONDS
            os.utime(candidate, (past, past))
            master = self.system.path("/etc/postfix/master.cf")
            if not master.exists():
                master = Path("/etc/postfix/master.cf")
            if master.exists():
                shutil.copyfile(master, Path(scratch, "master.cf"))
            result = self.system.query(["postconf", "-c", scratch, "-n"])
        complaints = [line for line in result.stderr.splitlines() if line.strip()]
        if not result.ok or complaints:
            text = "\n".join(complaints) or result.describe()
            return text.replace(scratch, "/etc/postfix")
        return None

    def validate(self) -> str | None:
        result = self.system.run(["postfix", "check"])
        complaints = [line for line in result.stderr.splitlines() if line.strip()]
        if not result.ok or complaints:
            return "\n".join(complaints) or result.describe()
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


@dataclass
class Dovecot:
    """Dovecot is restarted, not reloaded, after each change, as the tutorial does: a reload
    (SIGHUP) takes effect a moment later, and a probe sent in that moment would judge the old
    configuration."""

    system: System
    name: str = "dovecot"

    def running(self) -> bool:
        return pid_alive(read_pid(self.system.path(DOVECOT_PID)))

    def start(self) -> CommandResult:
        if systemd_booted():
            result = self.system.run(["systemctl", "start", "dovecot"])
        else:
            result = self.system.run(["dovecot"], daemonizes=True, timeout=30)
        if result.ok:
            self._wait_listening()
        return result

    def stop(self) -> CommandResult:
        if systemd_booted():
            result = self.system.run(["systemctl", "stop", "dovecot"])
        else:
            result = self.system.run(["dovecot", "stop"])
        deadline = time.monotonic() + 10
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.02)
        return result

    def restart(self) -> CommandResult:
        if systemd_booted():
            result = self.system.run(["systemctl", "restart", "dovecot"])
            if result.ok:
                self._wait_listening()
            return result
        if self.running():
            self.stop()
        return self.start()

    reload = restart

    def _wait_listening(self, timeout: float = 5.0) -> None:
        """Until IMAP answers on 143 when the config enables it (bounded)."""
        protocols = self.system.query(["doveconf", "-h", "protocols"]).stdout.split()
        if "imap" not in protocols:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connect("127.0.0.1", 143, 0.5).close()
                return
            except DialogueError:
                time.sleep(0.02)

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


def daemon(system: System, name: str):
    return {"postfix": Postfix, "dovecot": Dovecot}[name](system)
