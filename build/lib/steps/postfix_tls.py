from wizard.model import FileFragment, Offers, Probe, Relayed, Setting, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"

STEP = Step(
    id="postfix-tls",
    title="TLS in Postfix: STARTTLS offered, with Dovecot's certificate",
    chapter="Sending emails",
    explain="postfix-tls.md",
    files=(FileFragment(MAIN_CF, settings=(
        Setting("smtpd_tls_security_level", "may",
                why="Offer TLS, never demand it: other mail servers must still be able to deliver."),
        Setting("smtpd_tls_cert_file", "/etc/dovecot/dovecot.pem"),
        Setting("smtpd_tls_key_file", "/etc/dovecot/private/dovecot.pem"),
    )),),
    reload=("postfix",),
    probes=(
        Probe(id="starttls-offered", title="EHLO: the server offers STARTTLS",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", ehlo=True),
              expect=Offers(("STARTTLS",))),
        Probe(id="tls-auth-relay", title="from {exthost}: STARTTLS, AUTH, then relay to {external_address}",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay over TLS", starttls=True, auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", until="submission"),
        Probe(id="auth-without-tls",
              title="from {exthost}: AUTH without TLS, then mail to {external_address}: still sent "
                    "(the gap the next step closes)",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay without TLS", auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", until="tls-auth-only"),
    ),
)
