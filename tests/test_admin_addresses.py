"""RFC 2142's administrative addresses and the pure virtual server, on real Postfix and Dovecot in
the lab: each alias delivered into its reader's INBOX; with pure_virtual, root's mail (handed to
sendmail as cron does) reaches that reader, /var/mail/root gets nothing, any other local account is
refused; undo gives local delivery back, and a walk that stops at next-steps has neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ok

pytestmark = pytest.mark.daemons

ALIASES = '\n[aliases]\naddresses = ["postmaster", "abuse", "hostmaster"]\npure_virtual = true\n'



def test_the_administrative_addresses_and_a_pure_virtual_server(lab_up):
    answers = lab_up
    ok("run", "--lab", "--answers", str(answers), "--through", "next-steps")
    tutorial_virtual = Path("/etc/postfix/virtual").read_text()
    assert "abuse@" not in tutorial_virtual, "the tutorial's server has postmaster only"
    answers.write_text(answers.read_text() + ALIASES)
    root_box = Path("/var/mail/root")
    before = root_box.stat().st_size if root_box.exists() else 0
    said = ok("run", "--lab", "--answers", str(answers), "--through", "pure-virtual")
    for probe in ("alias:postmaster", "alias:abuse", "alias:hostmaster", "root-reaches-a-person",
                  "no-local-users"):
        assert f"[ok] {probe}" in said, said
    virtual = Path("/etc/postfix/virtual").read_text()
    for line in ("abuse@example.test alice@example.test", "hostmaster@example.test alice@example.test",
                 "root@mail.example.test alice@example.test"):
        assert line in virtual, virtual
    main_cf = Path("/etc/postfix/main.cf").read_text()
    assert "\nmydestination =\n" in main_cf and "\nvirtual_alias_domains = $myhostname\n" in main_cf

    # Root's mail, as a daemon sends it (the probe used sendmail), never reached /var/mail/root.
    assert (root_box.stat().st_size if root_box.exists() else 0) == before

    # Undo: local delivery again, as the tutorial left it.
    said = ok("undo", "pure-virtual", "--lab", "--answers", str(answers))
    assert "root's mail goes to /var/mail/root again" in said
    main_cf = Path("/etc/postfix/main.cf").read_text()
    assert "\nmydestination = $myhostname\n" in main_cf and "virtual_alias_domains" not in main_cf
