"""Things a step makes sure exist: a system user, a directory, a TLS certificate, /etc/aliases,
a DKIM key, the mail users' hashes made by the box's own Dovecot.

Each is idempotent: what is there already is reused and never duplicated or replaced. What we
made is recorded in the state, so `reset` can take back what is safe to take back (an empty
directory, a certificate we generated) and say what it leaves (a user that may own mail).
"""

from __future__ import annotations

import dataclasses
import grp
import os
import pwd
import tempfile
from pathlib import Path
from typing import Callable

from wizard.answers import BY_ANSWERS, BY_DOVEADM, DOVEADM_PW, MailUser, doveadm_hash
from wizard.config import fill
from wizard.model import (AcmeCertificate, Certificate, DkimKey, Directory, DoveadmHashes, MailAliases,
                          SystemUser)
from wizard.system import System

Note = Callable[[str], None]


def ensure_all(system: System, items, values: dict[str, str], state, note: Note,
               users: list[MailUser] | None = None) -> str:
    """Make each item exist; a problem sentence, or "" when all are in place. `users`: the
    answers' mail users, replaced in place where a user's hash is made anew."""
    for item in items:
        problem = MAKERS[type(item)](system, item, values=values, state=state, note=note,
                                     users=users if users is not None else [])
        if problem:
            return problem
    return ""


def _user(system: System, item: SystemUser, *, values: dict[str, str], state, note: Note,
          users: list[MailUser]) -> str:
    try:
        grp.getgrnam(item.group)
        note(f"group {item.group} exists already: reused")
    except KeyError:
        result = system.run(["groupadd", item.group])
        if not result.ok:
            return f"could not create group {item.group}: {result.describe()}"
        state.made.append({"kind": "group", "name": item.group})
        note(f"created group {item.group}")
    try:
        existing = pwd.getpwnam(item.name)
        note(f"user {item.name} exists already (uid {existing.pw_uid}): reused")
    except KeyError:
        result = system.run(["useradd", "-g", item.group, "-d", item.home, "-M",
                             "-s", "/usr/sbin/nologin", item.name])
        if not result.ok:
            return f"could not create user {item.name}: {result.describe()}"
        state.made.append({"kind": "user", "name": item.name})
        note(f"created user {item.name} (no login, no home directory: it only owns mail)")
    return ""


def _directory(system: System, item: Directory, *, values: dict[str, str], state, note: Note,
               users: list[MailUser]) -> str:
    target = system.path(item.path)
    if not target.exists():
        target.mkdir(parents=True)
        state.made.append({"kind": "directory", "path": item.path})
        note(f"created {item.path}")
    if system.sandbox:
        return ""
    try:
        uid, gid = pwd.getpwnam(item.owner).pw_uid, grp.getgrnam(item.group).gr_gid
    except KeyError as exc:
        return f"{item.path}: no such user or group {exc}"
    st = target.stat()
    if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (uid, gid, item.mode):
        os.chown(target, uid, gid)
        os.chmod(target, item.mode)
        note(f"{item.path} now belongs to {item.owner}:{item.group}, mode {item.mode:o}")
    return ""


def _certificate(system: System, item: Certificate, *, values: dict[str, str], state, note: Note,
                 users: list[MailUser]) -> str:
    cert_path, key_path = fill(item.cert, values), fill(item.key, values)
    name = fill(item.common_name, values)
    if _usable_pair(system, cert_path, key_path):
        note(f"using the certificate already in {cert_path} (not replaced)")
        return ""
    if system.sandbox:
        note(f"sandbox: would make a self-signed certificate for {name}")
        return ""
    with tempfile.TemporaryDirectory(prefix="mailwizard-cert-") as scratch:
        cert_tmp, key_tmp = Path(scratch, "cert.pem"), Path(scratch, "key.pem")
        result = system.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                             "-days", "3650", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                             "-keyout", str(key_tmp), "-out", str(cert_tmp)], timeout=60)
        if not result.ok:
            return f"could not make a certificate: {result.describe()}"
        # The key is written by rename, never through whatever link may sit at key_path, and is
        # readable by root alone.
        for path, data, mode in ((key_path, key_tmp.read_bytes(), 0o600),
                                 (cert_path, cert_tmp.read_bytes(), 0o644)):
            if system.path(path).is_symlink() or system.path(path).exists():
                backup = f"{path}.mailwizard-before"
                system.move(path, backup)
                note(f"kept the old {path} as {backup}")
                # Reset moves it back: it is the box's own (Debian 13's is a link to the
                # snakeoil pair, which its own dovecot.conf needs to start).
                state.made.append({"kind": "moved-aside", "path": path, "backup": backup})
            system.write_file(path, data, mode=mode, uid=0, gid=0)
            state.created.append(path)
    note(f"E13: Debian left no certificate; made a self-signed one for {name} "
         f"({cert_path}, key {key_path}). Replace it with a real one later; mailwizard keeps yours.")
    return ""


