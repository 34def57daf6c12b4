from wizard.model import (Block, Erratum, FileFragment, InInbox, Probe, Requirement, Setting,
                          SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"

E14 = Erratum("E14", "Dovecot 2.3 never complains 'postmaster_address setting not given' (it defaults "
              "to postmaster@%d); the setting is written anyway, as the tutorial ends with it.")
E_SPACE = Erratum("space", "postmaster_address is written without the space the tutorial's listing "
                  "shows before the @ (it is only there for the page's formatting).")

LISTENER = (Setting("user", "postfix"), Setting("group", "postfix"), Setting("mode", "0600"))

STEP = Step(
    id="virtual-lmtp",
    title="Virtual domains: Postfix hands mail for {maildomain} to Dovecot over LMTP",
    chapter="Configure virtual domains in Postfix",
    explain="virtual-lmtp.md",
    requires=(Requirement("command", ("postfix",)), Requirement("command", ("dovecot",))),
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("virtual_mailbox_domains", "{maildomain}"),
            Setting("virtual_transport", "lmtp:unix:private/dovecot-lmtp"),
        )),
        FileFragment(DOVECOT_CONF, settings=(
            Setting("protocols", "imap lmtp"),
            Block("service lmtp", (Block("unix_listener /var/spool/postfix/private/dovecot-lmtp", LISTENER),)),
            Setting("postmaster_address", "postmaster@{maildomain}"),
            Setting("hostname", "{mailhost}"),
        )),
    ),
    # Dovecot first: its LMTP socket must exist before Postfix sends it mail.
    reload=("dovecot", "postfix"),
    probes=(
        Probe(id="test-h-local", title="SMTP to {mailuser_address}: in the Maildir and in INBOX over IMAP",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                              body="Test H"),
              expect=InInbox()),
        Probe(id="test-h", title="from {exthost}: SMTP to {mailuser_address}, then read over IMAP",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                              body="Test H from outside"),
              expect=InInbox(), vantage="external", host="{fqdn}"),
    ),
    errata=(E14, E_SPACE),
)
