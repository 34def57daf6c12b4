from steps import ALL_STEPS


def through(step_id):
    ids = [s.id for s in ALL_STEPS]
    return ALL_STEPS[: ids.index(step_id) + 1]

from wizard.answers import parse_answers
from wizard.config import managed_paths, render_file
from wizard.outcomes import unified_diff

VALUES = {**parse_answers({"maildomain": "example.test",
                                   "users": [{"address": "alice@example.test", "password": "123456"}]}).values(), "compatibility_level": "3.6"}
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
    from wizard import resources
    for step in ALL_STEPS:
        text = resources.read_text("explain", step.explain)
        assert text.startswith("# ")
    paths = managed_paths(ALL_STEPS)
    assert paths[0] == MAIN_CF and "/etc/dovecot/dovecot.conf" in paths and "/etc/dovecot/users.db" in paths


def test_blocks_removals_lists_maps_and_the_user_table_render_as_the_daemons_read_them():
    from wizard.answers import MailUser
    from wizard.model import Block, FileFragment, Remove, Setting, Step, UserTable

    def step(*fragments):
        return Step(id="t", title="t", chapter="t", explain="x.md", files=fragments)

    conf = render_file("/c", [
        step(FileFragment("/c", start_empty=True, settings=(
            Setting("ssl", "no"), Block("passdb", (Setting("driver", "passwd-file"),)),
            Block("service lmtp", (Block("unix_listener /x", (Setting("mode", "0600"),)),))))),
        step(FileFragment("/c", settings=(Remove("ssl"), Block("passdb", (Setting("driver", "sql"),)),
                                          Setting("list", "a, b,c", one_per_line=True)))),
    ], {})
    body = conf.split("\n", 1)[1]
    assert body == ("service lmtp {\n  unix_listener /x {\n    mode = 0600\n  }\n}\n"
                    "passdb {\n  driver = sql\n}\n"
                    "list =\n    a,\n    b,\n    c\n")
    users = (MailUser("alice", "example.test", "{SHA512-CRYPT}$6$salt$hash"),)
    table = [step(FileFragment("/u", start_empty=True, table=UserTable(scheme_prefix=False)))]
    assert render_file("/u", table, {}, users=users).endswith("alice@example.test:$6$salt$hash\n")
    mapped = [step(FileFragment("/m", start_empty=True, format="map", settings=(Setting("postmaster@d", "a@d"),)))]
    assert render_file("/m", mapped, {}).endswith("postmaster@d a@d\n")
