"""Every difference from the tutorial that a step announces is listed, with its reason, in the
one errata page the README links to."""

from steps import ALL_STEPS
from wizard import ASSETS
from wizard.model import walk_order


def test_every_erratum_a_step_announces_is_on_the_errata_page():
    page = (ASSETS / "errata.md").read_text()
    refs = {e.ref for s in walk_order(ALL_STEPS, True) + walk_order(ALL_STEPS, False) for e in s.errata}
    refs |= {p.erratum.ref for s in walk_order(ALL_STEPS, True) for p in s.probes if p.erratum}
    missing = sorted(r for r in refs if f"| {r} |" not in page)
    assert refs and not missing, f"not on assets/errata.md: {missing}"
