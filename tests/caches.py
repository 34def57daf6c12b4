"""What the tests download, made before parallel workers start.

The workers of a parallel run (tests/isolated-worker) have no way to a package mirror or to PyPI,
and what one worker writes the others never see. So the controller makes the cached Debian bases
and wheelhouses here, on the host, before any worker starts; they then read them from the host's
root. Each is made only when missing (the first run on a new box: a few minutes, as the serial
suite spent inside the tests that used them). `python tests/caches.py` makes them by hand.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import booted  # noqa: E402
import debian13  # noqa: E402

HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def make_all() -> list[Path]:
    """Each made at once beside the others: they wait on the mirror more than on the CPU."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [debian13.base, *(partial(booted.base_tarball, release) for release in booted.PYTHONS)]
    jobs += [partial(debian13.kept_wheels, python)
             for python in sorted({"3.13", *booted.PYTHONS.values(), HOST_PYTHON})]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: job(), jobs))


if __name__ == "__main__":
    for path in make_all():
        print(path)
