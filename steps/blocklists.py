"""After the tutorial: the spam protection "Next steps" suggests. Port 25 looks each connecting
client up in DNS block lists and refuses the listed ones, naming the list; people who logged in
(587, 465, or 25 with AUTH) are never looked up."""

from wizard.model import Extend, FileFragment, InInbox, Probe, Refused, Relayed, Requirement, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"

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
)
