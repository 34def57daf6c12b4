"""What every command shares: the exit codes, the printer of the engine's events, the questions asked on the terminal, opening the engine (a walk, or a look at one), a command stopped before its end."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.answers import AnswersError
from wizard.state import StateError
from wizard.statuses import MET, MISSED, probe_status, step_status
from wizard.system import System

if TYPE_CHECKING:
    from wizard.engine import Engine
    from wizard.outcomes import ProbeResult


EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


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


def ask_on_stderr(question: str) -> str:
    """The manual vantage point's question with --json: stdout holds only the JSON lines."""
    print(question, file=sys.stderr, flush=True)
    try:
        return input()
    except EOFError:
        return ""


def written(args, text: str, said: str, code: int) -> int:
    if args.output:
        System().write_file(Path(args.output).resolve(), text)
        print(f"grade written to {args.output}: {said}")
    else:
        print(text, end="")
    return code


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


def stopped(args, said: str, code: int, **why) -> int:
    """A command stopped before its end: said on stderr; with --json also the summary, so the
    lines stay whole and the last one says how it ended."""
    print(said, file=sys.stderr)
    if getattr(args, "json", False):
        from wizard.machine import JsonLines

        JsonLines().summary(args.command, code, **why)
    return code
