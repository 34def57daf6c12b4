"""Bad input: one clear message, exit code 2, nothing written."""

from conftest import mailwizard


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


def test_run_without_answers_says_how_to_give_them(tmp_path):
    run = mailwizard("run", "--root", str(tmp_path / "s"))
    assert run.returncode == 2 and "--answers FILE" in run.stderr


def test_unknown_step_is_refused(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text('maildomain = "example.test"\n')
    run = mailwizard("run", "--answers", str(answers), "--root", str(tmp_path / "s"),
                     "--through", "postfix-nmes")
    assert run.returncode == 2 and "no step 'postfix-nmes'" in run.stderr


def test_check_reports_each_prerequisite_and_writes_nothing(tmp_path):
    answers = tmp_path / "answers.toml"
    answers.write_text('maildomain = "example.test"\n')
    sandbox = tmp_path / "s"
    run = mailwizard("check", "--answers", str(answers), "--root", str(sandbox))
    assert "postfix-blank: ok   command postfix" in run.stdout
    # No DNS for example.test on a test box: the check says what is wrong and how to fix it.
    assert "FAIL mail for example.test comes here" in run.stdout
    assert "add an MX record for example.test" in run.stdout
    assert run.returncode == 1
    assert not sandbox.exists()
