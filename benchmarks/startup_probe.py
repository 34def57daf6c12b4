"""One start-up measurement: build an app, run it headless until its first screen is painted,
exit. `wizard` is mailwizard's own app over a sandbox engine; `bare` is a Textual app that paints
one widget — the floor. Prints the seconds from interpreter start to first paint."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()


def bare_app():
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

    return Bare()


def wizard_app(root: Path):
    from steps import ALL_STEPS
    from wizard.answers import parse_answers
    from wizard.engine import Engine
    from wizard.system import System
    from wizard.tui.app import WizardApp

    engine = Engine(System(root), parse_answers({"maildomain": "example.test"}), ALL_STEPS)
    engine.open()
    return WizardApp(engine)


async def first_paint(app) -> float:
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        return time.perf_counter() - START


def main() -> None:
    kind = sys.argv[1]
    with tempfile.TemporaryDirectory() as root:
        app = bare_app() if kind == "bare" else wizard_app(Path(root))
        seconds = asyncio.run(first_paint(app))
    import resource

    print(f"{seconds:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main()
