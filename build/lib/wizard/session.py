"""The one way to open a session: from the root, the answers file, teaching mode and lab, build
the system, the steps and the engine. Both faces (wizard.cli and wizard.tui) open theirs here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wizard.answers import Answers, lab_example, load_answers
from wizard.engine import Engine
from wizard.events import Event
from wizard.model import Step, walk_order
from wizard.state import StateError, StateStore
from wizard.system import System


@dataclass(frozen=True)
class SessionOptions:
    root: str | None = None         # --root: a sandbox directory
    answers: str | None = None      # --answers: the answers file
    teaching: bool = False          # --teaching: the tutorial's lessons, errors included
    lab: bool = False               # --lab: running inside the lab's mail namespace
    straight: bool = False          # --straight: straight to each working step
    # Neither flag: the path the walk on this box was given (straight on a first walk).

    @classmethod
    def from_args(cls, args) -> "SessionOptions":
        return cls(getattr(args, "root", None) or None, getattr(args, "answers", None) or None,
                   bool(getattr(args, "teaching", False)), bool(getattr(args, "lab", False)),
                   bool(getattr(args, "straight", False)))

    @property
    def path_given(self) -> bool:
        return self.teaching or self.straight


def system_for(options: SessionOptions) -> System:
    return System.at(options.root)


def chapters() -> tuple[Step, ...]:
    from steps import ALL_STEPS

    return ALL_STEPS


def walk_steps(teaching: bool = False, walked: frozenset[str] = frozenset()) -> tuple[Step, ...]:
    return walk_order(chapters(), teaching, walked)


def _recorded(system: System) -> tuple[bool, frozenset[str]]:
    """The path the walk on this box was given, and the steps it has records of."""
    try:
        state = StateStore(system).load()
    except StateError:
        return False, frozenset()
    return state.teaching, frozenset(state.steps)


def answers_from_file(system: System, options: SessionOptions) -> Answers | None:
    """The answers from --answers, keeping the hashes of the last walk for unchanged passwords
    (so the same file walks the same walk, and no step looks stale for a new salt)."""
    if not options.answers:
        # --lab with nothing else: the lab's own example answers, for a box with no walk yet.
        return lab_example() if options.lab and not _recorded_answers(system) else None
    return load_answers(options.answers, known=StateStore(system).known_hashes())


def _recorded_answers(system: System) -> bool:
    try:
        return bool(StateStore(system).load().answers)
    except StateError:
        return True         # a damaged state: the engine says so when it opens


def build_engine(options: SessionOptions, *, teaching: bool | None = None,
                 emit: Callable[[Event], None] | None = None,
                 confirm: Callable[[str, bool], bool] | None = None,
                 ask: Callable[[str], str] | None = None,
                 ask_secret: Callable[[str], str] | None = None) -> Engine:
    """The engine for these options, not yet opened (see `open_session`, `peek_session`)."""
    system = system_for(options)
    recorded, walked = _recorded(system)
    if teaching is None:        # --teaching or --straight, or else the path the walk was given
        teaching = options.teaching if options.path_given else recorded
    extra = {"confirm": confirm} if confirm else {}
    return Engine(system, answers_from_file(system, options),
                  walk_steps(teaching, walked), emit=emit,
                  lab=options.lab, ask=ask, ask_secret=ask_secret, chapters=chapters(), **extra)


def open_session(options: SessionOptions, *, need_answers: bool = True, **faces) -> Engine:
    """An engine holding the walk's lock, its state loaded and its mode recorded."""
    teaching = options.teaching if options.path_given else None      # None: the recorded path
    return build_engine(options, **faces).open(need_answers=need_answers, teaching=teaching,
                                               chosen=options.path_given)


def peek_session(options: SessionOptions, *, teaching: bool | None = None, **faces) -> Engine:
    """An engine that only reads the walk (no lock, nothing written): status, check, report."""
    return build_engine(options, teaching=teaching, **faces).peek()
