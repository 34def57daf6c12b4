"""The audit in the Textual app, against the real daemons, run inside the lab's mail namespace
(where `mailwizard --lab` runs): `s` opens the audit screen, its rows come in, a finding's row
shows its fix and evidence. Prints what it saw as JSON for tests/test_audit.py to judge.

Usage (as the test runs it): ip netns exec NAME-mail python tests/tui_audit_scenario.py ANSWERS
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

seen: dict = {"rows": {}, "title": "", "detail": ""}
until = waiter(seen, 120)


async def session(answers: str) -> None:
    engine = open_engine(None, Path(answers), lab=True)
    app = WizardApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await close_opening_dialogs(app, pilot)
        await pilot.press("s")
        await until(pilot, lambda: type(app.screen).__name__ == "AuditScreen")
        screen = app.screen
        title = lambda: str(screen.query_one("#audit-title").render())    # noqa: E731
        await until(pilot, lambda: "required check" in title())
        seen["title"] = title()
        seen["rows"] = {row.id: row.status for row in screen.rows}
        seen["marks"] = [str(screen.query_one("#audit-rows").get_cell_at((i, 0))) for i in range(len(screen.rows))]
        wanted = next(i for i, row in enumerate(screen.rows) if row.id == "dmarc")
        screen.query_one("#audit-rows").move_cursor(row=wanted)
        await pilot.pause()
        seen["detail"] = str(screen.query_one("#audit-detail").render())
        await pilot.press("escape")
        await pilot.pause()
        seen["back"] = type(app.screen).__name__
    engine.close()


asyncio.run(session(sys.argv[1]))
print(json.dumps(seen))
