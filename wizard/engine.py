"""The engine: check → plan → apply → probe → record, one code path under every face.

The CLI and the TUI only show what the engine emits (`Event`s) and answer its questions
(`confirm`). A step unlocks the next only when every probe met its expectation.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from wizard import ASSETS
from wizard.answers import Answers
from wizard.checks import DEFAULT_TIMEOUT, CheckResult, run_requirements
from wizard.config import file_attributes, fill, managed_paths, render_file, unified_diff
from wizard.ensure import ensure_all, undo_made
from wizard.daemons import daemon, let_dovecot_see_passwd_file, settle_seconds
from wizard.logs import DOVECOT_LOG, MAIL_LOG, MailLog
from wizard.dialect import DOVECOT_CONF, ERRATUM_24, EXPLAIN_24
from wizard.model import Erratum, Step
from wizard.platform import Platform, detect
from wizard.probes.runner import FAILED, MET, ProbeResult, ProbeRunner
from wizard.state import (REPLAY_FILE, STATE_FILE, State, StateStore, ensure_private_dir, now, originals_copy)
from wizard.system import System, crashpoint, sha256_bytes

PASSED, FAILED_STEP, BLOCKED, PENDING, APPLYING = "passed", "failed", "blocked", "pending", "applying"


class EngineError(Exception):
    """Refused before anything changed (bad input, lock, missing answers): exit code 2."""


@dataclass
class Event:
    kind: str           # step, check, plan, note, erratum, probe-line, probe, step-done, walk-done
    step: str = ""
    text: str = ""
    data: object = None


@dataclass
class FileChange:
    path: str
    old: str | None
    new: str | None          # None: the original file comes back (or goes, if there was none)
    restore_original: bool = False

    @property
    def diff(self) -> str:
        return unified_diff(self.path, self.old, self.new)


@dataclass
class StepOutcome:
    step: str
    status: str
    probes: list[ProbeResult] = field(default_factory=list)
    message: str = ""


@dataclass
class Drift:
    path: str
    expected_sha: str
    actual_sha: str | None


def _no_confirm(question: str, risky: bool = False) -> bool:
    return True


CANCELLED_BEFORE = "cancelled before anything was changed"
CANCELLED_DURING = ("cancelled during the probes: the files are written; run the step again to "
                    "prove it, or undo it")
DAEMON_LOGS = (("mail.log", MAIL_LOG), ("dovecot.log", DOVECOT_LOG))
LOG_WINDOW_LINES = 200


class Engine:
    def __init__(self, system: System, answers: Answers | None, steps: tuple[Step, ...],
                 emit: Callable[[Event], None] | None = None,
                 confirm: Callable[[str, bool], bool] = _no_confirm,
                 platform: Platform | None = None, lab: bool = False,
                 ask: Callable[[str], str] | None = None):
        self.system = system
        self.steps = tuple(steps)
        self.emit = emit or (lambda event: None)
        self.confirm = confirm
        self.store = StateStore(system)
        self.state = State()
        self._answers = answers
        self._platform = platform
        self.probe_options: dict = {}
        self.lab = lab          # running inside the lab's mail namespace: the outside is ours
        self.ask = ask
        self.check_timeout = DEFAULT_TIMEOUT
        self.step_logs: dict[str, list[tuple[str, bool]]] = {}    # this session's log windows
        self.cancel_requested = threading.Event()
        self._log_marks: dict[str, int] = {}

    # ---- session -----------------------------------------------------------------------------
    def open(self, need_answers: bool = True) -> "Engine":
        ensure_private_dir(self.system)
        self.store.lock()
        try:
            self.system.remove_stale_temps(managed_paths(self.steps) + [STATE_FILE])
            self.state = self.store.load()
            if self._answers is None and self.state.answers:
                self._answers = Answers.from_record(self.state.answers)
            if self._answers is not None:
                self._answers = with_user_changes(self._answers, self.state.user_changes)
            if self._answers is None and need_answers:
                raise EngineError("no answers yet: give them with --answers FILE "
                                  "(see the example in the README).")
        except BaseException:
            self.store.unlock()
            raise
        return self

    def peek(self) -> "Engine":
        """Load the state to read it, without the lock: status works while a walk runs."""
        self.state = self.store.load()
        if self._answers is None and self.state.answers:
            self._answers = Answers.from_record(self.state.answers)
        return self

    @property
    def has_answers(self) -> bool:
        return self._answers is not None

    def close(self) -> None:
        self.store.unlock()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def answers(self) -> Answers:
        assert self._answers is not None
        return self._answers

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = detect(self.system)
        return self._platform

    def values(self) -> dict[str, str]:
        values = {**self.answers.values(), **self.platform.values()}
        if self.lab:
            from wizard.lab.network import LabPlan

            plan = LabPlan.from_answers(self.answers)
            values.update(plan.values())
            if self.answers.vantage == "none":      # a chosen vantage point (manual, ssh) is kept
                values["vantage"] = f"netns:{plan.ext_ns}"
        return values

    def index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        known = ", ".join(s.id for s in self.steps)
        raise EngineError(f"there is no step '{step_id}' (steps: {known}).")

    def _writes_dovecot_24(self, step: Step) -> bool:
        return (self.platform.dovecot_dialect == "2.4"
                and any(f.path == DOVECOT_CONF for f in step.files))

    def errata(self, step: Step) -> tuple[Erratum, ...]:
        """Where this step differs from the tutorial on this box."""
        return step.errata + ((ERRATUM_24,) if self._writes_dovecot_24(step) else ())

    def explanation(self, step: Step) -> str:
        """The step's explanation, with a word on the dialect when it writes Dovecot 2.4's."""
        text = (ASSETS / "explain" / step.explain).read_text(encoding="utf-8")
        if self._writes_dovecot_24(step):
            text += "\n" + (ASSETS / "explain" / EXPLAIN_24).read_text(encoding="utf-8")
        return text

    def _save(self, why: str) -> None:
        self.store.save(self.state, why)

    # ---- rendering and planning ------------------------------------------------------------------
    def render(self, path: str, upto: int) -> str | None:
        return render_file(path, self.steps[:upto], self.values(), users=self.answers.users,
                           dovecot_dialect=self.platform.dovecot_dialect)

    def plan(self, step: Step) -> list[FileChange]:
        """What applying `step` would change on disk, as file changes with diffs."""
        k = self.index(step.id) + 1
        changes = []
        for path in managed_paths(self.steps[:k]):
            new = self.render(path, k)
            if new is None:
                continue
            old = self.system.read_text(path)
            if old != new:
                changes.append(FileChange(path, old, new))
        return changes

    def _render_hashes(self, k: int) -> dict[str, str]:
        hashes = {}
        for path in managed_paths(self.steps[:k]):
            text = self.render(path, k)
            if text is not None:
                hashes[path] = sha256_bytes(text.encode())
        return hashes

    def drift(self) -> list[Drift]:
        """Files changed by hand since mailwizard wrote them.

        A file that holds one of our own renders is not a hand edit: a kill between writing it
        and saving the state leaves exactly that, and the next run takes it as ours."""
        found = []
        for path, sha in sorted(self.state.written.items()):
            actual = self.system.file_hash(path)
            if actual != sha and actual not in self._our_renders(path):
                found.append(Drift(path, sha, actual))
        return found

    def _our_renders(self, path: str) -> set[str]:
        hashes = set()
        for k in range(len(self.steps) + 1):
            text = self.render(path, k) if self.has_answers else None
            if text is not None:
                hashes.add(sha256_bytes(text.encode()))
        return hashes

    def is_done(self, step: Step) -> bool:
        record = self.state.steps.get(step.id, {})
        if record.get("status") != PASSED:
            return False
        k = self.index(step.id) + 1
        return record.get("renders", {}) == self._render_hashes(k)

    # ---- the walk --------------------------------------------------------------------------------
    def walk(self, through: str | None = None) -> list[StepOutcome]:
        last = self.index(through) if through else len(self.steps) - 1
        self._remember_answers()
        outcomes = []
        for step in self.steps[: last + 1]:
            if self.is_done(step) and not self._drifted(step):
                self.emit(Event("step-done", step.id, "done already", PASSED))
                outcomes.append(StepOutcome(step.id, PASSED, message="done already"))
                continue
            outcome = self.run_step(step)
            outcomes.append(outcome)
            if outcome.status != PASSED:
                break
            crashpoint(f"after-step:{step.id}")
        self.emit(Event("walk-done", data=outcomes))
        return outcomes

    def set_answers(self, answers: Answers) -> None:
        """New answers (from the TUI's form): kept in the state and the replay file at once.
        Steps already done whose files would now differ show as stale and can be run again."""
        self._answers = with_user_changes(answers, self.state.user_changes)
        self._remember_answers()

    def _remember_answers(self) -> None:
        record = self.answers.to_record()
        if self.state.answers != record:
            self.state.answers = record
            self._save("answers")
        self._write_replay()

    def _write_replay(self) -> None:
        """The effective answers as a file, so the same walk can be given to another box."""
        text = self.answers.to_toml()
        if self.system.read_text(REPLAY_FILE) != text:
            self.system.write_file(REPLAY_FILE, text, mode=0o600, uid=0, gid=0)

    def _drifted(self, step: Step) -> bool:
        paths = set(managed_paths(self.steps[: self.index(step.id) + 1]))
        return any(d.path in paths for d in self.drift())

    def run_step(self, step: Step) -> StepOutcome:
        self.cancel_requested.clear()
        self._log_marks = {name: MailLog(self.system.path(path)).offset() for name, path in DAEMON_LOGS}
        values = self.values()
        self.emit(Event("step", step.id, fill(step.title, values), step))
        blocked = self._check(step, values)
        if blocked:
            return self._finish(step, BLOCKED, [], blocked)
        if self.cancel_requested.is_set():
            return self._finish(step, BLOCKED, [], CANCELLED_BEFORE)
        for erratum in self.errata(step):
            self.emit(Event("erratum", step.id, f"{erratum.ref}: {erratum.text}", erratum))
        self._stop_daemons(step)
        install_problem = self._install(step, values)
        if install_problem:
            return self._finish(step, BLOCKED, [], install_problem)
        ensure_problem = ensure_all(self.system, step.ensure, values, self.state,
                                    lambda text: self.emit(Event("note", step.id, text)))
        self._save(f"ensured:{step.id}")
        if ensure_problem:
            return self._finish(step, FAILED_STEP, [], ensure_problem)
        changes = self.plan(step)
        for change in changes:
            self.emit(Event("plan", step.id, change.diff, change))
        if not changes:
            self.emit(Event("note", step.id, "no file changes: the files already match this step"))
        drift_problem = self._guard_drift(step, changes)
        if drift_problem:
            return self._finish(step, BLOCKED, [], drift_problem)
        if self.cancel_requested.is_set():
            return self._finish(step, BLOCKED, [], CANCELLED_BEFORE)
        if changes and not self.confirm(f"Apply {step.id} ({len(changes)} file(s))?", False):
            return self._finish(step, BLOCKED, [], "not applied: you said no")
        self.state.steps[step.id] = {"status": APPLYING, "started": now()}
        self._save(f"applying:{step.id}")
        problem = self._install_files(step.id, changes, step.reload)
        if problem:
            return self._finish(step, FAILED_STEP, [], problem)
        probes = self._probe(step, values) + self._verify(step, values)
        if self.cancel_requested.is_set() and len(probes) < len(step.probes) + len(step.verify):
            return self._finish(step, FAILED_STEP, probes, CANCELLED_DURING)
        status = FAILED_STEP if any(p.status == FAILED for p in probes) else PASSED
        message = "" if status == PASSED else "a probe did not meet its expectation"
        return self._finish(step, status, probes, message)

    def request_cancel(self) -> None:
        """Stop the running step at the next safe point: before its files are written, or
        between two probes (never in the middle of a write, an install or a reload)."""
        self.cancel_requested.set()

    def _finish(self, step: Step, status: str, probes: list[ProbeResult], message: str) -> StepOutcome:
        k = self.index(step.id) + 1
        record = {"status": status, "finished": now(), "message": message,
                  "probes": [p.to_record() for p in probes],
                  "renders": self._render_hashes(k) if status == PASSED else {}}
        started = self.state.steps.get(step.id, {}).get("started")
        if started:
            record["started"] = started
        self.state.steps[step.id] = record
        self._save(f"finished:{step.id}")
        self.step_logs[step.id] = self._log_window(probes)
        self.emit(Event("step-done", step.id, message, status))
        return StepOutcome(step.id, status, probes, message)

    def _log_window(self, probes: list[ProbeResult]) -> list[tuple[str, bool]]:
        """The daemons' log lines written while the step ran, each with whether a failed probe
        pointed at it."""
        pointed = {line for p in probes if p.status == FAILED for line in p.log_lines}
        window = []
        for name, path in DAEMON_LOGS:
            start = self._log_marks.get(name, 0)
            for line in MailLog(self.system.path(path)).lines_since(start)[-LOG_WINDOW_LINES:]:
                window.append((f"{name}: {line}", any(line in p for p in pointed)))
        return window

    # ---- check -----------------------------------------------------------------------------------
    def check_step(self, step: Step, values: dict[str, str]) -> list[CheckResult]:
        return run_requirements(self.system, list(step.requires), values, self.check_timeout)

    def _check(self, step: Step, values: dict[str, str]) -> str:
        failures = []
        for result in self.check_step(step, values):
            self.emit(Event("check", step.id, result.line(), result))
            if not result.ok and not result.advisory:
                failures.append(result)
        if failures and not self.system.sandbox:
            first = failures[0]
            return f"{first.name}: {first.found} — {first.fix}"
        return ""

    # ---- install -----------------------------------------------------------------------------------
    def _install(self, step: Step, values: dict[str, str]) -> str:
        if not step.packages:
            return ""
        missing = [p for p in step.packages if not self._installed(p)]
        if self.system.sandbox:
            self.emit(Event("note", step.id, "sandbox: packages are not installed"
                            + (f" (would install {' '.join(missing)})" if missing else "")))
            return ""
        if missing:
            self.emit(Event("note", step.id, f"installing {' '.join(missing)}"))
            selections = "\n".join(fill(line, values) for line in step.debconf) + "\n"
            self.system.run(["debconf-set-selections"], input=selections)
            env = {"DEBIAN_FRONTEND": "noninteractive"}
            update = self.system.run(["apt-get", "update", "-q"], env=env, timeout=600)
            if not update.ok:
                return f"apt-get update failed: {update.describe()[-400:]}"
            result = self.system.run(["apt-get", "install", "-y", "-q", "-o", "APT::Status-Fd=1",
                                      "-o", "Dpkg::Options::=--force-confold", *missing],
                                     env=env, timeout=1800,
                                     on_line=lambda line: self._apt_progress(step, line))
            if not result.ok:
                return f"apt-get install failed: {result.describe()[-400:]}. Fix apt, then run again."
            self._platform = None
        else:
            self.emit(Event("note", step.id, "all packages are installed already"))
        self.emit(Event("note", step.id, f"found: {self.platform.describe()}"))
        return ""

    def _apt_progress(self, step: Step, line: str) -> None:
        """apt's status lines (`pmstatus:PKG:PERCENT:WHAT`) as progress events; the rest as is."""
        kind, _, rest = line.partition(":")
        if kind in ("pmstatus", "dlstatus"):
            _, percent, what = (rest.split(":", 2) + ["", ""])[:3]
            try:
                self.emit(Event("progress", step.id, what, float(percent)))
            except ValueError:
                pass
        elif line.strip():
            self.emit(Event("progress", step.id, line.strip(), None))

    def _installed(self, package: str) -> bool:
        out = self.system.query(["dpkg-query", "-W", "-f=${Status}", package])
        return out.ok and "install ok installed" in out.stdout

    def _stop_daemons(self, step: Step) -> None:
        for name in step.stop:
            service = daemon(self.system, name)
            if not self.system.sandbox and service.running():
                service.stop()
                self.emit(Event("note", step.id, f"stopped {name}: it comes into play in a later chapter"))

    # ---- apply -------------------------------------------------------------------------------------
    def _guard_drift(self, step: Step, changes: list[FileChange]) -> str:
        drifted = {d.path for d in self.drift()}
        for change in changes:
            if change.path in drifted:
                saved = self._save_hand_edit(change.path)
                if not self.confirm(f"{change.path} was changed by hand since mailwizard wrote it "
                                    f"(your version is saved as {saved}). Overwrite it?", True):
                    return (f"{change.path} was changed by hand; your version is saved as {saved}. "
                            "Run again with --yes to overwrite it, or `mailwizard undo` to step back.")
        return ""

    def _save_hand_edit(self, path: str) -> str:
        copy = f"/var/lib/mailwizard/hand-edits{path}.{time.strftime('%Y%m%d-%H%M%S')}"
        self.system.write_file(copy, self.system.read_bytes(path) or b"", mode=0o600)
        return copy

    def _backup_original(self, path: str) -> None:
        """Keep the box's own file once, before mailwizard first writes it."""
        if path in self.state.originals:
            return
        target = self.system.path(path)
        record = {"existed": target.exists()}
        if target.exists():
            st = target.stat()
            data = target.read_bytes()
            record.update(mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid, sha=sha256_bytes(data))
            self.system.write_file(originals_copy(path), data, mode=0o600)
            tutorial_bak = f"{path}.bak"
            if not self.system.path(tutorial_bak).exists():
                self.system.write_file(tutorial_bak, data, mode=record["mode"], uid=st.st_uid, gid=st.st_gid)
                self.state.created.append(tutorial_bak)
        self.state.originals[path] = record
        self._save(f"original:{path}")

    def _original_bytes(self, path: str) -> bytes | None:
        record = self.state.originals.get(path)
        if not record or not record.get("existed"):
            return None
        return self.system.read_bytes(originals_copy(path))

    def _write(self, path: str, content: str | None, step_id: str = "") -> None:
        """Put a render in place; None puts the original back (or removes a file we created)."""
        if content is None:
            record = self.state.originals.get(path, {})
            data = self._original_bytes(path)
            if data is None:
                self.system.remove_file(path)
            else:
                self.system.write_file(path, data, mode=record.get("mode"), uid=record.get("uid"),
                                       gid=record.get("gid"), backdate=settle_seconds(path))
            self.state.written.pop(path, None)
        else:
            mode, uid, gid = self._attributes(path)
            self.system.write_file(path, content, mode=mode, uid=uid, gid=gid,
                                   backdate=settle_seconds(path), crash_tag=step_id)
            self.state.written[path] = sha256_bytes(content.encode())

    def _attributes(self, path: str) -> tuple[int | None, int | None, int | None]:
        """Mode and owner for a render: what the steps ask, else the file's own, else 0644 root."""
        import grp

        mode, group = file_attributes(path, self.steps)
        gid = None
        if group and not self.system.sandbox:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                gid = None
        if mode is None:
            return None, None, None
        return mode, (0 if gid is not None else None), gid

    def _install_files(self, step_id: str, changes: list[FileChange], reload: tuple[str, ...],
                       undoing: bool = False) -> str:
        """Write, validate, reload; on any failure put the last good files back and reload."""
        services = [daemon(self.system, name) for name in reload]
        candidate = {c.path: c.new for c in changes if c.new is not None}
        for service in services:
            complaint = service.prevalidate(candidate)
            if complaint:
                self.emit(Event("note", step_id, "refused by validation; nothing was written"))
                return f"{service.name} refused the new configuration:\n{complaint}"
        for change in changes:
            self._backup_original(change.path)
        last_good = {c.path: self.system.read_bytes(c.path) for c in changes}
        for change in changes:
            self._write(change.path, change.new, step_id)
        self._save(f"written:{step_id}")
        if self.system.sandbox:
            if reload:
                self.emit(Event("note", step_id, f"sandbox: {', '.join(reload)} not reloaded"))
            return ""
        problem = self._reload(step_id, services, stop_if_invalid=undoing)
        if not problem:
            return ""
        self.emit(Event("note", step_id, "putting the last good files back"))
        for path, old in last_good.items():
            if old is None:
                self._write(path, None)
            else:
                self.system.write_file(path, old, backdate=settle_seconds(path))
                self.state.written[path] = sha256_bytes(old)
        self._save(f"restored:{step_id}")
        again = self._reload(step_id, services, stop_if_invalid=True)
        if again:
            problem += f"\nThe last good files are back, but reloading them failed too: {again}"
        return problem

    def _reload(self, step_id: str, services, stop_if_invalid: bool = False) -> str:
        for service in services:
            complaint = service.validate()
            if complaint and stop_if_invalid:
                # Undo brought back the box's own file, which this daemon cannot run with as it
                # stands (Debian's dovecot.conf wants a certificate it never made): stop it.
                if service.running():
                    service.stop()
                self.emit(Event("note", step_id, f"{service.name} stopped: its original configuration "
                                f"does not start as it is ({complaint.splitlines()[0]})"))
                continue
            if complaint:
                return f"{service.name} check failed:\n{complaint}"
            crashpoint(f"reload:{step_id}:{service.name}")
            result = service.reload()
            if not result.ok and stop_if_invalid:
                service.stop()
                self.emit(Event("note", step_id, f"{service.name} stopped: it does not start with its "
                                f"original configuration ({result.describe()[-160:]})"))
                continue
            if not result.ok:
                return f"{service.name} did not reload: {result.describe()}"
            if service.name == "dovecot" and not service.running():
                return "Dovecot did not start; see /var/log/dovecot.log."
            if service.name == "postfix":
                problem = self._postfix_answers(step_id, service)
                if problem:
                    return problem
        return ""

    def _postfix_answers(self, step_id: str, postfix) -> str:
        if postfix.greeting(timeout=3.0):
            return ""
        # A master that saw smtpd die throttles it for 60 s, and a reload does not lift that
        # (errata E5); a stop and start does.
        self.emit(Event("note", step_id, "port 25 gave no greeting after the reload; "
                        "restarting Postfix to lift smtpd's throttle (E5)"))
        postfix.restart()
        if postfix.greeting(timeout=5.0):
            return ""
        return "Postfix does not answer on port 25 (no 220 greeting); see /var/log/mail.log."

    # ---- probes ----------------------------------------------------------------------------------
    def _probe(self, step: Step, values: dict[str, str]) -> list[ProbeResult]:
        options = dict(self.probe_options)
        if self.ask:
            options.setdefault("ask", self.ask)
        options["passwords"] = {u.address: u.password for u in self.answers.users if u.password}
        runner = ProbeRunner(self.system, values, **options)
        results = []
        for probe in step.probes:
            if self.cancel_requested.is_set():
                break
            runner.on_line = lambda line, pid=probe.id: self.emit(Event("probe-line", step.id, line, pid))
            self.emit(Event("probe-start", step.id, fill(probe.title, values), probe))
            result = runner.run(probe)
            self.emit(Event("probe", step.id, result.title, result))
            results.append(result)
        return results

    def _verify(self, step: Step, values: dict[str, str]) -> list[ProbeResult]:
        """The step's after-the-change checks, reported as probes (ownership, permissions)."""
        results = []
        for check in run_requirements(self.system, list(step.verify), values, self.check_timeout):
            result = ProbeResult(check.name.split()[0], check.name, MET if check.ok else FAILED,
                                 check.expected or "as it should be", check.found,
                                 reason="" if check.ok else f"fix: {check.fix}")
            self.emit(Event("probe", step.id, result.title, result))
            results.append(result)
        return results

    # ---- more mailboxes (`mailwizard user`) -----------------------------------------------------
    def change_user(self, action: str, address: str = "", password: str = "") -> str:
        """Add a user, change a password or delete a user: users.db is rendered again and written
        at once (Dovecot re-reads it at the next login). Refused, with nothing changed, when the
        change makes no sense. Returns what was done."""
        from wizard.answers import AnswersError, MailUser, check_address, hash_password

        users = list(self.answers.users)
        by_address = {u.address: u for u in users}
        try:
            local, domain = check_address(address, "address")
        except AnswersError as exc:
            raise EngineError(str(exc)) from None
        address = f"{local}@{domain}"
        if domain != self.answers.maildomain:
            raise EngineError(f"{address} is not in {self.answers.maildomain}, the domain this server "
                              "keeps mailboxes for.")
        changes = self.state.user_changes
        if action == "add":
            if address in by_address:
                raise EngineError(f"{address} exists already; `mailwizard user passwd {address}` changes "
                                  "its password.")
            user = MailUser(local, domain, hash_password(self._password(password)))
            users.append(user)
            changes.setdefault("added", {})[address] = user.password_hash
            changes["removed"] = [a for a in changes.get("removed", []) if a != address]
            done = f"added {address}"
        elif action == "passwd":
            if address not in by_address:
                raise EngineError(f"there is no mailbox {address}; `mailwizard user list` shows them.")
            user = MailUser(local, domain, hash_password(self._password(password)))
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
        self._apply_users(tuple(users))
        return done

    @staticmethod
    def _password(password: str) -> str:
        from wizard.answers import AnswersError, check_password

        try:
            return check_password(password, "password")
        except AnswersError as exc:
            raise EngineError(str(exc)) from None

    def _apply_users(self, users) -> None:
        import dataclasses

        table_steps = [i for i, s in enumerate(self.steps) if any(f.table for f in s.files)
                       and self.state.status_of(s.id) == PASSED]
        if not table_steps:
            raise EngineError("users.db is written by the dovecot-imap step: walk through it first "
                              "(`mailwizard run --through dovecot-imap`).")
        self._answers = dataclasses.replace(self.answers, users=users)
        k = max(i for i, s in enumerate(self.steps) if self.state.status_of(s.id) == PASSED) + 1
        for path in managed_paths(self.steps[:k]):
            new = self.render(path, k)
            if new is not None and new != self.system.read_text(path):
                self._backup_original(path)
                self._write(path, new)
        for i, step in enumerate(self.steps[:k]):
            record = self.state.steps.get(step.id, {})
            if record.get("status") == PASSED:
                record["renders"] = self._render_hashes(i + 1)
        self.state.answers = self.answers.to_record()
        self._save("users")
        self._write_replay()
        let_dovecot_see_passwd_file()       # the change works the moment we return

    # ---- undo and reset ----------------------------------------------------------------------------
    def undo(self, step_id: str | None = None) -> StepOutcome:
        """Roll back the last step (or `step_id` and every step after it)."""
        if step_id is None:
            touched = [s for s in self.steps if self.state.status_of(s.id) != PENDING]
            if not touched:
                raise EngineError("nothing to undo: no step has run yet.")
            step = touched[-1]
        else:
            step = self.steps[self.index(step_id)]
            if self.state.status_of(step.id) == PENDING:
                raise EngineError(f"step {step.id} has not run; nothing to undo.")
        k = self.index(step.id)
        later = [s for s in self.steps[k:] if self.state.status_of(s.id) != PENDING]
        self.emit(Event("step", step.id, f"undo {step.title}", step))
        changes = []
        for path in managed_paths(self.steps[k:]):
            if path not in self.state.originals:
                continue
            new = self.render(path, k)
            old = self.system.read_text(path)
            if new is None:
                original = self._original_bytes(path)
                if (old.encode() if old is not None else None) == original:
                    continue
            elif new == old:
                continue
            changes.append(FileChange(path, old, new, restore_original=new is None))
        for change in changes:
            self.emit(Event("plan", step.id, change.diff, change))
        reload = tuple(dict.fromkeys(n for s in later for n in s.reload))
        problem = self._install_files(step.id, changes, reload, undoing=True) if changes else ""
        if problem:
            self.emit(Event("step-done", step.id, problem, FAILED_STEP))
            return StepOutcome(step.id, FAILED_STEP, message=problem)
        for s in later:
            self.state.steps.pop(s.id, None)
            if s.undo and not s.files:
                self.emit(Event("note", s.id, s.undo))
        self._save(f"undone:{step.id}")
        self.emit(Event("step-done", step.id, "undone", PENDING))
        return StepOutcome(step.id, PENDING, message="undone")

    def reset(self) -> None:
        """Every original file back byte for byte, files we created removed, state cleared."""
        restored = []
        for path in list(self.state.originals):
            self._write(path, None)
            restored.append(path)
        for path in self.state.created:
            self.system.remove_file(path)
        undo_made(self.system, self.state, lambda text: self.emit(Event("note", "", text)))
        if restored and not self.system.sandbox:
            postfix = daemon(self.system, "postfix")
            if postfix.running():
                postfix.reload()
            dovecot = daemon(self.system, "dovecot")
            if dovecot.running():
                if dovecot.validate():
                    dovecot.stop()
                    self.emit(Event("note", "", "Dovecot stopped: its original configuration does "
                                    "not start as it is"))
                else:
                    dovecot.restart()
        for path in restored:
            self.system.remove_file(originals_copy(path))
        self.state = State()
        self.store.clear()
        self.emit(Event("note", "", "original files restored: " + (", ".join(restored) or "none")))


def with_user_changes(answers: Answers, changes: dict) -> Answers:
    """The answers with the mailboxes `mailwizard user` added, removed or re-keyed since."""
    import dataclasses

    from wizard.answers import MailUser

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


def step_states(engine: Engine) -> list[tuple[Step, str]]:
    """Each step with its status as the user should see it (a done step whose render changed
    since, e.g. after new answers, is shown as needing a re-run)."""
    rows = []
    for step in engine.steps:
        status = engine.state.status_of(step.id)
        if status == PASSED and engine.has_answers and not engine.is_done(step):
            status = "stale"
        rows.append((step, status))
    return rows

