"""Waiting for something to show up in a file (a mailbox, the mail log): short polls, bounded.

The wait ends the moment the text is there; the timeout only bounds a wait that would fail.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

POLL_SECONDS = 0.02


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def wait_for(path: Path, pattern: re.Pattern[str], *, start: int, timeout: float) -> re.Match[str] | None:
    """The first match of `pattern` in what `path` gained after byte `start`, or None."""
    deadline = time.monotonic() + timeout
    seen = ""
    offset = start
    while True:
        size = file_size(path)
        if size < offset:          # rotated or truncated: read it from the top
            offset, seen = 0, ""
        if size > offset:
            with open(path, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read(size - offset)
            offset += len(chunk)
            seen += chunk.decode("utf-8", errors="replace")
            match = pattern.search(seen)
            if match:
                return match
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def read_since(path: Path, start: int) -> str:
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size < start:
                start = 0
            handle.seek(start)
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
