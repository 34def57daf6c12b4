"""After the tutorial: the spam protection "Next steps" suggests. Port 25 looks each connecting
client up in DNS block lists and refuses the listed ones, naming the list; people who logged in
(587, 465, or 25 with AUTH) are never looked up."""

from wizard.model import (AnswerField, AnswersSection, ByValue, Each, Extend, FileFragment, InInbox, Probe, Refused, Relayed,
                          Requirement, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
# Well-known DNS block lists of clients' addresses, free for a small server that queries through
# its own resolver. Each has terms of use, so none is chosen for the user: naming one agrees.
SUGGESTED = ("zen.spamhaus.org", "bl.spamcop.net")


ANSWERS = AnswersSection(
    key="blocklists",
    help="The DNS block lists port 25 checks connecting clients against",
    fields=(
        AnswerField("lists", "The lists' zones, like [\"zen.spamhaus.org\"] ([] for none; naming one agrees "
                             "to its terms)", kind="list", check="domain", default=(), most=5,
                    in_lab=("bl.{extdomain}",),     # the lab's own list, served by the lab's DNS
                    hint="Each costs a DNS lookup for every client that connects."),
    ),
    values=(("blocklists_on", ByValue("lists", (("", "no"),), otherwise="yes")),
            ("blocklists", ByValue("lists", (("", "-"),), otherwise="{lists}")),
            ("blocklist_first", "{lists.first}"),
            # Only real listings count: a list's error answers (Spamhaus' 127.255.255.x to queries
            # through public resolvers) must never be taken for "listed", or all mail is refused.
            ("blocklist_restrictions", Each("lists", "reject_rbl_client {item}=127.0.0.[2..254], ")),
            ("listed_client", "")),         # an address a list lists, to send from: only the lab has one
)

STEP = Step(
    id="blocklists",
    title="Spam protection: clients on a DNS block list are refused on port 25",
    chapter="After the tutorial: block lists",
    explain="blocklists.md",
    when=("blocklists_on", "yes"),
    otherwise="no [blocklists] lists in the answers: port 25 looks nobody up (each list has terms of "
              "use; naming one agrees to them, e.g. lists = [\"zen.spamhaus.org\"])",
    files=(FileFragment(MAIN_CF, settings=(
        # After reject_unauth_destination: a relay attempt is refused without a lookup, and the
        # permits before it (local clients, logged-in users) are never looked up.
        Extend("smtpd_recipient_restrictions", "{blocklist_restrictions}", after="reject_unauth_destination",
               why="The block lists count only real listings (127.0.0.2 to .254): a list's error "
                   "answers, such as Spamhaus' 127.255.255.254 to public resolvers, refuse nobody."),
    )),),
    reload=("postfix",),
    probes=(
        Probe(id="listed-client-refused", title="from a client on {blocklist_first}: refused at RCPT, "
                                                "naming the list",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                              body="Test from a listed client"),
              expect=Refused("RCPT", ("554",), "blocked using {blocklist_first}"),
              vantage="external", host="{fqdn}", source="{listed_client}",
              needs=(Requirement("listed-client", ("{listed_client}", "{blocklist_first}")),)),
        Probe(id="unlisted-client-delivers", title="from {exthost}, on no list: delivered",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                              body="Test from an unlisted client"),
              expect=InInbox(), vantage="external", host="{fqdn}"),
        Probe(id="listed-user-sends", title="a user who logs in on 587 from that listed address still sends",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test from a listed address after a login", starttls=True, auth=True,
                              headers=True),
              expect=Relayed(), vantage="external", host="{fqdn}", port=587, source="{listed_client}",
              needs=(Requirement("listed-client", ("{listed_client}", "{blocklist_first}")),)),
    ),
    answers=ANSWERS,
)
