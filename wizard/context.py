"""What every part of a walk shares: the box, the steps, the answers and the walk's memory.

The engine's collaborators (planning, the file transaction, packages, proving, mailboxes,
rollback) each take one `WalkContext` and read the state through it, so a reset that starts a
new state is seen by all of them at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from wizard.answers import BY_DOVEADM, DEFAULT_LAB, Answers, MailUser
from wizard.config import fill
from wizard.ensure import doveadm_made
from wizard.events import Event
from wizard.model import Question, Step
from wizard.platform import Platform, detect
from wizard.state import REPLAY_FILE, State, StateStore
from wizard.system import System


class EngineError(Exception):
    """Refused before anything changed (bad input, lock, missing answers, a locked step): exit 2."""


@dataclass
class WalkContext:
    system: System
    steps: tuple[Step, ...]
    emit: Callable[[Event], None]
    store: StateStore
    state: State = field(default_factory=State)
    answers: Answers | None = None
    platform_found: Platform | None = None
    lab: bool = False           # running inside the lab's mail namespace: the outside is ours
    _read: dict = field(default_factory=dict, repr=False)          # what values() took from the box's files
    given: dict = field(default_factory=dict, repr=False)          # answers to the steps' questions
    outside_learned: set = field(default_factory=set, repr=False)  # vantage points asked this session
    outside_unavailable: str = ""   # why the outside on this box could not be made (then: none)

    @property
    def platform(self) -> Platform:
        if self.platform_found is None:
            self.platform_found = detect(self.system)
        return self.platform_found

    def forget_platform(self) -> None:
        """After an install: the versions are looked up again when next asked."""
        self.platform_found = None

    def need_answers(self) -> Answers:
        if self.answers is None:
            raise EngineError("no answers yet: give them with --answers FILE (see the README).")
        return self.answers

    def read_the_box_again(self) -> None:
        """What `values` takes from the box's files — the DKIM key's public half, the answers an
        earlier run kept in a file, the lab's outside name — is read again when next asked. The
        engine says so at each step's start, once the step has made what it makes (a key), and
        after undo and reset; in between, `values` reads nothing: it is a function of the
        answers, the platform, the state and what was read."""
        self._read.clear()

    def _from_the_box(self, key: tuple, read: Callable[[], object]):
        if key not in self._read:
            self._read[key] = read()
        return self._read[key]

    def values(self) -> dict[str, str]:
        answers = self.need_answers()
        values = {**answers.values(), **self.platform.values()}
        if self.lab:
            from wizard.lab.network import LabPlan, built_outside_name

            name = dict(answers.lab)["name"]
            plan = LabPlan.from_answers(answers, self._from_the_box(("outside-name", name),
                                                                    lambda: built_outside_name(name)))
            values.update(plan.values())
            if answers.vantage in ("none", "box"):     # a chosen vantage point (manual, ssh) is kept
                values["vantage"] = f"netns:{plan.ext_ns}"
            if values["acme_ca"] == "lab":
                values.update(plan.acme_values())
        elif answers.vantage == "box" and not self.outside_unavailable:
            from wizard.lab import box_outside

            values["vantage"], values["outside_here"] = box_outside.vantage(), "yes"
        if not answers.exthost and self.state.outside.get("vantage") == values["vantage"] \
                and self.state.outside.get("name"):
            values["exthost"] = self.state.outside["name"]
        values["dkim_public_key"] = self.dkim_public_key(values)
        for question in self.questions():
            values[question.name] = self.answer_to(question, values)
        return values

    def learn_outside(self, values: dict[str, str], timeout: float = 3.0) -> dict[str, str]:
        """`values` with the outside host's name as the vantage point shows it (learned once a
        session and kept in the state, so the report names it); as they are when the answers
        give the name, or when the vantage point cannot be asked."""
        from wizard.outside import learn, learnable

        vantage = values.get("vantage", "none")
        if self.system.sandbox or vantage in ("none", ""):
            return values
        if values.get("outside_here"):
            self.state.outside = {"vantage": vantage, "name": values["exthost"], "given": True,
                                  "found": "simulated on this box: a network namespace of the wizard's own"}
            return values
        if self.need_answers().exthost or not learnable(vantage):
            how = "from [external] host" if self.need_answers().exthost else "a guess: this vantage point cannot be asked"
            self.state.outside = {"vantage": vantage, "name": values["exthost"], "given": True, "found": how}
            return values
        if self.state.outside.get("vantage") != vantage or vantage not in self.outside_learned:
            found = learn(vantage, values["fqdn"], timeout, values.get("ssh_config", ""))
            self.state.outside = {"vantage": vantage, **found.to_record()}
            self.outside_learned.add(vantage)
        name = self.state.outside.get("name")
        return {**values, "exthost": name} if name else values

    def questions(self) -> list[Question]:
        return [question for step in self.steps for question in step.asks]

    def answer_to(self, question: Question, values: dict[str, str]) -> str:
        """The answer from the person this session, the answers file, the environment, or the
        file an earlier run wrote it into; "" when none has it (the step then asks)."""
        import os

        found = (self.given.get(question.name) or self.need_answers().secrets().get(question.name)
                 or os.environ.get(f"MAILWIZARD_{question.name.upper()}", ""))
        if found or not question.kept_in:
            return found
        try:
            prefix = fill(question.kept_after, values)
        except ValueError:
            return ""
        kept = self._from_the_box(("file", question.kept_in), lambda: self.system.read_text(question.kept_in))
        for line in (kept or "").splitlines():
            if prefix and line.startswith(prefix):
                return line[len(prefix):].strip()
        return ""

    def secrets(self) -> list[str]:
        """Every secret this walk knows in clear: what a face, log or report must never show."""
        values = self.values() if self.answers is not None else {}
        found = [values.get(q.name, "") for q in self.questions() if q.secret]
        found += [u.password for u in self.answers.users] if self.answers is not None else []
        return [secret for secret in found if secret]

    def applies(self, step: Step) -> bool:
        """Whether the answers take this chapter in (see Step.when)."""
        return not step.when or self.answers is None or step.applies(self.values())

    def can_stage(self, step: Step) -> bool:
        """Whether this box can stage the lesson (see Step.staged_by): in the wizard's lab, always."""
        return not step.staged_by or self.lab

    def taken(self, upto: int | None = None) -> list[Step]:
        """The walk's steps up to `upto` (all by default) that the answers take in: what renders
        the files, what undo and reset take back, what the report lists."""
        return [step for step in self.steps[:upto] if self.applies(step)]

    def dkim_public_key(self, values: dict[str, str]) -> str:
        """The public half of the walk's DKIM key, as its record's p= (read from the key on the
        box, so what is shown and checked is what rspamd signs with)."""
        from wizard.model import DkimKey

        paths = [fill(item.path, values) for step in self.steps for item in step.ensure if isinstance(item, DkimKey)]
        for path in paths:
            public = self._from_the_box(("dkim-key", path), lambda p=path: self._public_half(p))
            if public is not None:
                return public
        return "KEY-NOT-MADE-YET"

    def _public_half(self, path: str) -> str | None:
        from wizard.ensure import dkim_public_key

        return dkim_public_key(self.system, path) if self.system.path(path).exists() else None

    def in_this_lab(self, answers: Answers) -> Answers:
        """The answers as a lab walk takes them: the lab's own CA and block list when none was
        chosen (written into them, so the state, the replay file and a later `status` outside the
        lab agree on the walk), and for answers made without a [lab] (the TUI's form) the lab
        this walk runs in: its namespaces and addresses, not the default lab's."""
        if not self.lab:
            return answers
        answers = answers.in_a_lab()
        if dict(answers.lab) != DEFAULT_LAB:
            return answers
        from wizard.lab.network import lab_we_are_in

        running = lab_we_are_in()
        return dataclasses.replace(answers, lab=tuple(running.items())) if running else answers

    def title(self, step: Step, values: dict[str, str] | None = None) -> str:
        """The step's title with the answers filled in (as it was written before there are any);
        `values`: the walk's values when the caller has them already (a list of every step)."""
        if self.answers is None:
            return step.title
        try:
            return fill(step.title, self.values() if values is None else values)
        except ValueError:
            return step.title

    def index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        known = ", ".join(s.id for s in self.steps)
        raise EngineError(f"there is no step '{step_id}' (steps: {known}).")

    def remember_service(self, service) -> None:
        """How `service` was before the walk first touched it, so reset can leave it that way."""
        from wizard.daemons import as_found

        if service.name not in self.state.services and not self.system.sandbox:
            found = as_found(service)
            if found is not None:
                self.state.services[service.name] = found

    def save(self, why: str) -> None:
        self.store.save(self.state, why)

    def take_users(self, users: list[MailUser]) -> bool:
        """The mail users as a step left them (a hash made anew), remembered with the answers;
        whether they changed."""
        if self.answers is None or tuple(users) == self.answers.users:
            return False
        self.answers = dataclasses.replace(self.answers, users=tuple(users))
        self.remember_answers()
        return True

    def remember_answers(self) -> None:
        """The answers this walk uses, in the state and the replay file: every face and every
        later run then sees the same walk (and hashes no password anew)."""
        answers = self.need_answers()
        record = answers.to_record()
        made = [doveadm_made(user) for user in answers.users if user.hashed_by == BY_DOVEADM]
        new = [entry for entry in made if entry not in self.state.made]
        if self.state.answers != record or new:
            self.state.answers = record
            self.state.made += new
            self.save("answers")
        self.write_replay()

    def write_replay(self) -> None:
        """The effective answers as a file, so the same walk can be given to another box."""
        text = self.need_answers().to_toml()
        if self.system.read_text(REPLAY_FILE) != text:
            self.system.write_file(REPLAY_FILE, text, mode=0o600, uid=0, gid=0)


def with_user_changes(answers: Answers, changes: dict) -> Answers:
    """The answers with the mailboxes `mailwizard user` added, removed or re-keyed since."""
    if not changes:
        return answers
    removed = set(changes.get("removed", []))
    passwords = changes.get("passwords", {})
    users = []
    for user in answers.users:
        if user.address in removed:
            continue
        if user.address in passwords and user.password_hash != passwords[user.address]:
            user = dataclasses.replace(user, password_hash=passwords[user.address], password="")
        users.append(user)
    present = {u.address for u in users}
    for address, hashed in changes.get("added", {}).items():
        if address not in present and address not in removed:
            local, domain = address.split("@")
            users.append(MailUser(local, domain, hashed))
    return dataclasses.replace(answers, users=tuple(users))
