"""Planning and drift: what a step's files look like when rendered, what applying it would
change on disk, whether a step is done, and which files were changed by hand since we wrote them.
"""

from __future__ import annotations

from pathlib import Path

from wizard.config import extends_box, is_secret, managed_paths, render_file
from wizard.context import WalkContext
from wizard.model import Step
from wizard.outcomes import Drift, FileChange
from wizard.state import originals_copy
from wizard.statuses import PASSED
from wizard.system import sha256_bytes


class Planner:
    def __init__(self, ctx: WalkContext):
        self.ctx = ctx

    def render(self, path: str, upto: int) -> str | None:
        """`path` after the first `upto` steps; None while none of them has taken it over."""
        ctx = self.ctx
        box_text = self.box_text(path) if extends_box(path, ctx.steps) else None
        return render_file(path, ctx.taken(upto), ctx.values(), users=ctx.need_answers().users,
                           dovecot_dialect=ctx.platform.dovecot_dialect, box_text=box_text)

    def box_text(self, path: str) -> str:
        """The box's own file, which a step may extend (master.cf): the original we kept before
        our first write, or the file as it is while we have not written it."""
        record = self.ctx.state.originals.get(path)
        if record is None:
            text = self.ctx.system.read_text(path)
        elif record.get("existed"):
            text = (self.ctx.system.read_bytes(originals_copy(path)) or b"").decode()
        else:
            text = None
        if text is None and self.ctx.system.sandbox and Path(path).is_file():
            # A sandbox without the file starts from this box's own, as its checks do, at every
            # step (not only before the first write).
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        return text or ""

    def plan(self, step: Step) -> list[FileChange]:
        """What applying `step` would change on disk, as file changes with diffs."""
        k = self.ctx.index(step.id) + 1
        changes = []
        for path in managed_paths(self.ctx.taken(k)):
            new = self.render(path, k)
            if new is None:
                continue
            old = self.ctx.system.read_text(path)
            if old != new:
                changes.append(FileChange(path, old, new, secret=is_secret(path, self.ctx.steps)))
        return changes

    def plan_walk(self, steps: list[Step]) -> list[tuple[Step, list[FileChange]]]:
        """What a walk through `steps` (in walk order, not yet done) would write, step by step:
        each step's changes from the files as the step before would leave them."""
        current: dict[str, str | None] = {}
        planned = []
        for step in steps:
            k = self.ctx.index(step.id) + 1
            changes = []
            for path in managed_paths(self.ctx.taken(k)):
                new = self.render(path, k)
                old = current[path] if path in current else self.ctx.system.read_text(path)
                if new is not None and new != old:
                    changes.append(FileChange(path, old, new, secret=is_secret(path, self.ctx.steps)))
                    current[path] = new
            planned.append((step, changes))
        return planned

    def render_hashes(self, k: int) -> dict[str, str]:
        hashes = {}
        for path in managed_paths(self.ctx.taken(k)):
            text = self.render(path, k)
            if text is not None:
                hashes[path] = sha256_bytes(text.encode())
        return hashes

    def drift(self) -> list[Drift]:
        """Files changed by hand since mailwizard wrote them.

        A file that holds one of our own renders is not a hand edit: a kill between writing it
        and saving the state leaves exactly that, and the next run takes it as ours."""
        found = []
        for path, sha in sorted(self.ctx.state.written.items()):
            actual = self.ctx.system.file_hash(path)
            if actual != sha and actual not in self._our_renders(path):
                found.append(Drift(path, sha, actual))
        return found

    def _our_renders(self, path: str) -> set[str]:
        if self.ctx.answers is None:
            return set()
        hashes = set()
        for k in range(len(self.ctx.steps) + 1):
            text = self.render(path, k)
            if text is not None:
                hashes.add(sha256_bytes(text.encode()))
        return hashes

    def is_done(self, step: Step) -> bool:
        """Passed, and its files would render today as they did then (new answers can change that)."""
        record = self.ctx.state.steps.get(step.id, {})
        if record.get("status") != PASSED:
            return False
        return record.get("renders", {}) == self.render_hashes(self.ctx.index(step.id) + 1)

    def drifted(self, step: Step) -> bool:
        paths = set(managed_paths(self.ctx.taken(self.ctx.index(step.id) + 1)))
        return any(d.path in paths for d in self.drift())
