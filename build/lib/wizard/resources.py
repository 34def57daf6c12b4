"""mailwizard's own files (the stylesheet, the explanations, the errata page), read from the
installed package with importlib.resources: the same in a source checkout's venv, a wheel or
pipx. In the source tree they live in the top-level `assets/`, installed as `wizard.assets`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "wizard.assets"


class AssetMissing(Exception):
    """One of mailwizard's own files cannot be read: the installation is incomplete."""


def _root():
    try:
        return resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise AssetMissing(f"mailwizard's own files ({PACKAGE}) are not installed with it; "
                           "reinstall mailwizard (the README's setup command).") from None


def read_text(*parts: str) -> str:
    item = _root().joinpath(*parts)
    try:
        return item.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetMissing(f"cannot read mailwizard's own file {'/'.join(parts)} ({exc.strerror or exc}); "
                           "reinstall mailwizard (the README's setup command).") from None


def path(*parts: str) -> Path:
    """A file on disk, for readers that want a path (Textual's CSS_PATH)."""
    item = _root().joinpath(*parts)
    if not item.is_file():
        raise AssetMissing(f"cannot read mailwizard's own file {'/'.join(parts)}: it is not installed; "
                           "reinstall mailwizard (the README's setup command).")
    return Path(str(item))
