"""Dovecot 2.4's configuration dialect: the tutorial's 2.3 settings, said the way 2.4 wants them.

Steps keep the tutorial's settings (that is what they teach). When the box runs Dovecot 2.4 the
renderer hands the finished dovecot.conf entries to `to_dovecot_24`, which rewrites each one by
the table below and says so in the comment above it, so the Changes view shows the translation
next to the line. The table is the one measured on Dovecot 2.4.1 (shared notes, dovecot-2.4.md).
"""

from __future__ import annotations

from dataclasses import replace

from wizard.model import Erratum

DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
CONFIG_VERSION = "2.4.0"
EXPLAIN_24 = "dovecot-2.4.md"        # added to the explanation of a step that writes dovecot.conf
ERRATUM_24 = Erratum("D24", "This box runs Dovecot 2.4: dovecot.conf is written in 2.4's syntax "
                     "(the same settings; each translated line says what changed). "
                     "`mailwizard errata` lists the translations.")

# 2.3's %-letters and what 2.4 calls them. 2.4 takes `%d/%n` without a word and then makes one
# literal "%d/%n" directory that every user shares, so none may survive the translation.
VARIABLES = {"%d": "%{user | domain}", "%n": "%{user | username}", "%u": "%{user}"}


def dialect_for(dovecot_version: str | None, debian_version: str | None) -> str:
    """"2.4" or "2.3". Before Dovecot is installed, the Debian release tells which one apt brings."""
    if dovecot_version:
        return "2.4" if _at_least(dovecot_version, (2, 4)) else "2.3"
    return "2.4" if _at_least(debian_version or "", (13,)) else "2.3"


def _at_least(version: str, wanted: tuple[int, ...]) -> bool:
    parts = []
    for piece in version.split("."):
        digits = "".join(c for c in piece if c.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) >= wanted if parts else False


def translate_dovecot(entries: list, dialect: str, line_type, block_type) -> list:
    """The entries of a dovecot.conf in `dialect`; 2.3 entries are returned as they are."""
    if dialect != "2.4":
        return entries
    out = [line_type("dovecot_config_version", CONFIG_VERSION,
                     "Dovecot 2.4 refuses a file whose first setting is not its config version."),
           line_type("dovecot_storage_version", CONFIG_VERSION,
                     "Dovecot 2.4 also wants to know which storage format to write.")]
    for entry in entries:
        out += _translate(entry, line_type, block_type)
    return out


def _note(why: str, change: str) -> str:
    said = f"Dovecot 2.4: {change}"
    return f"{why}\n# {said}" if why else said


def _translate(entry, line_type, block_type) -> list:
    if isinstance(entry, block_type):
        return [_translate_block(entry, line_type, block_type)]
    name, value, why = entry.name, entry.value, entry.why
    if name == "mail_location":
        driver, _, path = value.partition(":")
        lines = [line_type("mail_driver", driver, _note(why, "mail_location became mail_driver "
                                                          "and mail_path."))]
        if path:
            lines.append(line_type("mail_path", path, ""))
        return lines
    if name == "mail_home":
        return [line_type(name, _variables(value), _note(why, "%d and %n are written "
                                                              "%{user | domain} and %{user | username}."))]
    if name == "disable_plaintext_auth":
        allowed = "no" if value.strip() == "yes" else "yes"
        return [line_type("auth_allow_cleartext", allowed,
                          _note(why, f"disable_plaintext_auth = {value} is now said the other way "
                                     f"round: auth_allow_cleartext = {allowed}."))]
    if name in ("ssl_cert", "ssl_key"):
        new = "ssl_server_cert_file" if name == "ssl_cert" else "ssl_server_key_file"
        # 2.4 takes a path; a `<` left in passes doveconf and then Dovecot will not start.
        return [line_type(new, value.lstrip("<").strip(),
                          _note(why, f"{name} = <file became {new} = file (a path, no '<')."))]
    if name == "ssl_prefer_server_ciphers":
        chooser = "server" if value.strip() == "yes" else "client"
        return [line_type("ssl_server_prefer_ciphers", chooser,
                          _note(why, f"ssl_prefer_server_ciphers = {value} became "
                                     f"ssl_server_prefer_ciphers = {chooser}."))]
    return [entry]


def _variables(value: str) -> str:
    for old, new in VARIABLES.items():
        value = value.replace(old, new)
    return value


def _translate_block(block, line_type, block_type):
    """`passdb { driver = X  args = scheme=S PATH }` becomes `passdb X { passwd_file_path = PATH
    default_password_scheme = S }`; other blocks (services, listeners) read the same in 2.4."""
    if block.name != "passdb":
        return block
    settings = {item.name: item.value for item in block.items if not isinstance(item, block_type)}
    driver = settings.get("driver", "passwd-file")
    items = []
    scheme = None
    for word in settings.get("args", "").split():
        if word.startswith("scheme="):
            scheme = word.split("=", 1)[1]
        else:
            items.append(line_type("passwd_file_path", word, ""))
    if scheme:
        items.append(line_type("default_password_scheme", scheme, ""))
    return replace(block, name=f"passdb {driver}", items=tuple(items),
                   why=_note(block.why, "the passdb block is named by its driver; args became "
                                        "passwd_file_path and default_password_scheme."))
