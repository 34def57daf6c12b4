"""One start-up measurement: build an app, run it headless until its first screen is painted,
exit. `wizard` is mailwizard as `mailwizard --root DIR --answers FILE` starts it (the command
line parsed, the app built by the launcher's own function, the session opened by the app);
`bare` is a Textual app that paints one widget — the floor. Prints the seconds from interpreter
start to first paint, to the whole walk on screen (the step list and the selected step's
Explain; the first paint again for `bare`), and the peak memory in KiB."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
# The smallest answers a walk starts with: the domain and one mailbox (given as a hash, so the
# measure is the start-up, not passlib's 5000 rounds).
ANSWERS = """\
maildomain = "example.test"
[[users]]
address = "alice@example.test"
password_hash = "$6$ETRPJf4WWvG7OF9p$AFmi7KUzFEIbggSPGrrph.CgDll.An.7TgLm2d3bmKoiQf.HBjzB1gxMgva6Gcpk10fSIC.96HIyWRkJUhMAo/"
"""


def bare_app():
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

    return Bare()


def wizard_app(root: Path):
    from wizard import cli
    from wizard.tui.app import app_for

    (root / "answers.toml").write_text(ANSWERS)
    args = cli.build_parser().parse_args(["--root", str(root / "box"), "--answers", str(root / "answers.toml")])
    return app_for(args)


def stamp_first_frame(app) -> dict:
    """The moments the app hands the driver its first frame (what a terminal would show first)
    and the first frame with the walk in it: the step list and the selected step's explanation
    laid out (and a first start's path question on top). Textual's `_display` is the one place
    every frame passes, headless or not; waiting for the Pilot instead would wait for the app
    to be idle, which comes later than what the person sees."""
    stamps: dict[str, float] = {}
    display = app._display

    def first_frame(screen, renderable):
        if renderable is not None:
            now = time.perf_counter() - START
            stamps.setdefault("first", now)
            if "walk" not in stamps and walk_laid_out(app):
                stamps["walk"] = now
        return display(screen, renderable)

    app._display = first_frame
    return stamps


def walk_laid_out(app) -> bool:
    """The step list and the explanation's blocks have their places on the walk's screen, and
    on a first start the path question has its place on top of it."""
    walk = app.screen_stack[0]
    try:
        steps, explain = walk.query_one("#steps"), walk.query_one("#explain")
    except Exception:           # not mounted yet
        return False
    blocks = explain.children
    if not (steps.region and blocks and blocks[0].region):
        return False
    if getattr(app, "engine", None) is None or app.engine.path_chosen or app.engine.path_fixed():
        return True
    asking = app.screen
    return type(asking).__name__ == "PathDialog" and bool(asking.children) and bool(asking.children[0].region)


async def paint(app, whole: bool) -> tuple[float, float]:
    stamps = stamp_first_frame(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(3000):                   # bounded: 30 s at most
            if not whole or "walk" in stamps:
                break
            await pilot.pause(0.01)
        else:
            raise SystemExit("the walk never came on screen")
    return stamps["first"], stamps["walk"] if whole else stamps["first"]


def main() -> None:
    kind = sys.argv[1]
    with tempfile.TemporaryDirectory() as root:
        app = bare_app() if kind == "bare" else wizard_app(Path(root))
        first, whole = asyncio.run(paint(app, whole=kind == "wizard"))
    import resource

    print(f"{first:.4f} {whole:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main()
