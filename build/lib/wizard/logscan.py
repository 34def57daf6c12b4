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
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Container, Iterable, Iterator

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

    @property
    def compressed(self) -> bool:
        return self.path is not None and self.name.endswith(".gz")

    def open(self) -> BinaryIO:
        if self.path is None:
            return io.BytesIO(self.data)
        if self.compressed:
            return Gunzip(self.path)
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

    def grep(self, needles: Iterable[str], fold: bool = False, start: tuple[int, int] = (0, 0),
             within: Container[int] | None = None) -> list[Hit]:
        """Every line holding any of `needles` (case-insensitively with `fold`) from the place
        `start` on, in the logs' order, each once; only in the parts numbered `within`, if given.
        A part that breaks while read is named in `missing`; its hits so far stand."""
        wanted = sorted({n.encode() for n in needles if n})
        if not wanted:
            return []
        finder = _fold_finder(wanted) if fold else _finder(wanted)
        chosen = [i for i in range(start[0], len(self.parts)) if within is None or i in within]
        # zlib inflates without holding the GIL: a compressed part is searched by a thread of
        # its own while the plain ones are searched here, so the two cores share the work.
        packed = [i for i in chosen if self.parts[i].compressed]
        if not packed:
            return sorted(hit for i in chosen for hit in self._search(i, finder, start))
        found: list[list[Hit]] = []
        broke: list[BaseException] = []

        def search_packed() -> None:
            try:
                found.extend(self._search(i, finder, start) for i in packed)
            except BaseException as exc:        # raised here below, as a search in this thread would
                broke.append(exc)

        inflating = threading.Thread(target=search_packed, name="search the compressed logs", daemon=True)
        inflating.start()
        try:
            plain = [self._search(i, finder, start) for i in chosen if i not in packed]
        finally:
            inflating.join()
        if broke:
            raise broke[0]
        return sorted(hit for hits in found + plain for hit in hits)

    def _search(self, index: int, finder, start: tuple[int, int]) -> list[Hit]:
        """One part's hits, each line once; a part that breaks is named in `missing`."""
        hits: dict[int, Hit] = {}
        try:
            for offset, block, end in _blocks(self.parts[index].open(), start[1] if index == start[0] else 0):
                for at, line in _lines_at(block, end, finder(block, end)):
                    hits[offset + at] = Hit((index, offset + at), line)
        except READ_ERRORS as exc:
            self._unreadable(self.parts[index], exc)
        return list(hits.values())

    def _unreadable(self, part: Part, exc: Exception) -> None:
        said = f"{part.name} could not be read ({exc})"
        if said not in self.missing:
            self.missing.append(said)

    def first_line(self) -> str:
        """The first line of the first part that has one."""
        for part in self.parts:
            try:
                with part.open() as stream:
                    line = stream.readline(4096)
            except READ_ERRORS:
                continue
            if line.strip():
                return line.decode("utf-8", errors="replace").rstrip("\n")
        return ""


class Gunzip(io.RawIOBase):
    """A gzip file inflated by zlib a megabyte of input at a time. The gzip module inflates in
    small steps, each taking the GIL back, so a thread searching beside it would wait on it;
    here zlib does each big step without the GIL and checks each member's CRC and length itself
    (a mismatch is a zlib.error). Forward seeks only: they inflate and drop what they pass."""

    def __init__(self, path: Path):
        self.raw = path.open("rb")
        self.inflater = zlib.decompressobj(wbits=31)
        self.pending, self.at = b"", 0      # inflated; handed out up to `at`
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.at == len(self.pending) and not self._inflate_more(len(buffer)):
            return 0
        size = min(len(buffer), len(self.pending) - self.at)
        with memoryview(self.pending) as inflated:        # no copy of the block on the way
            buffer[:size] = inflated[self.at:self.at + size]
        self.at += size
        self.position += size
        return size

    def readline(self, limit: int = -1) -> bytes:
        line = b""
        while not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            if self.at == len(self.pending) and not self._inflate_more(CHUNK):
                break
            end = self.pending.find(b"\n", self.at) + 1 or len(self.pending)
            if limit >= 0:
                end = min(end, self.at + limit - len(line))
            line += self.pending[self.at:end]
            self.position += end - self.at
            self.at = end
        return line

    def _inflate_more(self, wanted: int) -> bool:
        """At least one more byte inflated (up to `wanted`, a megabyte at least); False at the
        end of the file."""
        wanted = max(wanted, CHUNK)
        while True:
            if self.inflater.eof:           # a member ended: another may follow (`cat a.gz b.gz`)
                rest = self.inflater.unused_data or self.raw.read(CHUNK)
                if not rest.strip(b"\0"):      # the end, or the zero padding some tools leave
                    return False
                self.inflater = zlib.decompressobj(wbits=31)
                data = rest
            else:
                data = self.inflater.unconsumed_tail or self.raw.read(CHUNK)
                if not data:
                    raise EOFError("the compressed file ends before its last member does")
            self.pending, self.at = self.inflater.decompress(data, wanted), 0
            if self.pending:
                return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or offset < self.position:
            raise io.UnsupportedOperation("a gzip part is read forward only")
        while self.position < offset:
            if self.at == len(self.pending) and not self._inflate_more(offset - self.position):
                break
            step = min(offset - self.position, len(self.pending) - self.at)
            self.at += step
            self.position += step
        return self.position

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.raw.close()
        super().close()


CHUNK = 1 << 20         # compressed bytes read at a time


READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


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
