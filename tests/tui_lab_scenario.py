"""A user's session in the Textual app against the real daemons, run inside the lab's mail
namespace (where `mailwizard --lab` runs): the Postfix chapters by key, a quit while a Dovecot step
is in the middle of its probes, then a second start that resumes there. Prints what it saw as
JSON for tests/test_tui_lab.py to judge.

Usage (as the test runs it): ip netns exec NAME-mail python tests/tui_lab_scenario.py ANSWERS
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wizard.engine import Engine  # noqa: E402
from wizard.events import ProbeStarted  # noqa: E402
from sessions import open_engine  # noqa: E402
from pilot_wait import waiter  # noqa: E402
from wizard.tui.app import WizardApp  # noqa: E402

POSTFIX_CHAPTERS = ("prereq", "install", "postfix-blank", "postfix-names")
seen: dict = {"paths": [], "done": [], "transcript": [], "log": []}


def lab_engine(answers: str) -> Engine:
    return open_engine(None, Path(answers), lab=True)


until = waiter(seen, 120)


async def first_session(answers: str) -> None:
    engine = lab_engine(answers)
    app = WizardApp(engine)
    quit_pressed = threading.Event()
    original = app.show_event

    def watching(event) -> None:
        original(event)
        if isinstance(event, ProbeStarted):
            seen["paths"].append([event.step, list(app.query_one("MailFlow").travelled)])

    app.show_event = watching

    def hold_at_dovecot_probe(event) -> None:
        # The step is in the middle of its probes: wait here until the user has pressed q.
        if isinstance(event, ProbeStarted) and event.step == "dovecot-imap":
            quit_pressed.wait(timeout=20)

    engine.listen(hold_at_dovecot_probe)     # heard after the app's own listener
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        for step_id in POSTFIX_CHAPTERS + ("vmail",):
            assert engine.steps[app.query_one("#steps").index].id == step_id
            await pilot.press("r")
            await until(pilot, lambda: not app.busy and engine.state.status_of(step_id) != "applying")
            seen["done"].append([step_id, engine.state.status_of(step_id)])
            if step_id == "postfix-names":          # the Probe tab holds the last run's dialogue
                seen["transcript"] = list(app.query_one("#probe").plain)
            await pilot.press("n")
        app.query_one("#steps").index = engine.index("postfix-names")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        seen["log"] = list(app.query_one("#daemon-log").lines)
        app.query_one("#steps").index = engine.index("dovecot-imap")
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: any(p[0] == "dovecot-imap" for p in seen["paths"]))
        await pilot.press("q")
        quit_pressed.set()
        await until(pilot, lambda: not app.is_running or not app.busy, seconds=60)
    seen["after_quit"] = {"status": engine.state.status_of("dovecot-imap"),
                          "message": engine.state.steps.get("dovecot-imap", {}).get("message", "")}
    engine.close()


async def second_session(answers: str) -> None:
    engine = lab_engine(answers)
    app = WizardApp(engine)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#resume-text")))
        seen["resume_text"] = str(app.screen.query_one("#resume-text").render())
        await pilot.press("enter")
        await until(pilot, lambda: not app.screen.query("#resume-text"))
        seen["resumed_at"] = engine.steps[app.query_one("#steps").index].id
        await pilot.press("r")
        # Until the step has an outcome (pending before the key's turn, applying while it runs).
        await until(pilot, lambda: not app.busy and engine.state.status_of("dovecot-imap") not in ("pending", "applying"))
    seen["after_resume"] = engine.state.status_of("dovecot-imap")
    seen["states"] = {row.step.id: row.status for row in engine.views()}
    engine.close()


if __name__ == "__main__":
    asyncio.run(first_session(sys.argv[1]))
    asyncio.run(second_session(sys.argv[1]))
    print(json.dumps(seen))
