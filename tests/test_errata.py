"""Every difference from the tutorial that a step announces is listed, with its reason, in the
one errata page the README links to."""

from steps import ALL_STEPS
from wizard import resources
from wizard.model import walk_order


def test_every_erratum_a_step_announces_is_on_the_errata_page():
    page = resources.read_text("errata.md")
    refs = {e.ref for s in walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False) for e in s.errata}
    refs |= {p.erratum.ref for s in walk_order(ALL_STEPS, True) for p in s.probes if p.erratum}
    missing = sorted(r for r in refs if f"| {r} |" not in page)
    assert refs and not missing, f"not on assets/errata.md: {missing}"


def test_on_dovecot_24_the_steps_that_write_dovecot_conf_say_so(tmp_path):
    from pathlib import Path

    from wizard.answers import parse_answers
    from wizard.dialect import ERRATUM_24
    from wizard.engine import Engine
    from wizard.platform import Platform
    from wizard.system import System

    assert f"| {ERRATUM_24.ref} |" in resources.read_text("errata.md")
    answers = parse_answers({"maildomain": "example.test", "mailhost": "mail",
                             "users": [{"address": "alice@example.test", "password": "x"}]})
    steps = walk_order(ALL_STEPS, False)
    by_release = {}
    for debian, dovecot in (("12.11", "2.3.19.1"), ("13.8", "2.4.1-4")):
        engine = Engine(System(root=Path(tmp_path)), answers, steps,
                        platform=Platform(debian, "3.10.13", dovecot, False, "3.9"))
        by_release[debian] = {s.id: ("D24" in [e.ref for e in engine.errata(s)],
                                     "Dovecot 2.4" in engine.explanation(s)) for s in steps}
    assert not any(a or b for a, b in by_release["12.11"].values())
    said = {step for step, (erratum, explained) in by_release["13.8"].items() if erratum and explained}
    assert said == {"dovecot-imap", "dovecot-tls", "virtual-lmtp", "password-hash", "sasl", "certificate", "hardening"}


def test_the_notes_on_starting_daemons_are_those_of_the_boxs_service_manager(tmp_path):
    """E2 and E6 have a text for a box run by systemd and one for a box without it; a step
    says only the one true of the box it runs on (both are tested on real boxes too:
    tests/test_systemd.py, and the host's own walk)."""
    from pathlib import Path

    from wizard.answers import parse_answers
    from wizard.engine import Engine
    from wizard.platform import Platform
    from wizard.system import System

    answers = parse_answers({"maildomain": "example.test", "mailhost": "mail",
                             "users": [{"address": "alice@example.test", "password": "x"}]})
    steps = walk_order(ALL_STEPS, False)
    said = {}
    for systemd in (True, False):
        engine = Engine(System(root=Path(tmp_path)), answers, steps,
                        platform=Platform("12.11", "3.7.11", "2.3.19.1", systemd, "3.6"))
        said[systemd] = {e.ref: e.text for s in steps for e in engine.errata(s) if e.ref in ("E2", "E6")}
    assert set(said[True]) == set(said[False]) == {"E2", "E6"}
    assert "systemctl" in said[True]["E2"] and "postfix start" not in said[True]["E2"]
    assert "postfix start" in said[False]["E2"] and "systemd runs" not in said[False]["E2"]
    assert "postfix@-" in said[True]["E6"] and "configure-instance.sh" in said[False]["E6"]
    assert all(e.on in ("", "systemd", "no-systemd") for s in ALL_STEPS for e in s.errata)
