"""Config as a pure function: a file's content after step k, from (answers, steps 1..k).

Undoing step k is rendering steps 1..k-1; the diff the user sees is between two renders.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wizard.dialect import DOVECOT_CONF, translate_dovecot
from wizard.model import Block, Remove, Step, UserTable

HEADER = "# Written by mailwizard. Edit it through mailwizard; hand edits show up as drift.\n"


class RenderError(ValueError):
    pass


@dataclass(frozen=True)
class Line:
    name: str
    value: str
    why: str
    one_per_line: bool = False


def fill(template: str, values: dict[str, str]) -> str:
    try:
        return template.format(**values)
    except KeyError as exc:
        raise RenderError(f"placeholder {{{exc.args[0]}}} has no value") from None


def _one_line(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise RenderError(f"{name}: a value may not span lines")
    return value


def _filled_block(block: Block, values: dict[str, str]) -> Block:
    items = []
    for item in block.items:
        if isinstance(item, Block):
            items.append(_filled_block(item, values))
        else:
            items.append(Line(item.name, _one_line(item.name, fill(item.value, values)), item.why))
    return Block(fill(block.name, values), tuple(items), block.why)


def _render_block(block: Block, depth: int) -> list[str]:
    pad = "  " * depth
    out = [f"{pad}{block.name} {{\n"]
    for item in block.items:
        if isinstance(item, Block):
            out += _render_block(item, depth + 1)
        else:
            out.append(f"{pad}  {item.name} = {item.value}\n")
    out.append(f"{pad}}}\n")
    return out


def render_file(path: str, steps: tuple[Step, ...] | list[Step], values: dict[str, str],
                users=(), dovecot_dialect: str = "2.3") -> str | None:
    """The content of `path` after `steps`; None while no step has taken the file over.

    `users`: the answers' MailUsers, for a users.db table; `dovecot_dialect`: "2.3" (the
    tutorial's) or "2.4" (see wizard.dialect)."""
    entries: dict[str, Line | Block] = {}
    table: UserTable | None = None
    separator = " = "
    started = False
    for step in steps:
        for fragment in step.files:
            if fragment.path != path:
                continue
            if fragment.start_empty:
                entries.clear()
                started = True
            if fragment.table is not None:
                table = fragment.table
            if fragment.format == "map":
                separator = " "
            for item in fragment.settings:
                if isinstance(item, Remove):
                    entries.pop(fill(item.name, values), None)
                elif isinstance(item, Block):
                    block = _filled_block(item, values)
                    entries.pop(block.name, None)       # a replaced block moves to the end
                    entries[block.name] = block
                else:
                    name = _one_line(item.name, fill(item.name, values))
                    entries[name] = Line(name, _one_line(name, fill(item.value, values)),
                                         item.why, item.one_per_line)
    if not started:
        return None
    out = [HEADER]
    final = list(entries.values())
    if path == DOVECOT_CONF:
        final = translate_dovecot(final, dovecot_dialect, Line, Block)
    for entry in final:
        if entry.why:
            out.append(f"\n# {entry.why}\n")
        if isinstance(entry, Block):
            out += _render_block(entry, 0)
        elif entry.one_per_line:
            # Continuation lines must start with blanks (E18); the commas are written too (E19).
            items = [item.strip() for item in entry.value.split(",")]
            out.append(f"{entry.name} =\n" + ",\n".join(f"    {item}" for item in items) + "\n")
        else:
            out.append(f"{entry.name}{separator}{entry.value}\n")
    if table is not None:
        for user in users:
            secret = user.password_hash
            if not table.scheme_prefix and secret.startswith("{"):
                secret = secret.split("}", 1)[1]
            out.append(f"{_one_line(user.address, user.address)}:{_one_line(user.address, secret)}\n")
    return "".join(out)


def file_attributes(path: str, steps) -> tuple[int | None, str | None]:
    """(mode, group) the steps ask for `path`; the last step that says wins."""
    mode = group = None
    for step in steps:
        for fragment in step.files:
            if fragment.path == path:
                mode = fragment.mode if fragment.mode is not None else mode
                group = fragment.group if fragment.group is not None else group
    return mode, group


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
