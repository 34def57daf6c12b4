import pytest

from wizard.answers import AnswersError, load_answers, parse_answers


def minimal(**overrides):
    data = {"maildomain": "example.test", "mailhost": "mail",
            "users": [{"address": "alice@example.test", "password": "123456"}],
            "external": {"address": "bob@ext.test", "vantage": "none"}}
    data.update(overrides)
    return data


def parse(**overrides):
    return parse_answers(minimal(**overrides))


def test_valid_answers_hash_the_password_at_once():
    answers = parse()
    assert answers.fqdn == "mail.example.test"
    user = answers.users[0]
    assert user.password_hash.startswith("{SHA512-CRYPT}$6$")
    assert "123456" not in repr(answers) and "123456" not in str(answers.to_record())
    from passlib.hash import sha512_crypt
    assert sha512_crypt.verify("123456", user.password_hash.removeprefix("{SHA512-CRYPT}"))


@pytest.mark.parametrize("field,value,words", [
    ("maildomain", "example", "two labels"),
    ("maildomain", "exa mple.test", "not a valid DNS label"),
    ("maildomain", "-bad.test", "not a valid DNS label"),
    ("maildomain", "a" * 64 + ".test", "not a valid DNS label"),
    ("maildomain", "example.test\nmynetworks = 0.0.0.0/0", "newline"),
    ("mailhost", "mail.example", "one DNS label"),
    ("mailhost", 5, "expected a string"),
])
def test_bad_names_are_refused_with_the_field_named(field, value, words):
    with pytest.raises(AnswersError) as err:
        parse(**{field: value})
    assert field in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("address,words", [
    ("alice", "user@domain"),
    ("al ice@example.test", "user part"),
    ("al:ice@example.test", "user part"),
    ("alice@other.test", "not in maildomain"),
])
def test_bad_user_addresses(address, words):
    with pytest.raises(AnswersError, match=words):
        parse(users=[{"address": address, "password": "x"}])


def test_password_with_newline_or_nul_is_refused():
    for bad in ("a\nb", "a\x00b", ""):
        with pytest.raises(AnswersError, match="users\\[1\\].password"):
            parse(users=[{"address": "alice@example.test", "password": bad}])


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(AnswersError, match="unknown key 'maildomian'"):
        parse(maildomian="x.test")
    with pytest.raises(AnswersError, match="unknown key 'pasword'"):
        parse(users=[{"address": "alice@example.test", "pasword": "x"}])


def test_external_must_be_outside_and_vantage_known():
    with pytest.raises(AnswersError, match="must be outside"):
        parse(external={"address": "bob@example.test"})
    with pytest.raises(AnswersError, match="external.vantage"):
        parse(external={"address": "bob@ext.test", "vantage": "carrier-pigeon"})


def test_password_hash_is_taken_as_is():
    answers = parse(users=[{"address": "alice@example.test", "password_hash": "$6$salt$abc/def"}])
    assert answers.users[0].password_hash == "{SHA512-CRYPT}$6$salt$abc/def"
    with pytest.raises(AnswersError, match="doveadm pw"):
        parse(users=[{"address": "alice@example.test", "password_hash": "plain"}])


def test_malformed_toml_file_says_where(tmp_path):
    bad = tmp_path / "a.toml"
    bad.write_text('maildomain = "example.test\n')
    with pytest.raises(AnswersError, match="not valid TOML"):
        load_answers(bad)
    with pytest.raises(AnswersError, match="no such answers file"):
        load_answers(tmp_path / "missing.toml")


def test_static_address_is_asked_and_must_be_a_boolean():
    from wizard.answers import AnswersError, parse_answers

    assert parse(static_address=True).values()["static_address"] == "yes"
    assert parse().values()["static_address"] == ""
    with pytest.raises(AnswersError, match="static_address: write true or false"):
        parse(static_address="yes")


def test_lab_addresses_must_share_one_private_24():
    from wizard.answers import AnswersError, parse_answers

    assert dict(parse(lab={"name": "lab2"}).lab)["name"] == "lab2"
    with pytest.raises(AnswersError, match="public address"):
        parse(lab={"mail_address": "8.8.8.8"})
    with pytest.raises(AnswersError, match="one /24"):
        parse(lab={"ext_address": "10.0.0.5"})
    with pytest.raises(AnswersError, match="lab.name"):
        parse(lab={"name": "Lab-With-Long-Name"})
    with pytest.raises(AnswersError, match="unknown key 'nam'"):
        parse(lab={"nam": "x"})


