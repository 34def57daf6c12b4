"""The machine interface: `--json` on run, plan, status, check, undo, reset and why writes one JSON
object per line (schema mailwizard.events/1), a summary last, never a secret; `plan` says what
`run` would write and writes nothing; answers may be given as JSON. Walked in the sandbox, the
way a script or Ansible drives mailwizard: through its command line."""

from __future__ import annotations

import json
import tomllib

from conftest import mailwizard
from fixture_data import ANSWERS
from test_why_reading import sandbox_with_logs

SCHEMA = "mailwizard.events/1"
RELAY = '\n[relay]\nhost = "relay.ext.test"\nuser = "me@ext.test"\n'
SECRET = "Relay-Sesame-42"


def lines_of(done) -> list[dict]:
    """Every line of stdout as the object it must be."""
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert objects and all(o["schema"] == SCHEMA and o["event"] for o in objects), done.stdout[:2000]
    assert [o["event"] for o in objects].count("summary") == 1 and objects[-1]["event"] == "summary"
    assert objects[-1]["exit"] == done.returncode
    return objects


def changes_by_step(objects, event: str) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for o in objects:
        if o["event"] == event:
            found.setdefault(o["step"], []).append((o["path"], o["added"], o["removed"]))
        elif o["event"] == "plan_step":
            found[o["step"]] = [(c["path"], c["added"], c["removed"]) for c in o["changes"]]
    return {step: changes for step, changes in found.items() if changes}


def test_plan_says_what_run_then_writes_and_writes_nothing(tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS + RELAY)
    for text in (mailwizard("plan", "--answers", str(answers), "--root", str(box)).stdout,):
        assert "> postfix-blank:" in text and "change /etc/postfix/main.cf" in text and "nothing was written" in text
    plan = mailwizard("plan", "--json", "--answers", str(answers), "--root", str(box), "--through", "relay-host")
    assert not box.exists(), "plan wrote something"
    planned = lines_of(plan)
    assert [o["step"] for o in planned if o["event"] == "plan_step"][:3] == ["prereq", "install", "postfix-blank"]
    run = mailwizard("run", "--json", "--answers", str(answers), "--root", str(box), "--through", "relay-host",
                     env={"MAILWIZARD_RELAY_PASSWORD": SECRET})
    walked = lines_of(run)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert changes_by_step(planned, "") == changes_by_step(walked, "change_planned"), "run wrote what plan said"
    assert SECRET not in run.stdout and SECRET not in plan.stdout
    secret = [o for o in walked if o["event"] == "change_planned" and o["path"] == "/etc/postfix/sasl_passwd"]
    assert secret and secret[0]["secret"] and secret[0]["diff"] is None
    assert SECRET in (box / "etc/postfix/sasl_passwd").read_text(), "the secret reached its file, not the output"
    # The walk's shape: it starts, each step starts and ends, the walk ends, then the summary.
    assert walked[0]["event"] == "walk_started" and walked[0]["fqdn"] == "mail.example.test"
    started = [o["step"] for o in walked if o["event"] == "step_started"]
    assert started == [o["step"] for o in walked if o["event"] == "step_done"] and started[-1] == "relay-host"
    assert walked[-2]["event"] == "walk_done" and walked[-1]["steps_done"] == len(started)
    assert all(set(o) >= {"probe", "status", "expected", "got"} for o in walked if o["event"] == "probe_done")
    # Planned again once walked: nothing left to do up to there.
    again = lines_of(mailwizard("plan", "--json", "--answers", str(answers), "--root", str(box), "--through", "relay-host"))
    assert again[-1]["steps"] == 0 and again[-1]["changes"] == 0


