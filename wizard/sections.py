"""The chapters' own answers tables (`[relay]`, `[dkim]` …), read by their declarations alone.

A chapter declares its table in its `steps/` module (`AnswersSection`, `AnswerField`); this one
piece parses and checks every table, fills in defaults, the lab's values and what the last walk
remembered, records a table for the state and the replay file (never a secret), and describes it
as JSON Schema and as a commented example. Nothing here knows one chapter from another."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from wizard.answer_checks import FIELD_CHECKS, AnswersError, text

if TYPE_CHECKING:       # the types only: the first frame reads answers without the model
    from wizard.model import AnswerField, AnswersSection

# A table as the answers hold it: (field, value) pairs of what was given (checked, normalised).
Given = tuple[tuple[str, object], ...]

KINDS = {"text": "string", "bool": "boolean", "int": "integer", "list": "array"}


def remembered_key(section: AnswersSection, field: AnswerField) -> str:
    """How `known` (what the last walk used, from the state) names a remembered value."""
    return f"{section.key}.{field.name}"


def parse(section: AnswersSection, raw, walk: Mapping[str, object],
          known: Mapping[str, str] | None = None) -> Given | None:
    """The table as given, checked field by field and then by the chapter's rules. `walk`: the
    walk's own values (maildomain, fqdn, users …) the rules may hold a table against. None: no
    table, and nothing remembered."""
    known = known or {}
    remembered = _remembered(section, known)
    if raw is None:
        if not any(f.remembered for f in section.fields):
            return None
        raw = {}
    if not isinstance(raw, dict):
        raise AnswersError(f"{section.key}: write it as a [{section.key}] table.")
    names = {f.name for f in section.fields}
    extra = sorted(set(raw) - names)
    if extra:
        raise AnswersError(f"{section.key}: unknown key '{extra[0]}' (known: {', '.join(sorted(names))}). "
                           "Check its spelling or remove it.")
    given: dict[str, object] = {}
    for f in section.fields:
        if f.name in raw:
            given[f.name] = _value(section, f, raw[f.name], given)
        elif f.required:
            raise AnswersError(f"{section.key}.{f.name}: missing; {f.help[:1].lower()}{f.help[1:]}"
                               + (f" {f.hint}" if f.hint else ""))
    for f in section.fields:           # NAME:PORT gave its port; a port of its own wins
        if f.splits_port and f"{f.name}:port" in given:
            port = given.pop(f"{f.name}:port")
            given.setdefault(f.splits_port, _value(section, section.field(f.splits_port), port, given))
    for name, value in remembered.items():
        given.setdefault(name, value)
    for f in section.fields:    # made once, when the answers are read: the walk keeps it
        if f.remembered and f.name not in given:
            given[f.name] = effective(section, given, walk)[f.name]
    _hold_to_rules(section, effective(section, given, walk), walk)
    return tuple((f.name, given[f.name]) for f in section.fields if f.name in given)


def _hold_to_rules(section: AnswersSection, table: dict, walk: Mapping[str, object]) -> None:
    words = _words(table, walk)
    for rule in section.rules:
        among = set(rule.among.format(**words).split())
        value = table[rule.field]
        for item in value if isinstance(value, tuple) else (value,):
            if item and (item in among) != rule.inside:
                raise AnswersError(rule.problem.format(**{**words, "value": item}))


def _remembered(section: AnswersSection, known: Mapping[str, str]) -> dict[str, object]:
    return {f.name: known[remembered_key(section, f)] for f in section.fields
            if f.remembered and known.get(remembered_key(section, f))}


def _value(section: AnswersSection, f: AnswerField, raw, given: dict):
    what = f"{section.key}.{f.name}"
    if f.kind == "bool":
        if not isinstance(raw, bool):
            raise AnswersError(f"{what}: write true or false (no quotes): {_sentence(f.help)}")
        return raw
    if f.kind == "int":
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not _within(f, raw):
            raise AnswersError(f"{what}: '{raw}' is not {_range(f)}." + (f" {f.hint}" if f.hint else ""))
        return _refused(f, what, raw)
    if f.kind == "list":
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise AnswersError(f"{what}: write a list of names in quotes, like {_example(f)}.")
        if f.most is not None and len(raw) > f.most:
            raise AnswersError(f"{what}: at most {f.most}." + (f" {f.hint}" if f.hint else ""))
        items = tuple(dict.fromkeys(_text(section, f, item, what, given) for item in raw))
        for value, why in f.refuse:         # a list refuses by what it lacks: "postmaster" must stay
            if value not in items:
                raise AnswersError(f"{what}: {why}")
        return items
    return _refused(f, what, _text(section, f, raw, what, given))


def _text(section: AnswersSection, f: AnswerField, raw, what: str, given: dict) -> str:
    value = text(raw, what)
    value = value.strip() if not f.secret else value
    if f.lower:
        value = value.lower()
    if f.splits_port and value.count(":") == 1 and not value.startswith("["):
        value, given[f"{f.name}:port"] = value.split(":")
    if f.choices and value.lower() in f.choices:
        return value.lower()
    if f.pattern and re.fullmatch(f.pattern, value):
        return value
    if f.choices or f.pattern:
        raise AnswersError(f"{what}: '{value}' is not {_choices(f)}." + (f" {f.hint}" if f.hint else ""))
    if f.check:
        try:
            return FIELD_CHECKS[f.check](value, what)
        except AnswersError as exc:
            raise AnswersError(f"{exc} {f.hint}" if f.hint else str(exc)) from None
    return value


def _refused(f: AnswerField, what: str, value):
    for refused, why in f.refuse:
        if value == refused:
            raise AnswersError(f"{what}: {why}")
    return value


def _within(f: AnswerField, value: int) -> bool:
    return (f.least is None or value >= f.least) and (f.most is None or value <= f.most)


def _range(f: AnswerField) -> str:
    return f"a number from {f.least} to {f.most}" if f.least is not None and f.most is not None else "a number"


def _choices(f: AnswerField) -> str:
    return f"one of {', '.join(f.choices)}" + (", or of the form asked" if f.pattern else "") if f.choices \
        else "of the form asked"


def _example(f: AnswerField) -> str:
    return json.dumps(list(f.default) if isinstance(f.default, (list, tuple)) and f.default else ["name"])


def _sentence(help_text: str) -> str:
    return help_text if help_text.endswith((".", "?")) else help_text + "?"


# ---- a table's values --------------------------------------------------------------------------
class Address(str):
    """An address field's value, as templates read it: `{to}`, `{to.local}`, `{to.domain}`."""

    @property
    def local(self) -> str:
        return self.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.partition("@")[2]


