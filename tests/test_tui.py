"""The Textual face, driven by the Pilot in a sandbox (--root): same engine, nothing on the box."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import ANSWERS
from steps import ALL_STEPS
from wizard.answers import parse_answers
from wizard.engine import Engine
from wizard.system import System
from wizard.tui.app import WizardApp
from wizard.tui.step_list import StepItem

import tomllib


def make_engine(root: Path) -> Engine:
    answers = parse_answers(tomllib.loads(ANSWERS))
    return Engine(System(root), answers, ALL_STEPS).open()


async def wait_idle(app, pilot) -> None:
    for _ in range(200):
        await pilot.pause(0.05)
        if not app.busy:
            return
    raise AssertionError("the step did not finish")


def test_run_a_step_from_the_keyboard_and_see_it_done(tmp_path):
    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            first = app.query_one("#step-prereq", StepItem)
            assert "·" in str(first.query_one("Label").render())
            assert "🔒" in str(app.query_one("#step-postfix-names", StepItem).query_one("Label").render())
            # A locked step refuses to run.
            await pilot.press("down", "down", "r")
            await pilot.pause(0.2)
            assert not app.busy and not (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("up", "up", "r")
            await wait_idle(app, pilot)
            assert app.query_one("#step-prereq", StepItem).has_class("done")
            await pilot.press("down", "r")
            await wait_idle(app, pilot)
            assert app.query_one("#step-install", StepItem).has_class("done")
            await pilot.press("down")
            await pilot.pause()
            # The Changes pane shows postfix-blank's diff before anything is written.
            assert "+compatibility_level = " in app.query_one("#changes").content.code
            assert not (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("r")
            await wait_idle(app, pilot)
            assert app.query_one("#step-postfix-blank", StepItem).has_class("done")
            # Applied: the Changes pane now says there is nothing left to write.
            assert "changes no file" in app.query_one("#changes").content.code
            log_text = "\n".join(app.query_one("#probe").lines)
            assert "sandbox" in log_text and "== postfix-blank: passed" in log_text
            assert (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("u")
            await wait_idle(app, pilot)
            assert not app.query_one("#step-postfix-blank", StepItem).has_class("done")

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
    assert not (tmp_path / "etc/postfix/main.cf").exists()   # undone: back to no file


def test_the_report_and_the_exercises_are_one_key_away(tmp_path):
    from textual.widgets import DataTable, Markdown, Static

    from steps.exercises import EXERCISES

    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            report = app.screen.query_one("#report", Markdown)
            assert "mailwizard walk: mail.example.test" in report.source
            assert all(step.id in report.source for step in ALL_STEPS)
            await pilot.press("escape", "e")
            await pilot.pause()
            table = app.screen.query_one("#exercises", DataTable)
            assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [e.name for e in EXERCISES]
            await pilot.press("s")
            for _ in range(100):
                await pilot.pause(0.05)
                status = str(app.screen.query_one("#exercise-status", Static).render())
                if "finished server" in status:
                    break
            assert "exercises need a finished server" in status   # nothing walked in this sandbox
            await pilot.press("escape")
            assert len(app.screen_stack) == 1, "escape leads back to the steps"

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
