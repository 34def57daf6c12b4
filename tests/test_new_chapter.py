"""A chapter is added by touching steps/ and assets/ only: a test chapter that opens a second
SMTP door in master.cf, adds a main.cf setting and proves both with a probe on the new port,
written into a copy of the project as it is installed (wizard/ untouched, wizard/assets = assets/),
walked in the sandbox and against the real Postfix. It brings its own table of the answers file
(`[door]`: a field, its default, its refusal), which the schema, `answers check` and the walk
take from its declaration alone. The box's own master.cf keeps every line; undo and reset give
it back byte for byte. A second probe is judged by a new kind of expectation (`logged`: the mail
log shows a text for the very message the probe sent), brought by one new module in
wizard/probes/expectations/ and nothing else of wizard/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ANSWERS, REPO

MASTER_CF = Path("/etc/postfix/master.cf")

CHAPTER = '''\
"""A test chapter: a second SMTP door on port 2525."""

from wizard.model import (AnswerField, AnswersSection, Expect, FileFragment, Offers, Probe, Service, Setting, SmtpMail,
                          Step)

ANSWERS = AnswersSection(
    key="door",
    help="The test chapter's second door",
    fields=(AnswerField("name", "The door's name in the mail log (postfix/NAME)", default="door{port}",
                        pattern="[a-z0-9]{1,20}", hint="Lower-case letters and digits, at most 20."),
            AnswerField("port", "Its port", kind="int", default=2525, least=2525, most=2525),),
    values=(("door_name", "{name}"),),
)

STEP = Step(
    id="door-2525",
    title="A second SMTP door on port 2525 for {fqdn}",
    chapter="After the tutorial",
    explain="door-2525.md",
    files=(
        FileFragment("/etc/postfix/master.cf", format="master", settings=(
            Service("2525", options=(("syslog_name", "postfix/{door_name}"),
                                     ("smtpd_tls_security_level", "encrypt")),
                    why="The test chapter's second door."),
        )),
        FileFragment("/etc/postfix/main.cf", settings=(
            Setting("smtpd_discard_ehlo_keywords", "pipelining"),
        )),
    ),
    reload=("postfix",),
    probes=(
        Probe(id="door-ehlo", title="EHLO on port 2525: STARTTLS offered, no PIPELINING",
              action=SmtpMail(helo="{fqdn}", mail_from="", rcpt="", body="", ehlo=True),
              port=2525, expect=Offers(("STARTTLS",), absent=("PIPELINING",))),
        Probe(id="door-logged", title="Mail through port 2525 is logged under the door's name",
              action=SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{mailuser_address}",
                              body="Through the second door", starttls=True),
              port=2525, expect=Expect("logged", ("text=postfix/{door_name}/smtpd",))),
    ),
    answers=ANSWERS,
)
'''
EXPLANATION = "# A second door\n\nPort 2525 takes mail too, and only over TLS.\n"
# The new kind of expectation: one module in the handlers' folder, registered by itself.
LOGGED = '''\
"""`logged`: the mail log shows a text on a line of the very message the probe sent."""

import re

from wizard.config import fill
from wizard.net.watch import wait_for
from wizard.probes.registry import ExpectationHandler, expectation
from wizard.probes.result import MET


@expectation
class Logged(ExpectationHandler):
    kind = "logged"

    def describe(self, expect, values):
        return f"the mail log shows {fill(expect.arg('text'), values)!r} for the message"

    def after_accepted(self, ctx, expect, result, marker, start, queue_id):
        text = fill(expect.arg("text"), ctx.values)
        if not queue_id:
            result.actual = "the server gave no queue id"
            return
        line = re.compile(f"(?=.*{re.escape(queue_id)})(?=.*{re.escape(text)}).*")
        found = wait_for(ctx.log.path, line, start=ctx.log_start, timeout=ctx.delivery_timeout)
        if found:
            result.status, result.actual = MET, f"{queue_id}: logged by {text}"
        else:
            result.actual = f"no line of {queue_id} shows {text!r} within {ctx.delivery_timeout:g} s"
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project as installed, plus the chapter: only steps/ and assets/ differ."""
    tree = tmp_path_factory.mktemp("chapter")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "wizard", tree / "wizard", ignore=ignore)
    shutil.copytree(REPO / "assets", tree / "wizard" / "assets", ignore=ignore)
    shutil.copytree(REPO / "steps", tree / "steps", ignore=ignore)
    (tree / "steps" / "door_2525.py").write_text(CHAPTER)
    (tree / "wizard" / "assets" / "explain" / "door-2525.md").write_text(EXPLANATION)
    (tree / "wizard" / "probes" / "expectations" / "logged.py").write_text(LOGGED)
    init = tree / "steps" / "__init__.py"
    text = init.read_text()
    text = text.replace("from steps import (", "from steps import (door_2525, ", 1)
    head, _, _ = text.rstrip().rpartition(")")             # the chapter goes after the last one
    init.write_text(head + "    door_2525.STEP,\n)\n")
    (tree / "answers.toml").write_text(ANSWERS)
    return tree


