"""The headless face: `mailwizard run|status|check|undo|reset`, and the TUI when no command is given.

Exit codes: 0 everything met its expectation; 1 a step or probe failed; 2 refused before
anything changed (bad input, a missing package, another wizard running...).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from wizard import __version__
from wizard.answers import AnswersError, load_answers
from wizard.resources import AssetMissing
from wizard.timeouts import AUDIT_TIMEOUT, DEFAULT_TIMEOUT
from wizard.state import StateError, StateStore
from wizard.statuses import BLOCKED, MET, MISSED, PASSED, PROBE_STATUSES, probe_status, step_status
from wizard.system import System

if TYPE_CHECKING:
    from wizard.engine import Engine
    from wizard.probes.runner import ProbeResult

# The engine (and pexpect, ssl, Textual's friends behind it) is imported by the commands that use
# it: `--lab` re-runs the command inside the lab, and the first process should not pay for it.

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


# ---- printing what the engine emits -------------------------------------------------------------

class Printer:
    def __init__(self, verbose: bool, out=None):
        self.verbose = verbose
        self.out = out or sys.stdout

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def __call__(self, event) -> None:
        from wizard import events as e

        match event:
            case e.StepStarted():
                self.say(f"> {event.step}: {event.title}")
            case e.CheckDone(result=result):
                if not result.ok or self.verbose or event.looking:
                    self.say(f"    check {result.line()}")
            case e.ErratumMet():
                self.say(f"    note {event.text}")
            case e.Note():
                # A note of several lines (a command and its output) stays under its step.
                self.say("\n".join(f"    {line}" for line in event.text.splitlines()) if event.step
                         else event.text)
            case e.ChangePlanned(change=change):
                self.change(change)
            case e.Progress() if self.verbose:
                self.say(f"      apt {event.percent:3.0f}% {event.text}" if event.percent is not None
                         else f"      apt: {event.text}")
            case e.ProbeLine() if self.verbose:
                self.say(f"        {event.line}")
            case e.ProbeDone(result=result):
                self.probe(result)
            case e.StepDone():
                self.say(f"[{step_status(event.status).outcome}] {event.step}"
                         + (f": {event.message}" if event.message else ""))

    def change(self, change) -> None:
        diff = change.diff.splitlines()
        added = sum(1 for l in diff if l.startswith("+") and not l.startswith("+++"))
        removed = sum(1 for l in diff if l.startswith("-") and not l.startswith("---"))
        what = ("restore the original" if change.restore_original
                else "it holds a secret: not shown" if change.secret else f"+{added} -{removed} lines")
        self.say(f"    change {change.path}: {what}")
        if self.verbose:
            for line in diff:
                self.say(f"      {line}")

    def probe(self, result: ProbeResult) -> None:
        line = f"    [{probe_status(result.status).word}] {result.id}: {result.title} — expected {result.expected}"
        if result.actual:
            line += f"; got {result.actual}"
        if result.reason:
            line += f" ({result.reason})"
        self.say(line)
        if result.erratum and result.status == MET:
            self.say(f"        why it differs from the tutorial: {result.erratum}")
        if result.status == MISSED and not self.verbose:
            for transcript_line in result.transcript:
                self.say(f"        {transcript_line}")
        if result.log_lines:
            self.say("        mail log during the probe:")
            for log_line in result.log_lines:
                self.say(f"        | {log_line}")


def make_confirm(assume_yes: bool):
    def confirm(question: str, risky: bool = False) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            # Scripts drive `run` without a terminal; only overwriting hand edits needs --yes.
            return not risky
        answer = input(f"{question} [y/N] ").strip().lower()
        return answer in ("y", "yes")
    return confirm


# ---- commands -----------------------------------------------------------------------------------

def ask_on_terminal(question: str) -> str:
    """The manual vantage point's question, answered by the person at the keyboard."""
    print(question, flush=True)
    try:
        return input("> ")
    except EOFError:
        return ""


def ask_secret_on_terminal(question: str) -> str:
    """A password, typed without echo; nothing when there is no terminal to ask on."""
    import getpass

    if not sys.stdin.isatty():
        return ""
    try:
        return getpass.getpass(f"{question}: ")
    except (EOFError, KeyboardInterrupt):
        return ""


def open_engine(args, need_answers=True, confirm=None, printer=None, ask=ask_on_terminal) -> Engine:
    from wizard.session import SessionOptions, open_session

    return open_session(SessionOptions.from_args(args), need_answers=need_answers,
                        emit=printer or Printer(getattr(args, "verbose", False)),
                        confirm=confirm or make_confirm(getattr(args, "yes", False)),
                        ask=ask, ask_secret=ask_secret_on_terminal)


def peek_engine(args) -> Engine:
    from wizard.session import SessionOptions, peek_session

    return peek_session(SessionOptions.from_args(args))