class Words(str):
    """A list field's value, as templates read it: the items with blanks between; `.first`."""

    def __new__(cls, items):
        word = super().__new__(cls, " ".join(items))
        word.items = tuple(items)
        return word

    @property
    def first(self) -> str:
        return self.items[0] if self.items else ""


def _word(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return Words(value)
    if isinstance(value, str) and value.count("@") == 1:
        return Address(value)
    return str(value) if value is not None else ""


def _words(table: Mapping[str, object], walk: Mapping[str, object]) -> dict[str, object]:
    return {**{k: _word(v) for k, v in walk.items()}, **{k: _word(v) for k, v in table.items()}}


def effective(section: AnswersSection, given: Mapping[str, object], walk: Mapping[str, object]) -> dict[str, object]:
    """The table with its defaults filled in (a default may name given fields and the walk's
    values: "a:{host}", "postmaster@{maildomain}")."""
    table = dict(given)
    plain = [f for f in section.fields if not (isinstance(f.default, str) and "{" in f.default)]
    for f in plain + [f for f in section.fields if f not in plain]:     # plain defaults first
        if f.name not in table:
            table[f.name] = default_of(f, _words(table, walk))
    return table


def default_of(f: AnswerField, words: Mapping[str, object]):
    if isinstance(f.default, str) and "{" in f.default:
        return f.default.format(**words)
    return f.default


def values(section: AnswersSection, given: Given | None, walk: Mapping[str, object]) -> dict[str, str]:
    """The placeholders the chapter's fragments and probes use."""
    if given is None and section.absent is not None:
        return dict(section.absent)
    words = _words(effective(section, dict(given or ()), walk), walk)
    return {name: _text_of(spec, words) for name, spec in section.values}


def _text_of(spec, words: Mapping[str, object]) -> str:
    if isinstance(spec, str):
        return spec.format(**words)
    if hasattr(spec, "cases"):           # ByValue
        value = str(words[spec.field])
        return dict(spec.cases).get(value, spec.otherwise).format(**words)
    return spec.joined.join(spec.template.format(**{**words, "item": item})     # Each
                            for item in words[spec.field].items)


def in_lab(section: AnswersSection, given: Given | None, walk: Mapping[str, object]) -> Given | None:
    """The table as a lab walk takes it: the lab's own values where the answers give none."""
    table = dict(given or ())
    for f in section.fields:
        if f.in_lab is not None and f.name not in table:
            value = f.in_lab
            table[f.name] = tuple(v.format(**walk) for v in value) if isinstance(value, tuple) else \
                value.format(**walk) if isinstance(value, str) else value
    if not table:
        return given
    return tuple((f.name, table[f.name]) for f in section.fields if f.name in table)


def split_secrets(section: AnswersSection, given: Given) -> tuple[Given, dict[str, str]]:
    """The table without its secrets, and the secrets by the placeholder a step's Question fills
    (`relay_password`): they are kept apart, in memory only."""
    secret = {f.name for f in section.fields if f.secret}
    return (tuple((name, value) for name, value in given if name not in secret),
            {f"{section.key}_{name}": value for name, value in given if name in secret})


def record(section: AnswersSection, given: Given) -> dict[str, object]:
    """The table as the state and the replay file keep it (its secrets are never in it)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in given}


def toml_lines(section: AnswersSection, given: Given) -> list[str]:
    lines = ["", f"[{section.key}]"]
    for name, value in record(section, given).items():
        lines.append(f"{name} = {_toml(value)}")
    for f in section.fields:
        if f.secret:
            lines.append(f"# {f.name}: asked at run time (it is never written into this file)")
    return lines


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int) else json.dumps(value)    # JSON's escapes are TOML's


# ---- the table described -------------------------------------------------------------------------
def schema(section: AnswersSection) -> dict:
    """The table as JSON Schema (draft 2020-12): types, choices, bounds, required keys."""
    properties = {}
    for f in section.fields:
        prop: dict = {"type": KINDS[f.kind], "description": f.help}
        if f.kind == "list":
            prop["items"] = {"type": "string"}
            if f.most is not None:
                prop["maxItems"] = f.most
        if f.kind == "int":
            if f.least is not None:
                prop["minimum"] = f.least
            if f.most is not None:
                prop["maximum"] = f.most
        if f.kind == "text" and f.choices and not f.pattern:
            prop["enum"] = [*f.choices, *(c.upper() for c in f.choices)] if f.lower else list(f.choices)
        if f.kind == "text" and not f.secret:
            prop["pattern"] = r"^[^\n\r\x00]*$"
        default = f.default if not (isinstance(f.default, str) and "{" in f.default) else None
        if default is not None:
            prop["default"] = list(default) if isinstance(default, tuple) else default
        if f.secret:
            prop["writeOnly"] = True
        properties[f.name] = prop
    out = {"type": "object", "description": section.help, "properties": properties,
           "additionalProperties": False}
    required = [f.name for f in section.fields if f.required]
    if required:
        out["required"] = required
    return out


def example_lines(section: AnswersSection) -> list[str]:
    """The table, commented out, for `answers init`: each key with its help and its default."""
    lines = ["", f"# {section.help}:", f"# [{section.key}]"]
    for f in section.fields:
        default = f.default
        if isinstance(default, str):        # a default made from other values, named in capitals
            default = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), default)
        if f.secret:        # may be given here, but is best asked when its step runs
            lines.append(f"# ({f.name}: {f.help[:1].lower()}{f.help[1:]}; asked when its step runs if not given)")
            continue
        shown = _toml(list(default) if isinstance(default, tuple) else default) if default not in (None, "") else '""'
        lines.append(f"# {f.name} = {shown}" + " " * max(1, 28 - len(f.name) - len(shown)) + f"# {f.help}")
    return lines
