"""The Textual face, driven by the Pilot in a sandbox (--root): same engine, nothing on the box."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import ANSWERS
from sessions import open_engine
from pilot_wait import close_opening_dialogs, wait_until
from steps import ALL_STEPS
from wizard.engine import Engine
from wizard.tui.app import WizardApp
from wizard.statuses import PASSED
from wizard.tui.step_list import StepList



def steps_of(app) -> StepList:
    return app.query_one("#steps", StepList)


def make_engine(root: Path) -> Engine:
    return open_engine(root)


async def wait_idle(app, pilot) -> None:
    await pilot.pause(0.05)             # the key's turn first: the step's worker starts
    await wait_until(pilot, lambda: not app.busy, 10, "the step to finish")


def test_run_a_step_from_the_keyboard_and_see_it_done(tmp_path):
    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            assert "·" in steps_of(app).caption_of("prereq")
            assert "🔒" in steps_of(app).caption_of("postfix-names")
            # A locked step refuses to run.
            await pilot.press("down", "down", "r")
            await pilot.pause(0.2)
            assert not app.busy and not (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("up", "up")
            await pilot.pause()
            assert "This step writes no file: it checks the box" in app.query_one("#changes").content.code
            await pilot.press("r")
            await wait_idle(app, pilot)
            assert steps_of(app).status_of("prereq") == PASSED
            # In the sandbox the prerequisites show every check and what it found on this box.
            shown = "\n".join(app.query_one("#probe").plain)
            assert sum(line.startswith("check ") for line in app.query_one("#probe").plain) == len(ALL_STEPS[0].requires), shown
            assert "check ok   block lists: none chosen" in shown and "port 25" in shown, shown
            assert "in the sandbox too the checks look at this box itself" in shown, shown
            await pilot.press("down", "r")
            await wait_idle(app, pilot)
            assert steps_of(app).status_of("install") == PASSED
            await pilot.press("down")
            await pilot.pause()
            # The Changes pane shows postfix-blank's diff before anything is written.
            assert "+compatibility_level = " in app.query_one("#changes").content.code
            assert not (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("r")
            await wait_idle(app, pilot)
            assert steps_of(app).status_of("postfix-blank") == PASSED
            # Applied: the Changes pane now says there is nothing left to write.
            assert "changes no file" in app.query_one("#changes").content.code
            log_text = "\n".join(app.query_one("#probe").plain)
            assert "sandbox" in log_text and "== postfix-blank: passed" in log_text
            assert (tmp_path / "etc/postfix/main.cf").exists()
            await pilot.press("u")
            await wait_idle(app, pilot)
            assert steps_of(app).status_of("postfix-blank") != PASSED

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
    assert not (tmp_path / "etc/postfix/main.cf").exists()   # undone: back to no file


def test_the_report_and_the_exercises_are_one_key_away(tmp_path):
    from textual.widgets import DataTable, Markdown, Static

    from steps.exercises import EXERCISES

    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("p")
            await pilot.pause()
            report = app.screen.query_one("#report", Markdown)
            assert "mailwizard walk: mail.example.test" in report.source
            assert all(step.id in report.source for step in ALL_STEPS)
            await pilot.press("escape", "e")
            await pilot.pause()
            table = app.screen.query_one("#exercises", DataTable)
            assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [e.name for e in EXERCISES]
            await pilot.press("s")
            # Nothing is walked in this sandbox: the exercise says what it needs first.
            await wait_until(pilot, lambda: "needs the server walked through next-steps" in str(
                app.screen.query_one("#exercise-status", Static).render()), 30, "the exercise's refusal")
            await pilot.press("escape")
            assert len(app.screen_stack) == 1, "escape leads back to the steps"

    try:
        asyncio.run(scenario())
    finally:
        engine.close()


def run_app(engine, scenario, size=(120, 36)):
    async def main():
        app = WizardApp(engine)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(app, pilot)
    try:
        asyncio.run(main())
    finally:
        engine.close()


async def type_into(app, pilot, field: str, text: str) -> None:
    from textual.widgets import Input

    box = app.screen.query_one(f"#field-{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def open_the_form(app, pilot) -> None:
    """From the walk (the dialogues of a first start closed), `a` opens the answers form."""
    from wizard.tui.answers_form import AnswersScreen

    for _ in range(3):
        if app.screen is app.screen_stack[0]:
            break
        await pilot.press("escape")
        await pilot.pause()
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(app.screen, AnswersScreen)


def test_without_answers_the_form_asks_checks_as_you_type_and_saves(tmp_path, session):
    from textual.widgets import Static

    from wizard.tui.answers_form import AnswersScreen

    engine = session(tmp_path, None, need_answers=False)

    def problem(app, field):
        return str(app.screen.query_one(f"#problem-{field}", Static).render())

    async def scenario(app, pilot):
        assert isinstance(app.screen, AnswersScreen)
        await type_into(app, pilot, "maildomain", "example..org")
        assert "not a valid DNS label" in problem(app, "maildomain")
        await type_into(app, pilot, "maildomain", "example.org")
        assert problem(app, "maildomain") == ""
        await type_into(app, pilot, "address", "bob@example.com")
        assert "is not in example.org" in problem(app, "address")
        await type_into(app, pilot, "address", "bob@example.org")
        await type_into(app, pilot, "password", "Sesame-1")
        await type_into(app, pilot, "password_again", "Sesame-2")
        assert "differ" in problem(app, "password_again")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AnswersScreen) and not engine.has_answers, "nothing saved yet"
        await type_into(app, pilot, "password_again", "Sesame-1")
        await type_into(app, pilot, "external_address", "carol@example.org")
        assert "must be outside example.org" in problem(app, "external_address")
        await type_into(app, pilot, "external_address", "carol@elsewhere.test")
        # The outside host's name, where the vantage point cannot tell it: one label, checked.
        await type_into(app, pilot, "external_host", "gate way")
        assert "external host: 'gate way' must be one DNS label" in problem(app, "external_host")
        await type_into(app, pilot, "external_host", "gateway")
        assert problem(app, "external_host") == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AnswersScreen)
        assert engine.values()["exthost"] == "gateway.elsewhere.test"
        assert engine.answers.fqdn == "mail.example.org"
        assert app.sub_title.startswith("mail.example.org")
        label = steps_of(app).caption_of("next-steps")
        assert "postmaster@example.org" in label, label

    run_app(engine, scenario)
    replay = (tmp_path / "var/lib/mailwizard/answers.toml")
    assert replay.stat().st_mode & 0o777 == 0o600
    assert "Sesame" not in replay.read_text() and 'address = "bob@example.org"' in replay.read_text()
    assert 'host = "gateway"' in replay.read_text()




def test_the_form_chooses_the_certificate_ca_and_keeps_what_it_does_not_show(tmp_path, session):
    """The TUI's face of [certificate]: the CA is chosen in the form, its e-mail checked as typed;
    the webroot an answers file gave (not on the form) survives a save."""
    from textual.widgets import Select, Static

    from wizard.tui.answers_form import AnswersScreen

    engine = session(tmp_path, ANSWERS + '\n[certificate]\nwebroot = "/var/www/html"\n')
    assert engine.values()["acme"] == "no", "no CA until one is chosen"

    async def scenario(app, pilot):
        await open_the_form(app, pilot)
        app.screen.query_one("#field-certificate_ca", Select).value = "letsencrypt"
        await pilot.pause()
        await type_into(app, pilot, "certificate_email", "not-an-address")
        assert "certificate.email" in str(app.screen.query_one("#problem-certificate_email", Static).render())
        await type_into(app, pilot, "certificate_email", "hostmaster@example.test")
        assert str(app.screen.query_one("#problem-certificate_email", Static).render()) == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AnswersScreen)

    run_app(engine, scenario)
    assert engine.answers.table("certificate") == {"ca": "letsencrypt", "email": "hostmaster@example.test",
                                                "webroot": "/var/www/html"}
    values = engine.values()
    assert values["acme"] == "yes" and values["acme_server"].startswith("https://acme-v02.api.letsencrypt.org")
    replay = (tmp_path / "var/lib/mailwizard/answers.toml").read_text()
    assert 'ca = "letsencrypt"' in replay and 'webroot = "/var/www/html"' in replay


def test_every_chapters_table_is_on_the_form_from_its_declaration_and_checked_as_typed(tmp_path):
    """The [relay] table, which the form never named by hand: opened, its port refused by the
    chapter's own words, its host and login saved; the password typed in a masked field is held
    for the walk and never written."""
    from textual.widgets import Collapsible, Input, Static

    from wizard.answers import chapter_sections
    from wizard.tui.answers_form import AnswersScreen

    engine = make_engine(tmp_path)
    assert engine.values()["relay"] == "no"

    def problem(app, field):
        return str(app.screen.query_one(f"#problem-{field}", Static).render())

    async def scenario(app, pilot):
        await open_the_form(app, pilot)
        tables = {c.id for c in app.screen.query(Collapsible)}
        assert tables == {f"table-{s.key}" for s in chapter_sections()}
        relay = app.screen.query_one("#table-relay", Collapsible)
        assert relay.collapsed, "a table the answers do not give starts closed"
        relay.collapsed = False
        await pilot.pause()
        await type_into(app, pilot, "relay_host", "relay.ext.test")
        await type_into(app, pilot, "relay_user", "me@ext.test")
        await type_into(app, pilot, "relay_port", "465")
        assert "relay.port: 465" in problem(app, "relay_port") and "STARTTLS" in problem(app, "relay_port")
        await type_into(app, pilot, "relay_port", "2525")
        assert problem(app, "relay_port") == ""
        assert app.screen.query_one("#field-relay_password", Input).password, "a secret is masked"
        await type_into(app, pilot, "relay_password", "Open-Sesame-9")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, AnswersScreen)

    run_app(engine, scenario)
    assert engine.answers.table("relay") == {"host": "relay.ext.test", "port": 2525, "user": "me@ext.test"}
    assert engine.values()["relay_nexthop"] == "[relay.ext.test]:2525"
    assert engine.answers.secrets() == {"relay_password": "Open-Sesame-9"}
    replay = (tmp_path / "var/lib/mailwizard/answers.toml").read_text()
    assert "[relay]" in replay and "port = 2525" in replay and "Open-Sesame-9" not in replay


def test_changing_an_answer_later_replans_the_steps_already_done(tmp_path):
    engine = make_engine(tmp_path)
    engine.walk("postfix-names")

    async def scenario(app, pilot):
        await pilot.press("enter")          # the resume dialog: resume there
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await type_into(app, pilot, "mailhost", "smtp")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "↻" in steps_of(app).caption_of("postfix-names"), "done, but its file would now differ"
        app.query_one("#steps").index = engine.index("postfix-names")
        await pilot.pause()
        assert "+myhostname = smtp.$mydomain" in app.query_one("#changes").content.code

    run_app(engine, scenario)


def test_on_start_an_earlier_walk_is_offered_with_its_drift(tmp_path):
    from textual.widgets import Static

    from wizard.tui.dialogs import ResumeDialog

    engine = make_engine(tmp_path)
    engine.walk("postfix-names")
    main_cf = tmp_path / "etc/postfix/main.cf"
    main_cf.write_text(main_cf.read_text() + "# edited by hand\n")

    async def resume(app, pilot):
        assert isinstance(app.screen, ResumeDialog)
        text = str(app.screen.query_one("#resume-text", Static).render())
        assert "finished 4 of" in text and "Prepare the mail store" in text
        assert "/etc/postfix/main.cf" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("#steps").index == engine.index("vmail")

    run_app(engine, resume)

    async def look(app, pilot):
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ResumeDialog) and app.query_one("#steps").index == 0

    run_app(make_engine(tmp_path), look)


async def checks_table(app, pilot):
    """Press c; the Checks screen's table once its worker has filled it (at most 10 s)."""
    from textual.widgets import DataTable

    from wizard.tui.dialogs import PrerequisitesScreen

    await pilot.press("c")
    await pilot.pause()
    assert isinstance(app.screen, PrerequisitesScreen)
    table = app.screen.query_one("#checks", DataTable)
    await wait_until(pilot, lambda: bool(table.row_count), 30, "the checks' rows")
    return table


