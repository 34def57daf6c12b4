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


async def close_opening_dialogs(app, pilot, pause: float = 0.2) -> None:
    """Close what the app opens with (the resume prompt, the ready screen), at most three deep."""
    for _ in range(3):
        if app.screen is app.screen_stack[0]:
            return
        await pilot.press("escape")
        await pilot.pause(pause)
