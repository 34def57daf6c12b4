"""Every step of both paths has its explanation, and it is ours: no stub, no placeholder."""

from steps import ALL_STEPS
from wizard import resources
from wizard.model import walk_order


def test_every_step_and_lesson_is_explained():
    for step in set(walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False)):
        text = resources.read_text("explain", step.explain)
        assert len(text.split()) >= 25, f"{step.explain} is too thin to teach anything"
        assert text.startswith("# "), step.explain


def test_every_expectation_reads_as_the_server_would_say_it(tmp_path):
    """What `run`, the TUI and the report print as a probe's expectation has its placeholders
    filled and its escaped braces single: the server says {SHA512-CRYPT}, not {{SHA512-CRYPT}}."""
    import tomllib

    from fixture_data import ANSWERS
    from wizard.answers import parse_answers
    from wizard.engine import Engine
    from wizard.probes.runner import describe_expectation
    from wizard.system import System

    engine = Engine(System(tmp_path), parse_answers(tomllib.loads(ANSWERS)), ALL_STEPS).open()
    try:
        values = engine.values()
        said = {f"{step.id}/{probe.id}": describe_expectation(probe.expect, values)
                for step in set(walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False))
                for probe in step.probes}
    finally:
        engine.close()
    assert "the server says '{SHA512-CRYPT}'" in said["password-hash/hash-verified"], said["password-hash/hash-verified"]
    doubled = {key: text for key, text in said.items() if "{{" in text or "}}" in text or "{maildomain}" in text}
    assert not doubled, doubled