def test_keys_move_explain_the_flow_and_open_help_checks_and_palette(tmp_path):
    from wizard.tui.dialogs import HelpScreen
    from wizard.tui.mail_flow import MailFlow

    engine = make_engine(tmp_path)

    async def scenario(app, pilot):
        steps = app.query_one("#steps")
        await pilot.press("n", "n", "n")
        assert steps.index == 3
        await pilot.press("b")
        assert steps.index == 2
        app.query_one("#steps").index = engine.index("virtual-lmtp")
        await pilot.pause()
        # The straight path's Explain says which lessons it goes past and how to meet them.
        explained = app.query_one("#explain").source
        assert "## The lessons this path goes past" in explained and "`t` in the" in explained
        assert "Postfix's half: mail for example.test goes to an LMTP socket" in explained, explained
        flow = app.query_one(MailFlow)
        assert {"lmtp", "smtpd", "dovecot"} <= flow.touched and "sendmail" not in flow.touched
        await pilot.press("l")
        assert app.query_one("#main").active == "tab-log"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        table = await checks_table(app, pilot)
        assert table.row_count == len(engine.prerequisites(timeout=0.5))
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Run the selected step", "Undo the last step", "Answers", "Theme"} <= set(titles), titles

    run_app(engine, scenario)


def test_a_manual_probe_asks_in_a_dialog_and_the_step_gets_the_answer(tmp_path):
    from wizard.tui.dialogs import ManualProbeDialog

    engine = make_engine(tmp_path)
    got = {}

    async def scenario(app, pilot):
        import threading

        assert engine.ask == app._ask_from_worker, "the engine asks through the TUI"
        worker = threading.Thread(target=lambda: got.setdefault(
            "answer", engine.ask("On a host outside this server, type these lines:\n    HELO x")))
        worker.start()
        # Type only once the dialog is up and its answer field has the focus (a key pressed
        # between the push and the focus would go elsewhere).
        await wait_until(pilot, lambda: isinstance(app.screen, ManualProbeDialog)
                         and getattr(app.focused, "id", "") == "manual-answer", 30, "the manual probe's question")
        assert "type these lines" in str(app.screen.query_one("#manual-question").render())
        await pilot.press(*"250 2.0.0 Ok", "enter")
        await wait_until(pilot, lambda: not worker.is_alive(), 30, "the step to finish")
        assert not isinstance(app.screen, ManualProbeDialog)

    run_app(engine, scenario)
    assert got["answer"] == "250 2.0.0 Ok"


