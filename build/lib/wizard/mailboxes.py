"""More mailboxes after the walk (`mailwizard user add|passwd|del`): users.db is rendered again
from the changed answers and written at once; Dovecot reads it at the next login."""

from __future__ import annotations

import dataclasses

from wizard.answers import AnswersError, MailUser, check_address, check_password, hash_password
from wizard.config import managed_paths
from wizard.context import EngineError, WalkContext
from wizard.daemons import let_dovecot_see_passwd_file
from wizard.planning import Planner
from wizard.statuses import PASSED
from wizard.transaction import FileTransaction


class Mailboxes:
    def __init__(self, ctx: WalkContext, planner: Planner, files: FileTransaction):
        self.ctx, self.planner, self.files = ctx, planner, files

    def change(self, action: str, address: str = "", password: str = "") -> str:
        """Add a user, change a password or delete a user. Refused, with nothing changed, when
        the change makes no sense. Returns what was done."""
        answers = self.ctx.need_answers()
        users = list(answers.users)
        by_address = {u.address: u for u in users}
        try:
            local, domain = check_address(address, "address")
        except AnswersError as exc:
            raise EngineError(str(exc)) from None
        address = f"{local}@{domain}"
        if domain != answers.maildomain:
            raise EngineError(f"{address} is not in {answers.maildomain}, the domain this server "
                              "keeps mailboxes for.")
        changes = self.ctx.state.user_changes
        if action == "add":
            if address in by_address:
                raise EngineError(f"{address} exists already; `mailwizard user passwd {address}` changes "
                                  "its password.")
            user = MailUser(local, domain, hash_password(_checked(password)))
            users.append(user)
            changes.setdefault("added", {})[address] = user.password_hash
            changes["removed"] = [a for a in changes.get("removed", []) if a != address]
            done = f"added {address}"
        elif action == "passwd":
            if address not in by_address:
                raise EngineError(f"there is no mailbox {address}; `mailwizard user list` shows them.")
            user = MailUser(local, domain, hash_password(_checked(password)))
            users = [user if u.address == address else u for u in users]
            changes.setdefault("passwords", {})[address] = user.password_hash
            done = f"new password for {address}"
        elif action == "del":
            if address not in by_address:
                raise EngineError(f"there is no mailbox {address}; `mailwizard user list` shows them.")
            if len(users) == 1:
                raise EngineError(f"{address} is the last mailbox: the server would have nobody to "
                                  "deliver to. Add another one first.")
            users = [u for u in users if u.address != address]
            changes.setdefault("removed", []).append(address)
            changes.get("added", {}).pop(address, None)
            done = f"removed {address} (its mail stays in /var/vmail/{domain}/{local})"
        else:
            raise EngineError(f"unknown user action '{action}'")
        self._apply(tuple(users))
        return done

    def _apply(self, users) -> None:
        ctx = self.ctx
        status = ctx.state.status_of
        if not any(any(f.table for f in s.files) and status(s.id) == PASSED for s in ctx.steps):
            raise EngineError("users.db is written by the dovecot-imap step: walk through it first "
                              "(`mailwizard run --through dovecot-imap`).")
        ctx.answers = dataclasses.replace(ctx.need_answers(), users=users)
        k = max(i for i, s in enumerate(ctx.steps) if status(s.id) == PASSED) + 1
        for path in managed_paths(ctx.taken(k)):
            new = self.planner.render(path, k)
            if new is not None and new != ctx.system.read_text(path):
                self.files.backup_original(path)
                self.files.write(path, new)
        for i, step in enumerate(ctx.steps[:k]):
            record = ctx.state.steps.get(step.id, {})
            if record.get("status") == PASSED:
                record["renders"] = self.planner.render_hashes(i + 1)
        ctx.state.answers = ctx.need_answers().to_record()
        ctx.save("users")
        ctx.write_replay()
        let_dovecot_see_passwd_file()       # the change works the moment we return


def _checked(password: str) -> str:
    try:
        return check_password(password, "password")
    except AnswersError as exc:
        raise EngineError(str(exc)) from None