def cmd_run(args) -> int:
    if args.json:
        return run_as_json(args)
    printer = Printer(args.verbose)
    with open_engine(args, printer=printer) as engine:
        if engine.system.sandbox:
            printer.say(f"sandbox: writing under {engine.system.root}; no daemon is reloaded, "
                        "no package installed, no probe sent")
        printer.say(f"mailwizard {__version__} on {engine.platform.describe()}")
        printer.say(f"answers: {engine.answers.maildomain}, server {engine.answers.fqdn} "
                    f"(from {engine.answers.source})")
        for line in engine.made_for_this_walk():
            printer.say(f"    {line}")
        printer.say(path_line(engine))
        outcomes = engine.walk(args.through)
        closing = engine.closing_notes()
    probes = [p for o in outcomes for p in o.probes]
    counts = {s: sum(1 for p in probes if p.status == s) for s in PROBE_STATUSES}
    printer.say(f"{sum(1 for o in outcomes if o.status == PASSED)} step(s) done; probes: "
                + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if closing:
        printer.say("the server is ready. For your mail clients:")
        for line in closing:
            printer.say(f"    {line}")
    last = outcomes[-1] if outcomes else None
    if last and last.status == BLOCKED:
        return EXIT_REFUSED
    if last and last.status != PASSED:
        return EXIT_FAILED
    return EXIT_OK


def run_as_json(args) -> int:
    from wizard.machine import JsonLines, probe_counts

    out = JsonLines()
    with open_engine(args, printer=out, ask=ask_on_stderr) as engine:
        out.say("walk_started", version=__version__, platform=engine.platform.describe(),
                sandbox=engine.system.sandbox, maildomain=engine.answers.maildomain, fqdn=engine.answers.fqdn,
                answers=engine.answers.source, path="lessons" if engine.teaching else "straight")
        outcomes = engine.walk(args.through)
        closing = engine.closing_notes()
    last = outcomes[-1] if outcomes else None
    code = EXIT_REFUSED if last and last.status == BLOCKED else EXIT_FAILED if last and last.status != PASSED else EXIT_OK
    return out.summary("run", code, steps_done=sum(1 for o in outcomes if o.status == PASSED),
                       last_step=last.step if last else "", last_status=last.status if last else "",
                       probes=probe_counts(outcomes), closing=closing)


def ask_on_stderr(question: str) -> str:
    """The manual vantage point's question with --json: stdout holds only the JSON lines."""
    print(question, file=sys.stderr, flush=True)
    try:
        return input()
    except EOFError:
        return ""


def cmd_plan(args) -> int:
    """What `run` would do, nothing written: the steps it would take, each one's file changes
    after the ones before it, and the files changed by hand since mailwizard wrote them."""
    from wizard.machine import JsonLines, change_fields

    engine = peek_engine(args)          # only reads: no lock, no state directory made
    if not engine.has_answers:
        from wizard.context import EngineError

        raise EngineError("nothing to plan without answers: give them with --answers FILE.")
    planned = engine.plan_ahead(args.through)
    drift = engine.drift()
    files = sum(len(changes) for _, changes in planned)
    if args.json:
        out = JsonLines()
        for row, changes in planned:
            out.say("plan_step", step=row.step.id, title=row.title, status=row.status,
                    passed_over=not engine.applies(row.step), changes=[change_fields(c) for c in changes])
        for item in drift:
            out.say("drift", path=item.path, change="deleted" if item.actual_sha is None else "edited")
        return out.summary("plan", EXIT_OK, steps=len(planned), changes=files, drift=len(drift))
    printer = Printer(args.verbose)
    printer.say(f"answers: {engine.answers.maildomain}, server {engine.answers.fqdn} (from {engine.answers.source})")
    for row, changes in planned:
        printer.say(f"> {row.step.id}: {row.title}" + ("" if engine.applies(row.step) else " (passed over: the answers leave it out)"))
        for change in changes:
            printer.change(change)
    for item in drift:
        what = "was deleted" if item.actual_sha is None else "was changed by hand"
        printer.say(f"drift: {item.path} {what} since mailwizard wrote it (run asks before writing over it)")
    printer.say(f"plan: {len(planned)} step(s) to walk, {files} file change(s); nothing was written"
                + ("" if args.verbose else " (-v shows the diffs)"))
    return EXIT_OK


def path_line(engine) -> str:
    """Which path the walk takes, and how to take the other one while it still can."""
    ahead = ", ".join(step.id for step in engine.path_ahead())
    if engine.teaching:
        said = "path: the tutorial's lessons, each error it shows met before its fix"
        other = "--straight goes straight to each working step"
    else:
        said = "path: straight to each working step"
        other = "--teaching takes the tutorial's lessons, errors included"
    return f"{said} ({other} in {ahead})" if ahead else f"{said} (every chapter with lessons is begun)"


def cmd_status(args) -> int:
    if args.json:
        return status_as_json(args)
    printer = Printer(False)
    from wizard.session import SessionOptions, system_for

    if not StateStore(system_for(SessionOptions.from_args(args))).exists:
        printer.say("no walk yet: start one with `mailwizard run --answers FILE` or `mailwizard`.")
        return EXIT_OK
    engine = peek_engine(args)
    if not engine.has_answers:
        printer.say("no answers recorded yet.")
        printer.say(path_line(engine))
        return EXIT_OK
    printer.say(f"answers: {engine.answers.maildomain}, server {engine.answers.fqdn}")
    printer.say(path_line(engine))
    rows = engine.views()
    for row in rows:
        printer.say(f"  [{step_status(row.status).word:>11}] {row.step.id:<16} {row.title}")
    done = sum(1 for row in rows if row.status == PASSED)
    printer.say(f"progress: {done}/{len(rows)} steps done")
    drift = engine.drift()
    for item in drift:
        what = "was deleted" if item.actual_sha is None else "was changed by hand"
        printer.say(f"drift: {item.path} {what} since mailwizard wrote it")
    if not drift:
        printer.say("drift: none — every file is as mailwizard wrote it")
    return EXIT_OK


def status_as_json(args) -> int:
    from wizard.machine import JsonLines
    from wizard.session import SessionOptions, system_for

    out = JsonLines()
    if not StateStore(system_for(SessionOptions.from_args(args))).exists:
        return out.summary("status", EXIT_OK, walked=False, done=0, steps=0, drift=0)
    engine = peek_engine(args)
    if engine.has_answers:
        out.say("walk", maildomain=engine.answers.maildomain, fqdn=engine.answers.fqdn,
                path="lessons" if engine.teaching else "straight")
    rows = engine.views() if engine.has_answers else []
    for row in rows:
        out.say("step", step=row.step.id, title=row.title, status=row.status, reason=row.reason)
    drift = engine.drift() if engine.has_answers else []
    for item in drift:
        out.say("drift", path=item.path, change="deleted" if item.actual_sha is None else "edited")
    return out.summary("status", EXIT_OK, walked=True, done=sum(1 for r in rows if r.status == PASSED),
                       steps=len(rows), drift=len(drift))


def cmd_check(args) -> int:
    engine = peek_engine(args)          # checks only read: no lock, no state directory made
    rows = engine.prerequisites(timeout=args.timeout)
    failed = sum(1 for row in rows if not row.result.ok)
    if args.json:
        from wizard.machine import JsonLines, check_fields

        out = JsonLines()
        for row in rows:
            out.say("check", step=row.place, **check_fields(row.result))
        return out.summary("check", EXIT_FAILED if failed else EXIT_OK, checks=len(rows), failed=failed)
    printer = Printer(True)
    for row in rows:
        printer.say(row.line())
    printer.say(f"{len(rows) - failed} of {len(rows)} checks passed"
                + (f"; {failed} to fix (each says how)" if failed else ""))
    return EXIT_FAILED if failed else EXIT_OK


def cmd_audit(args) -> int:
    """The public mail testers' battery, run against this server from the walk's vantage point."""
    from wizard.context import EngineError

    from wizard.audit.battery import check_names

    unknown = [name for name in args.check if name not in check_names()]
    if unknown:
        raise EngineError(f"the audit has no check {', '.join(unknown)}; its checks are: {', '.join(check_names())}")
    if args.timeout <= 0:
        raise EngineError("--timeout must be a number of seconds above 0.")
    engine = peek_engine(args)          # the audit only reads and sends probes: no lock
    if not engine.has_answers:
        raise EngineError("the audit needs the walk's answers (its domain, server and vantage point): "
                          "give them with --answers FILE, or walk first.")
    if args.format == "text" and not args.output:
        Printer(False).say(f"auditing {args.domain or engine.answers.maildomain} ({args.timeout:g} s per wait)…")
    audit = engine.audit(args.timeout, domain=args.domain or "", only=tuple(args.check))
    text = {"text": lambda: audit.to_text(args.verbose), "json": audit.to_json, "junit": audit.to_junit}[args.format]()
    if args.output:
        System().write_file(Path(args.output).resolve(), text)
        print(f"audit written to {args.output}: {audit.summary()}")
    else:
        print(text, end="")
    return EXIT_OK if audit.ok else EXIT_FAILED


def cmd_grade(args) -> int:
    """The box's grade now: every finished chapter proven again, the history's counts; or, with
    --from DIR, a class's grades (each box's grade.json in DIR) as one CSV, JUnit or JSON."""
    from wizard import grading
    from wizard.context import EngineError

    if args.unreachable and not args.source:
        raise EngineError("--unreachable names a box of a class: give the folder of its grades with --from DIR.")
    if args.source:
        folder = Path(args.source)
        graded = grading.read_class(folder, tuple(args.unreachable))
        reports = {g["box"] for g in graded if g.get("reached", True) and (folder / f"{g['box']}-report.html").is_file()}
        text = {"json": grading.class_json, "junit": grading.class_junit, "csv": grading.class_csv,
                "html": lambda grades: grading.class_html(grades, reports)}[args.format](graded)
        return _written(args, text, f"{len(graded)} box(es)", EXIT_OK)
    engine = peek_engine(args)          # reads, and probes: nothing written but the grade's file
    try:
        graded = grading.grade(engine, box=args.box)
    finally:
        engine.close()
    text = {"json": grading.to_json, "junit": grading.to_junit, "csv": grading.to_csv,
            "html": lambda one: grading.class_html([one])}[args.format](graded)
    totals = graded["totals"]
    said = (f"{totals['passing']} of {totals['chapters']} chapters passing now, {totals['failing']} failing, "
            f"{totals['not_reached']} not reached")
    return _written(args, text, said, EXIT_OK if not totals["failing"] else EXIT_FAILED)


def _written(args, text: str, said: str, code: int) -> int:
    if args.output:
        System().write_file(Path(args.output).resolve(), text)
        print(f"grade written to {args.output}: {said}")
    else:
        print(text, end="")
    return code


def cmd_undo(args) -> int:
    from wizard.machine import JsonLines

    out = JsonLines() if args.json else None
    with open_engine(args, need_answers=True, printer=out) as engine:
        outcome = engine.undo(args.step)
    code = EXIT_OK if outcome.status != "failed" else EXIT_FAILED
    return out.summary("undo", code, step=outcome.step, status=outcome.status) if out else code


def cmd_reset(args) -> int:
    from wizard.machine import JsonLines

    printer, out = Printer(False), JsonLines() if args.json else None

    def said(text: str, code: int, reset: bool = False) -> int:
        if out:
            return out.summary("reset", code, reset=reset, message=text)
        if text:
            printer.say(text)
        return code

    confirm = make_confirm(args.yes)
    if not args.yes and not sys.stdin.isatty():
        return said("reset puts back the original files and forgets the walk; "
                    "run it again with --yes to confirm.", EXIT_REFUSED)
    with open_engine(args, need_answers=False, printer=out or printer) as engine:
        if not engine.state.originals and not engine.store.exists:
            return said("nothing to reset: mailwizard has not changed anything here.", EXIT_OK)
        if not confirm("Put back every original file and forget the walk?", True):
            return said("nothing changed.", EXIT_REFUSED)
        engine.reset()
    return said("", EXIT_OK, reset=True)


def read_new_password(address: str) -> str:
    """Asked twice without echo on a terminal; one line from stdin in a script. Never an argument:
    a password on the command line shows in `ps` and in the shell's history."""
    from wizard.context import EngineError
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {address}: ")
        if first != getpass.getpass("again: "):
            raise EngineError("the two passwords differ; nothing changed.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_user(args) -> int:
    from wizard.context import EngineError
    from wizard.session import SessionOptions, peek_session

    printer = Printer(False)
    if args.action == "list":
        # The walk's own mailboxes (with `user` changes), never those of an --answers file.
        engine = peek_session(SessionOptions(root=args.root))
        if not engine.has_answers:
            printer.say("no mailboxes yet: the walk has not started.")
            return EXIT_OK
        for user in engine.answers.users:
            printer.say(user.address)
        return EXIT_OK
    if not args.address:
        raise EngineError(f"say which mailbox: `mailwizard user {args.action} ADDRESS`.")
    with open_engine(args, printer=printer) as engine:
        password = read_new_password(args.address) if args.action in ("add", "passwd") else ""
        printer.say(engine.change_user(args.action, args.address, password))
    return EXIT_OK


def cmd_report(args) -> int:
    from wizard.context import EngineError
    from wizard.report import html_report, markdown
    from wizard.session import SessionOptions, peek_session

    # The walk as the state has it (its answers, not --answers'), seen from where it ran: with
    # --lab, inside the lab, whose own CA and vantage point it used.
    engine = peek_session(SessionOptions(root=args.root, lab=bool(args.lab)))
    if not engine.has_answers:
        raise EngineError("no walk to report yet: run one first (`mailwizard run --answers FILE`).")
    text = (html_report if args.format == "html" else markdown)(engine)
    if args.output:
        Path(args.output).write_text(text)
        print(f"report written to {args.output}")
    else:
        print(text, end="")
    return EXIT_OK


def cmd_exercise(args) -> int:
    from wizard import exercises
    from wizard.context import EngineError

    printer = Printer(False)
    if args.action == "list":
        for exercise in exercises.catalogue():
            printer.say(f"{exercise.name:<34} {exercise.title}")
        return EXIT_OK
    with open_engine(args, printer=printer) as engine:
        if args.action == "start":
            if not args.name:
                raise EngineError("say which: `mailwizard exercise start NAME` (`exercise list`).")
            printer.say(f"Something is wrong. A user reports: \"{exercises.start(engine, args.name)}\"")
            printer.say("Find it and fix it; `mailwizard exercise check` tells you when it works.")
            return EXIT_OK
        if args.action == "check":
            fixed, lines = exercises.check(engine)
            for line in lines:
                printer.say(line)
            return EXIT_OK if fixed else EXIT_FAILED
        printer.say(exercises.give_up(engine))
    return EXIT_OK


def cmd_why(args) -> int:
    """`why TARGET`: the message's path through the logs and one line on what became of it."""
    from wizard.tracing import DELIVERED, describe, not_found, why

    printer = Printer(True)
    # Only the logs are read: no walk, no answers, no engine (a busy box's logs are big enough).
    found, missing, since = why(System.at(getattr(args, "root", None)), args.target)
    if args.json:
        from wizard.machine import JsonLines

        out = JsonLines()
        for line in missing:
            out.say("unreadable", text=line)
        if found is None:
            return out.summary("why", EXIT_FAILED, target=args.target, found=False, said=not_found(args.target, since))
        return out.summary("why", EXIT_OK if found.outcome == DELIVERED else EXIT_FAILED, target=args.target,
                           found=True, queue_id=found.queue_id, outcome=found.outcome, verdict=found.verdict,
                           path=list(found.path), others=found.others)
    for line in missing:
        printer.say(f"note: {line}; what follows is from the rest")
    if found is None:
        printer.say(not_found(args.target, since))
        return EXIT_FAILED
    for line in describe(found):
        printer.say(line)
    return EXIT_OK if found.outcome == DELIVERED else EXIT_FAILED


def cmd_errata(args) -> int:
    from wizard.resources import read_text

    print(read_text("errata.md"), end="")
    return EXIT_OK


def cmd_answers(args) -> int:
    """`answers init [FILE]`: a commented answers file to fill in, never over one that exists;
    `answers check FILE`: read and checked, nothing on the box touched; `answers schema`: the
    answers file as JSON Schema, built from the chapters' own tables."""
    return {"init": _answers_init, "check": _answers_check, "schema": _answers_schema}[args.action](args)


def _answers_init(args) -> int:
    from wizard.answers import chapters_example
    from wizard.resources import read_text

    target = Path(args.file or "answers.toml")
    if target.exists() or target.is_symlink():
        print(f"mailwizard: {target} exists already; it was left as it is. Edit it, or name another "
              "file: `mailwizard answers init FILE`.", file=sys.stderr)
        return EXIT_REFUSED
    System().write_file(target.absolute(), read_text("answers-template.toml") + chapters_example(), mode=0o600)
    print(f"wrote {target}: fill in the lines marked FILL (your mail domain and a mailbox), then "
          f"`mailwizard --answers {target}` (or `mailwizard run --answers {target}`).")
    return EXIT_OK


def _answers_check(args) -> int:
    """The file read by the walk's own rules (passwords not hashed: nothing is made or kept)."""
    named = args.file or args.answers
    if not named:
        print("mailwizard: name the answers file to check: `mailwizard answers check FILE`.", file=sys.stderr)
        return EXIT_REFUSED
    answers = load_answers(named, hash_passwords=False)     # an AnswersError is told by main()
    tables = ", ".join(f"[{key}]" for key, _ in answers.tables) or "none"
    print(f"{named}: usable. Mail domain {answers.maildomain}, server {answers.fqdn}, "
          f"{len(answers.users)} mailbox{'es' if len(answers.users) != 1 else ''}; chapters' tables: {tables}.")
    return EXIT_OK


def _answers_schema(args) -> int:
    import json

    from wizard.answers import answers_schema

    print(json.dumps(answers_schema(), indent=2))
    return EXIT_OK


def lab_plan(args):
    """The lab's names and addresses: from --answers, else the walk's answers, else the lab this
    process runs in, else the default lab (named MAILWIZARD_LAB when that is set)."""
    import dataclasses

    from wizard.answers import Answers, parse_lab
    from wizard.lab.network import LAB_ENV, LabPlan, lab_we_are_in

    if getattr(args, "answers", None):
        # Only names and addresses are wanted here: the passwords need not be hashed.
        return LabPlan.from_answers(load_answers(args.answers, hash_passwords=False))
    record = StateStore(System()).load().answers
    if record:
        return LabPlan.from_answers(Answers.from_record(record))
    named = {"name": os.environ[LAB_ENV]} if os.environ.get(LAB_ENV) else {}
    lab = lab_we_are_in() or parse_lab(named)
    return LabPlan.from_answers(dataclasses.replace(Answers(), lab=tuple(lab.items())))


def cmd_lab(args) -> int:
    from wizard.lab.network import Lab, LabError

    printer = Printer(False)
    if args.root:
        printer.say("the lab builds network namespaces on this box; it has no sandbox (--root).")
        return EXIT_REFUSED
    lab = Lab(System(), lab_plan(args))
    try:
        if args.action in ("up", "down", "status"):
            if args.address:
                raise LabError(f"`lab {args.action}` takes no address.")
            lines = {"up": lab.up, "down": lab.down, "status": lab.status}[args.action]()
        else:
            lines = lab_world(args, lab)
    except LabError as exc:
        print(f"mailwizard lab: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    for line in lines:
        printer.say(line)
    if args.action == "up":
        printer.say("now: `mailwizard run --lab --answers FILE` (or `mailwizard --lab`) walks the "
                    "steps inside the lab; `mailwizard lab down` removes it.")
    return EXIT_OK


def lab_world(args, lab) -> list[str]:
    """A teacher's hand on the lab's outside: the walk's DNS records published into the lab's zone
    (as a registrar would) or taken out, the outside mail server strict or lenient, the CA
    stopped, port 80 closed by a firewall, a renewal forced."""
    from wizard.lab.network import LabError, publish, set_receiver

    if not lab.is_up():
        raise LabError(f"the lab '{lab.plan.name}' is not up: run `mailwizard lab up` first.")
    if args.action in ("list", "unlist", "blocklist-refuses", "blocklist-answers"):
        return [block_list_change(args, lab.plan)]
    if args.action == "renew":
        return lab.renew()
    if args.action == "stop-ca":
        return [lab.stop_acme()]
    if args.action in ("block-80", "open-80"):
        return [lab.block_port_80(args.action == "block-80")]
    if args.action in ("block-25", "open-25"):
        return [lab.block_outbound_25(args.action == "block-25")]
    if args.action in ("strict", "lenient"):
        set_receiver(lab.plan, args.action)
        return [f"the outside mail server {lab.plan.exthost} is now {args.action}"]
    if args.action == "unpublish":
        publish(lab.plan, [])
        return ["the lab's DNS serves none of the walk's records now"]
    engine = peek_engine(args)
    if engine.answers is None:
        raise LabError("publish needs the walk's answers: give them with --answers FILE.")
    rows = engine.zone_records()
    publish(lab.plan, rows)
    return [f"published in the lab's DNS: {name} {rdtype} {value if len(value) < 70 else value[:66] + ' …'}"
            for name, rdtype, value in rows]


def block_list_change(args, plan) -> str:
    """`lab list ADDRESS`, `lab unlist ADDRESS`: who the lab's block list lists;
    `lab blocklist-refuses` / `blocklist-answers`: whether it answers at all (Spamhaus' trap)."""
    import ipaddress

    from wizard.lab.network import LabError, set_blocklist

    if args.action.startswith("blocklist-"):
        refuses = args.action == "blocklist-refuses"
        set_blocklist(plan, refuses=refuses)
        return (f"{plan.blocklist} now answers every query with 127.255.255.254, as Spamhaus answers "
                "queries that come through public resolvers" if refuses else f"{plan.blocklist} answers again")
    try:
        address = str(ipaddress.IPv4Address(args.address or ""))
    except ValueError:
        raise LabError(f"`lab {args.action}` needs an IPv4 address, like {plan.dns_address}.") from None
    listed = [a for a in plan.blocklist_state()["listed"] if a != address]
    set_blocklist(plan, listed=listed + [address] if args.action == "list" else listed)
    return f"{plan.blocklist} " + ("now lists " if args.action == "list" else "no longer lists ") + address


def enter_lab(args, argv: list[str]) -> int | None:
    """With --lab, run this same command again inside the lab's mail namespace.

    Postfix, Dovecot and every check then see the lab's DNS; probes "from outside" start in the
    external namespace. Returns an exit code when it cannot, None when already inside.
    """
    from wizard.lab.network import LAB_ENV, Lab, current_netns_is

    plan = lab_plan(args)
    if current_netns_is(plan.mail_ns):
        return None
    lab = Lab(System(), plan)
    example = not args.answers and not StateStore(System()).exists
    if example and not args.root:
        missing, selections = packages_for_the_lab()
        if missing:
            code = install_for_the_lab(args, missing, selections)
            if code is not None:
                return code
    if plan.mail_ns not in lab.namespaces() and example:
        # `--lab` with nothing else, on a box with no walk: the whole tutorial in the lab.
        from wizard.lab.network import LabError

        print(f"mailwizard: building the lab '{plan.name}' first (`mailwizard lab down` removes it):", flush=True)
        try:
            for line in lab.up():
                print(f"    {line}", flush=True)
        except LabError as exc:
            print(f"mailwizard: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if plan.mail_ns not in lab.namespaces():
        print(f"mailwizard: the lab '{plan.name}' is not up: run `mailwizard lab up` first "
              "(with the same --answers).", file=sys.stderr)
        return EXIT_REFUSED
    if not lab.is_up():
        print(f"mailwizard: warning: the lab '{plan.name}' is damaged ({'; '.join(lab.status()[1:3])}); "
              "the probes from outside will fail. `mailwizard lab down` then `lab up` rebuilds it.",
              file=sys.stderr)
    env = dict(os.environ, **{LAB_ENV: plan.name})
    os.execvpe("ip", ["ip", "netns", "exec", plan.mail_ns, sys.executable, "-m", "wizard", *argv], env)
    return EXIT_FAILED      # not reached: exec replaced us


def packages_for_the_lab() -> tuple[list[str], str]:
    """The Debian packages a lab walk on its example answers installs and this box lacks (the
    chapters those answers take, as the lab takes them: with its own CA), and the debconf
    answers those chapters give apt."""
    from wizard.answers import lab_example
    from wizard.config import fill
    from wizard.session import chapters

    values = lab_example().in_a_lab().values()
    taken = [step for step in chapters() if step.applies(values) and step.packages]
    system = System()
    missing = [p for step in taken for p in step.packages
               if "install ok installed" not in system.query(["dpkg-query", "-W", "-f=${Status}", p]).stdout]
    selections = "".join(fill(line, values) + "\n" for step in taken for line in step.debconf)
    return missing, selections


def install_for_the_lab(args, missing: list[str], selections: str) -> int | None:
    """Inside the lab apt reaches no mirror, so what the walk installs is installed first, here,
    with the user's consent (--yes, or a yes at the terminal); None once it is, else the exit code."""
    from wizard.packages import install_outside_the_lab, other_mta

    system = System()
    command = f"apt-get install {' '.join(missing)}"
    holder = other_mta(system) if "postfix" in missing else None
    replaces = (f" {holder[0]} (from {holder[1]}) holds port 25: apt removes {holder[1]}, which "
                "Postfix replaces." if holder else "")
    said = (f"the walk needs {' '.join(missing)}, and the lab's network reaches no package mirror, "
            f"so they are installed first, on this box (`{command}`).{replaces}")
    if getattr(args, "yes", False):
        agreed = True
    elif sys.stdin.isatty():
        agreed = input(f"mailwizard: {said} Install them now? [y/N] ").strip().lower() in ("y", "yes")
    else:
        agreed = False
    if not agreed:
        # Refused before anything is made.
        print(f"mailwizard: {said} Run `{command}` yourself, or the same command again with --yes "
              "(`mailwizard run --lab --yes`) or at a terminal to say yes.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"mailwizard: installing {' '.join(missing)} for the lab ({command}):", flush=True)
    problem = install_outside_the_lab(system, missing, selections,
                                      on_line=lambda line: print(f"    {line}", flush=True))
    if problem:
        print(f"mailwizard: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return None


# ---- parsing ------------------------------------------------------------------------------------

def _common_options(default) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", metavar="DIR", default=default,
                        help="sandbox: write every file under DIR, reload and probe nothing")
    common.add_argument("--answers", metavar="FILE", default=default,
                        help="the answers file (TOML, see README)")
    common.add_argument("--teaching", action="store_true", default=default,
                        help="teaching mode: where the tutorial shows an error before its fix, "
                             "walk through that error (a walk remembers its path)")
    common.add_argument("--straight", action="store_true", default=default,
                        help="go straight to each working step (the first walk's path): "
                             "changes a teaching walk's chapters not yet begun")
    common.add_argument("--lab", action="store_true", default=default,
                        help="run inside the lab (see `mailwizard lab up`): its DNS, its outside host")
    return common


def build_parser() -> argparse.ArgumentParser:
    # The options work before or after the command; after it they must not reset what came before.
    common = _common_options(None)
    after = _common_options(argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="mailwizard", parents=[common],
        description="Set up Postfix and Dovecot on Debian, one proven step at a time.")
    parser.add_argument("--version", action="version", version=f"mailwizard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", parents=[after], help="walk the steps headless, proving each one")
    run.add_argument("--through", metavar="STEP", help="stop after this step")
    run.add_argument("--yes", action="store_true", help="do not ask before applying, even over hand edits")
    run.add_argument("-v", "--verbose", action="store_true", help="show diffs and probe transcripts")
    _json_flag(run)
    run.set_defaults(func=cmd_run)

    plan = sub.add_parser("plan", parents=[after], help="what run would do, nothing written: the steps, "
                          "their file changes, drift")
    plan.add_argument("--through", metavar="STEP", help="plan up to this step")
    plan.add_argument("-v", "--verbose", action="store_true", help="show the diffs")
    _json_flag(plan)
    plan.set_defaults(func=cmd_plan)

    answers = sub.add_parser("answers", parents=[after],
                             help="answers files: init [FILE] writes one to fill in, check FILE reads one "
                                  "without touching the box, schema prints their JSON Schema")
    answers.add_argument("action", choices=("init", "check", "schema"))
    answers.add_argument("file", nargs="?", metavar="FILE",
                         help="init: where to write it (default answers.toml); check: the file to read")
    answers.set_defaults(func=cmd_answers)

    status = sub.add_parser("status", parents=[after], help="progress and drift")
    _json_flag(status)
    status.set_defaults(func=cmd_status)

    check = sub.add_parser("check", parents=[after], help="prerequisite checks only")
    check.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"how long any one check may wait (default {DEFAULT_TIMEOUT:g} s); "
                            "all checks run at once")
    _json_flag(check)
    check.set_defaults(func=cmd_check)

    audit = sub.add_parser("audit", parents=[after], help="what the public mail testers check (relay, "
                           "TLS, SPF/DKIM/DMARC, reverse DNS...), run against this server from outside")
    audit.add_argument("domain", nargs="?", help="audit this domain's MX instead of the walk's domain")
    audit.add_argument("--format", choices=("text", "json", "junit"), default="text",
                       help="text (default), json (internet.nl's API v2 shape) or junit (a testsuite per category)")
    audit.add_argument("--output", metavar="FILE", help="write it here (default: print it)")
    audit.add_argument("--timeout", type=float, default=AUDIT_TIMEOUT, metavar="SECONDS",
                       help=f"how long one network wait may take (default {AUDIT_TIMEOUT:g} s); checks run at once")
    audit.add_argument("--check", action="append", default=[], metavar="NAME",
                       help="only this check (repeatable): relay-25, smuggling, tls-587, spf, dkim, ... "
                            "(a wrong name lists them all); the last full audit is kept for the report")
    audit.add_argument("-v", "--verbose", action="store_true", help="show the evidence of every row")
    audit.set_defaults(func=cmd_audit)

    grade = sub.add_parser("grade", parents=[after], help="the box's grade: each finished chapter proven "
                           "again now, with the attempts, undos, exercises and hints of its history")
    grade.add_argument("--format", choices=("json", "junit", "csv", "html"), default="json",
                       help="json (the canonical grade, default), junit (a testcase per probe), csv (one row) "
                            "or html (the class page: boxes × chapters)")
    grade.add_argument("--output", metavar="FILE", help="write it here (default: print it)")
    grade.add_argument("--box", default="", metavar="NAME", help="the box's name in the grade (default: its host name)")
    grade.add_argument("--from", dest="source", metavar="DIR",
                       help="a class: every box's grade.json in DIR, as one CSV (a row a box), JUnit (a "
                            "testsuite a box) or JSON; nothing is proven")
    grade.add_argument("--unreachable", action="append", default=[], metavar="BOX",
                       help="with --from: this box could not be reached (repeatable); its row says so, "
                            "whatever older grade of it the folder holds")
    grade.set_defaults(func=cmd_grade)

    undo = sub.add_parser("undo", parents=[after], help="roll back the last (or the named) step")
    undo.add_argument("step", nargs="?", help="roll back this step and every step after it")
    _json_flag(undo)
    undo.set_defaults(func=cmd_undo)

    reset = sub.add_parser("reset", parents=[after], help="original files back, state cleared")
    reset.add_argument("--yes", action="store_true", help="do not ask")
    _json_flag(reset)
    reset.set_defaults(func=cmd_reset)

    report = sub.add_parser("report", parents=[after], help="the whole walk as one document")
    report.add_argument("--format", choices=("md", "html"), default="md")
    report.add_argument("--output", metavar="FILE", help="write it here (default: print it)")
    report.set_defaults(func=cmd_report)

    exercise = sub.add_parser("exercise", parents=[after], help="break-and-fix exercises on a finished server")
    exercise.add_argument("action", choices=("list", "start", "check", "give-up"))
    exercise.add_argument("name", nargs="?", help="the exercise to start")
    exercise.set_defaults(func=cmd_exercise)

    errata = sub.add_parser("errata", parents=[after], help="every place mailwizard differs from the tutorial, and why")
    errata.set_defaults(func=cmd_errata)

    why = sub.add_parser("why", parents=[after], help="what became of a mail: its path through the logs, "
                         "and what to do")
    why.add_argument("target", help="a queue id (5B8E91623B8), a Message-ID (<...>) or an address")
    _json_flag(why)
    why.set_defaults(func=cmd_why)

    user = sub.add_parser("user", parents=[after], help="more mailboxes: add, passwd, del, list")
    user.add_argument("action", choices=("add", "passwd", "del", "list"))
    user.add_argument("address", nargs="?", help="the mailbox, user@MAILDOMAIN (the password is asked, "
                      "or read from stdin; never given here)")
    user.set_defaults(func=cmd_user)

    lab = sub.add_parser("lab", parents=[after], help="the classroom lab: a simulated internet "
                         "in network namespaces")
    lab.add_argument("action", choices=("up", "down", "status", "publish", "unpublish", "strict", "lenient",
                                        "renew", "stop-ca", "block-80", "open-80", "block-25", "open-25",
                                        "list", "unlist", "blocklist-refuses", "blocklist-answers"))
    lab.add_argument("address", nargs="?", default="", help="for list and unlist: the client address")
    lab.set_defaults(func=cmd_lab)
    return parser


def _json_flag(command) -> None:
    command.add_argument("--json", action="store_true",
                         help="one JSON object per line (the README's \"Machine interface\"), a summary last")


def no_tui_here(args) -> int:
    print("mailwizard: the interactive wizard starts with `mailwizard` (or `python -m wizard`); "
          "this entry point runs the commands (see --help).", file=sys.stderr)
    return EXIT_REFUSED


def refusals() -> tuple[type[Exception], ...]:
    """The errors that refuse a command before it changes anything. An except clause names them
    only once something was raised, so a command that never opens a walk (`why`, `errata`) does
    not import the engine's modules to be ready for them."""
    from wizard.context import EngineError

    return AnswersError, EngineError, StateError


def main(argv: list[str] | None = None, start_tui: Callable[[argparse.Namespace], int] = no_tui_here) -> int:
    """Parse and run a command; without one, `start_tui` (the launcher, wizard/__main__.py,
    hands in the TUI: the two faces never import each other)."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    func = getattr(args, "func", start_tui)
    if getattr(args, "teaching", False) and getattr(args, "straight", False):
        print("mailwizard: --teaching and --straight name two paths; give one of them.", file=sys.stderr)
        return EXIT_REFUSED
    if not args.root and os.geteuid() != 0 and args.command not in (None, "status", "errata", "report", "why", "answers") and \
            not (args.command == "exercise" and args.action == "list") and \
            not (args.command == "grade" and args.source):      # a class's grades: files only
        print("mailwizard changes system files and daemons: run it as root (sudo), "
              "or try it in a sandbox with --root DIR.", file=sys.stderr)
        return EXIT_REFUSED
    try:
        if args.lab and args.command != "lab" and not args.root:
            code = enter_lab(args, argv)
            if code is not None:
                return code
    except refusals() as exc:
        print(f"mailwizard: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        return func(args)
    except refusals() as exc:
        return _stopped(args, f"mailwizard: {exc}", EXIT_REFUSED, refused=str(exc))
    except AssetMissing as exc:
        return _stopped(args, f"mailwizard: {exc}", EXIT_FAILED, failed=str(exc))
    except KeyboardInterrupt:
        return _stopped(args, "\nmailwizard: interrupted; run the same command again to resume.", EXIT_FAILED,
                        interrupted=True)
    except OSError as exc:
        # Writes are atomic: whatever failed, the file it was replacing is still whole.
        where = f" {exc.filename}" if exc.filename else ""
        said = (f"cannot write{where}: {exc.strerror or exc}. Nothing was half-written: every file is as it "
                "was before this write. Fix that (free space, a writable directory), then run the same "
                "command again to carry on.")
        return _stopped(args, f"mailwizard: {said}", EXIT_FAILED, failed=said)


def _stopped(args, said: str, code: int, **why) -> int:
    """A command stopped before its end: said on stderr; with --json also the summary, so the
    lines stay whole and the last one says how it ended."""
    print(said, file=sys.stderr)
    if getattr(args, "json", False):
        from wizard.machine import JsonLines

        JsonLines().summary(args.command, code, **why)
    return code


if __name__ == "__main__":
    sys.exit(main())