def _dkim_key(system: System, item: DkimKey, *, values: dict[str, str], state, note: Note,
              users: list[MailUser]) -> str:
    path = fill(item.path, values)
    target = system.path(path)
    if target.is_file() and "PRIVATE KEY" in target.read_text(errors="replace"):
        _owned_by(system, path, item.owner)
        _remember_key(state, path)       # reset says it stays, made now or by an earlier walk
        note(f"using the DKIM key already in {path} (kept: its public half may be published)")
        return ""
    if system.sandbox:
        note(f"sandbox: would make a {item.bits}-bit DKIM key in {path}")
        return ""
    with tempfile.TemporaryDirectory(prefix="mailwizard-dkim-") as scratch:
        key_tmp = Path(scratch, "key.pem")
        result = system.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                             f"rsa_keygen_bits:{item.bits}", "-out", str(key_tmp)], timeout=60)
        if not result.ok:
            return f"could not make a DKIM key: {result.describe()}"
        try:
            owner = pwd.getpwnam(item.owner)
        except KeyError:
            return f"{path}: no user {item.owner} to own the DKIM key (is its package installed?)"
        system.run(["install", "-d", "-o", item.owner, "-g", str(owner.pw_gid), "-m", "750",
                    str(Path(path).parent)])
        # Written by rename, readable by the signer alone; never printed.
        system.write_file(path, key_tmp.read_bytes(), mode=0o600, uid=owner.pw_uid, gid=owner.pw_gid)
    _remember_key(state, path)
    note(f"made a {item.bits}-bit DKIM key in {path} (readable by {item.owner} only)")
    return ""


def _acme_certificate(system: System, item: AcmeCertificate, *, values: dict[str, str], state, note: Note,
                      users: list[MailUser]) -> str:
    from wizard.acme import obtain

    problem = obtain(system, {**values, "fqdn": fill(item.name, values)}, note)
    entry = {"kind": "acme-certificate", "path": str(Path(values["tls_cert"]).parent)}
    if not problem and not system.sandbox and entry not in state.made:
        state.made.append(entry)
    return problem


def _remember_key(state, path: str) -> None:
    entry = {"kind": "dkim-key", "path": path}
    if entry not in state.made:
        state.made.append(entry)


def _doveadm_hashes(system: System, item: DoveadmHashes, *, values: dict[str, str], state, note: Note,
                    users: list[MailUser]) -> str:
    """Each user's hash from `doveadm pw -s SHA512-CRYPT` on this box, as the tutorial makes it.
    A hash passlib made (the answers were read before Dovecot was installed) is made again from
    the clear password; one this box's doveadm made is kept (a new salt would be a change for
    nothing); one the answers gave stays as given. Never fails the step: `doveadm pw -t` and the
    logins that follow are the proof."""
    if system.sandbox:
        return ""           # the sandbox runs no Dovecot of its own: the hashes stay as read
    command = " ".join(DOVEADM_PW)
    for k, user in enumerate(users):
        if not user.password:
            said = "were given" if user.hashed_by == BY_ANSWERS else "came from the last change"
            note(f"{user.address}: the answers hold only its hash (password_hash), so `{command}` "
                 f"cannot make it here; the hash stays as it {said}, and `doveadm pw -t` below "
                 "checks that Dovecot takes it")
            continue
        entry = doveadm_made(user)
        if entry in state.made or user.hashed_by == BY_DOVEADM:
            if entry not in state.made:
                state.made.append(entry)
            note(f"{user.address}: its hash was made by this box's `{command}` "
                 f"({_shown(user.password_hash)}); kept, with its salt")
            continue
        made, why_not = doveadm_hash(user.password)
        if not made:
            note(f"{user.address}: {why_not}; the hash made by passlib stays (same scheme, same rounds)")
            continue
        note(f"$ {command}      ({user.address}'s password, twice, on its standard input)\n"
             f"{_shown(made)}\n"
             f"(the hash passlib made when the answers were read, before Dovecot was on this box, "
             "is replaced by this one in users.db)")
        users[k] = dataclasses.replace(user, password_hash=made, hashed_by=BY_DOVEADM)
        state.made.append({**entry, "hash": made})
    return ""