def test_the_whole_walk_by_keys_in_the_sandbox(tmp_path):
    engine = make_engine(tmp_path)

    async def scenario(app, pilot):
        for step in engine.steps:
            assert engine.steps[app.query_one("#steps").index].id == step.id
            await pilot.press("r")
            await wait_idle(app, pilot)
            assert steps_of(app).status_of(step.id) == PASSED, step.id
            await pilot.press("n")
        assert str(app.query_one("#progress").percentage) in ("1", "1.0")
        for path in ("etc/postfix/main.cf", "etc/dovecot/dovecot.conf", "etc/postfix/virtual"):
            assert (tmp_path / path).exists(), path

    run_app(engine, scenario)


CLI_MARKS = {"ok  ": "✔", "warn": "!", "FAIL": "✘"}


def test_the_checks_screen_shows_the_rows_of_mailwizard_check(tmp_path):
    """Both faces answer "is this box ready?" alike: the same checks, places and verdicts."""
    from conftest import mailwizard
    from wizard.session import SessionOptions, open_session

    root, answers = tmp_path / "root", tmp_path / "answers.toml"
    root.mkdir()
    answers.write_text(ANSWERS)
    cli = mailwizard("--root", str(root), "check", "--answers", str(answers), "--timeout", "1")
    assert cli.returncode in (0, 1), cli.stderr
    cli_rows = []
    for line in cli.stdout.splitlines()[:-1]:
        place, rest = line.split(": ", 1)
        cli_rows.append((CLI_MARKS[rest[:4]], place, rest[5:].split(": ", 1)[0]))
    assert len(cli_rows) > len(ALL_STEPS[0].requires), "the probes' needs are checked too"

    engine = open_session(SessionOptions(root=str(root), answers=str(answers), straight=True))   # a flag: no path asked
    engine.check_timeout = 1.0
    tui_rows = []

    async def scenario(app, pilot):
        table = await checks_table(app, pilot)
        tui_rows.extend(tuple(table.get_row_at(i)[:3]) for i in range(table.row_count))

    run_app(engine, scenario)
    assert tui_rows == cli_rows


