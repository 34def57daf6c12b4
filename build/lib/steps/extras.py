from wizard.model import FileFragment, Offers, Probe, Setting, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"

STEP = Step(
    id="extras",
    title="For older mail clients: AUTH=PLAIN advertised too",
    chapter="Some more useful settings",
    explain="extras.md",
    files=(FileFragment(MAIN_CF, settings=(Setting("broken_sasl_auth_clients", "yes"),)),),
    reload=("postfix",),
    probes=(
        Probe(id="auth-equals", title="EHLO after STARTTLS lists AUTH=PLAIN as well",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True),
              expect=Offers(("AUTH", "AUTH=PLAIN")), until="submission"),
    ),
)
