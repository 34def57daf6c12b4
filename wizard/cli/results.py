"""What comes of a walk: the audit, a grade, the report, the exercises, `why` a message went where it went, the errata."""

from __future__ import annotations

from pathlib import Path

from wizard.cli.common import EXIT_FAILED, EXIT_OK, Printer, written, open_engine, peek_engine
from wizard.system import System


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
        return written(args, text, f"{len(graded)} box(es)", EXIT_OK)
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
    return written(args, text, said, EXIT_OK if not totals["failing"] else EXIT_FAILED)


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
