"""The Textual app, by keys, over the session a user's `mailwizard` opens: a whole walk (started
with --answers, or through the form), or a look at a walk already finished. Prints what it saw as
JSON (the last line) for tests/test_cross_face.py.

Usage: python tests/cross_face_scenario.py walk|look ROOT-OR-"" ANSWERS-OR-"" [--lab] [--form]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wizard.session import SessionOptions, open_session  # noqa: E402
from pilot_wait import waiter  # noqa: E402
from wizard.tui.app import WizardApp  # noqa: E402

FORM = {"maildomain": "example.test", "mailhost": "mail", "address": "alice@example.test",
        "password": "123456", "password_again": "123456", "external_address": "bob@ext.test"}
seen: dict = {}


until = waiter(seen, 180)


async def fill_the_form(app, pilot) -> None:
    from textual.widgets import Input

    from wizard.tui.answers_form import AnswersScreen

    await until(pilot, lambda: isinstance(app.screen, AnswersScreen), 10)
    for name, value in FORM.items():
        box = app.screen.query_one(f"#field-{name}", Input)
        box.focus()
        box.value = ""
        await pilot.press(*value)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(app.screen, AnswersScreen), 10)


async def choose_path(app, pilot, key: str) -> None:
    """A first start asks which path: the tutorial's lessons (l) or straight (s)."""
    from wizard.tui.dialogs import PathDialog

    await until(pilot, lambda: isinstance(app.screen, PathDialog), 10)
    seen["path_asked"] = str(app.screen.query_one("#path-text").render())
    await pilot.press(key)
    await until(pilot, lambda: not isinstance(app.screen, PathDialog), 10)
    await pilot.pause()


async def walk(engine, form: bool) -> None:
    app = WizardApp(engine)
    path = "l" if "--lessons" in sys.argv else "s"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        if form and engine.has_answers:
            # In the lab with no answers the walk opens on the lab's own example answers; the
            # form is one key away, and the answers it saves are the walk's.
            seen["opened_on"] = engine.answers.source
            await choose_path(app, pilot, path)
            await pilot.press("a")
            await fill_the_form(app, pilot)
        elif form:
            await fill_the_form(app, pilot)
            await choose_path(app, pilot, path)
        else:
            await choose_path(app, pilot, path)
        seen["done"] = []
        for step in engine.steps:
            await until(pilot, lambda: engine.steps[app.query_one("#steps").index].id == step.id, 5)
            await pilot.press("r")
            await until(pilot, lambda: not app.busy and engine.state.status_of(step.id) not in ("pending", "applying"))
            seen["done"].append([step.id, engine.state.status_of(step.id)])
            if engine.state.status_of(step.id) != "passed":
                seen["failed"] = list(app.query_one("#probe").plain)[-40:]
                break
            await pilot.press("n")
        if app.screen.query("#ready-text"):           # the walk is through: the client settings
            seen["ready"] = str(app.screen.query_one("#ready-text").render())
        await pilot.press("q")


async def look(engine) -> None:
    app = WizardApp(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#resume-text")), 10)
        seen["resume_text"] = str(app.screen.query_one("#resume-text").render())
        await pilot.press("enter")
        await until(pilot, lambda: not app.screen.query("#resume-text"), 10)
        seen["selected"] = engine.steps[app.query_one("#steps").index].id
        steps = app.query_one("#steps")
        seen["marks"] = [steps.caption_of(option.id)[0] for option in steps.options]
        await pilot.press("q")


def main(what: str, root: str, answers: str, flags: list[str]) -> None:
    options = SessionOptions(root=root or None, answers=answers or None, lab="--lab" in flags)
    with open_session(options, need_answers=False) as engine:
        if what == "walk":
            asyncio.run(walk(engine, "--form" in flags))
        else:
            asyncio.run(look(engine))
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
