"""Config as a pure function: a file's content after step k, from (answers, steps 1..k).

Undoing step k is rendering steps 1..k-1; the diff the user sees is between two renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.dialect import DOVECOT_CONF, translate_dovecot
from wizard.model import Block, Extend, Remove, Service, Setting, Step, UserTable

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


def each_of(each: str, values: dict[str, str]) -> list[dict[str, str]]:
    """The values once per item of the list value `each` names (`{each}` set to the item); the
    values alone when `each` is ""."""
    if not each:
        return [values]
    return [{**values, "each": item} for item in values.get(each, "").split()]


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


def _extend(entries: dict, item: Extend, values: dict[str, str]) -> None:
    """`item`'s items into the comma list of the line it names (see model.Extend)."""
    line = entries.get(item.name)
    added = [part.strip() for part in _one_line(item.name, fill(item.items, values)).split(",") if part.strip()]
    if not isinstance(line, Line) or not added:
        return
    parts = [part.strip() for part in line.value.split(",") if part.strip()]
    at = parts.index(item.after) + 1 if item.after in parts else len(parts)
    parts[at:at] = added
    why = line.why + (" " if line.why and item.why else "") + item.why
    entries[item.name] = Line(line.name, ", ".join(parts), why, line.one_per_line)


def _put_setting(entries: dict, item: Setting, values: dict[str, str]) -> None:
    for each_values in each_of(item.each, values):
        name = _one_line(item.name, fill(item.name, each_values))
        entries[name] = Line(name, _one_line(name, fill(item.value, each_values)), item.why, item.one_per_line)


def _remove(entries: dict, item: Remove, values: dict[str, str]) -> None:
    entries.pop(fill(item.name, values), None)


def _put_block(entries: dict, item: Block, values: dict[str, str]) -> None:
    block = _filled_block(item, values)
    entries.pop(block.name, None)       # a replaced block moves to the end
    entries[block.name] = block


# What each kind of a fragment's items does to the file's entries, by its type (a master.cf
# Service is rendered by render_master, into the box's own file).
PUT = {Setting: _put_setting, Remove: _remove, Extend: _extend, Block: _put_block}


def extends_box(path: str, steps) -> bool:
    """Whether the steps write `path` into the box's own file (master.cf) rather than anew."""
    return any(f.path == path and f.format == "master" for s in steps for f in s.files)


def render_file(path: str, steps: tuple[Step, ...] | list[Step], values: dict[str, str],
                users=(), dovecot_dialect: str = "2.3", box_text: str | None = None) -> str | None:
    """The content of `path` after `steps`; None while no step has taken the file over.

    `users`: the answers' MailUsers, for a users.db table; `dovecot_dialect`: "2.3" (the
    tutorial's) or "2.4" (see wizard.dialect); `box_text`: the box's own file, which a
    master.cf fragment extends."""
    services = [item for step in steps for f in step.files if f.path == path and f.format == "master"
                for item in f.settings if isinstance(item, Service)]
    if extends_box(path, steps):
        return render_master(box_text or "", services, values) if services else None
    scripts = [f for step in steps for f in step.files if f.path == path and f.format == "script"]
    if scripts:
        from wizard import resources

        return fill(resources.read_text(*scripts[-1].source.split("/")), values)
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
                PUT[type(item)](entries, item, values)
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
            out.append(f"{entry.name}{separator}{entry.value}".rstrip(" ") + "\n")
    if table is not None:
        for user in users:
            secret = user.password_hash
            if not table.scheme_prefix and secret.startswith("{"):
                secret = secret.split("}", 1)[1]
            out.append(f"{_one_line(user.address, user.address)}:{_one_line(user.address, secret)}\n")
    return "".join(out)


# ---- master.cf: the box's own file with our services in it ---------------------------------------

def master_entries(text: str) -> list[tuple[tuple[str, str] | None, str]]:
    """master.cf as (key, text) pieces: a service (its line and the indented lines that continue
    it) keyed by (name, type); comments and blank lines as pieces without a key."""
    pieces: list[tuple[tuple[str, str] | None, str]] = []
    for line in text.splitlines(keepends=True):
        starts_service = line.strip() and not line[0].isspace() and not line.startswith("#")
        continues = line.strip() and line[0].isspace() and pieces and pieces[-1][0] is not None
        if continues:
            key, previous = pieces[-1]
            pieces[-1] = (key, previous + line)
        elif starts_service:
            fields = line.split()
            pieces.append(((fields[0], fields[1] if len(fields) > 1 else ""), line))
        else:
            pieces.append((None, line))
    return pieces


def _master_token(what: str, value: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise RenderError(f"master.cf: {what} must be one word without blanks (got {value!r})")
    return value


def service_text(service: Service, values: dict[str, str]) -> str:
    fields = [fill(f, values) for f in (service.name, service.type, service.private, service.unpriv,
                                       service.chroot, service.wakeup, service.maxproc, service.command)]
    head = " ".join(_master_token("a service field", f) for f in fields)
    lines = [f"# {service.why}\n"] if service.why else []
    lines.append(head + "\n")
    for name, value in service.options:
        option = f"{_master_token('an option name', fill(name, values))}={fill(value, values)}"
        lines.append(f"  -o {_master_token('an option', option)}\n")
    return "".join(lines)


def render_master(box_text: str, services: list[Service], values: dict[str, str]) -> str:
    """The box's master.cf with each service put in place of its entry, or added at the end."""
    pieces = master_entries(box_text)
    for service in services:
        key = (fill(service.name, values), fill(service.type, values))
        keys = {key} | {(name, key[1]) for name in service.replaces}
        text = service_text(service, values)
        at = next((i for i, (k, _) in enumerate(pieces) if k in keys), None)
        if at is None:
            if pieces and not pieces[-1][1].endswith("\n"):
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + "\n")
            pieces.append((key, text))
        else:
            pieces[at] = (key, text)
    return "".join(text for _, text in pieces)


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


def is_secret(path: str, steps) -> bool:
    """A file the steps make readable by its owner alone (a password map) holds a secret: its
    content is never shown, only that it changes."""
    mode, _ = file_attributes(path, steps)
    return mode is not None and mode & 0o077 == 0

