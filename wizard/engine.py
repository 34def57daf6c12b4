"""The engine: check → plan → apply → probe → record, one code path under every face, and the
walk's rules (which step is done, open, locked or stale; which one comes next).

The CLI and the TUI only show what the engine emits (`wizard.events`) and answer its questions
(`confirm`, `ask`). The work itself is done by collaborators that share one `WalkContext`:
planning and drift, the file transaction, packages, proving, mailboxes and rollback.
"""

from __future__ import annotations

import threading
import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from wizard import resources
from wizard.answers import LAB_EXAMPLE, Answers
from wizard.context import EngineError, WalkContext, with_user_changes
from wizard.dialect import DOVECOT_CONF, ERRATUM_24, EXPLAIN_24
from wizard.ensure import ensure_all
from wizard.lab import box_outside
from wizard.lab.box_outside import BoxOutside
from wizard.daemons import daemon
from wizard.events import ChangePlanned, ErratumMet, Event, Note, StepDone, StepStarted, WalkDone
from wizard.mailboxes import Mailboxes
from wizard.model import AcmeCertificate, Erratum, Step, path_affects, walk_order
from wizard.packages import install_packages
from wizard.outcomes import CheckResult, Drift, FileChange, ProbeResult
from wizard.planning import Planner
from wizard.platform import Platform
from wizard.proving import Prerequisite, Prover
from wizard.publishing import Publisher
from wizard.rollback import Rollback
from wizard.config import RenderError, fill, managed_paths
from wizard.state import AUDIT_FILE, STATE_DIR, STATE_FILE, State, StateStore, ensure_private_dir, now
from wizard.statuses import APPLYING, BLOCKED, FAILED, LOCKED, MISSED, PASSED, STALE
from wizard.system import System, crashpoint
from wizard.timeouts import AUDIT_TIMEOUT
from wizard.transaction import FileTransaction

__all__ = ["Engine", "EngineError", "StepOutcome", "StepView", "FileChange", "Drift", "Prerequisite"]

CANCELLED_BEFORE = "cancelled before anything was changed"
CANCELLED_DURING = ("cancelled during the probes: the files are written; run the step again to "
                    "prove it, or undo it")


@dataclass
class StepOutcome:
    step: str
    status: str
    probes: list[ProbeResult] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class StepView:
    """A step as every face shows it: its status (locked and stale included), its title with
    the answers filled in, and why it may not run now ("" when it may)."""

    step: Step
    status: str
    title: str
    reason: str = ""

    @property
    def may_run(self) -> bool:
        return not self.reason


def _no_confirm(question: str, risky: bool = False) -> bool:
    return True


# Where the lessons are, as the straight path tells it (the explanation and the report).
LESSONS_ELSEWHERE = ("The tutorial reaches this step through the errors below, one at a time; this "
                     "walk goes straight to the working step. To meet each error on the real daemons, "
                     "walk this chapter on the lessons path: `mailwizard run --teaching` (or `t` in the "
                     "wizard) before the chapter is begun, or after `mailwizard undo` back to before it.")


