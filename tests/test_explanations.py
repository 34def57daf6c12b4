"""Every step of both paths has its explanation, and it is ours: no stub, no placeholder."""

from steps import ALL_STEPS
from wizard import resources
from wizard.model import walk_order


def test_every_step_and_lesson_is_explained():
    for step in set(walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False)):
        text = resources.read_text("explain", step.explain)
        assert len(text.split()) >= 25, f"{step.explain} is too thin to teach anything"
        assert text.startswith("# "), step.explain