def test_a_chapter_the_box_does_not_take_is_passed_over_in_the_wizard_with_its_reason(tmp_path):
    """The ipv6 chapter on this box, which has no global IPv6 address: run from the wizard, it is
    done without writing anything, and the Probe tab says why (the CLI's side: test_ipv6)."""
    engine = make_engine(tmp_path)
    engine.walk("hardening")            # every chapter before it

    async def scenario(app, pilot):
        await close_opening_dialogs(app, pilot)
        app.query_one("#steps").index = engine.index("ipv6")
        await pilot.pause()
        await pilot.press("r")
        await wait_idle(app, pilot)
        assert steps_of(app).status_of("ipv6") == PASSED
        shown = "\n".join(app.query_one("#probe").plain)
        assert "passed over: this box has no global IPv6 address" in shown, shown
        assert "inet_protocols" not in (tmp_path / "etc/postfix/main.cf").read_text()

    run_app(engine, scenario)


def test_a_password_the_answers_leave_out_is_asked_in_a_field_that_shows_nothing(tmp_path, session):
    """The relay host's password, asked when its step runs (sandbox): the field hides it, the
    password reaches the root-only file, and no screen shows it."""
    from wizard.tui.dialogs import PasswordDialog

    engine = session(tmp_path, ANSWERS + '\n[relay]\nhost = "relay.ext.test"\nuser = "me@ext.test"\n')
    engine.walk("pure-virtual")         # every chapter before the relay host's
    secret = "tui-typed-Secret-42"

    async def scenario(app, pilot):
        await close_opening_dialogs(app, pilot)
        app.query_one("#steps").index = engine.index("relay-host")
        await pilot.pause()
        planned = app.query_one("#changes").content.code       # the Changes tab's diff
        assert "sasl_passwd holds a secret" in planned and "relayhost = [relay.ext.test]:587" in planned
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PasswordDialog)
                         and getattr(app.focused, "id", "") == "secret-answer", 30, "the password's question")
        assert isinstance(app.screen, PasswordDialog), "the step asks for the password"
        assert "me@ext.test at the relay host relay.ext.test" in str(app.screen.query_one("#secret-question").render())
        await pilot.press(*secret)
        assert app.focused.password and app.focused.value == secret
        assert secret not in app.export_screenshot(), "the field shows no character of it"
        await pilot.press("enter")
        await wait_idle(app, pilot)
        assert steps_of(app).status_of("relay-host") == PASSED
        assert secret not in app.export_screenshot()

    run_app(engine, scenario)
    kept = tmp_path / "etc/postfix/sasl_passwd"
    assert f"[relay.ext.test]:587 me@ext.test:{secret}" in kept.read_text()
    assert kept.stat().st_mode & 0o777 == 0o600
    assert secret not in (tmp_path / "var/lib/mailwizard/state.json").read_text()
    replay = next((tmp_path / "var/lib/mailwizard").glob("*.toml")).read_text()
    assert secret not in replay and "asked at run time" in replay


