"""Dovecot 2.4's dialect: which one a box gets, and what the translation writes."""

from __future__ import annotations

import re

import pytest

from steps import ALL_STEPS
from wizard.answers import parse_answers
from wizard.config import managed_paths, render_file
from wizard.dialect import DOVECOT_CONF, dialect_for
from wizard.model import walk_order

ANSWERS = parse_answers({"maildomain": "example.test", "mailhost": "mail",
                         "users": [{"address": "alice@example.test", "password": "123456"}]})
VALUES = {**ANSWERS.values(), "compatibility_level": "3.9"}
GONE_IN_24 = ("mail_location", "disable_plaintext_auth", "ssl_cert", "ssl_key", "driver", "args")


@pytest.mark.parametrize("dovecot, debian, expected", [
    ("2.3.19.1", "12.11", "2.3"), ("2.4.1-4", "13.8", "2.4"), ("2.4.0", "12.11", "2.4"),
    ("2.2.33.2", None, "2.3"), (None, "13.8", "2.4"), (None, "12.11", "2.3"), (None, None, "2.3"),
])
def test_the_dialect_follows_the_installed_dovecot_then_the_debian_release(dovecot, debian, expected):
    assert dialect_for(dovecot, debian) == expected


def settings_of(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^\s*([a-z_]+)\s*=", text, re.M)]


@pytest.mark.parametrize("teaching", [False, True])
def test_every_render_on_24_starts_with_the_version_and_uses_no_23_name(teaching):
    steps = walk_order(ALL_STEPS, teaching)
    renders = [render_file(DOVECOT_CONF, steps[:k], VALUES, users=ANSWERS.users, dovecot_dialect="2.4")
               for k in range(1, len(steps) + 1)]
    renders = [r for r in renders if r is not None]
    assert len(renders) >= (12 if teaching else 6)
    for text in renders:
        names = settings_of(text)
        assert names[:2] == ["dovecot_config_version", "dovecot_storage_version"], text
        assert not set(names) & set(GONE_IN_24), text
        assert not re.search(r"^[^#]*%[dnu]\b", text, re.M), "a 2.3 %-variable survived"
        assert not re.search(r"^[^#]*= <", text, re.M), "a '<' before a 2.4 file path"


def test_the_translation_keeps_every_value_and_says_what_changed():
    # The walk these answers take (no [certificate] ca outside the lab: the self-signed certificate stays).
    taken = [step for step in ALL_STEPS if step.applies(VALUES)]
    final = render_file(DOVECOT_CONF, taken, VALUES, users=ANSWERS.users, dovecot_dialect="2.4")
    assert "mail_home = /var/vmail/%{user | domain}/%{user | username}\n" in final
    assert "mail_driver = maildir\nmail_path = ~/mail\n" in final
    assert "ssl_server_cert_file = /etc/dovecot/dovecot.pem\n" in final
    assert "ssl_server_key_file = /etc/dovecot/private/dovecot.pem\n" in final
    assert ("passdb passwd-file {\n  passwd_file_path = /etc/dovecot/users.db\n"
            "  default_password_scheme = SHA512-CRYPT\n}\n") in final
    assert "ssl_server_prefer_ciphers = server\n" in final and "ssl_prefer_server_ciphers" not in final.replace(
        "# Dovecot 2.4: ssl_prefer_server_ciphers", "")
    assert final.count("# Dovecot 2.4:") == 6
    plaintext = walk_order(ALL_STEPS, True)
    k = [s.id for s in plaintext].index("dovecot-imap.plaintext") + 1
    lesson = render_file(DOVECOT_CONF, plaintext[:k], VALUES, users=ANSWERS.users, dovecot_dialect="2.4")
    assert "auth_allow_cleartext = yes\n" in lesson and "disable_plaintext_auth" in lesson  # in the comment


def test_23_renders_are_the_tutorials_and_other_files_never_change():
    for path in managed_paths(ALL_STEPS):
        old = render_file(path, ALL_STEPS, VALUES, users=ANSWERS.users)
        new = render_file(path, ALL_STEPS, VALUES, users=ANSWERS.users, dovecot_dialect="2.4")
        assert (old == new) == (path != DOVECOT_CONF), path
    old = render_file(DOVECOT_CONF, ALL_STEPS, VALUES, users=ANSWERS.users)
    assert "mail_location = maildir:~/mail" in old and "dovecot_config_version" not in old