def test_the_lab_s_ipv6_addresses_are_two_of_one_64_in_the_documentation_prefix_or_none():
    from wizard.answers import AnswersError
    from wizard.lab.network import LabPlan

    answers = parse(lab={"mail_address6": "2001:db8:7::25", "ext_address6": "2001:db8:7::50"})
    plan = LabPlan.from_answers(answers)
    assert plan.dual_stack and ["mail.example.test", "AAAA", "2001:db8:7::25"] in plan.records()
    assert ["5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR",
            "mail.example.test."] in plan.records()
    # Without IPv6: a lab of IPv4 alone, with no AAAA anywhere and no one-family domains.
    four = LabPlan.from_answers(parse(lab={"mail_address6": "", "ext_address6": ""}))
    assert not four.dual_stack and not [r for r in four.records() if r[1] == "AAAA"]
    assert four.values()["lab_dual_stack"] == "no" and "ext_only6_mailbox" not in four.values()
    with pytest.raises(AnswersError, match="outside 2001:db8::/32"):
        parse(lab={"mail_address6": "2a00:1450::25", "ext_address6": "2a00:1450::50"})
    with pytest.raises(AnswersError, match="one /64"):
        parse(lab={"ext_address6": "2001:db8:26::50"})
    with pytest.raises(AnswersError, match="give mail_address6 and ext_address6 both"):
        parse(lab={"ext_address6": ""})
    with pytest.raises(AnswersError, match="not an IPv6 address"):
        parse(lab={"mail_address6": "192.0.2.26"})


def test_dkim_selector_and_dmarc_policy_are_checked_by_name():
    import re

    from wizard.answers import AnswersError, parse_answers

    for table, wrong, named in (({"dkim": {"selector": "mail_2026"}}, "mail_2026", "dkim.selector"),
                                ({"dkim": {"selector": "-x"}}, "-x", "dkim.selector"),
                                ({"dmarc": {"policy": "strict"}}, "strict", "dmarc.policy"),
                                ({"dmarc": {"report": "no-at-sign"}}, "no-at-sign", "dmarc.report"),
                                ({"dkim": {"key": "x"}}, "key", "dkim"),
                                ({"submission": {"auth_on_25": "yes"}}, "true or false", "submission.auth_on_25")):
        with pytest.raises(AnswersError) as caught:
            parse(**table)
        assert named in str(caught.value) and wrong in str(caught.value)
    dated = parse()
    assert re.fullmatch(r"mw20\d\d(0[1-9]|1[0-2])", dated.values()["dkim_selector"])
    assert dated.values()["dmarc_policy"] == "none" and dated.values()["dmarc_report"] == "postmaster@example.test"
    # A later run without a selector keeps the one the last walk made its key for.
    known = {"dkim.selector": "mw202401"}      # as the state's record gives it (StateStore.known_hashes)
    assert parse_answers(minimal(), known=known).values()["dkim_selector"] == "mw202401"
    assert parse_answers(minimal(dkim={"selector": "Sel1"}), known=known).values()["dkim_selector"] == "sel1"
    # The replay file and the state keep what was used.
    again = parse(dkim={"selector": "sel1"}, dmarc={"policy": "quarantine"})
    import tomllib
    replay = tomllib.loads(again.to_toml())
    assert replay["dkim"] == {"selector": "sel1"} and replay["dmarc"] == {"policy": "quarantine"}
    assert parse_answers(replay) == again


