"""The engine as the faces build it: wizard.session's one builder (SessionOptions → open_session),
from a root and an answers file as `--answers` reads one. A test then meets the chapters' own
order and path rules, the replay of remembered values and the lock, as a person's walk does —
not an Engine put together by hand. The pytest fixture `session` (conftest.py) opens engines this
way and closes them after the test; scenario scripts call `open_engine` themselves."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fixture_data import ANSWERS


def open_engine(root: Path | None, answers: str | Path | None = ANSWERS, *, teaching: bool | None = False,
                lab: bool = False, need_answers: bool = True, **faces):
    """An opened engine on the sandbox `root` (None: this box). `answers`: the answers file's
    text (written beside the root, outside the box), a path to one, or None (no answers);
    `teaching`: True the lessons (`--teaching`), False straight (`--straight`, the default: the
    path named, so no face asks for it), None the path the box's walk was given (a first start
    asks)."""
    from wizard.session import SessionOptions, open_session

    options = SessionOptions(root=str(root) if root else None, answers=_answers_file(root, answers),
                             teaching=teaching is True, straight=teaching is False, lab=lab)
    return open_session(options, need_answers=need_answers, **faces)


def answers_file(root: Path) -> Path:
    """Where the answers of a sandbox `root` are written: beside it, outside the box."""
    return Path(root).parent / f"{Path(root).name}-answers.toml"


def _answers_file(root: Path | None, answers: str | Path | None) -> str | None:
    if answers is None or isinstance(answers, Path):
        return str(answers) if answers else None
    path = answers_file(root) if root else Path(tempfile.mkdtemp(prefix="mailwizard-answers-")) / "answers.toml"
    path.write_text(answers)
    return str(path)