def doveadm_made(user: MailUser) -> dict:
    """How the state remembers that this box's doveadm made the user's hash (a resumed walk,
    whose answers keep the hash, then knows not to make it again)."""
    return {"kind": "doveadm-hash", "address": user.address, "hash": user.password_hash}


def _shown(hashed: str) -> str:
    """A hash as the transcript shows it: scheme and method, the salt and hash left out."""
    scheme, _, rest = hashed.partition("}")
    return f"{scheme}}}${rest.split('$')[1]}$…" if rest.startswith("$") else "(a hash)"


def _owned_by(system: System, path: str, owner: str) -> None:
    """A key found in place is left as it is, except that the signer must be able to read it
    and nobody else may."""
    if system.sandbox:
        return
    try:
        user = pwd.getpwnam(owner)
    except KeyError:
        return
    target = system.path(path)
    st = target.stat()
    if (st.st_uid, st.st_mode & 0o077) != (user.pw_uid, 0):
        os.chown(target, user.pw_uid, user.pw_gid)
        os.chmod(target, st.st_mode & 0o700)


def dkim_public_key(system: System, path: str) -> str:
    """The public half of a DKIM key, base64 as the record's p= wants it ("" when unreadable)."""
    pem = system.query(["openssl", "pkey", "-in", str(system.path(path)), "-pubout"]).stdout
    return "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))


def _aliases(system: System, item: MailAliases, *, values: dict[str, str], state, note: Note,
             users: list[MailUser]) -> str:
    source, database = system.path(item.path), system.path(item.path + ".db")
    if not source.exists():
        if system.sandbox:
            note(f"sandbox: would write {item.path} and run newaliases")
            return ""
        system.write_file(item.path, "".join(f"{line}\n" for line in item.lines), mode=0o644, uid=0, gid=0)
        state.created.append(item.path)
        note(f"{item.path} was missing (Postfix then logs 'open database {item.path}.db' at every "
             f"start and cannot deliver locally): wrote it with {', '.join(item.lines)}")
    if system.sandbox or (database.exists() and database.stat().st_mtime >= source.stat().st_mtime):
        return ""
    had_database = database.exists()
    result = system.run(["newaliases"], timeout=60)
    if not result.ok:
        return f"newaliases failed: {result.describe()}"
    if not had_database:
        state.created.append(item.path + ".db")
    note(f"built {item.path}.db with newaliases")
    return ""


def _usable_pair(system: System, cert: str, key: str) -> bool:
    """Both files exist, the key is a private key, and it belongs to the certificate."""
    cert_file, key_file = system.path(cert), system.path(key)
    if not (cert_file.is_file() and key_file.is_file()):
        return False
    if "PRIVATE KEY" not in key_file.read_text(errors="replace"):
        return False
    from_cert = system.query(["openssl", "x509", "-in", str(cert_file), "-noout", "-pubkey"]).stdout
    from_key = system.query(["openssl", "pkey", "-in", str(key_file), "-pubout"]).stdout
    return bool(from_cert) and from_cert == from_key


def undo_made(system: System, state, note: Note) -> None:
    """What reset can take back: directories we made, if empty. Users and groups stay (they may
    own mail); the note says how to remove them."""
    for item in reversed(state.made):
        if item.get("kind") == "directory":
            target = system.path(item["path"])
            try:
                target.rmdir()
                note(f"removed the empty {item['path']}")
            except OSError:
                if target.exists():
                    note(f"kept {item['path']}: it holds mail")
        elif item.get("kind") == "moved-aside":
            backup, target = system.path(item["backup"]), system.path(item["path"])
            if backup.is_symlink() or backup.exists():
                if target.is_symlink() or target.exists():
                    target.unlink()
                system.move(item["backup"], item["path"])
                note(f"put back the box's own {item['path']} (kept aside as {item['backup']})")
        elif item.get("kind") == "acme-certificate":
            note(f"certbot's certificate stays in {item['path']} with its account and renewal settings "
                 "(you may need them; `certbot delete` removes them)")
        elif item.get("kind") == "dkim-key":
            note(f"the DKIM key {item['path']} stays: its public half may be published in DNS, "
                 "and a walk again signs with it (delete it by hand if it is not)")
        elif item.get("kind") == "user":
            note(f"user {item['name']} stays (remove it with `userdel {item['name']}` if no mail needs it)")


# One maker a kind of thing a step makes exist (the model's ensure items), by its type.
MAKERS = {SystemUser: _user, Directory: _directory, Certificate: _certificate, DkimKey: _dkim_key,
          AcmeCertificate: _acme_certificate, DoveadmHashes: _doveadm_hashes, MailAliases: _aliases}