def test_a_hand_edit_is_overwritten_only_after_a_yes_in_a_dialog(tmp_path, session):
    """What goes beyond writing the step's files (here: a file changed by hand; on a box with
    exim4, apt replacing it) is asked in a dialog, no by default; the CLI asks on its terminal
    or takes --yes (tests/test_systemd.py for exim4, test_postfix_walk for hand edits)."""
    from wizard.tui.dialogs import ConfirmDialog

    engine = session(tmp_path)
    engine.walk("postfix-blank")
    main_cf = tmp_path / "etc/postfix/main.cf"
    main_cf.write_text(main_cf.read_text() + "# mine\n")

    async def answer(app, pilot, key: str) -> str:
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), 30, "the overwrite's question")
        assert isinstance(app.screen, ConfirmDialog), "the overwrite is asked"
        question = str(app.screen.query_one("#confirm-question").render())
        await pilot.press(key)
        await wait_idle(app, pilot)
        return question

    async def scenario(app, pilot):
        await close_opening_dialogs(app, pilot)
        app.query_one("#steps").index = engine.index("postfix-names")
        await pilot.pause()
        question = await answer(app, pilot, "n")
        assert "/etc/postfix/main.cf was changed by hand" in question
        assert steps_of(app).status_of("postfix-names") != PASSED
        assert "# mine" in main_cf.read_text()
        await answer(app, pilot, "y")
        assert steps_of(app).status_of("postfix-names") == PASSED

    run_app(engine, scenario)
    assert "# mine" not in main_cf.read_text()
    kept = list((tmp_path / "var/lib/mailwizard").rglob("main.cf.*"))
    assert kept and "# mine" in kept[0].read_text(), "the hand edit is kept"


