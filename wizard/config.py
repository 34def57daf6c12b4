"""Config as a pure function: a file's content after step k, from (answers, steps 1..k).

Undoing step k is rendering steps 1..k-1; the diff the user sees is between two renders.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wizard.model import Step

HEADER = "# Written by mailwizard. Edit it through mailwizard; hand edits show up as drift.\n"


class RenderError(ValueError):
    pass


@dataclass(frozen=True)
class Line:
    name: str
    value: str
    why: str


def fill(template: str, values: dict[str, str]) -> str:
    try:
        return template.format(**values)
    except KeyError as exc:
        raise RenderError(f"placeholder {{{exc.args[0]}}} has no value") from None


def render_file(path: str, steps: tuple[Step, ...] | list[Step], values: dict[str, str]) -> str | None:
    """The content of `path` after `steps`; None while no step has taken the file over."""
    lines: dict[str, Line] = {}
    started = False
    for step in steps:
        for fragment in step.files:
            if fragment.path != path:
                continue
            if fragment.start_empty:
                lines.clear()
                started = True
            for setting in fragment.settings:
                value = fill(setting.value, values)
                if any(c in value for c in "\r\n\x00"):
                    raise RenderError(f"{setting.name}: a value may not span lines")
                lines[setting.name] = Line(setting.name, value, setting.why)
    if not started:
        return None
    out = [HEADER]
    for line in lines.values():
        if line.why:
            out.append(f"\n# {line.why}\n")
        out.append(f"{line.name} = {line.value}\n")
    return "".join(out)


def managed_paths(steps) -> list[str]:
    seen: list[str] = []
    for step in steps:
        for fragment in step.files:
            if fragment.path not in seen:
                seen.append(fragment.path)
    return seen


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    return "".join(difflib.unified_diff(
        (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
        fromfile=f"{path} (now)", tofile=f"{path} (after)"))
