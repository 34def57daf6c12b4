"""After the tutorial, where the answers choose it: the pure virtual server "Next steps" suggests.
No domain is delivered to local Unix accounts; root's, postmaster's and the daemons' mail go to
the person who reads the administrative addresses."""

from wizard.model import FileFragment, Probe, Refused, Sendmail, Setting, SmtpMail, Step
from steps.admin_addresses import READER, VIRTUAL

MAIN_CF = "/etc/postfix/main.cf"

STEP = Step(
    id="pure-virtual",
    title="A pure virtual server: no local mailboxes; root's mail reaches {aliases_to}",
    chapter="After the tutorial: a pure virtual server",
    explain="pure-virtual.md",
    when=("pure_virtual", "yes"),
    otherwise="the answers keep local delivery for {fqdn} (root's mail in /var/mail/root, as in the "
              "tutorial); [aliases] pure_virtual = true removes it",
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("mydestination", "",
                    why="No domain is delivered to local Unix accounts any more."),
            Setting("virtual_alias_domains", "$myhostname",
                    why="The host's own name still takes mail, but only for the aliases below: "
                        "root, postmaster and the daemons' mail go to a person's mailbox."),
            Setting("local_transport", "error:5.1.1 this server keeps no local mailboxes",
                    why="Should anything still be routed to a local account, it bounces with a "
                        "reason instead of waiting in the queue."),
        )),
        FileFragment(VIRTUAL, format="map", settings=(
            Setting("root@{fqdn}", "{aliases_to}", why="The daemons' and cron's mail (myorigin is the host name)."),
            Setting("postmaster@{fqdn}", "{aliases_to}"),
            Setting("abuse@{fqdn}", "{aliases_to}"),
        )),
    ),
    reload=("postfix",),
    probes=(
        Probe(id="root-reaches-a-person", title="mail for root (as cron sends it) lands in {aliases_to}'s INBOX",
              action=Sendmail(to="root", body="Test root on a pure virtual server"), expect=READER),
        Probe(id="no-local-users", title="mail to another local account of {fqdn} is refused",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="nobody@{fqdn}",
                              body="x"),
              expect=Refused("RCPT", ("550",), "User unknown in virtual alias table")),
    ),
    undo="Local delivery comes back: root's mail goes to /var/mail/root again.",
)
