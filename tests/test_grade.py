"""`mailwizard grade`: every finished chapter proven again now, and what only the walk's history
knows (attempts until the first pass, undos, the path), as JSON, JUnit and a CSV row, with no
password, hash or key in any. In the sandbox (no probe is sent there); against the real daemons,
a grade after an exercise broke the box: tests/test_exercises.py."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

from conftest import mailwizard
from fixture_data import ANSWERS

RELAY = '\n[relay]\nhost = "relay.ext.test"\nuser = "me@ext.test"\n'
SECRET = "Relay-Sesame-77"


def graded(box, *more) -> tuple[dict, int]:
    done = mailwizard("grade", "--root", str(box), *more)
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout), done.returncode


def test_a_box_without_a_walk_has_a_grade_of_nothing(tmp_path):
    grade, code = graded(tmp_path / "box")
    assert code == 0 and grade["schema"] == "mailwizard.grade/1" and grade["chapters"] == []
    assert grade["totals"]["chapters"] == 0 and not (tmp_path / "box").exists()


def test_the_history_counts_attempts_undos_and_the_path(tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS + RELAY)
    walk = ("run", "--answers", str(answers), "--root", str(box), "--through", "relay-host")
    assert mailwizard(*walk).returncode == 2, "no password for the relay: refused, an attempt"
    assert mailwizard(*walk, env={"MAILWIZARD_RELAY_PASSWORD": SECRET}).returncode == 0
    assert mailwizard("undo", "--root", str(box)).returncode == 0
    assert mailwizard(*walk, env={"MAILWIZARD_RELAY_PASSWORD": SECRET}).returncode == 0
    grade, code = graded(box)
    chapters = {c["chapter"]: c for c in grade["chapters"]}
    relay = chapters["relay-host"]
    assert code == 0 and relay["now"] == "passing" and relay["attempts"] == 2 and relay["undos"] == 1
    assert relay["first_passed"] <= relay["last_run"] and relay["first_passed"].endswith("Z")
    assert chapters["postfix-blank"]["attempts"] == 1 and chapters["postfix-blank"]["now"] == "passing"
    assert chapters["pure-virtual"]["now"] == "passed-over", "the answers leave it out"
    assert chapters["submission"]["now"] == "not-reached" and chapters["submission"]["attempts"] == 0
    assert grade["path"] == "straight" and grade["maildomain"] == "example.test"
    probes = [p for c in grade["chapters"] for p in c["probes"]]
    assert probes and {p["status"] for p in probes} <= {"met", "not-run"}, "the sandbox sends nothing"
    assert grade["totals"]["passing"] == sum(c["now"] == "passing" for c in grade["chapters"])
    # The same grade as JUnit and as a CSV row.
    junit = ElementTree.fromstring(mailwizard("grade", "--root", str(box), "--format", "junit").stdout)
    suite = junit.find("testsuite")
    assert suite.get("name") == grade["box"] and suite.get("hostname") == "mail.example.test"
    assert int(suite.get("failures")) == 0
    assert {case.get("classname") for case in suite.iter("testcase")} >= {"relay-host", "postfix-blank", "submission"}
    skipped = [case.get("classname") for case in suite.iter("testcase") if case.find("skipped") is not None
               and case.find("skipped").get("message") == "not-reached"]
    assert "submission" in skipped and "relay-host" not in skipped
    rows = list(csv.DictReader(io.StringIO(mailwizard("grade", "--root", str(box), "--format", "csv").stdout)))
    assert len(rows) == 1 and rows[0]["fqdn"] == "mail.example.test" and rows[0]["undos"] == "1"
    assert int(rows[0]["attempts"]) == grade["totals"]["attempts"]
    # No secret in any of them: not the relay's password, not a user's hash.
    state = json.loads((box / "var/lib/mailwizard/state.json").read_text())
    hashed = state["answers"]["users"][0]["password_hash"]
    for form in ("json", "junit", "csv"):
        text = mailwizard("grade", "--root", str(box), "--format", form).stdout
        assert SECRET not in text and hashed not in text and hashed.split("$")[-1] not in text


def test_a_grade_written_to_a_file_says_its_totals(tmp_path):
    answers, box = tmp_path / "answers.toml", tmp_path / "box"
    answers.write_text(ANSWERS)
    assert mailwizard("run", "--answers", str(answers), "--root", str(box), "--through", "postfix-names").returncode == 0
    out = tmp_path / "grade.json"
    done = mailwizard("grade", "--root", str(box), "--output", str(out))
    assert done.returncode == 0 and "4 of" in done.stdout and "chapters passing now" in done.stdout
    assert json.loads(out.read_text())["totals"]["passing"] == 4


def test_a_probe_left_out_of_grades_names_a_chapter_walked_after_its_own():
    from steps import ALL_STEPS

    ids = [step.id for step in ALL_STEPS]
    until = [(step.id, probe.id, probe.until) for step in ALL_STEPS for probe in step.probes if probe.until]
    assert until, "AUTH on port 25 is proven by the tutorial's chapters and taken away by submission"
    for chapter, probe, later in until:
        assert later in ids and ids.index(later) > ids.index(chapter), (chapter, probe, later)


def test_a_class_of_grades_is_one_csv_and_one_junit_and_a_stray_file_is_named(tmp_path):
    answers, grades = tmp_path / "answers.toml", tmp_path / "class"
    answers.write_text(ANSWERS)
    for student, through in (("ada", "postfix-names"), ("bob", "postfix-blank")):
        box = tmp_path / student
        assert mailwizard("run", "--answers", str(answers), "--root", str(box), "--through", through).returncode == 0
        done = mailwizard("grade", "--root", str(box), "--box", student, "--output", str(grades / f"{student}.json"))
        assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(mailwizard("grade", "--from", str(grades), "--format", "csv").stdout)))
    assert [(r["box"], r["passing"]) for r in rows] == [("ada", "4"), ("bob", "3")]
    junit = ElementTree.fromstring(mailwizard("grade", "--from", str(grades), "--format", "junit").stdout)
    assert [s.get("name") for s in junit.iter("testsuite")] == ["ada", "bob"]
    (grades / "notes.json").write_text('{"not": "a grade"}')
    refused = mailwizard("grade", "--from", str(grades), "--format", "csv")
    assert refused.returncode == 2 and "notes.json: not a mailwizard grade" in refused.stderr


def in_a_browser(page, *flags: str) -> str:
    """The page as a real browser has it after loading (Debian's headless Chromium)."""
    import subprocess

    done = subprocess.run(["chromium-headless-shell", "--headless", "--no-sandbox", "--disable-gpu", *flags,
                           page.as_uri()], capture_output=True, text=True, timeout=120, cwd=page.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_class_page_shows_each_box_s_chapters_now_in_a_browser(tmp_path):
    import re

    answers, grades = tmp_path / "answers.toml", tmp_path / "class"
    answers.write_text(ANSWERS)
    for student, through in (("ada", "postfix-names"), ("bob", "install")):
        box = tmp_path / student
        assert mailwizard("run", "--answers", str(answers), "--root", str(box), "--through", through).returncode == 0
        assert mailwizard("grade", "--root", str(box), "--box", student, "--output", str(grades / f"{student}.json")).returncode == 0
    assert mailwizard("report", "--root", str(tmp_path / "ada"), "--format", "html",
                      "--output", str(grades / "ada-report.html")).returncode == 0
    page = grades / "index.html"
    assert mailwizard("grade", "--from", str(grades), "--format", "html", "--output", str(page)).returncode == 0
    dom = in_a_browser(page, "--dump-dom")
    rows = dict(re.findall(r'<tr data-box="(\w+)">(.*?)</tr>', dom))
    assert set(rows) == {"ada", "bob"}, dom[:2000]
    now = {box: dict(re.findall(r'data-chapter="([\w-]+)" data-now="([\w-]+)"', row)) for box, row in rows.items()}
    assert now["ada"]["postfix-names"] == "passing" and now["bob"]["postfix-names"] == "not-reached"
    assert now["bob"]["install"] == "passing" and "attempts 1" in rows["bob"]
    assert '<a href="ada-report.html">ada</a>' in rows["ada"] and "<a " not in rows["bob"], "a link where a report is"
    # The link leads to a page the browser shows: ada's walk.
    report = in_a_browser(grades / "ada-report.html", "--dump-dom")
    assert "mail.example.test" in report and "postfix-names" in report
    shot = tmp_path / "class.png"
    in_a_browser(page, f"--screenshot={shot}", "--window-size=1400,500")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_box_nobody_could_reach_is_listed_as_such_in_every_format(tmp_path):
    """A class sheet with a box Ansible could not reach: its row says so, with nothing counted,
    even though an older grade of it lies in the folder (what worked then is not what works now)."""
    answers, grades = tmp_path / "answers.toml", tmp_path / "class"
    answers.write_text(ANSWERS)
    for student in ("ada", "bob"):
        box = tmp_path / student
        assert mailwizard("run", "--answers", str(answers), "--root", str(box), "--through", "postfix-names").returncode == 0
        assert mailwizard("grade", "--root", str(box), "--box", student, "--output", str(grades / f"{student}.json")).returncode == 0
    sheet = ["grade", "--from", str(grades), "--unreachable", "bob", "--unreachable", "cyd"]
    rows = {r["box"]: r for r in csv.DictReader(io.StringIO(mailwizard(*sheet, "--format", "csv").stdout))}
    assert [(b, r["reached"], r["passing"]) for b, r in rows.items()] == [("ada", "yes", "4"), ("bob", "no", "0"),
                                                                          ("cyd", "no", "0")]
    assert rows["bob"]["maildomain"] == "example.test", "the last grade still names the box"
    suites = {s.get("name"): s for s in ElementTree.fromstring(mailwizard(*sheet, "--format", "junit").stdout).iter("testsuite")}
    assert suites["bob"].get("errors") == "1" and suites["bob"].find("testcase/error") is not None
    assert suites["ada"].find("testcase/error") is None and suites["ada"].get("failures") == "0"
    page = mailwizard(*sheet, "--format", "html").stdout
    assert 'data-box="cyd" data-reached="no"' in page and "unreachable" in page and 'data-box="ada">' in page
    alone = mailwizard("grade", "--root", str(tmp_path / "ada"), "--unreachable", "bob")
    assert alone.returncode == 2 and "--from DIR" in alone.stderr
