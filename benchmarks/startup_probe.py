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
    """The moment the app hands its first frame to the driver (what a terminal would show
    first). Textual's `_display` is the one place every frame passes, headless or not; waiting
    for the Pilot instead would wait for the app to be idle, i.e. for the whole walk."""
    stamps: dict[str, float] = {}
    display = app._display

    def first_frame(screen, renderable):
        if renderable is not None:
            stamps.setdefault("first", time.perf_counter() - START)
        return display(screen, renderable)

    app._display = first_frame
    return stamps


async def paint(app, whole: bool) -> tuple[float, float]:
    stamps = stamp_first_frame(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(3000):                   # bounded: 30 s at most
            if not whole or (app.query("#explain") and app.query_one("#explain").children):
                break
            await pilot.pause(0.01)
        else:
            raise SystemExit("the walk never came on screen")
        done = time.perf_counter() - START
    return stamps["first"], done if whole else stamps["first"]


def main() -> None:
    kind = sys.argv[1]
    with tempfile.TemporaryDirectory() as root:
        app = bare_app() if kind == "bare" else wizard_app(Path(root))
        first, whole = asyncio.run(paint(app, whole=kind == "wizard"))
    import resource

    print(f"{first:.4f} {whole:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


if __name__ == "__main__":
    main()