def test_the_certificate_ca_is_chosen_never_assumed_and_checked_by_name():
    import tomllib

    for table, wrong, named in (({"ca": "lets-encrypt"}, "lets-encrypt", "certificate.ca"),
                                ({"ca": "http://acme.example/dir"}, "http://acme.example/dir", "certificate.ca"),
                                ({"email": "nobody"}, "nobody", "certificate.email"),
                                ({"webroot": "var/www"}, "absolute path", "certificate.webroot"),
                                ({"trust": "ca.pem"}, "absolute path", "certificate.trust"),
                                ({"server": "x"}, "server", "certificate")):
        with pytest.raises(AnswersError) as caught:
            parse(certificate=table)
        assert named in str(caught.value) and wrong in str(caught.value), caught.value
    # No CA given: none on a real box (a real CA only when asked), the lab's own in a lab walk.
    plain = parse()
    assert plain.values()["acme"] == "no" and plain.values()["acme_ca"] == "none"
    assert plain.in_a_lab().values()["acme_ca"] == "lab"
    assert plain.in_a_lab().values()["blocklists"] == "bl.ext.test", "the lab's own block list too"
    assert plain.values()["blocklists_on"] == "no", "no block list is chosen on a real box"
    chosen = parse(certificate={"ca": "LetsEncrypt", "email": "hostmaster@example.test"})
    values = chosen.values()
    assert values["acme_server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert values["acme_email"] == "hostmaster@example.test" and values["tls_root"] == ""
    assert values["tls_cert"] == "/etc/letsencrypt/live/mail.example.test/fullchain.pem"
    assert chosen.in_a_lab().values()["acme_ca"] == "letsencrypt", "a choice stays in the lab"
    assert parse(certificate={"ca": "letsencrypt-staging"}).values()["tls_root"] == "untrusted"
    own = parse(certificate={"ca": "https://acme.internal:8443/dir", "trust": "/etc/ssl/internal-ca.pem"}).values()
    assert own["acme_server"] == "https://acme.internal:8443/dir" and own["tls_root"] == "/etc/ssl/internal-ca.pem"
    # The replay file keeps the choice.
    replay = tomllib.loads(chosen.to_toml())
    assert replay["certificate"] == {"ca": "letsencrypt", "email": "hostmaster@example.test"}
    assert parse_answers(replay).table("certificate") == chosen.table("certificate")


def test_a_password_is_hashed_by_doveadm_pw_as_the_tutorial_does():
    """Dovecot is installed by the test set-up: the hash comes from `doveadm pw`, fed on stdin,
    and both Dovecot and passlib accept it (the fallback makes the same kind)."""
    import subprocess

    from wizard.answers import make_hash, verify_password

    password = 'ä quote" and blank'
    hashed, maker = make_hash(password)
    assert maker == "doveadm pw -s SHA512-CRYPT"
    assert hashed.startswith("{SHA512-CRYPT}$6$") and verify_password(password, hashed)
    check = subprocess.run(["doveadm", "pw", "-t", hashed], input=password + "\n", capture_output=True,
                           text=True, start_new_session=True)
    assert check.returncode == 0 and "(verified)" in check.stdout, check.stderr
    wrong = subprocess.run(["doveadm", "pw", "-t", hashed], input="not it\n", capture_output=True,
                           text=True, start_new_session=True)
    assert wrong.returncode != 0


def test_every_answers_example_in_the_readme_loads():
    """The README's answers file, and each optional section it shows added to it, load as they
    stand: the files users copied keep working. The tests' own answers load too."""
    import re
    import tomllib

    from conftest import REPO
    from fixture_data import ANSWERS

    blocks = re.findall(r"```toml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    whole = [block for block in blocks if "maildomain" in block]
    sections = [block for block in blocks if "maildomain" not in block]
    assert len(whole) == 1 and len(sections) >= 4, blocks
    base = tomllib.loads(whole[0])
    assert parse_answers(base).fqdn == "mail.example.test"
    for section in sections:
        table = tomllib.loads(section)
        assert parse_answers({**base, **table}).to_record(), section
    assert parse_answers(tomllib.loads(ANSWERS)).users[0].address == "alice@example.test"


def test_an_outside_on_this_box_is_a_vantage_point_in_the_file_and_the_form():
    from wizard.form import field_problem

    assert parse(external={"address": "bob@ext.test", "vantage": "box"}).vantage == "box"
    assert field_problem("vantage", {"vantage": "box"}) == ""
    with pytest.raises(AnswersError, match="not one of box, local, manual, none"):
        parse(external={"address": "bob@ext.test", "vantage": "boxx"})
