from steps import ALL_STEPS


def through(step_id):
    ids = [s.id for s in ALL_STEPS]
    return ALL_STEPS[: ids.index(step_id) + 1]

from wizard.answers import parse_answers
from wizard.config import managed_paths, render_file, unified_diff

VALUES = {**parse_answers({"maildomain": "example.test"}).values(), "compatibility_level": "3.6"}
MAIN_CF = "/etc/postfix/main.cf"


def test_main_cf_is_the_original_until_a_step_takes_it_over():
    assert render_file(MAIN_CF, through('install'), VALUES) is None


def test_each_render_extends_the_previous_in_the_tutorials_order():
    blank = render_file(MAIN_CF, through('postfix-blank'), VALUES)
    names = render_file(MAIN_CF, through('postfix-names'), VALUES)
    settings = [l for l in names.splitlines() if l and not l.startswith("#")]
    assert settings == ["compatibility_level = 3.6", "maillog_file = /var/log/mail.log",
                        "mydomain = example.test", "myhostname = mail.$mydomain",
                        "myorigin = $myhostname", "mydestination = $myhostname"]
    assert names.startswith(blank)
    # Pure: the same inputs give the same bytes.
    assert render_file(MAIN_CF, through('postfix-names'), VALUES) == names


def test_diff_between_two_renders_shows_only_the_new_lines():
    diff = unified_diff(MAIN_CF, render_file(MAIN_CF, through('postfix-blank'), VALUES),
                        render_file(MAIN_CF, through('postfix-names'), VALUES))
    added = [l for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert added == ["+mydomain = example.test", "+myhostname = mail.$mydomain",
                     "+myorigin = $myhostname", "+mydestination = $myhostname"]
    assert not [l for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]


def test_every_step_has_an_explanation_in_assets():
    from wizard import ASSETS
    for step in ALL_STEPS:
        text = (ASSETS / "explain" / step.explain).read_text()
        assert text.startswith("# ")
    assert managed_paths(ALL_STEPS) == [MAIN_CF]
