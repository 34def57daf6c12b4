"""The mail-flow diagram's data: what each step changes and where each probe goes, derived from
the steps themselves."""

from steps import ALL_STEPS
from wizard.flow import PARTS, sends_out, touched_by, travelled_by
from wizard.model import walk_order

BY_ID = {s.id: s for s in walk_order(ALL_STEPS, False)}


def probe(step_id, probe_id):
    return next(p for p in BY_ID[step_id].probes if p.id == probe_id)


def test_each_step_lights_the_parts_it_changes():
    assert touched_by(BY_ID["install"]) == set(PARTS)
    assert touched_by(BY_ID["postfix-blank"]) == {"smtpd"}
    assert touched_by(BY_ID["vmail"]) == {"maildir"}
    assert {"lmtp", "dovecot", "smtpd"} <= touched_by(BY_ID["virtual-lmtp"])
    assert "sasl" in touched_by(BY_ID["sasl"]) and "lmtp" not in touched_by(BY_ID["sasl"])
    assert "imap" in touched_by(BY_ID["dovecot-tls"])
    assert all(touched_by(s) for s in BY_ID.values() if s.files or s.ensure or s.packages)


def test_each_probe_travels_its_own_path():
    assert travelled_by(probe("postfix-blank", "test-1")) == ["sendmail", "local"]
    assert travelled_by(probe("virtual-lmtp", "test-h")) == [
        "client", "smtpd", "lmtp", "dovecot", "maildir", "imap"]
    relay = travelled_by(probe("sasl", "auth-relay"))
    assert relay == ["mua", "smtpd", "sasl", "relay"] and sends_out(relay)
    refused = travelled_by(probe("sasl", "no-auth-no-relay"))
    assert refused == ["client", "smtpd"] and not sends_out(refused)
    assert travelled_by(probe("dovecot-tls", "imaps")) == ["mua", "imap", "dovecot"]
    # Today's chapters: mail from people passes the signer; the strict receiver's verdict is read.
    assert travelled_by(probe("dkim", "dkim-signed")) == ["mua", "smtpd", "sasl", "milter", "lmtp", "dovecot", "maildir"]
    accepted = travelled_by(probe("dns-auth", "receiver-accepts"))
    assert accepted == ["mua", "smtpd", "sasl", "milter", "relay"] and sends_out(accepted)
    assert "milter" in touched_by(BY_ID["dkim"]) and "milter" not in touched_by(BY_ID["sasl"])
    every = [travelled_by(p) for s in walk_order(ALL_STEPS, True) for p in s.probes]
    assert all(set(path) <= set(PARTS) and path for path in every)


def test_a_chapter_s_new_port_and_service_appear_from_its_own_data():
    from wizard.flow import labels
    from wizard.model import FileFragment, Offers, Probe, Service, SmtpMail, Step

    chapter = Step(id="submission", title="", chapter="", explain="", files=(
        FileFragment("/etc/postfix/master.cf", format="master", settings=(
            Service("submission", options=(("smtpd_sasl_auth_enable", "yes"),)),
            Service("2465", options=(("syslog_name", "postfix/2465"),)),)),),
        probes=(Probe(id="ehlo-587", title="", action=SmtpMail(helo="x", mail_from="", rcpt="", body="", ehlo=True),
                      expect=Offers(("STARTTLS",)), port=587),))
    tutorial = ALL_STEPS[: [s.id for s in ALL_STEPS].index("next-steps") + 1]
    assert labels(tutorial)["smtpd"] == "smtpd :25"
    assert labels(tutorial)["imap"] == "IMAP :143/:993"
    assert labels(tutorial + (chapter,))["smtpd"] == "smtpd :25/:587/:2465"
    assert labels(ALL_STEPS)["smtpd"] == "smtpd :25/:465/:587", "the submission chapter's ports"
    assert touched_by(chapter) == {"smtpd", "sasl"}, "a service's -o options light their parts"


def test_the_diagram_draws_the_labels_it_is_given():
    import asyncio

    from textual.app import App

    from wizard.flow import labels
    from wizard.tui.mail_flow import MailFlow

    names = dict(labels(ALL_STEPS), smtpd="smtpd :25/:587")

    class One(App):
        def compose(self):
            yield MailFlow(names)

    async def scenario():
        app = One()
        async with app.run_test(size=(140, 10)):
            drawn = str(app.query_one(MailFlow).render())
            assert "[smtpd :25/:587]" in drawn and "[IMAP :143/:993]" in drawn

    asyncio.run(scenario())
