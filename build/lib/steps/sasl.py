from wizard.model import (Block, Erratum, FileFragment, Offers, Probe, Refused, Relayed, Requirement, Setting,
                          SmtpMail, Step)
from steps.postfix_names import E8

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
LISTENER = (Setting("user", "postfix"), Setting("group", "postfix"), Setting("mode", "0600"))

STEP = Step(
    id="sasl",
    title="Sending: Postfix asks Dovecot who may relay (SASL)",
    chapter="Sending emails",
    explain="sasl.md",
    requires=(Requirement("command", ("postfix",)), Requirement("command", ("dovecot",))),
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("smtpd_sasl_auth_enable", "yes"),
            Setting("smtpd_sasl_type", "dovecot"),
            Setting("smtpd_sasl_path", "private/auth"),
        )),
        FileFragment(DOVECOT_CONF, settings=(
            Block("service auth", (Block("unix_listener /var/spool/postfix/private/auth", LISTENER),)),
        )),
    ),
    # Dovecot first: the auth socket must be there when smtpd starts asking.
    reload=("dovecot", "postfix"),
    probes=(
        Probe(id="auth-offered", title="from {exthost}: EHLO: the server offers AUTH",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", ehlo=True),
              expect=Offers(("AUTH",)), vantage="external-else-local", host="{fqdn}", until="tls-auth-only"),
        Probe(id="auth-relay", title="from {exthost}: AUTH, then mail to {external_address} is relayed",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay after AUTH", auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", until="tls-auth-only"),
        Probe(id="no-auth-no-relay", title="from {exthost}: without AUTH, relaying is still denied",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{external_address}",
                              body="Test relay without AUTH", ehlo=True),
              expect=Refused("RCPT", ("454", "554"), "Relay access denied"),
              vantage="external", host="{fqdn}", erratum=E8),
    ),
    errata=(E8, Erratum("E16", "The tutorial's main.cf listing in this chapter says myhostname = "
                        "postfix.$mydomain; mailwizard keeps MAILHOST.$mydomain, as every other listing.")),
)
