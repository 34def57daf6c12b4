"""Lines of big logs found without holding the logs: each part is read a block at a time and
searched with bytes.find, as grep does, so a question costs a few passes over the files and a
few blocks of memory however long the logs grow.

A part is a file (plain or gzip), or lines already in memory (the journal's, a test's). A hit is
known by its place, (part, byte offset), so hits from several searches can be put in the logs'
order and compared ("which came later")."""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

BLOCK = 4 << 20             # bytes read at a time; a block holds whole lines only


@dataclass(frozen=True, order=True)
class Hit:
    place: tuple[int, int]      # (part, byte offset of the line in it): the logs' order
    line: str = field(compare=False)


@dataclass
class Part:
    name: str
    path: Path | None = None
    data: bytes = b""           # a part held in memory (no path)

    def open(self) -> BinaryIO:
        if self.path is None:
            return io.BytesIO(self.data)
        if self.name.endswith(".gz"):
            return gzip.open(self.path, "rb")
        return self.path.open("rb", buffering=0)     # read straight into the search's buffer


@dataclass
class LogSet:
    """The parts to search, oldest first, and what could not be read (said, never raised)."""

    parts: list[Part] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @classmethod
    def of_lines(cls, lines: Iterable[str]) -> "LogSet":
        logs = cls()
        logs.add_lines("lines", lines)
        return logs

    def add_lines(self, name: str, lines: Iterable[str]) -> None:
        self.parts.append(Part(name, data="".join(line + "\n" for line in lines).encode()))

    def grep(self, needles: Iterable[str], fold: bool = False, start: tuple[int, int] = (0, 0)) -> list[Hit]:
        """Every line holding any of `needles` (case-insensitively with `fold`) from the place
        `start` on, in the logs' order, each once. A part that breaks while read is named in
        `missing`; its hits so far stand."""
        wanted = sorted({n.encode() for n in needles if n})
        if not wanted:
            return []
        finder = _fold_finder(wanted) if fold else _finder(wanted)
        hits: dict[tuple[int, int], Hit] = {}
        for index in range(start[0], len(self.parts)):
            part = self.parts[index]
            try:
                for offset, block, end in _blocks(part.open(), start[1] if index == start[0] else 0):
                    for at, line in _lines_at(block, end, finder(block, end)):
                        place = (index, offset + at)
                        hits[place] = Hit(place, line)
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
                said = f"{part.name} could not be read ({exc})"
                if said not in self.missing:
                    self.missing.append(said)
        return sorted(hits.values())

    def first_line(self) -> str:
        """The first line of the first part that has one."""
        for part in self.parts:
            try:
                with part.open() as stream:
                    line = stream.readline(4096)
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
                continue
            if line.strip():
                return line.decode("utf-8", errors="replace").rstrip("\n")
        return ""


def _blocks(stream: BinaryIO, skip: int = 0) -> Iterator[tuple[int, bytearray, int]]:
    """(offset, buffer, end): the part's lines from the first that begins at or after `skip`,
    whole lines at a time in buffer[:end]. One buffer, refilled in place: a fresh block for each
    read would cost more in page faults than the search itself."""
    with stream:
        offset = 0
        if skip:
            stream.seek(skip - 1)       # a gzip part gets there by inflating, without searching
            offset = skip - 1 + len(stream.readline())      # the rest of the line `skip` falls in
        buffer, kept = bytearray(BLOCK), 0
        while True:
            with memoryview(buffer) as view:
                got = stream.readinto(view[kept:])
            end = kept + got
            if not got:
                if kept:
                    yield offset, buffer, kept      # the last line, without its newline
                return
            cut = buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:                # one line longer than the buffer: a bigger one
                buffer, kept = buffer + bytearray(BLOCK), end
                continue
            yield offset, buffer, cut
            offset += cut
            buffer[:end - cut] = buffer[cut:end]
            kept = end - cut


def _finder(needles: list[bytes]):
    """Where the needles are in a block (bytes.find: as fast as memchr)."""
    def find(block: bytearray, end: int) -> Iterator[int]:
        for needle in needles:
            at = block.find(needle, 0, end)
            while at != -1:
                yield at
                at = block.find(needle, at + len(needle), end)
    return find


def _fold_finder(needles: list[bytes]):
    """The same without regard to case: a regular expression of literals, which re searches
    about as fast as find (lowering each block would cost more than the search)."""
    pattern = re.compile(b"|".join(re.escape(n) for n in needles), re.IGNORECASE)
    return lambda block, end: (match.start() for match in pattern.finditer(block, 0, end))


def _lines_at(block: bytearray, until: int, places: Iterable[int]) -> Iterator[tuple[int, str]]:
    """(start, line) of each line of block[:until] a place falls in, each line once."""
    seen_until = -1
    for at in sorted(places):
        if at < seen_until:
            continue
        start = block.rfind(b"\n", 0, at) + 1
        end = block.find(b"\n", at, until)
        end = until if end == -1 else end
        seen_until = end
        yield start, block[start:end].decode("utf-8", errors="replace")
