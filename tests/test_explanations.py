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


def test_the_straight_path_tells_where_each_lesson_is_and_the_lessons_path_does_not(tmp_path):
    """A step with lessons, walked straight, says in its explanation which errors the tutorial
    shows on the way (every lesson, with what its probes meet) and how to meet them; on the
    lessons path the lessons are the steps themselves, so nothing is added."""
    import tomllib

    from fixture_data import ANSWERS
    from wizard.answers import parse_answers
    from wizard.engine import Engine
    from wizard.system import System

    for teaching in (False, True):
        root = tmp_path / str(teaching)
        engine = Engine(System(root), parse_answers(tomllib.loads(ANSWERS)), walk_order(ALL_STEPS, teaching),
                        chapters=ALL_STEPS).open(teaching=teaching)
        try:
            for step in (s for s in ALL_STEPS if s.lessons):
                text = engine.explanation(step)
                said = "## The lessons this path goes past" in text
                assert said != teaching, (step.id, teaching)
                if not teaching:
                    assert "`mailwizard run --teaching` (or `t` in the" in text
                    for lesson in step.lessons:
                        assert lesson.title.split(":")[0].replace("{maildomain}", "example.test") in text
                    assert "{" not in text.split("## The lessons this path goes past")[1], text
            plain = next(s for s in ALL_STEPS if not s.lessons and s.id == "sasl")
            assert "lessons this path" not in engine.explanation(plain)
        finally:
            engine.close()
