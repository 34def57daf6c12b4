from wizard.model import FileFragment, Offers, Probe, Refused, Relayed, Setting, SmtpMail, Step

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
        Probe(id="auth-refused-in-clear", title="from {exthost}: AUTH without TLS: refused",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", auth=True),
              expect=Refused("AUTH", ("503",), "authentication not enabled"), vantage="external-else-local", host="{fqdn}"),
        Probe(id="auth-after-starttls", title="from {exthost}: EHLO after STARTTLS: AUTH is offered",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True),
              expect=Offers(("AUTH",)), vantage="external-else-local", host="{fqdn}", until="submission"),
        # The tutorial's pair: the same client, without TLS it cannot log in, so it may not relay;
        # after STARTTLS it logs in and the mail goes out.
        Probe(id="relay-in-clear-denied", title="from {exthost}: no TLS, so no AUTH: relay to {external_address} denied",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay in clear", ehlo=True),
              expect=Refused("RCPT", ("454", "554"), "Relay access denied"), vantage="external", host="{fqdn}"),
        Probe(id="relay-after-starttls", title="from {exthost}: STARTTLS, AUTH, then relay to {external_address}: sent",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay after STARTTLS", starttls=True, auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", until="submission"),
    ),
)
