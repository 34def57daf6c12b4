"""After the tutorial: the administrative addresses of RFC 2142 ("Next steps": postmaster, abuse,
and those of the services the box has), each an alias to the person who reads them; and, where
the answers choose it (steps/pure_virtual.py), the pure virtual server the tutorial suggests."""

from wizard.model import (AnswerField, AnswersSection, ByValue, FileFragment, InInbox, Probe, Rule, Setting,
                          SmtpMail, Step)

# RFC 2142's addresses for a mail service: postmaster (mail), abuse (everyone). Others the
# answers may add: hostmaster (DNS), webmaster (web), security, noc, info, support, sales.
DEFAULT_ALIASES = ("postmaster", "abuse")


ANSWERS = AnswersSection(
    key="aliases",
    help="The administrative addresses (RFC 2142) and the mailbox that reads them",
    fields=(
        AnswerField("to", "The mailbox that reads them (default: the first user)", check="address",
                    default="{mailuser_address}"),
        AnswerField("addresses", "Their user parts, like [\"postmaster\", \"abuse\", \"hostmaster\"]",
                    kind="list", check="local_part", default=DEFAULT_ALIASES,
                    hint="Like 'abuse'.",
                    refuse=(("postmaster", "postmaster must stay (RFC 5321: every mail domain takes mail "
                                           "for it)."),)),
        AnswerField("pure_virtual", "Should this server keep no local mailboxes at all (root's mail goes to "
                                    "the aliases' reader)", kind="bool", default=False),
    ),
    values=(("aliases", ByValue("addresses", (("", "-"),), otherwise="{addresses}")), ("aliases_to", "{to}"),
            ("aliases_to_local", "{to.local}"), ("aliases_to_domain", "{to.domain}"),
            ("pure_virtual", "{pure_virtual}")),
    rules=(Rule("to", "{users}", problem="aliases.to: {value} is not one of the mail users; give the address "
                                         "of a mailbox here (a person reads these addresses)."),
           Rule("addresses", "{user_locals}", inside=False,
                problem="aliases.addresses: {value}@{maildomain} is a mailbox already; an alias of the same "
                        "name would take its mail away.")),
)

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
    answers=ANSWERS,
)
