"""Every step of both paths has its explanation, and it is ours: no stub, no placeholder."""

from steps import ALL_STEPS
from wizard import resources
from wizard.model import walk_order


def test_every_step_and_lesson_is_explained():
    for step in set(walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False)):
        text = resources.read_text("explain", step.explain)
        assert len(text.split()) >= 25, f"{step.explain} is too thin to teach anything"
        assert text.startswith("# "), step.explain


def test_every_expectation_reads_as_the_server_would_say_it(tmp_path, session):
    """What `run`, the TUI and the report print as a probe's expectation has its placeholders
    filled and its escaped braces single: the server says {SHA512-CRYPT}, not {{SHA512-CRYPT}}."""

    from wizard.probes.runner import describe_expectation

    engine = session(tmp_path)
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


def test_the_straight_path_tells_where_each_lesson_is_and_the_lessons_path_does_not(tmp_path, session):
    """A step with lessons, walked straight, says in its explanation which errors the tutorial
    shows on the way (every lesson, with what its probes meet) and how to meet them; on the
    lessons path the lessons are the steps themselves, so nothing is added."""


    for teaching in (False, True):
        root = tmp_path / str(teaching)
        engine = session(root, teaching=teaching)
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


def quoted_connect_lines() -> dict[str, list[str]]:
    """The log lines of Postfix's LMTP client the explanations quote, by file."""
    import re
    from pathlib import Path

    import assets

    found = {}
    for path in sorted((Path(assets.__file__).parent / "explain").glob("*.md")):
        quotes = [q for q in re.findall(r"`([^`\n]+)`", path.read_text()) if q.startswith("connect to ")]
        if quotes:
            found[path.name] = quotes
    return found


def test_a_quoted_delivery_line_is_written_as_postfix_writes_it():
    """Postfix's LMTP client logs `connect to HOST[private/SOCKET]: REASON` (its next hop and the
    socket in brackets); the real line is matched against these quotes in test_dovecot_walk."""
    import re

    quotes = quoted_connect_lines()
    assert {"virtual-lmtp.md", "virtual-lmtp.postfix.md"} <= set(quotes), quotes
    for name, lines in quotes.items():
        for line in lines:
            assert re.fullmatch(r"connect to MAILHOST\.MAILDOMAIN\[private/[a-z-]+\]: [A-Z][a-z ]+", line), (name, line)


def test_the_recount_of_the_tutorials_probes_names_only_what_exists():
    """tests/data/tutorial-probes.md maps each check the tutorial makes to the walk's probes, as
    exact or with its erratum: every probe, step and erratum it names is real, and every row of
    the tutorial is accounted for."""
    from pathlib import Path

    page = resources.read_text("errata.md")
    tutorial = (Path(__file__).parents[2] / "shared" / "seed" / "postfix-dovecot-tutorial.md")
    steps = {s.id: s for s in walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False)}
    rows = [line.strip("|").split("|") for line in
            (Path(__file__).parent / "data" / "tutorial-probes.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| tutorial")]
    assert len(rows) >= 30, rows
    for where, what, ours, how in ([cell.strip() for cell in row] for row in rows):
        assert where.isdigit() and what, (where, what)
        for name in (item.strip() for item in ours.split(",")):
            step_id, _, probe_id = name.partition("/")
            assert step_id in steps, name
            assert not probe_id or probe_id in {p.id for p in steps[step_id].probes}, name
        assert how == "exact" or f"| {how} |" in page, (where, how)
    if tutorial.exists():       # beside the shared seed: the line numbers point at the tutorial's checks
        lines = tutorial.read_text().splitlines()
        assert all(int(row[0]) <= len(lines) for row in rows)
