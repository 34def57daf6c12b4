"""The walk as a document, and the walk as an answers file to replay (sandbox walks: no daemon)."""

from __future__ import annotations

import json
import stat
from html.parser import HTMLParser
from pathlib import Path

from conftest import ANSWERS, mailwizard

FINAL = ["etc/postfix/main.cf", "etc/postfix/master.cf", "etc/postfix/virtual", "etc/dovecot/dovecot.conf",
         "etc/dovecot/users.db"]


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.external = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.open.append(tag)
        self.external += [v for k, v in attrs if k in ("src", "href") and v and not v.startswith("#")]

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"


def sandbox_walk(tmp_path: Path, name: str, answers_text: str) -> Path:
    root = tmp_path / name
    answers = tmp_path / f"{name}.toml"
    answers.write_text(answers_text)
    run = mailwizard("run", "--root", str(root), "--answers", str(answers))
    assert run.returncode == 0, run.stdout + run.stderr
    return root


def test_report_holds_every_step_and_probe_and_no_secret(tmp_path):
    root = sandbox_walk(tmp_path, "box", ANSWERS)
    state = json.loads((root / "var/lib/mailwizard/state.json").read_text())
    hash_ = state["answers"]["users"][0]["password_hash"]
    md = mailwizard("report", "--root", str(root)).stdout
    out = tmp_path / "walk.html"
    assert mailwizard("report", "--root", str(root), "--format", "html", "--output", str(out)).returncode == 0
    page = out.read_text()
    for text in (md, page):
        for step_id, record in state["steps"].items():
            assert step_id in text
            assert all(p["id"] in text for p in record["probes"])
        assert "123456" not in text and hash_.split("}")[-1] not in text and "$6$" not in text
        assert "For mail clients" in text and "_submission._tcp.example.test.  3600 IN SRV 0 1 587" in text
        # The straight path says where the lessons it went past are, chapter by chapter.
        assert "Lessons this path went past" in text and "--teaching" in text
        assert "An empty dovecot.conf: Dovecot runs, but serves nothing" in text
        assert "Before the records: a strict receiver refuses the mail (5.7.26)" in text
    tags = Tags()
    tags.feed(page)
    assert tags.open == [] and tags.external == [], "balanced, self-contained HTML"
    assert "<style>" in page and "@media print" in page


def test_the_walk_written_back_as_answers_replays_to_the_same_files(tmp_path):
    first = sandbox_walk(tmp_path, "first", ANSWERS)
    replay = first / "var/lib/mailwizard/answers.toml"
    assert stat.S_IMODE(replay.stat().st_mode) == 0o600
    text = replay.read_text()
    assert "123456" not in text and "password_hash" in text
    second = sandbox_walk(tmp_path, "second", text)
    for path in FINAL:
        assert (first / path).read_bytes() == (second / path).read_bytes(), path
