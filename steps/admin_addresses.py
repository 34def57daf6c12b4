"""After the tutorial: the administrative addresses of RFC 2142 ("Next steps": postmaster, abuse,
and those of the services the box has), each an alias to the person who reads them; and, where
the answers choose it (steps/pure_virtual.py), the pure virtual server the tutorial suggests."""

from wizard.model import FileFragment, InInbox, Probe, Setting, SmtpMail, Step

VIRTUAL = "/etc/postfix/virtual"
READER = InInbox(user="{aliases_to}", maildir="/var/vmail/{aliases_to_domain}/{aliases_to_local}/mail")

STEP = Step(
    id="admin-addresses",
    title="The administrative addresses of RFC 2142 reach {aliases_to}",
    chapter="After the tutorial: administrative addresses",
    explain="admin-addresses.md",
    files=(
        FileFragment(VIRTUAL, format="map", settings=(
            Setting("{each}@{maildomain}", "{aliases_to}", each="aliases",
                    why="An administrative address (RFC 2142), read by a person."),
        )),
    ),
    reload=("postfix",),
    probes=(
        Probe(id="alias", title="mail to {each}@{maildomain} lands in {aliases_to}'s INBOX", each="aliases",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{each}@{maildomain}",
                              body="Test {each}"),
              expect=READER),
    ),
)
