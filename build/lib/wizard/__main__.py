"""`mailwizard` and `python -m wizard`: the Textual wizard when no command is given, otherwise
the headless command. The only module that knows both faces (they never import each other)."""

from __future__ import annotations

import sys


def start_tui(args) -> int:
    try:
        from wizard.tui.app import run_app
    except ImportError:
        print("the interactive wizard is not available in this build; use `mailwizard run "
              "--answers FILE` (see `mailwizard --help`).", file=sys.stderr)
        return 2
    return run_app(args)


def main(argv: list[str] | None = None) -> int:
    from wizard import cli

    return cli.main(argv, start_tui=start_tui)


if __name__ == "__main__":
    sys.exit(main())
