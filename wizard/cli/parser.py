"""The command line: every command, its flags and their help."""

from __future__ import annotations

import argparse

from wizard import __version__
from wizard.cli.answers_file import cmd_answers
from wizard.cli.lab import cmd_lab
from wizard.cli.results import cmd_audit, cmd_errata, cmd_exercise, cmd_grade, cmd_report, cmd_why
from wizard.cli.walk import cmd_check, cmd_plan, cmd_reset, cmd_run, cmd_status, cmd_undo, cmd_user
from wizard.timeouts import AUDIT_TIMEOUT, DEFAULT_TIMEOUT


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
