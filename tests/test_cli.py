"""Bad input: one clear message, exit code 2, nothing written."""

import re

from conftest import ANSWERS, mailwizard


def test_malformed_answers_file_is_refused_and_nothing_is_written(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text('maildomain = "exa mple.test"\n')
    sandbox = tmp_path / "sandbox"
    run = mailwizard("run", "--answers", str(answers), "--root", str(sandbox))
    assert run.returncode == 2
    assert "maildomain" in run.stderr and "Traceback" not in run.stderr
    assert not (sandbox / "etc").exists()


def test_unknown_key_is_named(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text('maildomain = "example.test"\nmailhots = "mail"\n')
    run = mailwizard("run", "--answers", str(answers), "--root", str(tmp_path / "s"))
    assert run.returncode == 2 and "unknown key 'mailhots'" in run.stderr


def test_answers_without_a_domain_or_a_mailbox_are_refused_before_anything_is_written(tmp_path):
    """An empty file used to walk fourteen chapters for example.test with no mailbox at all."""
    sandbox = tmp_path / "sandbox"
    answers = tmp_path / "answers.toml"
    for text, named, not_named in (("", ("maildomain", "a mailbox"), ()),
                                   ('maildomain = "example.org"\n', ("a mailbox",), ("maildomain (",)),
                                   (ANSWERS.split("[[users]]")[1].replace("alice@example.test", "alice@x.test"),
                                    ("maildomain",), ("a mailbox",))):
        answers.write_text(text)
        for command in ("run", "check"):
            run = mailwizard(command, "--answers", str(answers), "--root", str(sandbox))
            assert run.returncode == 2, (command, text, run.stdout, run.stderr)
            assert all(words in run.stderr for words in named), run.stderr
            assert not any(words in run.stderr for words in not_named), run.stderr
            assert "example.test" not in run.stdout and "Traceback" not in run.stderr
        assert not sandbox.exists()


def test_run_without_answers_says_how_to_give_them(tmp_path):
    run = mailwizard("run", "--root", str(tmp_path / "s"))
    assert run.returncode == 2 and "--answers FILE" in run.stderr


def test_unknown_step_is_refused(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    run = mailwizard("run", "--answers", str(answers), "--root", str(tmp_path / "s"),
                     "--through", "postfix-nmes")
    assert run.returncode == 2 and "no step 'postfix-nmes'" in run.stderr


def test_check_reports_each_prerequisite_and_writes_nothing(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    sandbox = tmp_path / "s"
    run = mailwizard("check", "--answers", str(answers), "--root", str(sandbox))
    assert "postfix-blank: ok   command postfix" in run.stdout
    # No DNS for example.test on a test box: the check says what is wrong and how to fix it.
    assert "FAIL mail for example.test comes here" in run.stdout
    assert "add an MX record for example.test" in run.stdout
    assert run.returncode == 1
    assert not sandbox.exists()


RELAY = '\n[relay]\nhost = "relay.ext.test"\nuser = "me@ext.test"\n'


def test_a_relay_password_left_out_is_asked_on_the_terminal_without_echo(tmp_path):
    import sys

    import pexpect

    from conftest import REPO

    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS + RELAY)
    sandbox = tmp_path / "s"
    secret = "typed-Secret-on-tty-7"
    child = pexpect.spawn(sys.executable, ["-m", "wizard", "run", "--answers", str(answers), "--root",
                                           str(sandbox), "--through", "relay-host", "--yes"],
                          cwd=str(REPO), encoding="utf-8", timeout=120)
    try:
        child.expect("The password of me@ext.test at the relay host relay.ext.test: ")
        child.sendline(secret)
        child.expect(pexpect.EOF)
        said = child.before
    finally:
        child.close()
    assert child.exitstatus == 0, said
    assert secret not in said, "not echoed, not printed"
    assert "sasl_passwd: it holds a secret: not shown" in said and "[ok] relay-host" in said
    kept = sandbox / "etc/postfix/sasl_passwd"
    assert f"[relay.ext.test]:587 me@ext.test:{secret}" in kept.read_text()
    # A later run reads it back from there: nothing asked, nothing to redo.
    status = mailwizard("status", "--root", str(sandbox))
    assert re.search(r"\[\s*done\] relay-host", status.stdout), status.stdout


def test_without_a_terminal_a_missing_relay_password_is_refused_with_where_to_give_it(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS + RELAY)
    sandbox = tmp_path / "s"
    run = mailwizard("run", "--answers", str(answers), "--root", str(sandbox), "--through", "relay-host")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "[relay] password" in run.stdout and "MAILWIZARD_RELAY_PASSWORD" in run.stdout
    assert not (sandbox / "etc/postfix/sasl_passwd").exists(), "nothing written for the relay"
    given = mailwizard("run", "--answers", str(answers), "--root", str(sandbox), "--through", "relay-host",
                       env={"MAILWIZARD_RELAY_PASSWORD": "from-the-environment"})
    assert given.returncode == 0 and "from-the-environment" not in given.stdout + given.stderr
    assert "me@ext.test:from-the-environment" in (sandbox / "etc/postfix/sasl_passwd").read_text()


def test_relay_answers_that_could_break_a_config_line_are_refused_by_name(tmp_path):
    for relay, named in (('host = "relay.ext.test\\nrelayhost = evil"', "relay.host"),
                         ('host = "relay.ext.test"\nuser = "me"\nport = 70000', "relay.port"),
                         ('host = "192.0.2.7"\nuser = "me"', "relay.host"),
                         ('host = "relay.ext.test"\nuser = "me:you"', "relay.user"),
                         ('host = "relay.ext.test"\nuser = "me"\npassword = "a\\nb"', "relay.password")):
        answers = tmp_path / "answers.toml"
        answers.write_text(ANSWERS + "\n[relay]\n" + relay + "\n")
        run = mailwizard("run", "--answers", str(answers), "--root", str(tmp_path / "s"))
        assert run.returncode == 2 and named in run.stderr and "Traceback" not in run.stderr, (relay, run.stderr)
        assert not (tmp_path / "s" / "etc").exists()


def test_run_says_its_path_and_the_path_changes_only_for_chapters_not_yet_begun(tmp_path):
    """Straight on a first walk; --teaching takes the lessons of the chapters still ahead; a
    chapter begun keeps its form under --straight; both flags at once are refused."""
    answers, root = tmp_path / "answers.toml", str(tmp_path / "s")
    answers.write_text(ANSWERS)
    first = mailwizard("run", "--answers", str(answers), "--root", root, "--through", "install")
    assert first.returncode == 0, first.stderr
    assert ("path: straight to each working step (--teaching takes the tutorial's lessons, "
            "errors included in dovecot-imap, virtual-lmtp, dns-auth)") in first.stdout, first.stdout

    lessons = mailwizard("run", "--teaching", "--root", root, "--through", "dovecot-imap.empty")
    assert lessons.returncode == 0, lessons.stderr
    assert "path: the tutorial's lessons" in lessons.stdout, lessons.stdout
    assert "[ok] dovecot-imap.empty" in lessons.stdout, lessons.stdout

    both = mailwizard("run", "--teaching", "--straight", "--root", root)
    assert both.returncode == 2 and "give one of them" in both.stderr

    straight = mailwizard("run", "--straight", "--root", root)
    assert straight.returncode == 0, straight.stdout[-2000:] + straight.stderr
    assert "path: straight to each working step (--teaching takes" in straight.stdout
    assert "in virtual-lmtp, dns-auth)" in straight.stdout, "dovecot-imap is begun: the others still change"
    status = mailwizard("status", "--root", root).stdout
    assert "path: straight to each working step (every chapter with lessons is begun)" in status, status
    ids = [line.split()[2] for line in status.splitlines() if line.startswith("  [")]
    assert "dovecot-imap.location" in ids and "dovecot-imap" not in ids, "the begun chapter kept its lessons"
    assert "dns-auth" in ids and not any(i.startswith(("dns-auth.", "virtual-lmtp.")) for i in ids), ids
    # Now the path is fixed: another one is refused, with the way out; the same one is fine.
    refused = mailwizard("run", "--teaching", "--root", root)
    assert refused.returncode == 2, refused.stdout
    assert "the path cannot change: every chapter with lessons" in refused.stderr
    assert "mailwizard undo STEP" in refused.stderr
    assert mailwizard("run", "--straight", "--root", root).returncode == 0


def test_in_the_sandbox_the_prerequisites_show_every_check_they_ran(tmp_path):
    from steps.prereq import STEP

    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS)
    run = mailwizard("run", "--answers", str(answers), "--root", str(tmp_path / "s"), "--through", "prereq")
    assert run.returncode == 0, run.stderr
    checks = [line for line in run.stdout.splitlines() if line.startswith("    check ")]
    assert len(checks) == len(STEP.requires), run.stdout
    assert any(re.match(r"    check (ok  |FAIL|warn) port 25: ", line) for line in checks), checks
    assert any(line.startswith("    check ok   block lists: none chosen") for line in checks), checks
    assert ("this step writes no file: it checks the box (12 checks above); in the sandbox too the "
            "checks look at this box itself") in run.stdout
    assert "no file changes" not in run.stdout


def test_check_with_the_outside_on_this_box_says_what_it_cannot_show(tmp_path):
    """Answers that name no vantage point take an outside simulated on this box; the checks do
    not pretend it is the internet (nor make it: it exists only while a walk probes)."""
    from pathlib import Path

    answers = tmp_path / "answers.toml"
    answers.write_text(ANSWERS.replace('vantage = "none"\n', ""))
    run = mailwizard("check", "--answers", str(answers), "--root", str(tmp_path / "s"))
    said = run.stdout
    assert "mail.example.test:25 from outside: not checked: the outside is simulated on this box" in said, said
    assert "outside host's name: not learned: the outside is simulated on this box" in said, said
    assert not Path("/etc/netns/mwoutside").exists()


def test_answers_init_writes_a_file_to_fill_in_and_never_over_one(tmp_path):
    import re
    import stat

    target = tmp_path / "answers.toml"
    made = mailwizard("answers", "init", str(target))
    assert made.returncode == 0 and "FILL" in made.stdout, made.stdout + made.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    again = mailwizard("answers", "init", str(target))
    assert again.returncode == 2 and "exists already" in again.stderr and target.read_text() == text
    # As written it names what to fill in, and walks nothing.
    sandbox = tmp_path / "s"
    refused = mailwizard("run", "--answers", str(target), "--root", str(sandbox))
    assert refused.returncode == 2 and "maildomain" in refused.stderr and "a mailbox" in refused.stderr
    assert not sandbox.exists()
    # Filled in (the FILL lines uncommented, with a domain of one's own), it walks.
    filled = re.sub(r"^# (maildomain|\[\[users\]\]|address  |password )", r"\1", text, flags=re.M)
    target.write_text(filled.replace("example.org", "example.test"))
    walked = mailwizard("run", "--answers", str(target), "--root", str(sandbox))
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert "answers: example.test, server mail.example.test" in walked.stdout
