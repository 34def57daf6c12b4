"""The checks every answer passes before it can reach a config file: names as DNS labels, local
parts without the characters Postfix's and Dovecot's tables give a meaning to, no line breaks
anywhere. A leaf: the answers (wizard/answers.py) and the chapters' own tables
(wizard/sections.py) are checked by the same functions, named in `FIELD_CHECKS`."""

from __future__ import annotations

import ipaddress
import re

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Local parts we accept: the dot-atom of RFC 5322 minus characters that mean something in
# Postfix or Dovecot tables (":", "#", "," and blanks).
LOCAL_PART = re.compile(r"^[a-z0-9!$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!$%&'*+/=?^_`{|}~-]+)*$")
SPF_MECHANISM = re.compile(r"^(a|mx|include|ip4|ip6|exists):[A-Za-z0-9._:/%{}-]+$")


class AnswersError(ValueError):
    """An answer is not usable; the message names it and says what to do."""


def text(value, what: str) -> str:
    if not isinstance(value, str):
        raise AnswersError(f"{what}: expected a string in quotes, got {type(value).__name__}.")
    if "\x00" in value or "\n" in value or "\r" in value:
        raise AnswersError(f"{what}: a newline or NUL character is not allowed here.")
    return value


def check_domain(value: str, what: str = "maildomain") -> str:
    value = value.strip().lower().rstrip(".")
    if not value or len(value) > 253:
        raise AnswersError(f"{what}: a domain name has 1 to 253 characters, got {len(value)}.")
    labels = value.split(".")
    if len(labels) < 2:
        raise AnswersError(f"{what}: '{value}' needs at least two labels, like example.test.")
    for label in labels:
        if not LABEL.match(label):
            raise AnswersError(
                f"{what}: '{label}' is not a valid DNS label in '{value}'. Use letters, digits "
                "and hyphens (not first or last), at most 63 characters per label.")
    return value


def check_hostlabel(value: str, what: str = "mailhost") -> str:
    value = value.strip().lower()
    if not LABEL.match(value):
        raise AnswersError(
            f"{what}: '{value}' must be one DNS label (letters, digits, inner hyphens), like 'mail'; "
            "the domain is added from maildomain.")
    return value


def check_address(value: str, what: str) -> tuple[str, str]:
    value = value.strip()
    if value.count("@") != 1:
        raise AnswersError(f"{what}: '{value}' is not an address of the form user@domain.")
    local, domain = value.split("@")
    local = local.lower()
    if not local or len(local) > 64 or not LOCAL_PART.match(local):
        raise AnswersError(
            f"{what}: the user part '{local}' may hold letters, digits and . _ - + (no blanks, "
            "':', '#' or ','), at most 64 characters.")
    return local, check_domain(domain, what)


def check_password(value: str, what: str) -> str:
    if not value:
        raise AnswersError(f"{what}: the password is empty; give one or a password_hash.")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise AnswersError(f"{what}: the password holds a control character (newline, tab, NUL...).")
    if len(value) > 256:
        raise AnswersError(f"{what}: the password is longer than 256 characters.")
    return value


# ---- the named checks a chapter's field may ask for (AnswerField.check) -------------------------
def _hostname(value: str, what: str) -> str:
    """A host's name, never its address (certificates and logins are for names)."""
    bare = value.strip().strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        if not re.match(r"^[0-9.]+$", bare):
            return check_domain(bare, what)
    raise AnswersError(f"{what}: '{bare}' is an address, not a host name.")


def _address(value: str, what: str) -> str:
    local, domain = check_address(value, what)
    return f"{local}@{domain}"


def _label(value: str, what: str) -> str:
    value = value.strip().lower()
    if not LABEL.match(value):
        raise AnswersError(f"{what}: '{value}' is not a DNS label (letters, digits and inner hyphens, "
                           "at most 63 characters).")
    return value


def _local_part(value: str, what: str) -> str:
    local = value.strip().lower()
    if not LOCAL_PART.match(local) or len(local) > 64:
        raise AnswersError(f"{what}: '{value}' is not the user part of an address (letters, digits "
                           "and . _ - +).")
    return local


def _path(value: str, what: str) -> str:
    path = value.strip()
    if path and (not path.startswith("/") or any(c in path for c in "\n\"'{}")):
        raise AnswersError(f"{what}: give it as an absolute path.")
    return path


def _login(value: str, what: str) -> str:
    user = value.strip()
    if any(c.isspace() or c == ":" or ord(c) < 32 for c in user) or len(user) > 256:
        raise AnswersError(f"{what}: a user name without blanks or ':' (Postfix's password map "
                           "separates the user from the password with ':').")
    return user


def _secret(value: str, what: str) -> str:
    if not value or value != value.strip() or any(ord(c) < 32 or c == "\x7f" for c in value):
        raise AnswersError(f"{what}: give it without control characters and without blanks at "
                           "either end (or leave it out: it is then asked at run time).")
    if len(value) > 256:
        raise AnswersError(f"{what}: longer than 256 characters.")
    return value


def _spf_mechanism(value: str, what: str) -> str:
    value = value.strip()
    if value and not SPF_MECHANISM.match(value):
        raise AnswersError(f"{what}: '{value}' is not one SPF mechanism.")
    return value


FIELD_CHECKS = {"domain": lambda value, what: check_domain(value, what), "hostname": _hostname,
                "address": _address, "label": _label, "local_part": _local_part, "path": _path,
                "login": _login, "secret": _secret, "spf_mechanism": _spf_mechanism}
