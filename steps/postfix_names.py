from wizard.model import (Bounced, Delivered, Erratum, FileFragment, Probe, Refused, Relayed,
                          Requirement, Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
ROOT_MAILBOX = "/var/mail/root"

E7 = Erratum("E7", "Today's Postfix refuses an unknown local user at RCPT (550 User unknown) "
             "instead of accepting the mail and bouncing it later, as the tutorial shows.")

E8 = Erratum("E8", "Relaying for a stranger is refused with 454 4.7.1 (\"try later\") by today's "
             "Postfix, whose default smtpd_relay_restrictions end in defer_unauth_destination; the "
             "tutorial's older Postfix answered 554 5.7.1. Both mean: Relay access denied.")

STEP = Step(
    id="postfix-names",
    title="Name the server: mydomain, myhostname, myorigin, mydestination",
    chapter="Architecture and concepts",
    explain="postfix-names.md",
    requires=(Requirement("command", ("postfix",)),
              Requirement("reachable", ("{fqdn}", "25"), advisory=True)),
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
            expect=Bounced("loops back to myself", arrives="{ext_mailbox}"),
            needs=(Requirement("mx-points-here", ("{maildomain}",)),),
            until="virtual-lmtp",       # there the domain becomes a virtual one: no loop any more
        ),
        Probe(
            id="test-e",
            title="SMTP to nouser@{fqdn}: refused, no such user",
            action=SmtpMail(helo="{exthost}", mail_from="{external_address}",
                            rcpt="nouser@{fqdn}", body="Test E"),
            expect=Refused("RCPT", ("550",), "User unknown in local recipient table"),
            erratum=E7,
        ),
        Probe(
            id="test-f",
            title="SMTP from this server to {external_address}: handed to the outside mail server",
            action=SmtpMail(helo="{exthost}", mail_from="root",
                            rcpt="{external_address}", body="Test F"),
            expect=Relayed(),
            needs=(Requirement("domain-takes-mail", ("{extdomain}",)),),
        ),
        Probe(
            id="test-g",
            title="SMTP from {exthost} to root: delivered",
            action=SmtpMail(helo="{extdomain}", mail_from="{external_address}", rcpt="root",
                            body="Test G"),
            expect=Delivered(ROOT_MAILBOX),
            vantage="external", host="{fqdn}",
        ),
        Probe(
            id="relay-denied",
            title="SMTP from {exthost} to {external_address}: relay access denied",
            action=SmtpMail(helo="{extdomain}", mail_from="{external_address}",
                            rcpt="{external_address}", body="Test relay"),
            expect=Refused("RCPT", ("454", "554"), "Relay access denied"),
            vantage="external", host="{fqdn}", erratum=E8,
        ),
        Probe(
            id="forged-sender-denied",
            title="SMTP from {exthost}, claiming to be root@{fqdn}: relay still denied",
            action=SmtpMail(helo="{extdomain}", mail_from="root@{fqdn}",
                            rcpt="{external_address}", body="Test relay, forged sender"),
            expect=Refused("RCPT", ("454", "554"), "Relay access denied"),
            vantage="external", host="{fqdn}", erratum=E8,
        ),
    ),
    errata=(
        E7,
        E8,
        Erratum("E5", "If smtpd was throttled by an earlier failure, a reload is not enough: "
                "mailwizard stops and starts Postfix when port 25 stays silent."),
        Erratum("E6", "Without systemd nothing copies resolv.conf into Postfix's chroot; "
                "mailwizard runs Debian's configure-instance.sh before starting Postfix.",
                on="no-systemd"),
        Erratum("E6", "Postfix's chroot gets this box's resolv.conf from Debian's postfix@- unit, "
                "which copies it in before each start; nothing to add here.", on="systemd"),
    ),
)
