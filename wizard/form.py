"""The answers as the wizard's form holds them: a text per field, checked one field at a time
by the same rules as an answers file, and made into answers when saved. The walk's own fields
are named here; each chapter's table comes from its declaration (a field `KEY_NAME`), so a new
chapter's table is on the form without a line here. No Textual: the TUI's form screen
(wizard/tui/answers_form.py) shows what this module says."""

from __future__ import annotations

import re
from dataclasses import replace

from wizard import sections
from wizard.answer_checks import AnswersError, check_address, check_domain, check_hostlabel, check_password
from wizard.answers import VANTAGE, Answers, MailUser, parse_answers, walk_values

# The walk's own fields, in the form's order.
CORE_FIELDS = ("maildomain", "mailhost", "address", "password", "password_again",
               "external_address", "vantage", "external_host", "static_address")


def table_fields(answers_declared) -> list[tuple[str, object, object]]:
    """(form name, section, field) for every field of every chapter's table."""
    return [(f"{section.key}_{f.name}", section, f) for section in answers_declared for f in section.fields]


def form_fields(answers: Answers | None, declared) -> dict[str, str]:
    """The form prefilled from `answers` (passwords and other secrets are never shown, only kept)."""
    if answers is None:
        fields = {"maildomain": "", "mailhost": "mail", "address": "", "password": "", "password_again": "",
                  "external_address": "", "vantage": "box", "external_host": "", "static_address": ""}
    else:
        first = answers.users[0] if answers.users else None
        fields = {"maildomain": answers.maildomain, "mailhost": answers.mailhost,
                  "address": first.address if first else "", "password": "", "password_again": "",
                  "external_address": answers.external_address, "vantage": answers.vantage,
                  "external_host": answers.exthost,
                  "static_address": {True: "yes", False: "no", None: ""}[answers.static_address]}
    for name, section, f in table_fields(declared):
        table = (answers.table(section.key) if answers is not None else None) or {}
        fields[name] = "" if f.secret or f.name not in table else _shown(table[f.name])
    return fields


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return str(value)


def _typed(f, text: str):
    """A form's text as the answers file would give it: a bool, a number, a list."""
    if f.kind == "bool":
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    if f.kind == "int":
        return int(text.strip()) if text.strip().isdigit() else text
    if f.kind == "list":        # "none": the empty list, which an absent table is not
        return [] if text.strip().lower() == "none" else [item for item in re.split(r"[,\s]+", text.strip()) if item]
    return text


def _table(section, fields: dict[str, str]) -> dict | None:
    """A chapter's table as the form gives it (None: nothing of it filled in)."""
    given = {}
    for f in section.fields:
        text = fields.get(f"{section.key}_{f.name}", "")
        if text.strip():
            given[f.name] = _typed(f, text)
    return given or None


def _walk(fields: dict[str, str], previous: Answers | None) -> dict[str, object]:
    """The walk's values a table's rules hold it against, from the form as typed so far."""
    users = (fields.get("address", ""), *(u.address for u in (previous.users[1:] if previous else ())))
    return walk_values(fields.get("maildomain", ""), fields.get("mailhost", ""),
                       fields.get("external_address", "").partition("@")[2], users)


def field_problem(name: str, fields: dict[str, str], previous: Answers | None = None, declared=()) -> str:
    """What is wrong with one field of the form as typed so far ("" when it is fine)."""
    value = fields.get(name, "")
    try:
        if name == "maildomain":
            check_domain(value)
        elif name == "mailhost":
            check_hostlabel(value)
        elif name == "address":
            local, domain = check_address(value, "address")
            if domain != fields.get("maildomain", ""):
                return f"address: {local}@{domain} is not in {fields.get('maildomain') or 'the mail domain'}."
        elif name == "password":
            if value or not _known_user(fields.get("address", ""), previous):
                check_password(value, "password")
        elif name == "password_again":
            if value != fields.get("password", ""):
                return "the two passwords differ."
        elif name == "external_address":
            _, domain = check_address(value, "external address")
            mine = fields.get("maildomain", "")
            if mine and (domain == mine or domain.endswith("." + mine)):
                return f"external address: it must be outside {mine}: it stands for somebody elsewhere."
        elif name == "vantage":
            if not VANTAGE.match(value.strip()):
                return f"vantage: '{value}' is not one of box, local, manual, none, netns:NAME, ssh:user@host."
        elif name == "external_host" and value.strip():
            check_hostlabel(value, "external host")
        else:
            return _table_problem(name, fields, previous, declared)
    except AnswersError as exc:
        return str(exc)
    return ""


def _table_problem(name: str, fields: dict[str, str], previous: Answers | None, declared) -> str:
    """A table's field: the table as filled in so far, checked whole; its problem if it names
    this field (another field's problem is shown under that one)."""
    for form_name, section, f in table_fields(declared):
        if form_name != name:
            continue
        try:
            sections.parse(section, _table(section, fields) or {}, _walk(fields, previous))
        except AnswersError as exc:
            said = str(exc)
            return said if said.startswith(f"{section.key}.{f.name}:") else ""
    return ""


def _known_user(address: str, previous: Answers | None) -> MailUser | None:
    for user in previous.users if previous else ():
        if user.address == address:
            return user
    return None


def answers_from_form(fields: dict[str, str], previous: Answers | None = None,
                      known: dict[str, str] | None = None, declared=None) -> Answers:
    """The form's answers, checked by the same rules as an answers file. The first user is the
    form's; further users, the lab settings and the secrets of `previous` (which the form never
    shows) are kept. An empty password keeps the user's known hash."""
    from wizard.answers import chapter_sections

    declared = chapter_sections() if declared is None else declared
    for name in CORE_FIELDS:
        problem = field_problem(name, fields, previous, declared)
        if problem:
            raise AnswersError(problem)
    first: dict[str, str] = {"address": fields["address"]}
    kept = _known_user(fields["address"], previous)
    if fields.get("password"):
        first["password"] = fields["password"]
    else:
        first["password_hash"] = kept.password_hash
    others = [{"address": u.address, "password_hash": u.password_hash}
              for u in (previous.users[1:] if previous else ()) if u.address != fields["address"]]
    data: dict = {"maildomain": fields["maildomain"], "mailhost": fields["mailhost"],
                  "users": [first, *others],
                  "external": {"address": fields["external_address"], "vantage": fields["vantage"].strip()}}
    if fields.get("external_host", "").strip():
        data["external"]["host"] = fields["external_host"].strip()
    if previous is not None:
        data["lab"] = dict(previous.lab)
        if previous.ssh_config:
            data["external"]["ssh_config"] = previous.ssh_config
    if fields.get("static_address") in ("yes", "no"):
        data["static_address"] = fields["static_address"] == "yes"
    for section in declared:
        table = _table(section, fields)
        if table is not None:
            data[section.key] = table
    answers = parse_answers(data, source="the answers form", known=known, declared=declared)
    if kept and not fields.get("password") and kept.password:
        users = (replace(answers.users[0], password=kept.password),) + answers.users[1:]
        answers = replace(answers, users=users)
    if previous is not None:        # a secret not typed anew is kept (in memory only, as given)
        secrets = {**previous.secrets(), **answers.secrets()}
        tables = {key for key, _ in answers.tables}
        places = {f"{s.key}_{f.name}" for s in declared if s.key in tables for f in s.fields if f.secret}
        answers = replace(answers, kept_secrets=tuple((name, value) for name, value in secrets.items()
                                                      if name in places))
    return answers
