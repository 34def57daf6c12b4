from wizard.model import (Erratum, FileFragment, InInbox, Probe, Refused, Relayed, Setting, SmtpMail,
                          Step)
from steps.postfix_names import E8

MAIN_CF = "/etc/postfix/main.cf"

RESTRICTIONS = (   # one comma list; the Setting writes it one item per line (E18)
    "permit_mynetworks, "
    "reject_unknown_recipient_domain, "
    "permit_sasl_authenticated, "
    "reject_unauth_pipelining, "
    "reject_unauth_destination, "
    "reject_unknown_client_hostname, "
    "reject_unknown_helo_hostname, "
    "reject_unknown_sender_domain, "
    "reject_unverified_recipient, "
    "permit"
)

E18 = Erratum("E18", "The list is written one item per line, each indented: Postfix reads a line that "
              "starts in column one as a new setting, which the tutorial's listing cannot show.")
E19 = Erratum("E19", "The commas the tutorial forgot after reject_unknown_helo_hostname and "
              "reject_unknown_sender_domain are written; Postfix would also split on blanks alone.")

STEP = Step(
    id="restrictions",
    title="Restrictions: refuse unknown recipients and clients with no proper name",
    chapter="Restrictions for unknown recipients and basic spam protection",
    explain="restrictions.md",
    files=(FileFragment(MAIN_CF, settings=(
        Setting("smtpd_helo_required", "yes"),
        Setting("smtpd_recipient_restrictions", RESTRICTIONS, one_per_line=True),
    )),),
    reload=("postfix",),
    probes=(
        Probe(id="helo-required", title="from {exthost}: MAIL FROM without HELO: refused",
              action=SmtpMail(helo="", mail_from="{external_address}", rcpt="{mailuser_address}", body="x"),
              expect=Refused("MAIL", ("503",), "send HELO/EHLO first"), vantage="external-else-local", host="{fqdn}"),
        Probe(id="unknown-recipient", title="from {exthost}: to nobody@{maildomain}, refused at RCPT",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                              rcpt="nobody-here@{maildomain}", body="x"),
              expect=Refused("RCPT", ("550", "450"), "Recipient address rejected"),
              vantage="external", host="{fqdn}"),
        Probe(id="outside-relay-denied", title="from {exthost}: relay to {external_address}, denied",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{external_address}",
                              body="x"),
              expect=Refused("RCPT", ("454", "554"), "Relay access denied"),
              vantage="external", host="{fqdn}", erratum=E8),
        Probe(id="authenticated-relay", title="from {exthost}: STARTTLS, AUTH, relay: delivered outside",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test relay with restrictions", starttls=True, auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", until="submission"),
        Probe(id="inbound-accepted", title="from {exthost}: mail to {mailuser_address} still arrives",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                              body="Test inbound with restrictions"),
              expect=InInbox(), vantage="external", host="{fqdn}"),
    ),
    errata=(E18, E19),
)
