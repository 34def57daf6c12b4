"""Hostile input, property by property: every answer is either refused with a message naming it,
or rendered into files that mean exactly what was asked — no second line smuggled into main.cf,
dovecot.conf, users.db or the alias table, no clear password anywhere. Also a state file that is
damaged or edited by hand: a clear refusal, never a traceback."""

from __future__ import annotations

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import mailwizard
from steps import ALL_STEPS
from wizard.answers import AnswersError, parse_answers, verify_password
from wizard.config import managed_paths, render_file
from wizard.state import State, StateError

NASTY = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.ascii_letters + string.digits + ".-_@:#,;=\"'\\ {}$%\n\r\t\x00", max_size=80),
    st.sampled_from(["example.test\nmydestination = evil.test", "a" * 300, "ex ample.test", "-bad.test",
                     "example..test", "xn--bcher-kva.test", "ÄÖÜ.test", "root:x", "mail\x00",
                     "{maildomain}", "%d/%n", "$mydomain", "alice@example.test\nbob@example.test:hash"]),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BENIGN = parse_answers({"maildomain": "example.test", "users": [{"address": "alice@example.test", "password": "123456"}]})


def renders(answers) -> dict[str, str]:
    values = {**answers.values(), "compatibility_level": "3.6"}
    return {path: render_file(path, ALL_STEPS, values, users=answers.users) for path in managed_paths(ALL_STEPS)}


BASELINE = renders(BENIGN)


def answer_file(maildomain="example.test", mailhost="mail", local="alice", password="123456",
                external="bob@ext.test", lab_name="mwlab"):
    return {"maildomain": maildomain, "mailhost": mailhost,
            "users": [{"address": f"{local}@{maildomain}", "password": password}],
            "external": {"address": external}, "lab": {"name": lab_name}}


def accepted_or_refused(data: dict):
    try:
        return parse_answers(data)
    except AnswersError as exc:
        assert str(exc).split(":")[0], "a refusal names what it refuses"
        return None


def same_shape(answers) -> None:
    """As many lines as the benign render, every line a setting, comment, block or table row."""
    for path, text in renders(answers).items():
        assert text.count("\n") == BASELINE[path].count("\n"), f"{path}: a line was added or lost"
        for line in text.splitlines():
            assert "\x00" not in line and "\r" not in line


@SETTINGS
@given(maildomain=NASTY)
def test_a_maildomain_is_refused_or_means_exactly_itself(maildomain):
    answers = accepted_or_refused(answer_file(maildomain=maildomain))
    if answers is None:
        return
    same_shape(answers)
    main_cf = renders(answers)["/etc/postfix/main.cf"]
    assert f"\nmydomain = {answers.maildomain}\n" in main_cf
    assert all(c in string.ascii_lowercase + string.digits + ".-" for c in answers.maildomain)


@SETTINGS
@given(mailhost=NASTY, local=NASTY)
def test_host_and_user_names_are_refused_or_stay_one_token(mailhost, local):
    answers = accepted_or_refused(answer_file(mailhost=mailhost, local=local))
    if answers is None:
        return
    same_shape(answers)
    users_db = renders(answers)["/etc/dovecot/users.db"].splitlines()[-1]
    address, _, secret = users_db.partition(":")
    assert address == answers.users[0].address and ":" not in secret
    assert f"\nmyhostname = {answers.mailhost}.$mydomain\n" in renders(answers)["/etc/postfix/main.cf"]


@SETTINGS
@given(password=NASTY)
def test_a_password_is_refused_or_only_its_hash_is_written(password):
    answers = accepted_or_refused(answer_file(password=password))
    if answers is None:
        return
    same_shape(answers)
    users_db = renders(answers)["/etc/dovecot/users.db"]
    secret = users_db.splitlines()[-1].split(":", 1)[1]
    assert verify_password(password, secret)
    if len(password) >= 4:     # (shorter strings turn up inside hashes by chance)
        written, benign = "".join(renders(answers).values()), "".join(BASELINE.values())
        assert written.count(password) == benign.count(password), "the password is written somewhere"
        record, benign_record = json.dumps(answers.to_record()), json.dumps(BENIGN.to_record())
        assert record.count(password) == benign_record.count(password), "the password is in the state"


@SETTINGS
@given(external=NASTY, lab_name=NASTY)
def test_the_outside_address_and_lab_name_are_refused_or_harmless(external, lab_name):
    answers = accepted_or_refused(answer_file(external=external, lab_name=lab_name))
    if answers is None:
        return
    same_shape(answers)
    assert answers.extdomain != answers.maildomain
    assert dict(answers.lab)["name"].isalnum()


@SETTINGS
@given(doc=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                        max_leaves=20))
def test_a_damaged_state_file_is_refused_with_a_message(doc):
    for text in (json.dumps(doc), json.dumps({"format": 1, "answers": doc, "steps": doc}), json.dumps(doc)[:-1]):
        try:
            state = State.from_json(text)
        except StateError as exc:
            assert "state" in str(exc)
            continue
        if state.answers is not None:
            try:
                parse_answers(state.answers, source="state")
            except AnswersError:
                pass


def test_hand_edited_state_files_get_a_clear_refusal_from_the_cli(tmp_path):
    for garbage in ("{not json", '{"format": 1, "steps": 7}', '{"format": 99}', '{"format": 1, "answers": {"users": 3}}'):
        state = tmp_path / "var/lib/mailwizard/state.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(garbage)
        for command in (["status"], ["run"], ["undo"]):
            done = mailwizard(*command, "--root", str(tmp_path))
            assert done.returncode == 2, (garbage, command, done.stdout, done.stderr)
            assert done.stderr.startswith("mailwizard: ") and "Traceback" not in done.stderr


@SETTINGS
@given(host=NASTY, user=NASTY, password=NASTY)
def test_a_relay_host_login_is_refused_or_stays_one_line_of_the_password_map(host, user, password):
    data = answer_file()
    data["relay"] = {"host": host, "user": user, "password": password}
    answers = accepted_or_refused(data)
    if answers is None:
        return
    values = {**answers.values(), "compatibility_level": "3.6", **answers.secrets()}
    kept = render_file("/etc/postfix/sasl_passwd", ALL_STEPS, values)
    rows = [line for line in kept.splitlines() if line and not line.startswith("#")]
    relay = answers.table("relay")
    assert rows == [f"[{relay['host']}]:587 {relay['user']}:{password}"]
    main_cf = render_file("/etc/postfix/main.cf", ALL_STEPS, values)
    assert f"\nrelayhost = [{relay['host']}]:587\n" in main_cf