class Engine:
    def __init__(self, system: System, answers: Answers | None, steps: tuple[Step, ...],
                 emit: Callable[[Event], None] | None = None,
                 confirm: Callable[[str, bool], bool] = _no_confirm,
                 platform: Platform | None = None, lab: bool = False,
                 ask: Callable[[str], str] | None = None,
                 ask_secret: Callable[[str], str] | None = None,
                 chapters: tuple[Step, ...] = ()):
        self.chapters = tuple(chapters)     # the chapters before the path is applied (lessons unfolded or not)
        self._listeners: list[Callable[[Event], None]] = [emit] if emit else []
        self.ctx = WalkContext(system, tuple(steps), lambda event: self.emit(event), StateStore(system),
                               answers=answers, platform_found=platform, lab=lab)
        self.confirm = confirm
        self.planner = Planner(self.ctx)
        self.files = FileTransaction(self.ctx)
        self.prover = Prover(self.ctx)
        self.prover.ask = ask
        self.ask_secret = ask_secret        # a face's way to ask for a password (not echoed)
        self.mailboxes = Mailboxes(self.ctx, self.planner, self.files)
        self.publisher = Publisher(self.ctx)
        self.rollback = Rollback(self.ctx, self.planner, self.files, self.publisher)
        self.step_logs: dict[str, list[tuple[str, bool]]] = {}    # this session's log windows
        self.cancel_requested = threading.Event()
        self._outside_made = False          # this session made the outside on this box

    # ---- what the faces hear ---------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Hear every event from now on (a face, a test, a recorder)."""
        self._listeners.append(listener)

    @property
    def ask(self) -> Callable[[str], str] | None:
        """How a manual vantage point's question reaches the person (the face's own way)."""
        return self.prover.ask

    def ask_through(self, ask: Callable[[str], str]) -> None:
        """From now on, a manual vantage point's questions go to `ask` (a face's dialog)."""
        self.prover.ask = ask

    def confirm_through(self, confirm: Callable[[str, bool], bool]) -> None:
        """From now on, what needs the user's yes is asked through `confirm` (a face's dialog)."""
        self.confirm = confirm

    def ask_secrets_through(self, ask_secret: Callable[[str], str]) -> None:
        """From now on, a step's questions for a password go to `ask_secret` (a face's dialog)."""
        self.ask_secret = ask_secret

    # ---- the session ---------------------------------------------------------------------------
    def open(self, need_answers: bool = True, teaching: bool | None = None,
             chosen: bool = False) -> "Engine":
        """Take the lock and load the walk. `teaching`: the path to record (None keeps it);
        `chosen`: the person named it (a flag), so a face need not ask."""
        ensure_private_dir(self.system)
        self.store.lock()
        try:
            self.system.remove_stale_temps(managed_paths(self.steps) + [STATE_FILE])
            self._load()
            if self.ctx.answers is None and need_answers:
                raise EngineError("no answers yet: give them with --answers FILE "
                                  "(`mailwizard answers init` writes one to fill in).")
            if teaching is not None and teaching != self.state.teaching and self.chapters and self.path_fixed():
                raise EngineError(f"the path cannot change: {self.path_fixed()}.")
        except BaseException:
            self.store.unlock()
            raise
        if teaching is not None:
            self.state.teaching = teaching
        self.state.path_chosen |= chosen
        return self

    def peek(self) -> "Engine":
        """Load the state to read it, without the lock: status works while a walk runs."""
        self._load()
        return self

    def _load(self) -> None:
        self.ctx.state = self.store.load()
        if self.ctx.answers is None and self.state.answers:
            self.ctx.answers = Answers.from_record(self.state.answers)
        if self.ctx.answers is not None:
            self.ctx.answers = with_user_changes(self.ctx.in_this_lab(self.ctx.answers), self.state.user_changes)

    def close(self) -> None:
        if self._outside_made:
            BoxOutside(self.system).down()
            self._outside_made = False
        self.store.unlock()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- what the session holds ------------------------------------------------------------------
    system = property(lambda self: self.ctx.system)
    steps = property(lambda self: self.ctx.steps)
    store = property(lambda self: self.ctx.store)
    lab = property(lambda self: self.ctx.lab)
    platform = property(lambda self: self.ctx.platform)
    probe_options = property(lambda self: self.prover.probe_options)

    @property
    def state(self) -> State:
        return self.ctx.state

    @property
    def check_timeout(self) -> float:
        return self.prover.check_timeout

    @check_timeout.setter
    def check_timeout(self, seconds: float) -> None:
        self.prover.check_timeout = seconds

    @property
    def has_answers(self) -> bool:
        return self.ctx.answers is not None

    @property
    def answers(self) -> Answers:
        return self.ctx.need_answers()

    def values(self) -> dict[str, str]:
        return self.ctx.values()

    def index(self, step_id: str) -> int:
        return self.ctx.index(step_id)

    def title(self, step: Step) -> str:
        return self.ctx.title(step)

    # ---- the path: the tutorial's lessons, or straight to each working step -------------------------
    @property
    def teaching(self) -> bool:
        return self.state.teaching

    @property
    def path_chosen(self) -> bool:
        """False on a first start nobody has said a path for: a face asks (straight otherwise)."""
        return self.state.path_chosen or bool(self.state.steps)

    def path_ahead(self) -> tuple[Step, ...]:
        """The chapters a change of path would still change (with lessons, not yet begun)."""
        return path_affects(self.chapters, frozenset(self.state.steps))

    def path_fixed(self) -> str:
        """Why the path can no longer change ("" while it can): every chapter with lessons is
        begun, and a chapter keeps the form it was begun in until it is undone."""
        if not self.chapters:
            return "this engine was built without its chapters; the path cannot change"
        if self.path_ahead():
            return ""
        begun = ", ".join(step.id for step in self.chapters if step.lessons)
        return (f"every chapter with lessons ({begun}) is begun already, in the path it was begun "
                "in; undo one (`mailwizard undo STEP`, or u in the wizard) to take it the other way")

    def choose_path(self, teaching: bool) -> tuple[Step, ...]:
        """Take the lessons (True) or go straight (False) for every chapter not yet begun;
        recorded at once. Returns the chapters it changes; EngineError when the path is fixed."""
        refused = self.path_fixed()
        if refused and (teaching != self.state.teaching or not self.chapters):
            raise EngineError(refused)
        ahead = self.path_ahead()
        self.state.teaching = teaching
        self.state.path_chosen = True
        self.ctx.steps = walk_order(self.chapters, teaching, frozenset(self.state.steps))
        self.remember("path", path="lessons" if teaching else "straight")
        self.ctx.save(f"path: {'teaching' if teaching else 'straight'}")
        return ahead

    def set_answers(self, answers: Answers) -> None:
        """New answers (from the TUI's form): kept in the state and the replay file at once.
        Steps already done whose files would now differ show as stale and can be run again."""
        self.ctx.answers = with_user_changes(self.ctx.in_this_lab(answers), self.state.user_changes)
        self.ctx.remember_answers()

    # ---- what a step says on this box ----------------------------------------------------------
    def _writes_dovecot_24(self, step: Step) -> bool:
        return (self.platform.dovecot_dialect == "2.4"
                and any(f.path == DOVECOT_CONF for f in step.files))

    def errata(self, step: Step) -> tuple[Erratum, ...]:
        """Where this step differs from the tutorial on this box (its service manager included)."""
        true_here = tuple(e for e in step.errata if e.true_of(self.platform.systemd))
        return true_here + ((ERRATUM_24,) if self._writes_dovecot_24(step) else ())

    def explanation(self, step: Step) -> str:
        """The step's explanation, with a word on the dialect when it writes Dovecot 2.4's, and
        on the straight path the lessons it goes past."""
        text = resources.read_text("explain", step.explain)
        if self._writes_dovecot_24(step):
            text += "\n" + resources.read_text("explain", EXPLAIN_24)
        passed = self.lessons_gone_past(step)
        if passed:
            text += ("\n## The lessons this path goes past\n\n"
                     f"{LESSONS_ELSEWHERE}\n\n" + "\n".join(f"- {line}" for line in passed) + "\n")
        return text

    def lessons_gone_past(self, step: Step) -> list[str]:
        """On the straight path, each lesson the tutorial takes on its way to `step`: its title
        and what its probes meet (the error it shows). Nothing on the lessons path."""
        if self.teaching or not step.lessons:
            return []
        values = self.values() if self.has_answers else {}

        def said(template: str) -> str:
            try:
                return fill(template, values)
            except RenderError:
                return template
        return [f"{said(lesson.title)}: " + "; ".join(said(probe.title) for probe in lesson.probes)
                for lesson in step.lessons]

    # ---- planning (see wizard.planning) --------------------------------------------------------
    def render(self, path: str, upto: int) -> str | None:
        return self.planner.render(path, upto)

    def plan(self, step: Step) -> list[FileChange]:
        return self.planner.plan(step)

    def drift(self) -> list[Drift]:
        return self.planner.drift()

    def plan_ahead(self, through: str | None = None) -> list[tuple[StepView, list[FileChange]]]:
        """What `run --through` would do, nothing written: each step not done yet up to `through`
        (all of them without it), with the file changes it would make after the ones before it.
        A chapter the answers leave out is passed over: its changes are only what it takes back."""
        last = self.index(through) if through else len(self.steps) - 1
        rows = [row for row in self.views()[: last + 1]
                if not (row.status == PASSED and not self.planner.drifted(row.step))]
        planned = self.planner.plan_walk([row.step for row in rows])
        return [(row, changes) for row, (_, changes) in zip(rows, planned)]

    def applies(self, step: Step) -> bool:
        """Whether the answers take this chapter in (a chapter left out is passed over)."""
        return self.ctx.applies(step)

    def is_done(self, step: Step) -> bool:
        return self.planner.is_done(step)

    # ---- the walk's rules ------------------------------------------------------------------------
    def views(self) -> list[StepView]:
        """Every step as the faces show it. The first step not done is open; the steps after it
        that are not done either stay locked until it is."""
        rows, blocker = [], None
        values = self.values() if self.has_answers else None      # once, not once a title
        for step in self.steps:
            status = self.state.status_of(step.id)
            done = status == PASSED and (not self.has_answers or self.is_done(step))
            if status == PASSED and not done:
                status = STALE
            title = self.ctx.title(step, values)
            if blocker is not None and not done:
                rows.append(StepView(step, LOCKED, title,
                                     f"{step.id} is locked: finish {blocker.id} "
                                     f"({self.ctx.title(blocker, values)}) first."))
            else:
                rows.append(StepView(step, status, title))
            if not done and blocker is None:
                blocker = step
        return rows

    def view(self, step: Step) -> StepView:
        return self.views()[self.index(step.id)]

    def next_step(self) -> Step | None:
        """The step the walk goes on with; None when every step is done."""
        for row in self.views():
            if row.status != PASSED:
                return row.step
        return None

    def closing_notes(self) -> list[str]:
        """What the person needs once the walk is through (client settings, DNS records to
        publish): the `tells` of every done step, filled; empty while a step is not done."""
        if not self.has_answers or self.next_step() is not None:
            return []
        values = self.values()
        return [fill(line, values) for step in self.ctx.taken() for line in step.tells]

    def prerequisites(self, timeout: float | None = None) -> list[Prerequisite]:
        """Every check the walk needs, once, where it is first needed (`check` and the TUI)."""
        return self.prover.prerequisites(timeout)

    def check_step(self, step: Step, values: dict[str, str]) -> list[CheckResult]:
        return self.prover.check_step(step, values)

    # ---- the walk --------------------------------------------------------------------------------
    def walk(self, through: str | None = None) -> list[StepOutcome]:
        last = self.index(through) if through else len(self.steps) - 1
        self.ctx.remember_answers()
        outcomes = []
        for step in self.steps[: last + 1]:
            if self.is_done(step) and not self.planner.drifted(step):
                self.emit(StepDone(step.id, PASSED, "done already"))
                outcomes.append(StepOutcome(step.id, PASSED, message="done already"))
                continue
            outcome = self.run_step(step)
            outcomes.append(outcome)
            if outcome.status != PASSED:
                break
            crashpoint(f"after-step:{step.id}")
        self.emit(WalkDone(tuple(outcomes)))
        return outcomes

    def _nothing_to_write(self, step: Step) -> str:
        if step.files:
            return "no file changes: the files already match this step"
        checked = f"it checks the box ({len(step.requires)} checks above)" if step.requires else "it writes nothing"
        where = ("; in the sandbox too the checks look at this box itself (its DNS, host name and "
                 "ports), not under --root" if self.system.sandbox and step.requires else "")
        return f"this step writes no file: {checked}{where}"

    def run_step(self, step: Step) -> StepOutcome:
        """Check, plan, apply and prove one step. A locked step is refused (EngineError)."""
        view = self.view(step)
        if not view.may_run:
            raise EngineError(view.reason)
        self.ctx.remember_answers()
        self.state.path_chosen = True       # a walk begun has its path: no face asks any more
        self.cancel_requested.clear()
        self.prover.mark_logs()
        self.ctx.read_the_box_again()
        values = self.values()
        self.emit(StepStarted(step.id, view.title, step))
        taken = self.ctx.applies(step) and self.ctx.can_stage(step)
        if not taken:
            # Passed over: nothing checked, installed, made or proven; its files render without
            # it (what an earlier walk with other answers wrote of it is taken back here).
            self.emit(Note(step.id, self._passed_over(step, values)))
        problem = self._answer_questions(step, values) if taken else ""
        if problem:
            return self._finish(step, BLOCKED, [], problem)
        values = self.values()
        problem = self._prepare(step, values) if taken else ""
        if problem:
            return self._finish(step, *problem)
        changes = self.plan(step)
        for change in changes:
            self.emit(ChangePlanned(step.id, change))
        if not changes:
            self.emit(Note(step.id, self._nothing_to_write(step)))
        drifted = {d.path for d in self.drift()}
        problem = self.files.guard_hand_edits(changes, drifted, self.confirm) or self._cancelled()
        if problem:
            return self._finish(step, BLOCKED, [], problem)
        if changes and not self.confirm(f"Apply {step.id} ({len(changes)} file(s))?", False):
            return self._finish(step, BLOCKED, [], "not applied: you said no")
        self.state.steps[step.id] = {"status": APPLYING, "started": now()}
        self.ctx.save(f"applying:{step.id}")
        problem = self.files.apply(step.id, changes, step.reload if taken or changes else ())
        if problem:
            return self._finish(step, FAILED, [], problem)
        self.publisher.tell(step, values)
        self.publisher.sync_lab(self.index(step.id) + 1, step.id)
        if not taken:
            return self._finish(step, PASSED, [], self._passed_over(step, values))
        values = self._outside_here(step, values)
        probes = self.prover.probe(step, values, self.cancel_requested) + self.prover.verify(step, values)
        if self.cancel_requested.is_set() and len(probes) < len(self.prover.instances(step, values)) + len(step.verify):
            return self._finish(step, FAILED, probes, CANCELLED_DURING)
        status = FAILED if any(p.status == MISSED for p in probes) else PASSED
        message = "" if status == PASSED else "a probe did not meet its expectation"
        return self._finish(step, status, probes, message)

    def _outside_here(self, step: Step, values: dict[str, str]) -> dict[str, str]:
        """The outside simulated on this box (vantage "box"), made when a step first probes. It
        goes when the session closes and on reset. Where it cannot be made (a container without
        the right to make network namespaces), the walk goes on as with no vantage point, and
        says why: the values for the probes, either way."""
        if not values.get("outside_here") or self.system.sandbox or not step.probes:
            return values
        outside = BoxOutside(self.system)
        problem = "" if outside.is_up() else outside.up(values["fqdn"])
        if problem:
            self.ctx.outside_unavailable = problem
            self.emit(Note(step.id, f"{problem}; the outside probes are run as with no vantage point"))
            return self.values()
        if not self._outside_made:
            self._outside_made = True
            self.emit(Note(step.id, f"{box_outside.describe()}; it is removed when this walk ends, and by reset"))
        return values

    def _passed_over(self, step: Step, values: dict[str, str]) -> str:
        if not self.ctx.can_stage(step):
            return (f"not staged here: this lesson needs {fill(step.staged_by, values)}, which only the "
                    "wizard's lab provides. See it there: `mailwizard run --lab --teaching` (or `t` in the "
                    "wizard, in the lab); the walk goes on")
        return f"passed over: {fill(step.otherwise, values)}"

    def _answer_questions(self, step: Step, values: dict[str, str]) -> str:
        """What the step asks and nobody has answered yet is asked through the face (before
        anything is written); unanswered, the step is refused with where to give it."""
        for question in step.asks:
            if values.get(question.name):
                continue
            answer = self.ask_secret(fill(question.text, values)) if self.ask_secret else ""
            if not answer or answer != answer.strip() or any(ord(c) < 32 for c in answer):
                where = f" ({question.given_as})" if question.given_as else ""
                return (f"no usable answer to \"{fill(question.text, values)}\": give it in the answers "
                        f"file{where}, or as MAILWIZARD_{question.name.upper()} in the environment, or "
                        "run in a terminal (or the wizard's screens) to be asked")
            self.ctx.given[question.name] = answer
        return ""

    def _prepare(self, step: Step, values: dict[str, str]) -> tuple[str, list, str] | None:
        """Checks, packages and what the step makes sure exists; (status, [], why) if one fails."""
        problem = self.prover.blocking_check(step, values) or self._cancelled()
        if problem:
            return BLOCKED, [], problem
        for erratum in self.errata(step):
            self.emit(ErratumMet(step.id, erratum))
        self._stop_daemons(step)
        problem = install_packages(self.ctx, step, values, self.confirm)
        if problem:
            return BLOCKED, [], problem
        users = list(self.ctx.answers.users) if self.ctx.answers is not None else []
        problem = ensure_all(self.system, step.ensure, values, self.state,
                             lambda text: self.emit(Note(step.id, text)), users)
        self.ctx.read_the_box_again()       # what it made (a key) is what the step's files render
        if self.ctx.take_users(users):
            self._renders_follow_the_users(step)
        self.ctx.save(f"ensured:{step.id}")
        if problem:
            return FAILED, [], problem
        return None

    def made_for_this_walk(self) -> list[str]:
        """What a face shows once when the walk runs on the lab's own example answers: the
        mailbox's password made for it (only its hash is kept), and how to walk with your own."""
        answers = self.ctx.answers
        if answers is None or answers.source != LAB_EXAMPLE:
            return []
        return [f"{user.address}'s password for this walk: {user.password} (shown this once; only its "
                "hash is kept: note it to log in from a mail client in the lab)"
                for user in answers.users if user.password] + [
            "for a walk of your own: `mailwizard answers init` writes an answers file to fill in; "
            "give it with --answers FILE, or press a in the wizard for the answers form"]

    def _renders_follow_the_users(self, step: Step) -> None:
        """A hash made anew (password-hash's doveadm) changes what the steps before `step` wrote
        of users.db in its salt only, and this step writes it: their records follow (as after
        `mailwizard user passwd`), so none of them looks stale and locks the walk. Every step
        before `step` is done when it runs, so no other change is hidden by this."""
        for k, earlier in enumerate(self.steps[: self.index(step.id)]):
            record = self.state.steps.get(earlier.id, {})
            if record.get("status") == PASSED:
                record["renders"] = self.planner.render_hashes(k + 1)

    def secrets(self) -> list[str]:
        """What a face or the report must never show (passwords the walk knows in clear)."""
        return self.ctx.secrets()

    def certificate(self):
        """What is known of the CA's certificate the walk got (issuer, serial, expiry), once the
        certificate chapter is done; None before, or when the answers leave it out."""
        from wizard.acme import facts_of_file

        step = next((s for s in self.steps if any(isinstance(e, AcmeCertificate) for e in s.ensure)), None)
        if step is None or not self.has_answers or self.state.status_of(step.id) != PASSED \
                or not self.ctx.applies(step):
            return None
        return facts_of_file(self.system, self.values()["tls_cert"])

    def audit(self, timeout: float = AUDIT_TIMEOUT, domain: str = "", on_row=None, only: tuple[str, ...] = ()):
        """What the public mail testers check, run against this server from the walk's vantage
        point (wizard/audit). It only reads and sends probes; the result is kept beside the
        state (never in the server's files) for the report and the TUI."""
        from wizard.audit.battery import run_audit, target_from_values

        if self.system.sandbox:
            raise EngineError("the audit talks to the real server: it has no sandbox (--root).")
        values = self.values()
        if values.get("outside_here"):
            # A stranger the internet's testers would be has a name in DNS; the outside simulated
            # on this box has none, and the restrictions refuse it for that alone: not a vantage
            # point for an audit. The checks that need one say not tested.
            values = {**values, "vantage": "none"}
        host = ""
        if domain and domain != values.get("maildomain"):
            from wizard.checks.dns import mail_hosts

            hosts, _ = mail_hosts(domain, timeout)
            host = hosts[0] if hosts else domain     # no MX: its own name, as a sender would try
        audit = run_audit(target_from_values(values, self.lab, timeout, domain, host), on_row, only)
        if self.system.path(STATE_DIR).is_dir() and not domain and not only:
            self.system.write_file(AUDIT_FILE, audit.to_json(), mode=0o600)
        return audit

    def last_audit(self):
        """The audit `audit` kept last, or None."""
        import json

        from wizard.audit.model import Audit

        text = self.system.read_text(AUDIT_FILE)
        try:
            return Audit.from_record(json.loads(text)) if text else None
        except (ValueError, KeyError, TypeError):
            return None

    def why(self, target: str):
        """A message (queue id, Message-ID or address) followed through the mail logs:
        (its Trace or None, what of the logs could not be read, when the logs begin)."""
        from wizard.tracing import why

        return why(self.system, target)

    def zone_lines(self) -> list[str]:
        """The walk's DNS records as zone-file lines, ready to paste at a DNS provider."""
        records = tuple(r for step in self.steps for r in step.publishes)
        return self.publisher.zone_lines(records, self.values()) if self.answers else []

    def zone_records(self, instead=()) -> list[list[str]]:
        """Every DNS record the walk asks for (name, type, zone-file value); `instead`: records
        that take the place of the walk's of the same name and type."""
        return self.publisher.rows(instead=instead)

    def request_cancel(self) -> None:
        """Stop the running step at the next safe point: before its files are written, or
        between two probes (never in the middle of a write, an install or a reload)."""
        self.cancel_requested.set()

    def _cancelled(self) -> str:
        return CANCELLED_BEFORE if self.cancel_requested.is_set() else ""

    def _stop_daemons(self, step: Step) -> None:
        for name in step.stop:
            service = daemon(self.system, name)
            self.ctx.remember_service(service)
            if not self.system.sandbox and service.running():
                service.stop()
                self.emit(Note(step.id, f"stopped {name}: it comes into play in a later chapter"))

    def _finish(self, step: Step, status: str, probes: list[ProbeResult], message: str) -> StepOutcome:
        k = self.index(step.id) + 1
        record = {"status": status, "finished": now(), "message": message,
                  "probes": [p.to_record() for p in probes],
                  "renders": self.planner.render_hashes(k) if status == PASSED else {}}
        started = self.state.steps.get(step.id, {}).get("started")
        if started:
            record["started"] = started
        self.state.steps[step.id] = record
        self.remember("run", step=step.id, status=status)
        self.ctx.save(f"finished:{step.id}")
        self.step_logs[step.id] = self.prover.log_window(probes)
        self.emit(StepDone(step.id, status, message))
        return StepOutcome(step.id, status, probes, message)

    # ---- after the walk ------------------------------------------------------------------------
    def change_user(self, action: str, address: str = "", password: str = "") -> str:
        return self.mailboxes.change(action, address, password)

    def undo(self, step_id: str | None = None) -> StepOutcome:
        """Roll back the last step (or `step_id` and every step after it)."""
        undone, status, message = self.rollback.undo(step_id)
        self.ctx.read_the_box_again()
        if status != FAILED:
            self.remember("undo", step=undone)
            self.ctx.save(f"undone:{undone}")
        return StepOutcome(undone, status, message=message)

    def reprove(self, chapter: Step) -> list[ProbeResult]:
        """A finished chapter's probes and checks again, now, nothing written: its working form's
        (a teaching walk's lessons proved errors of their moment), but those a chapter walked
        since changed on purpose (Probe.until). What a grade is made of."""
        lasting = dataclasses.replace(chapter, probes=tuple(
            p for p in chapter.probes if not (p.until and self.state.status_of(p.until) == PASSED)))
        values = self._outside_here(lasting, self.values())
        return self.prover.probe(lasting, values, threading.Event()) + self.prover.verify(lasting, values)

    def remember(self, kind: str, **what) -> None:
        """One line of the walk's history (saved with the state's next save): what a grade
        counts. Names and outcomes only, never an answer."""
        self.state.history.append({"kind": kind, "at": now(), **what})

    def reset(self) -> None:
        self.rollback.reset()
        self.ctx.read_the_box_again()
        if not self.system.sandbox and BoxOutside(self.system).down():
            self.emit(Note("", f"removed the outside simulated on this box ({box_outside.NAME})"))
        self._outside_made = False

