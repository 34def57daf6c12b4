"""The walk's commands: run, plan, status, check, undo, reset, user."""

from __future__ import annotations

import sys

from wizard import __version__
from wizard.cli.common import (EXIT_FAILED, EXIT_OK, EXIT_REFUSED, Printer, ask_on_stderr, make_confirm,
                               open_engine, peek_engine, read_new_password)
from wizard.state import StateStore
from wizard.statuses import BLOCKED, PASSED, PROBE_STATUSES, step_status


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