def wizard_in(tree: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([sys.executable, "-m", "wizard", *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=timeout)


def out_of_the_copy(project: Path) -> list[str]:
    """The step ids the copy walks."""
    return subprocess.run([sys.executable, "-c", "import steps; print(*[s.id for s in steps.ALL_STEPS])"],
                          cwd=project, capture_output=True, text=True, check=True,
                          env=dict(os.environ, PYTHONPATH=str(project))).stdout.split()


def test_the_copy_runs_its_own_steps_and_the_diagram_shows_the_new_port(project):
    out = subprocess.run([sys.executable, "-c",
                          "import steps, wizard; from wizard.flow import labels; "
                          "print(steps.__file__, wizard.__file__); print(labels(steps.ALL_STEPS)['smtpd'])"],
                         cwd=project, capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(project))).stdout.splitlines()
    assert all(path.startswith(str(project)) for path in out[0].split()), out
    assert out[1] == "smtpd :25/:465/:587/:2525"
    assert out_of_the_copy(project)[-1] == "door-2525", "the new chapter comes after the last one"


def test_the_chapter_walks_in_the_sandbox_and_keeps_the_box_s_master_cf(project, tmp_path):
    box = tmp_path / "box"
    (box / "etc/postfix").mkdir(parents=True)
    original = MASTER_CF.read_bytes()
    (box / "etc/postfix/master.cf").write_bytes(original)
    walk = wizard_in(project, "--root", str(box), "run", "--answers", "answers.toml")
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr
    assert "> door-2525: A second SMTP door on port 2525 for mail.example.test" in walk.stdout
    assert "change /etc/postfix/master.cf: +4 -0 lines" in walk.stdout
    assert "door-logged: Mail through port 2525 is logged under the door's name — expected the mail log " \
           "shows 'postfix/door2525/smtpd' for the message" in walk.stdout, walk.stdout[-2000:]
    written = (box / "etc/postfix/master.cf").read_bytes()
    assert written.startswith(original), "every line of the box's file stays as it was"
    assert written.decode().endswith(
        "# The test chapter's second door.\n2525 inet n - y - - smtpd\n"
        "  -o syslog_name=postfix/door2525\n  -o smtpd_tls_security_level=encrypt\n")
    assert "smtpd_discard_ehlo_keywords = pipelining" in (box / "etc/postfix/main.cf").read_text()

    before_the_chapter = written[: written.index(b"# The test chapter's second door.")]
    undo = wizard_in(project, "--root", str(box), "undo")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert (box / "etc/postfix/master.cf").read_bytes() == before_the_chapter
    assert "smtpd_discard_ehlo_keywords" not in (box / "etc/postfix/main.cf").read_text()
    again = wizard_in(project, "--root", str(box), "run", "--answers", "answers.toml")
    assert again.returncode == 0 and "[ok] door-2525" in again.stdout, again.stdout[-2000:]
    reset = wizard_in(project, "--root", str(box), "reset", "--yes")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert (box / "etc/postfix/master.cf").read_bytes() == original


def test_the_chapter_s_own_answers_table_is_read_checked_and_described_from_its_declaration(project, tmp_path):
    import json

    schema = json.loads(wizard_in(project, "answers", "schema").stdout)
    door = schema["properties"]["door"]
    assert door["properties"]["port"] == {"type": "integer", "description": "Its port", "minimum": 2525,
                                          "maximum": 2525, "default": 2525}
    assert door["additionalProperties"] is False
    wrong = tmp_path / "wrong.toml"
    for table, named, said in (('name = "Side Door"', "door.name", "at most 20"),
                               ("port = 25", "door.port", "2525"), ('nmae = "x"', "door", "unknown key 'nmae'")):
        wrong.write_text(ANSWERS + f"[door]\n{table}\n")
        refused = wizard_in(project, "answers", "check", str(wrong))
        assert refused.returncode == 2 and named in refused.stderr and said in refused.stderr, refused.stderr
    init = tmp_path / "init.toml"
    assert wizard_in(project, "answers", "init", str(init)).returncode == 0
    assert "# [door]" in init.read_text() and '# name = "doorPORT"' in init.read_text()
    # Given, the table's value reaches the file; the replay file keeps it.
    given = tmp_path / "given.toml"
    given.write_text(ANSWERS + '[door]\nname = "side"\n')
    box = tmp_path / "box"
    walk = wizard_in(project, "--root", str(box), "run", "--answers", str(given))
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr
    assert "  -o syslog_name=postfix/side\n" in (box / "etc/postfix/master.cf").read_text()
    assert '[door]\nname = "side"' in (box / "var/lib/mailwizard/answers.toml").read_text()


def test_a_service_postfix_would_refuse_is_refused_before_it_is_written(project, tmp_path):
    bad = project.parent / "bad-chapter"
    if not bad.exists():
        shutil.copytree(project, bad)
        chapter = bad / "steps" / "door_2525.py"
        chapter.write_text(chapter.read_text().replace('("syslog_name", "postfix/{door_name}")',
                                                       '("smtpd_no_such_thing", "1")'))
    box = tmp_path / "box"
    (box / "etc/postfix").mkdir(parents=True)
    original = MASTER_CF.read_bytes()
    (box / "etc/postfix/master.cf").write_bytes(original)
    walk = wizard_in(bad, "--root", str(box), "run", "--answers", "answers.toml")
    assert walk.returncode == 1, walk.stdout[-2000:]
    assert "unused parameter: smtpd_no_such_thing=1" in walk.stdout
    assert "refused by validation; nothing was written" in walk.stdout
    kept = (box / "etc/postfix/master.cf").read_bytes()
    assert kept.startswith(original) and b"2525" not in kept and b"no_such_thing" not in kept


@pytest.mark.daemons
def test_the_chapter_against_the_real_postfix_and_undo_gives_the_file_back(project, lab_up):
    original = MASTER_CF.read_bytes()
    answers = str(lab_up)
    walk = wizard_in(project, "run", "--lab", "--answers", answers)
    assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr
    assert "[ok] door-ehlo: EHLO on port 2525" in walk.stdout
    assert "[ok] door-logged: Mail through port 2525 is logged under the door's name" in walk.stdout
    assert MASTER_CF.read_bytes().startswith(original)
    listed = subprocess.run(["postconf", "-M", "2525/inet"], capture_output=True, text=True).stdout
    assert "2525       inet  n       -       y       -       -       smtpd" in listed
    status = wizard_in(project, "status")
    steps = len(out_of_the_copy(project))
    assert f"progress: {steps}/{steps} steps done" in status.stdout, status.stdout
    written = MASTER_CF.read_bytes()
    undo = wizard_in(project, "undo", "--lab")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert MASTER_CF.read_bytes() == written[: written.index(b"# The test chapter's second door.")]
    assert subprocess.run(["postconf", "-M", "2525/inet"], capture_output=True, text=True).stdout == ""
    reset = wizard_in(project, "reset", "--yes", "--lab")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert MASTER_CF.read_bytes() == original
