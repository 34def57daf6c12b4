"""The headless face: `mailwizard run|status|check|undo|reset` and the rest, and the TUI when no
command is given (handed in by the launcher). One module a group of commands: `walk` (run, plan,
status, check, undo, reset, user), `results` (audit, grade, report, exercise, why, errata),
`answers_file` (answers init|check|schema), `lab` (the lab, and a command re-run inside it);
`parser` the command line, `common` what they share.

Exit codes: 0 everything met its expectation; 1 a step or probe failed; 2 refused before
anything changed (bad input, a missing package, another wizard running...).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from wizard.cli.common import EXIT_FAILED, EXIT_REFUSED, stopped, no_tui_here, refusals
from wizard.cli.lab import enter_lab
from wizard.cli.parser import build_parser
from wizard.resources import AssetMissing

__all__ = ["build_parser", "main"]


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
        return stopped(args, f"mailwizard: {exc}", EXIT_REFUSED, refused=str(exc))
    except AssetMissing as exc:
        return stopped(args, f"mailwizard: {exc}", EXIT_FAILED, failed=str(exc))
    except KeyboardInterrupt:
        return stopped(args, "\nmailwizard: interrupted; run the same command again to resume.", EXIT_FAILED,
                        interrupted=True)
    except OSError as exc:
        # Writes are atomic: whatever failed, the file it was replacing is still whole.
        where = f" {exc.filename}" if exc.filename else ""
        said = (f"cannot write{where}: {exc.strerror or exc}. Nothing was half-written: every file is as it "
                "was before this write. Fix that (free space, a writable directory), then run the same "
                "command again to carry on.")
        return stopped(args, f"mailwizard: {said}", EXIT_FAILED, failed=said)


if __name__ == "__main__":
    sys.exit(main())
