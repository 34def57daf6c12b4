"""Going back: `undo` renders the files as the step before left them; `reset` puts every
original back byte for byte, removes what we made and forgets the walk."""

from __future__ import annotations

from wizard.config import fill, is_secret, managed_paths
from wizard.context import EngineError, WalkContext
from wizard.daemons import daemon, put_back
from wizard.ensure import undo_made
from wizard.events import ChangePlanned, Note, StepDone, StepStarted
from wizard.model import FILES_GO_BACK
from wizard.outcomes import FileChange
from wizard.planning import Planner
from wizard.publishing import Publisher
from wizard.state import State, originals_copy
from wizard.statuses import FAILED, PENDING
from wizard.transaction import FileTransaction


class Rollback:
    def __init__(self, ctx: WalkContext, planner: Planner, files: FileTransaction, publisher: Publisher):
        self.ctx, self.planner, self.files, self.publisher = ctx, planner, files, publisher

    def undo(self, step_id: str | None = None) -> tuple[str, str, str]:
        """Roll back the last step (or `step_id` and every step after it):
        (the step undone, its status now, a message)."""
        ctx = self.ctx
        step = self._step_to_undo(step_id)
        k = ctx.index(step.id)
        later = [s for s in ctx.steps[k:] if ctx.state.status_of(s.id) != PENDING]
        ctx.emit(StepStarted(step.id, f"undo {fill(step.title, ctx.values())}", step))
        changes = self._changes_back_to(k)
        for change in changes:
            ctx.emit(ChangePlanned(step.id, change))
        reload = tuple(dict.fromkeys(n for s in later for n in s.reload))
        problem = self.files.apply(step.id, changes, reload, undoing=True) if changes else ""
        if problem:
            ctx.emit(StepDone(step.id, FAILED, problem))
            return step.id, FAILED, problem
        if not ctx.system.sandbox:
            self._services_back(n for s in later for n in s.stop)
        for s in later:
            ctx.state.steps.pop(s.id, None)
            if s.undo and (not s.files or s.undo != FILES_GO_BACK):
                ctx.emit(Note(s.id, s.undo))        # what stays, or what else changed
        self.publisher.sync_lab(k, step.id)
        ctx.save(f"undone:{step.id}")
        ctx.emit(StepDone(step.id, PENDING, "undone"))
        return step.id, PENDING, "undone"

    def _step_to_undo(self, step_id: str | None):
        ctx = self.ctx
        if step_id is None:
            touched = [s for s in ctx.steps if ctx.state.status_of(s.id) != PENDING]
            if not touched:
                raise EngineError("nothing to undo: no step has run yet.")
            return touched[-1]
        step = ctx.steps[ctx.index(step_id)]
        if ctx.state.status_of(step.id) == PENDING:
            raise EngineError(f"step {step.id} has not run; nothing to undo.")
        return step

    def _changes_back_to(self, k: int) -> list[FileChange]:
        """The files as the first `k` steps leave them (the original where none wrote them)."""
        ctx = self.ctx
        changes = []
        for path in managed_paths(ctx.steps[k:]):
            if path not in ctx.state.originals:
                continue
            new = self.planner.render(path, k)
            old = ctx.system.read_text(path)
            if new is None:
                original = self.files.original_bytes(path)
                if (old.encode() if old is not None else None) == original:
                    continue
            elif new == old:
                continue
            changes.append(FileChange(path, old, new, restore_original=new is None,
                                      secret=is_secret(path, ctx.steps)))
        return changes

    def reset(self) -> None:
        """Every original file back byte for byte, files we created removed, state cleared."""
        ctx = self.ctx
        restored = []
        for path in list(ctx.state.originals):
            self.files.write(path, None)
            restored.append(path)
        for path in ctx.state.created:
            ctx.system.remove_file(path)
        undo_made(ctx.system, ctx.state, lambda text: ctx.emit(Note("", text)))
        if restored and not ctx.system.sandbox:
            self._daemons_on_their_own_files()
        if not ctx.system.sandbox:
            self._services_back(ctx.state.services)
        for path in restored:
            ctx.system.remove_file(originals_copy(path))
        self.publisher.sync_lab(0)
        ctx.state = State()
        ctx.store.clear()
        ctx.emit(Note("", "original files restored: " + (", ".join(restored) or "none")))

    def _services_back(self, names) -> None:
        """The services the walk stopped or started, as the box had them before it."""
        for name in dict.fromkeys(names):
            found = self.ctx.state.services.get(name)
            if found is None:
                continue
            for line in put_back(daemon(self.ctx.system, name), found) or [
                    f"{name} {'runs' if found['running'] else 'stays stopped'}, as before the walk"]:
                self.ctx.emit(Note("", line))

    def _daemons_on_their_own_files(self) -> None:
        postfix = daemon(self.ctx.system, "postfix")
        if postfix.running():
            postfix.reload()
        dovecot = daemon(self.ctx.system, "dovecot")
        if dovecot.running():
            if dovecot.validate():
                dovecot.stop()
                self.ctx.emit(Note("", "Dovecot stopped: its original configuration does "
                                   "not start as it is"))
            else:
                dovecot.reload()
        rspamd = daemon(self.ctx.system, "rspamd")
        if rspamd.running() and rspamd.in_other_netns():
            # Started inside the lab: from out here it could only come back in the wrong network.
            rspamd.stop()
            self.ctx.emit(Note("", "rspamd stopped: it ran inside the lab, and nothing needs it now"))
        elif rspamd.running():
            rspamd.restart()        # without the signing setup the walk gave it
