"""Waiting in the Pilot scenario scripts (run in the lab's namespace): poll a condition, bounded,
and on timeout end the script with what it had seen so far."""

from __future__ import annotations

import json


def waiter(seen: dict, default_seconds: float):
    async def until(pilot, condition, seconds: float = default_seconds) -> None:
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await pilot.pause(0.05)
        raise SystemExit(f"timed out waiting in the TUI; seen so far: {json.dumps(seen)[-2000:]}")
    return until


async def close_opening_dialogs(app, pilot, seconds: float = 5.0) -> None:
    """Close what the app opens with (the resume prompt, the ready screen), at most three deep:
    each closed, waited for (bounded) until it is gone."""
    for _ in range(3):
        if app.screen is app.screen_stack[0]:
            return
        dialog = app.screen
        await pilot.press("escape")
        for _ in range(int(seconds / 0.05)):
            if app.screen is not dialog:
                break
            await pilot.pause(0.05)
        else:
            raise AssertionError(f"{type(dialog).__name__} did not close on escape within {seconds:g} s")