def test_the_path_changes_with_t_and_the_step_list_follows(tmp_path):
    """Given --straight, nothing is asked; `t` asks, the lessons replace the chapter in the
    list, and the answer is recorded for the next start (the CLI's `status` reads it)."""
    from conftest import mailwizard
    from wizard.session import SessionOptions, open_session
    from wizard.tui.dialogs import PathDialog

    root, answers = tmp_path / "root", tmp_path / "answers.toml"
    root.mkdir()
    answers.write_text(ANSWERS)
    engine = open_session(SessionOptions(root=str(root), answers=str(answers), straight=True))

    async def scenario(app, pilot):
        await pilot.pause(0.2)
        assert not isinstance(app.screen, PathDialog), "a flag named the path: nothing is asked"
        rows = [option.id for option in steps_of(app).options]
        assert "dovecot-imap" in rows and "dovecot-imap.empty" not in rows
        await pilot.press("t")
        await pilot.pause(0.2)
        assert "Now: straight" in str(app.screen.query_one("#path-text").render())
        await pilot.press("l")
        await pilot.pause(0.3)
        rows = [option.id for option in steps_of(app).options]
        assert "dovecot-imap.empty" in rows and "dovecot-imap" not in rows
        assert rows == [step.id for step in engine.steps] and len(rows) > len(ALL_STEPS)

    run_app(engine, scenario)
    status = mailwizard("--root", str(root), "status")
    assert "path: the tutorial's lessons" in status.stdout, status.stdout


def test_long_probe_notes_wrap_at_the_panes_edge(tmp_path):
    from wizard.events import Note
    from wizard.tui.transcript import ProbeTranscript

    engine = make_engine(tmp_path)
    note = "the outside host's name " + "is learned from where the server sees the vantage point " * 4

    async def scenario(app, pilot):
        await pilot.press("tab")      # out of the step list's focus; the tab bar is not needed
        app.query_one("TabbedContent").active = "tab-probe"
        await pilot.pause(0.2)
        transcript = app.query_one("#probe", ProbeTranscript)
        transcript.show(Note("postfix-names", note))
        await pilot.pause(0.2)
        width = transcript.scrollable_content_region.width
        assert 20 < width < len(note), width
        assert len(transcript.lines) >= len(note) // width, "the note took several lines"
        assert max(strip.cell_length for strip in transcript.lines) <= width

    run_app(engine, scenario, size=(80, 24))


def test_t_says_why_when_the_path_can_no_longer_change(tmp_path):
    """The engine's rule, told in the TUI: every chapter with lessons begun, `t` asks nothing."""
    from conftest import mailwizard
    from wizard.session import SessionOptions, open_session
    from wizard.tui.dialogs import PathDialog

    root, answers = tmp_path / "root", tmp_path / "answers.toml"
    root.mkdir()
    answers.write_text(ANSWERS)
    assert mailwizard("--root", str(root), "run", "--answers", str(answers)).returncode == 0
    engine = open_session(SessionOptions(root=str(root), answers=str(answers)))
    told = []

    async def scenario(app, pilot):
        await close_opening_dialogs(app, pilot)
        app.notify = lambda message, **kw: told.append(message)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, PathDialog)

    run_app(engine, scenario)
    assert told and told[0].startswith("Every chapter with lessons (dovecot-imap, virtual-lmtp, dns-auth) "
                                       "is begun already"), told