def test_status_undo_and_reset_answer_in_json(tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS)
    assert lines_of(mailwizard("status", "--json", "--root", str(box)))[-1]["walked"] is False
    assert mailwizard("run", "--answers", str(answers), "--root", str(box), "--through", "postfix-names").returncode == 0
    main_cf = box / "etc/postfix/main.cf"
    main_cf.write_text(main_cf.read_text() + "# edited by hand\n")
    status = lines_of(mailwizard("status", "--json", "--root", str(box)))
    steps = [o for o in status if o["event"] == "step"]
    assert [o["status"] for o in steps[:4]] == ["passed"] * 4 and steps[5]["status"] == "locked" and steps[5]["reason"]
    assert {"event": "drift", "path": "/etc/postfix/main.cf", "change": "edited", "schema": SCHEMA} in status
    assert status[-1]["done"] == 4 and status[-1]["drift"] == 1
    undo = lines_of(mailwizard("undo", "--json", "--root", str(box)))
    assert undo[-1]["command"] == "undo" and undo[-1]["step"] == "postfix-names"
    refused = mailwizard("reset", "--json", "--root", str(box))     # no terminal, no --yes
    assert refused.returncode == 2 and lines_of(refused)[-1]["message"].startswith("reset puts back")
    reset = lines_of(mailwizard("reset", "--json", "--yes", "--root", str(box)))
    assert reset[-1]["reset"] is True and reset[-1]["exit"] == 0


def test_a_refusal_is_the_summary_with_its_reason(tmp_path):
    bad = tmp_path / "answers.toml"
    bad.write_text(ANSWERS + '[dmarc]\npolicy = "strict"\n')
    refused = mailwizard("run", "--json", "--answers", str(bad), "--root", str(tmp_path / "box"))
    summary = lines_of(refused)[-1]
    assert refused.returncode == 2 and summary["command"] == "run" and "dmarc.policy" in summary["refused"]
    assert not (tmp_path / "box").exists()


def test_check_in_json_is_one_line_a_check(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    checked = mailwizard("check", "--json", "--timeout", "2", "--answers", str(answers), "--root", str(tmp_path / "box"))
    objects = lines_of(checked)
    rows = [o for o in objects if o["event"] == "check"]
    assert rows and objects[-1]["checks"] == len(rows) and objects[-1]["failed"] == sum(not o["ok"] for o in rows)
    assert all(o["fix"] for o in rows if not o["ok"] and not o["advisory"]), "every failure says its fix"


def test_why_in_json_names_the_outcome_and_the_path(tmp_path):
    root = str(sandbox_with_logs(tmp_path))
    delivered = lines_of(mailwizard("why", "--json", "<m1@ext.test>", "--root", root))[-1]
    assert delivered["found"] and delivered["outcome"] == "delivered" and delivered["queue_id"] == "5B8E91623B8"
    assert delivered["exit"] == 0 and any("saved mail to INBOX" in line for line in delivered["path"])
    unknown = lines_of(mailwizard("why", "--json", "ABCDEF1234", "--root", root))[-1]
    assert unknown["found"] is False and unknown["exit"] == 1 and unknown["said"].startswith("no message for ABCDEF1234")


def test_answers_given_as_json_walk_as_the_same_answers_in_toml(tmp_path):
    as_json = tmp_path / "answers.json"
    data = tomllib.loads(ANSWERS + '[dmarc]\npolicy = "quarantine"\n')
    as_json.write_text(json.dumps(data))
    checked = mailwizard("answers", "check", str(as_json))
    assert checked.returncode == 0 and "[dmarc]" in checked.stdout, checked.stdout + checked.stderr
    walked = mailwizard("run", "--answers", str(as_json), "--root", str(tmp_path / "box"), "--through", "postfix-names")
    assert walked.returncode == 0 and "answers: example.test, server mail.example.test" in walked.stdout
    broken = tmp_path / "broken.json"
    broken.write_text('{"maildomain": "example.test",')
    refused = mailwizard("answers", "check", str(broken))
    assert refused.returncode == 2 and "not valid JSON" in refused.stderr


def test_an_interrupted_command_still_ends_with_its_summary(tmp_path, monkeypatch, capsys):
    """Ctrl-C (or a kill) between two lines: every line written is whole, and the last one says
    the command was interrupted."""
    from wizard import cli

    def interrupted(args):
        from wizard.machine import JsonLines

        JsonLines().say("step_started", step="postfix-blank", title="…")
        raise KeyboardInterrupt

    from wizard.cli import walk

    monkeypatch.setattr(walk, "status_as_json", interrupted)
    code = cli.main(["status", "--json", "--root", str(tmp_path / "box")])
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and [o["event"] for o in objects] == ["step_started", "summary"]
    assert objects[-1] == {"schema": SCHEMA, "event": "summary", "command": "status", "exit": 1, "interrupted": True}
