"""A chapter declares its own table of the answers file (steps/*: AnswersSection); one generic piece
reads, checks, records and describes every table. Proven here: every answers file the README and
the tests use still reads and fits the schema the chapters make; the schema refuses what the walk
refuses; secrets stay out of every record; `answers check`, `answers schema` and `answers init`
from the command line. A chapter added with a table of its own, in a copy of the project and
against the real Postfix: tests/test_new_chapter.py; the table on the form: tests/test_tui.py."""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema
import pytest
from conftest import REPO, mailwizard
from fixture_data import ANSWERS

from wizard.answers import AnswersError, answers_schema, parse_answers


def readme_answers() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def validator() -> jsonschema.Draft202012Validator:
    schema = answers_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_answers_file_the_readme_and_the_tests_use_reads_and_fits_the_schema():
    files = readme_answers() + [ANSWERS, ANSWERS + '[relay]\nhost = "relay.ext.test:2525"\nuser = "me@ext.test"\n']
    assert len(files) >= 6, "the README's answers files were not found"
    for text in files:
        data = tomllib.loads(text)
        if "maildomain" not in data:     # a README fragment: one table, shown on its own
            data = {**tomllib.loads(ANSWERS), **data}
        parse_answers(data, hash_passwords=False)
        assert not list(validator().iter_errors(data)), text


def test_the_schema_refuses_what_the_walk_refuses():
    base = tomllib.loads(ANSWERS)
    for table, named in (({"submission": {"auth_on_25": "yes"}}, "submission.auth_on_25"),
                         ({"dmarc": {"policy": "strict"}}, "dmarc.policy"),
                         ({"blocklists": {"lists": ["a.example"] * 6}}, "blocklists.lists"),
                         ({"relay": {"host": "relay.ext.test", "user": "me", "prot": 25}}, "relay"),
                         ({"relay": {"user": "me"}}, "relay.host"),
                         ({"aliases": {"pure_virtual": 1}}, "aliases.pure_virtual"),
                         ({"dkim": {"selector": 7}}, "dkim.selector")):
        data = {**base, **table}
        assert list(validator().iter_errors(data)), f"the schema let {table} through"
        with pytest.raises(AnswersError, match=re.escape(named)):
            parse_answers(data, hash_passwords=False)
    assert list(validator().iter_errors({"maildomain": "example.test"})), "no mailbox: refused"


def test_a_secret_is_never_recorded_and_a_remembered_value_is():
    answers = parse_answers({**tomllib.loads(ANSWERS), "relay": {"host": "relay.ext.test", "user": "me",
                                                                 "password": "s3cret-pw"}}, hash_passwords=False)
    assert answers.secrets() == {"relay_password": "s3cret-pw"}
    for kept in (answers.to_toml(), json.dumps(answers.to_record()), repr(answers)):
        assert "s3cret-pw" not in kept
    assert re.fullmatch(r"mw20\d\d(0[1-9]|1[0-2])", answers.to_record()["dkim"]["selector"])
    again = parse_answers({**tomllib.loads(ANSWERS)}, known={"dkim.selector": "mw199901"}, hash_passwords=False)
    assert again.values()["dkim_selector"] == "mw199901", "the last walk's key keeps its selector"


def test_answers_check_and_schema_on_the_command_line(tmp_path):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(ANSWERS + '[dmarc]\npolicy = "quarantine"\n')
    bad.write_text(ANSWERS + '[dmarc]\npolicy = "strict"\n')
    checked = mailwizard("answers", "check", str(good))
    assert checked.returncode == 0 and "usable" in checked.stdout and "[dmarc]" in checked.stdout, checked
    refused = mailwizard("answers", "check", str(bad))
    assert refused.returncode == 2 and "dmarc.policy" in refused.stderr and "strict" in refused.stderr
    assert "Traceback" not in refused.stderr
    schema = json.loads(mailwizard("answers", "schema").stdout)
    assert schema["properties"]["dmarc"]["properties"]["policy"]["default"] == "none"
    assert schema["properties"]["relay"]["required"] == ["host", "user"]
    # `answers init` writes every chapter's table, commented out with its defaults: taken in as
    # written, with the FILL lines filled, the file is usable.
    init = tmp_path / "init.toml"
    assert mailwizard("answers", "init", str(init)).returncode == 0
    text = init.read_text()
    for key in ("aliases", "relay", "dkim", "dmarc", "submission", "blocklists", "certificate"):
        assert f"# [{key}]" in text
    filled = (text.replace('# maildomain = "example.org"', 'maildomain = "example.org"')
              .replace("# [[users]]", "[[users]]").replace('# address  = "you@example.org"', 'address = "you@example.org"')
              .replace('# password = "choose one"', 'password = "choose one"')
              .replace("# [submission]", "[submission]").replace("# auth_on_25 = false", "auth_on_25 = true"))
    init.write_text(filled)
    checked = mailwizard("answers", "check", str(init))
    assert checked.returncode == 0 and "[submission]" in checked.stdout, checked
