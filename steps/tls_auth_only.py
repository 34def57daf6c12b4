from wizard.model import FileFragment, Offers, Probe, Refused, Setting, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"

STEP = Step(
    id="tls-auth-only",
    title="AUTH only over TLS: no password crosses the network in clear",
    chapter="Sending emails",
    explain="tls-auth-only.md",
    files=(FileFragment(MAIN_CF, settings=(Setting("smtpd_tls_auth_only", "yes"),)),),
    reload=("postfix",),
    probes=(
        Probe(id="no-auth-in-clear", title="EHLO without TLS: AUTH is not offered",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", ehlo=True),
              expect=Offers(("STARTTLS",), absent=("AUTH",)), vantage="external", host="{fqdn}"),
        Probe(id="auth-refused-in-clear", title="AUTH without TLS: refused",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", auth=True),
              expect=Refused("AUTH", ("503",), "authentication not enabled")),
        Probe(id="auth-after-starttls", title="EHLO after STARTTLS: AUTH is offered",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True),
              expect=Offers(("AUTH",))),
    ),
)
