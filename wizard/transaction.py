"""The file transaction: keep the box's original once, write atomically, let the daemons judge,
reload; on any failure put the last good files back and reload again."""

from __future__ import annotations

import grp
import time
from typing import Callable

from wizard.config import file_attributes
from wizard.context import WalkContext
from wizard.daemons import daemon, settle_seconds
from wizard.events import Note
from wizard.outcomes import FileChange
from wizard.state import STATE_DIR, originals_copy
from wizard.system import crashpoint, sha256_bytes

HAND_EDITS = f"{STATE_DIR}/hand-edits"


class FileTransaction:
    def __init__(self, ctx: WalkContext):
        self.ctx = ctx

    def _note(self, step_id: str, text: str) -> None:
        self.ctx.emit(Note(step_id, text))

    # ---- the originals ---------------------------------------------------------------------------
    def backup_original(self, path: str) -> None:
        """Keep the box's own file once, before mailwizard first writes it."""
        ctx = self.ctx
        if path in ctx.state.originals:
            return
        target = ctx.system.path(path)
        record = {"existed": target.exists()}
        if target.exists():
            st = target.stat()
            data = target.read_bytes()
            record.update(mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid, sha=sha256_bytes(data))
            ctx.system.write_file(originals_copy(path), data, mode=0o600)
            tutorial_bak = f"{path}.bak"
            if not ctx.system.path(tutorial_bak).exists():
                ctx.system.write_file(tutorial_bak, data, mode=record["mode"], uid=st.st_uid, gid=st.st_gid)
                ctx.state.created.append(tutorial_bak)
        ctx.state.originals[path] = record
        ctx.save(f"original:{path}")

    def original_bytes(self, path: str) -> bytes | None:
        record = self.ctx.state.originals.get(path)
        if not record or not record.get("existed"):
            return None
        return self.ctx.system.read_bytes(originals_copy(path))

    # ---- one file -----------------------------------------------------------------------------------
    def _candidate(self, change: FileChange) -> str | None:
        """What the file will hold: the render, or (undo) Postfix's original coming back, so
        Postfix judges master.cf and main.cf together as they will be. (Debian's own dovecot.conf
        includes conf.d/ beside it and cannot be judged elsewhere: it is judged in place.)"""
        if change.new is not None:
            return change.new
        if not change.path.startswith("/etc/postfix/"):
            return None
        data = self.original_bytes(change.path)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def write(self, path: str, content: str | None, step_id: str = "") -> None:
        """Put a render in place; None puts the original back (or removes a file we created)."""
        ctx = self.ctx
        if content is None:
            record = ctx.state.originals.get(path, {})
            data = self.original_bytes(path)
            if data is None:
                ctx.system.remove_file(path)
            else:
                ctx.system.write_file(path, data, mode=record.get("mode"), uid=record.get("uid"),
                                      gid=record.get("gid"), backdate=settle_seconds(path))
            ctx.state.written.pop(path, None)
        else:
            mode, uid, gid = self._attributes(path)
            ctx.system.write_file(path, content, mode=mode, uid=uid, gid=gid,
                                  backdate=settle_seconds(path), crash_tag=step_id)
            ctx.state.written[path] = sha256_bytes(content.encode())

    def _attributes(self, path: str) -> tuple[int | None, int | None, int | None]:
        """Mode and owner for a render: what the steps ask, else the file's own, else 0644 root."""
        mode, group = file_attributes(path, self.ctx.steps)
        gid = None
        if group and not self.ctx.system.sandbox:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                gid = None
        if mode is None:
            return None, None, None
        return mode, (0 if gid is not None else None), gid

    # ---- hand edits -------------------------------------------------------------------------------
    def guard_hand_edits(self, changes: list[FileChange], drifted: set[str],
                         confirm: Callable[[str, bool], bool]) -> str:
        """Before overwriting a file changed by hand: keep the person's version and ask."""
        for change in changes:
            if change.path in drifted:
                saved = self._save_hand_edit(change.path)
                if not confirm(f"{change.path} was changed by hand since mailwizard wrote it "
                               f"(your version is saved as {saved}). Overwrite it?", True):
                    return (f"{change.path} was changed by hand; your version is saved as {saved}. "
                            "Run the step again and say yes (headless: --yes) to overwrite it, or undo to step back.")
        return ""

    def _save_hand_edit(self, path: str) -> str:
        copy = f"{HAND_EDITS}{path}.{time.strftime('%Y%m%d-%H%M%S')}"
        self.ctx.system.write_file(copy, self.ctx.system.read_bytes(path) or b"", mode=0o600)
        return copy

    # ---- the transaction ------------------------------------------------------------------------
    def apply(self, step_id: str, changes: list[FileChange], reload: tuple[str, ...],
              undoing: bool = False) -> str:
        """Write, validate, reload; on any failure put the last good files back and reload.
        Returns the problem, or "" when the new files are in place and the daemons run them."""
        ctx = self.ctx
        services = [daemon(ctx.system, name) for name in reload]
        candidate = {c.path: self._candidate(c) for c in changes}
        candidate = {path: text for path, text in candidate.items() if text is not None}
        for service in services:
            complaint = service.prevalidate(candidate)
            if complaint:
                self._note(step_id, "refused by validation; nothing was written")
                return f"{service.name} refused the new configuration:\n{complaint}"
        for change in changes:
            self.backup_original(change.path)
        last_good = {c.path: ctx.system.read_bytes(c.path) for c in changes}
        for change in changes:
            self.write(change.path, change.new, step_id)
        ctx.save(f"written:{step_id}")
        if ctx.system.sandbox:
            if reload:
                self._note(step_id, f"sandbox: {', '.join(reload)} not reloaded")
            return ""
        problem = self._reload(step_id, services, stop_if_invalid=undoing)
        if not problem:
            return ""
        self._note(step_id, "putting the last good files back")
        for path, old in last_good.items():
            if old is None:
                self.write(path, None)
            else:
                ctx.system.write_file(path, old, backdate=settle_seconds(path))
                ctx.state.written[path] = sha256_bytes(old)
        ctx.save(f"restored:{step_id}")
        again = self._reload(step_id, services, stop_if_invalid=True)
        if again:
            problem += f"\nThe last good files are back, but reloading them failed too: {again}"
        return problem

    def _reload(self, step_id: str, services, stop_if_invalid: bool = False) -> str:
        for service in services:
            self.ctx.remember_service(service)
            complaint = service.validate()
            if complaint and stop_if_invalid:
                # Undo brought back the box's own file, which this daemon cannot run with as it
                # stands (Debian's dovecot.conf wants a certificate it never made): stop it.
                if service.running():
                    service.stop()
                self._note(step_id, f"{service.name} stopped: its original configuration "
                           f"does not start as it is ({complaint.splitlines()[0]})")
                continue
            if complaint:
                return f"{service.name} check failed:\n{complaint}"
            crashpoint(f"reload:{step_id}:{service.name}")
            result = service.take_new_config()
            self._tell(step_id, service)
            if not result.ok and stop_if_invalid:
                service.stop()
                self._note(step_id, f"{service.name} stopped: it did not take its original "
                           f"configuration back ({result.describe()[-200:]})")
                continue
            if not result.ok:
                return f"{service.name} did not reload: {result.describe()}"
            if service.name != "postfix" and not service.running():
                said = "\n".join(service.said_at_start)
                return (f"{service.title} did not start; see {service.log_path}."
                        + (f" It said:\n{said}" if said else ""))
            if service.name == "postfix":
                problem = self._postfix_answers(step_id, service)
                if problem:
                    return problem
        return ""

    def _tell(self, step_id: str, service) -> None:
        """What the service manager made of the action (a cleared failed state, a wait for
        systemd's start limit), in the user's log."""
        for line in service.told:
            self._note(step_id, line)
        service.told.clear()

    def _postfix_answers(self, step_id: str, postfix) -> str:
        if postfix.greeting(timeout=3.0):
            return ""
        # A master that saw smtpd die throttles it for 60 s, and a reload does not lift that
        # (errata E5); a stop and start does.
        self._note(step_id, "port 25 gave no greeting after the reload; "
                   "restarting Postfix to lift smtpd's throttle (E5)")
        postfix.restart()
        if postfix.greeting(timeout=5.0):
            return ""
        return "Postfix does not answer on port 25 (no 220 greeting); see /var/log/mail.log."