def test_the_first_frame_comes_before_the_walk_is_open(tmp_path):
    """Started from the command line the app paints its title and "Opening the walk…" first;
    the session opens in a worker (held here until the first frame is checked), then the walk is
    mounted and works as ever. Before it is open, only quit, help and the palette answer."""
    import threading

    held = threading.Event()
    opened = []

    def opener():
        assert held.wait(20), "the test never let the opener go on"
        engine = make_engine(tmp_path)
        opened.append(engine)
        return engine

    async def main():
        app = WizardApp(opener=opener)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.2)
            assert "Opening the walk" in str(app.query_one("#opening").render())
            assert not app.query("#steps") and app.engine is None
            assert not app.check_action("run_step", ()) and app.check_action("quit", ())
            await pilot.press("r", "n", "a")        # keys of the walk: nothing happens, nothing breaks
            assert app.screen is app.screen_stack[0]
            held.set()
            await wait_until(pilot, lambda: bool(app.query("#steps")), 30, "the walk on screen")
            await pilot.pause(0.2)
            assert app.engine is opened[0] and not app.query("#opening")
            await close_opening_dialogs(app, pilot)
            assert app.focused is app.query_one("#steps")
            await pilot.press("r")
            await wait_until(pilot, lambda: not app.busy and steps_of(app).status_of("prereq") == PASSED, 30,
                             "the checks' step to pass")
            assert steps_of(app).status_of("prereq") == PASSED
    try:
        asyncio.run(main())
    finally:
        for engine in opened:
            engine.close()


def test_a_walk_that_cannot_open_ends_the_app_with_its_reason(tmp_path):
    from wizard.answers import AnswersError

    def opener():
        raise AnswersError("answers.toml: maildomain 'not a domain' is not a domain name")

    async def main():
        app = WizardApp(opener=opener)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: not app.is_running, 30, "the app to end")
        return app

    app = asyncio.run(main())
    assert app.return_code == 2
    assert isinstance(app.failure, AnswersError) and "maildomain" in str(app.failure)


