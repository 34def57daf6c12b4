"""The final files say what the tutorial's "All files incorporated" says, setting by setting;
every difference is one the errata page lists, with its reason."""

from __future__ import annotations

import re
from pathlib import Path

from steps import ALL_STEPS
from wizard import resources
from wizard.answers import parse_answers
from wizard.config import render_file

LISTINGS = (Path(__file__).parent / "data" / "tutorial-final-files.md").read_text()
ANSWERS = parse_answers({"maildomain": "example.test", "mailhost": "mail",
                         "users": [{"address": "alice@example.test", "password": "123456"}]})
VALUES = {**ANSWERS.values(), "compatibility_level": "3.6"}

# Where the final files differ from the tutorial's listing, and the erratum that says why.
ALLOWED = {
    "main.cf": {"compatibility_level": "E4", "maillog_file": "E1", "virtual_alias_maps": "alias"},
    "dovecot.conf": {"log_path": "E1", "passdb/args": "E17", "postmaster_address": "space"},
}


def listing(name: str) -> str:
    block = LISTINGS.split(f"/etc/{'postfix' if name == 'main.cf' else 'dovecot'}/{name}*", 1)[1]
    text = block.split("```", 2)[1]
    return text.replace("MAILDOMAIN", "example.test").replace("MAILHOST", "mail")


def settings(text: str) -> dict[str, str]:
    """name → value, continuation lines joined, blocks flattened to 'block/name'; lists of
    restrictions normalised (Postfix splits on commas and blanks alike)."""
    out, stack, last = {}, [], None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if raw[:1].isspace() and last and not stack and "=" not in line:
            out[last] += " " + line.strip()
            continue
        stripped = line.strip()
        if stripped.endswith("{"):
            stack.append(stripped[:-1].strip())
            continue
        if stripped == "}":
            stack.pop()
            continue
        name, _, value = stripped.partition("=")
        last = "/".join(stack + [name.strip()])
        out[last] = value.strip()
    return {k: " ".join(re.split(r"[,\s]+", v.strip(", "))) for k, v in out.items()}


# `run --through next-steps` ends in the tutorial's server; the chapters after it add to it.
TUTORIAL = ALL_STEPS[: [s.id for s in ALL_STEPS].index("next-steps") + 1]


def ours(path: str) -> dict[str, str]:
    return settings(render_file(path, TUTORIAL, VALUES, users=ANSWERS.users))


def test_final_files_match_the_tutorial_except_for_listed_errata():
    errata = resources.read_text("errata.md")
    for name, path in (("main.cf", "/etc/postfix/main.cf"), ("dovecot.conf", "/etc/dovecot/dovecot.conf")):
        theirs, mine = settings(listing(name)), ours(path)
        differ = {k for k in theirs.keys() | mine.keys() if theirs.get(k) != mine.get(k)}
        assert differ == set(ALLOWED[name]), f"{name}: unexpected differences {differ ^ set(ALLOWED[name])}"
        for key, ref in ALLOWED[name].items():
            assert f"| {ref} |" in errata, f"{name}: {key} differs, but erratum {ref} is not on the page"


def test_the_spots_where_the_tutorial_is_wrong_are_fixed_in_ours():
    main_cf, dovecot = ours("/etc/postfix/main.cf"), ours("/etc/dovecot/dovecot.conf")
    assert dovecot["passdb/args"] == "scheme=SHA512-CRYPT /etc/dovecot/users.db"          # E17
    assert dovecot["postmaster_address"] == "postmaster@example.test"                     # no space
    assert main_cf["myhostname"] == "mail.$mydomain"                                       # E16
    assert len(main_cf["smtpd_recipient_restrictions"].split()) == 10                      # E18, E19
    assert list(dovecot).index("mail_gid") + 1 == list(dovecot).index("mail_uid")         # as listed
