"""Virtual domains over LMTP. In teaching mode the chapter is taken in the tutorial's two
halves: Postfix's first, so a mail from outside waits in the queue for a socket that is not
there yet; then Dovecot's, and a flush delivers it. The direct path writes both halves at once
(wizard.model.Step takes the lessons' files as its own) and shows the same queue with Dovecot
stopped for one probe."""

from wizard.model import (Block, Erratum, FileFragment, Flush, Flushed, InInbox, Probe, Queued,
                          Requirement, Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"

E14 = Erratum("E14", "Dovecot 2.3 never complains 'postmaster_address setting not given' (it defaults "
              "to postmaster@%d); the setting is written anyway, as the tutorial ends with it.")
E_SPACE = Erratum("space", "postmaster_address is written without the space the tutorial's listing "
                  "shows before the @ (it is only there for the page's formatting).")

LISTENER = (Setting("user", "postfix"), Setting("group", "postfix"), Setting("mode", "0600"))

POSTFIX_HALF = FileFragment(MAIN_CF, settings=(
    Setting("virtual_mailbox_domains", "{maildomain}"),
    Setting("virtual_transport", "lmtp:unix:private/dovecot-lmtp"),
))
DOVECOT_HALF = FileFragment(DOVECOT_CONF, settings=(
    Setting("protocols", "imap lmtp"),
    Block("service lmtp", (Block("unix_listener /var/spool/postfix/private/dovecot-lmtp", LISTENER),)),
    Setting("postmaster_address", "postmaster@{maildomain}"),
    Setting("hostname", "{mailhost}"),
))
REQUIRES = (Requirement("command", ("postfix",)), Requirement("command", ("dovecot",)))

TEST_H_LOCAL = Probe(
    id="test-h-local", title="SMTP to {mailuser_address}: in the Maildir and in INBOX over IMAP",
    action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}", body="Test H"),
    expect=InInbox())
TEST_H = Probe(
    id="test-h", title="from {exthost}: SMTP to {mailuser_address}, then read over IMAP",
    action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                    body="Test H from outside"),
    expect=InInbox(), vantage="external", host="{fqdn}")

LESSONS = (
    Step(id="virtual-lmtp.postfix",
         title="Postfix's half: mail for {maildomain} goes to an LMTP socket nobody opened yet",
         chapter="Configure virtual domains in Postfix", explain="virtual-lmtp.postfix.md",
         requires=REQUIRES, files=(POSTFIX_HALF,), reload=("postfix",),
         probes=(Probe(id="test-h-queued", title="from {exthost}: Test H is accepted, then waits in the queue",
                       action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                                       rcpt="{mailuser_address}", body="Test H"),
                       # No socket file on a fresh box; one left by an earlier walk refuses.
                       expect=Queued("private/dovecot-lmtp", ("No such file or directory", "Connection refused")),
                       vantage="external-else-local", host="{fqdn}"),)),
    Step(id="virtual-lmtp.dovecot",
         title="Dovecot's half: the LMTP socket opens, and a flush delivers what waited",
         chapter="Configure virtual domains in Postfix", explain="virtual-lmtp.dovecot.md",
         files=(DOVECOT_HALF,), reload=("dovecot", "postfix"), errata=(E14, E_SPACE),
         probes=(Probe(id="test-h-flushed", title="postqueue -f: the waiting Test H is delivered to Dovecot",
                       action=Flush("{mailuser_address}", sent_by="test-h-queued"),
                       expect=Flushed("dovecot-lmtp")),
                 TEST_H_LOCAL, TEST_H)),
)

# The direct path writes both halves at once, so the queue is shown with Dovecot away for one
# probe: Postfix keeps the mail, and once Dovecot is back a flush delivers that very message.
TEST_H_WAITS = Probe(
    id="test-h-waits", title="with Dovecot stopped: Test H from {exthost} is accepted, then waits in the queue",
    action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}", body="Test H"),
    expect=Queued("private/dovecot-lmtp", ("No such file or directory", "Connection refused")),
    without="dovecot", vantage="external-else-local", host="{fqdn}")
TEST_H_DELIVERED = Probe(
    id="test-h-delivered", title="Dovecot is back; postqueue -f: the waiting Test H is delivered",
    action=Flush("{mailuser_address}", sent_by="test-h-waits"), expect=Flushed("dovecot-lmtp"))

STEP = Step(
    id="virtual-lmtp",
    title="Virtual domains: Postfix hands mail for {maildomain} to Dovecot over LMTP",
    chapter="Configure virtual domains in Postfix",
    explain="virtual-lmtp.md",
    requires=REQUIRES,
    # Dovecot first: its LMTP socket must exist before Postfix sends it mail.
    reload=("dovecot", "postfix"),
    probes=(TEST_H_WAITS, TEST_H_DELIVERED, TEST_H_LOCAL, TEST_H),
    errata=(E14, E_SPACE),
    lessons=LESSONS,
)
