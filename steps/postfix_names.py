from wizard.model import (Bounced, Delivered, Erratum, FileFragment, Probe, Refused, Requirement,
                          Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
ROOT_MAILBOX = "/var/mail/root"

E7 = Erratum("E7", "Today's Postfix refuses an unknown local user at RCPT (550 User unknown) "
             "instead of accepting the mail and bouncing it later, as the tutorial shows.")

STEP = Step(
    id="postfix-names",
    title="Name the server: mydomain, myhostname, myorigin, mydestination",
    chapter="Architecture and concepts",
    explain="postfix-names.md",
    requires=(Requirement("command", ("postfix",)),),
    files=(
        FileFragment(
            MAIN_CF,
            settings=(
                Setting("mydomain", "{maildomain}"),
                Setting("myhostname", "{mailhost}.$mydomain"),
                Setting("myorigin", "$myhostname"),
                Setting("mydestination", "$myhostname"),
            ),
        ),
    ),
    reload=("postfix",),
    probes=(
        Probe(
            id="test-b",
            title="SMTP to root: delivered to root's mailbox",
            action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="root",
                            body="Test B"),
            expect=Delivered(ROOT_MAILBOX),
        ),
        Probe(
            id="test-c",
            title="SMTP to root@{fqdn}: delivered too",
            action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                            rcpt="root@{fqdn}", body="Test C"),
            expect=Delivered(ROOT_MAILBOX),
        ),
        Probe(
            id="test-d",
            title="SMTP to root@{maildomain}: bounced, the mail loops back to this server",
            action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                            rcpt="root@{maildomain}", body="Test D"),
            expect=Bounced("loops back to myself"),
            needs=(Requirement("mx-points-here", ("{maildomain}",)),),
        ),
        Probe(
            id="test-e",
            title="SMTP to nouser@{fqdn}: refused, no such user",
            action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                            rcpt="nouser@{fqdn}", body="Test E"),
            expect=Refused("RCPT", ("550",), "User unknown in local recipient table"),
            erratum=E7,
        ),
    ),
    errata=(
        E7,
        Erratum("E5", "If smtpd was throttled by an earlier failure, a reload is not enough: "
                "mailwizard stops and starts Postfix when port 25 stays silent."),
        Erratum("E6", "Without systemd nothing copies resolv.conf into Postfix's chroot; "
                "mailwizard runs Debian's configure-instance.sh before starting Postfix."),
    ),
)
