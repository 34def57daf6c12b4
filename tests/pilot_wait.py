"""Waiting in the Pilot tests and scenario scripts: poll a condition between the app's turns,
bounded; a scenario script (run in the lab's namespace) ends on timeout with what it had seen."""

from __future__ import annotations

import json


async def wait_until(pilot, condition, seconds: float, what: str = "the condition") -> None:
    """Until `condition()` holds, checked every 50 ms between the app's turns (bounded)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


def waiter(seen: dict, default_seconds: float):
    """`until` for a scenario script: on timeout it ends the script with what it had seen."""
    async def until(pilot, condition, seconds: float = default_seconds) -> None:
        try:
            await wait_until(pilot, condition, seconds)
        except AssertionError:
            raise SystemExit(f"timed out waiting in the TUI; seen so far: {json.dumps(seen)[-2000:]}") from None
    return until


async def close_opening_dialogs(app, pilot, seconds: float = 5.0) -> None:
    """Close what the app opens with (the resume prompt, the ready screen), at most three deep:
    each closed, waited for (bounded) until it is gone."""
    for _ in range(3):
        if app.screen is app.screen_stack[0]:
            return
        dialog = app.screen
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog, seconds, f"{type(dialog).__name__} to close on escape")


async def settle(pilot, seconds: float = 10) -> None:
    """Until the app is still: the walk on screen, its workers done (a step, the checks), its
    animations over, and one more turn for the last paint — what a snapshot is taken of."""
    app = pilot.app
    await wait_until(pilot, lambda: bool(app.query("#steps")), seconds, "the walk on screen")
    await app.workers.wait_for_complete()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
