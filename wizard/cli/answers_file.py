"""`mailwizard answers init|check|schema`: the answers file written, checked and described, nothing touched."""

from __future__ import annotations

import sys
from pathlib import Path

from wizard.answers import load_answers
from wizard.cli.common import EXIT_OK, EXIT_REFUSED
from wizard.system import System


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