def test_the_audit_screen_says_why_a_sandbox_cannot_be_audited(tmp_path):
    """Both faces refuse to audit a sandbox (the audit talks to the real server), with one reason;
    the screen stays usable and goes back to the walk. The lab's audit is tested in test_audit."""
    from conftest import mailwizard
    from wizard.tui.audit_screen import AuditScreen

    root = tmp_path / "root"
    root.mkdir()
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    cli = mailwizard("--root", str(root), "audit", "--answers", str(answers))
    assert cli.returncode == 2 and "it has no sandbox (--root)" in cli.stderr, cli.stderr
    seen = {}

    async def scenario(app, pilot):
        await close_opening_dialogs(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        title = app.screen.query_one("#audit-title")
        for _ in range(100):
            if "could not run" in str(title.render()):
                break
            await pilot.pause(0.05)
        seen["title"] = str(title.render())
        seen["rows"] = app.screen.query_one("#audit-rows").row_count
        await pilot.press("escape")
        await pilot.pause()
        seen["back"] = type(app.screen).__name__

    run_app(make_engine(root), scenario)
    assert seen["title"] == "The audit could not run: the audit talks to the real server: it has no sandbox (--root)."
    assert seen["rows"] == 0 and seen["back"] != "AuditScreen"


def test_the_lab_without_answers_opens_on_its_example_answers_and_shows_the_password_once(tmp_path):
    """`mailwizard --lab` with no answers file: no form to fill, the walk opens on the lab's own
    example answers, and the password made for it is shown once (the CLI's face: test_lab)."""
    from wizard import cli
    from wizard.tui.app import app_for

    args = cli.build_parser().parse_args(["--root", str(tmp_path / "box"), "--lab"])
    app = app_for(args)

    async def main():
        async with app.run_test(size=(120, 36)) as pilot:
            # The session opens in a worker (the lab's example answers made, the platform read):
            # seconds on a loaded box, so the wait is on the walk and its notice, bounded.
            await wait_until(pilot, lambda: bool(app.query("#steps") and app._notifications), 60,
                             "the walk and the password's notice")
            shown = [n.message for n in app._notifications]
            assert app.engine.answers.fqdn == "mail.example.test"
            assert not any(type(s).__name__ == "AnswersScreen" for s in app.screen_stack), app.screen_stack
            return shown

    try:
        shown = asyncio.run(main())
    finally:
        if app.engine is not None:
            app.engine.close()
    password = next(u.password for u in app.engine.answers.users)
    assert len(shown) == 1 and f"alice@example.test's password for this walk: {password}" in shown[0], shown
    assert "--answers FILE" in shown[0]


async def walk_with_its_footer_made(app, pilot):
    """The walk on screen, the opening dialogs closed, and its footer made for it (bounded)."""
    from wizard.tui.keys_footer import KeysFooter

    await close_opening_dialogs(app, pilot)
    footer = app.query_one(KeysFooter)
    await wait_until(pilot, lambda: not footer._remaking and footer._shown == footer._keys(), 5,
                     "the walk's footer made")
    return footer


def test_the_footer_is_made_again_only_when_its_keys_change(tmp_path):
    """Moving through the steps, the focus leaving the list and coming back, the bindings
    refreshed as after each step: the keys stay as they are, and the footer with them. A step
    running shows Cancel: then it is made again, with the key in it."""
    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            footer = await walk_with_its_footer_made(app, pilot)
            made = []
            original = footer.recompose

            async def counted():
                made.append(footer._keys())
                await original()

            footer.recompose = counted
            keys_before = [key.description for key in footer.query("FooterKey")]
            await pilot.press("down", "up", "down")
            app.refresh_bindings()          # as the app does after each step: the same keys
            app.screen.set_focus(None)
            app.screen.set_focus(app.query_one("#steps"))
            await pilot.pause(0.2)
            assert made == [] and [key.description for key in footer.query("FooterKey")] == keys_before
            app.busy = True
            app.refresh_bindings()
            await pilot.pause(0.2)
            assert len(made) == 1 and "Cancel" in [key.description for key in footer.query("FooterKey")]
            app.busy = False

    asyncio.run(scenario())


def test_the_walk_s_footer_is_made_again_though_the_dialog_above_it_closed_before_it_painted(tmp_path):
    """The walk's keys change while a dialog covers it (here: a step starts running), and the
    dialog is closed before it paints again — the user's key came first, as with the path
    question answered at once. Textual hands calls "after the next refresh" to the screen on
    top, so the dialog took the footer's call away with it and the walk's footer stayed empty
    for good (seen in a real terminal). Here the dialog's pending calls are thrown away, as
    then; the walk's footer must still show its keys."""
    from wizard.tui.dialogs import HelpScreen

    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        async with app.run_test(size=(120, 36)) as pilot:
            footer = await walk_with_its_footer_made(app, pilot)
            walk_screen = app.screen
            dialog = HelpScreen()
            await app.push_screen(dialog)
            await pilot.pause()
            app.busy = True                  # the walk's keys change under the dialog
            walk_screen.refresh_bindings()
            for _ in range(200):             # the footer's call handed out, nothing painted yet
                await asyncio.sleep(0)
                if dialog._callbacks or not footer._remaking:
                    break
            dialog._callbacks.clear()        # the dialog closes before it painted again
            app.pop_screen()
            await wait_until(pilot, lambda: app.screen is walk_screen, 5, "the dialog to close")
            await wait_until(pilot, lambda: "Cancel" in [key.description for key in footer.query("FooterKey")],
                             5, "the walk's footer to show Cancel")
            app.busy = False

    asyncio.run(scenario())


def test_the_walk_opens_on_its_step_with_the_explanation_made_with_it(tmp_path):
    """The step where the walk goes on is highlighted and explained in the walk's first layout:
    its explanation is parsed and mounted once, with the view, not again when the list's first
    highlight arrives."""
    from textual.widgets import Markdown

    engine = make_engine(tmp_path)

    async def scenario():
        app = WizardApp(engine)
        updates = []
        original = Markdown.update

        def counted(self, markdown):
            updates.append(self.id)
            return original(self, markdown)

        Markdown.update = counted
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await close_opening_dialogs(app, pilot)
                await pilot.pause(0.2)
                assert app.selected_step().id == engine.next_step().id == engine.steps[0].id
                assert app.query_one("#explain").source == engine.explanation(engine.steps[0])
                assert updates.count("explain") == 1, "made once, with the view"
                await pilot.press("down")
                await pilot.pause(0.2)
                assert updates.count("explain") == 2
                assert app.query_one("#explain").source == engine.explanation(engine.steps[1])
        finally:
            Markdown.update = original

    asyncio.run(scenario())
