"""The Textual app's Checks screen on a finished lab server (run inside the lab's mail namespace,
as `mailwizard --lab` runs): the rows it shows, as JSON for tests/test_certificate.py to judge.

Usage: ip netns exec NAME-mail python tests/tui_checks_scenario.py ANSWERS
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sessions import open_engine  # noqa: E402
from pilot_wait import close_opening_dialogs, waiter  # noqa: E402
from wizard.tui.app import WizardApp  # noqa: E402
from wizard.tui.dialogs import PrerequisitesScreen  # noqa: E402

seen: dict = {"rows": []}
until = waiter(seen, 60)


async def checks(answers: str) -> None:
    engine = open_engine(None, Path(answers), lab=True)
    app = WizardApp(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: bool(app.query("#steps")))
        await close_opening_dialogs(app, pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PrerequisitesScreen)
                    and bool(getattr(app.screen, "results", None)))
        seen["rows"] = [[row.place, r.name, r.found, r.ok] for row, r in zip(app.screen.rows, app.screen.results)]
    engine.close()


if __name__ == "__main__":
    asyncio.run(checks(sys.argv[1]))
    print(json.dumps(seen))
