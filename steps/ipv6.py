"""After the tutorial: IPv6. A box with a global IPv6 address receives and sends over it whether
or not anyone meant it to, and the big providers refuse mail from an IPv6 address without
forward-confirmed reverse DNS or outside the sender's SPF. This chapter checks the records of
each family, says in main.cf that Postfix speaks both, and proves mail in and out over each.
A box without a global IPv6 address passes over it, and says so."""

from wizard.model import (FileFragment, InInbox, Probe, Relayed, Requirement, Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"

# Mail in from the outside host, to the server's name looked up for one family alone.
IN_OVER_IPV6 = Probe(
    id="in-over-ipv6", title="from {exthost} over IPv6: SMTP to {mailuser_address}, then read over IMAP",
    action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                    body="Test mail in over IPv6"),
    expect=InInbox(), vantage="external", host="{fqdn}", family="6")
IN_OVER_IPV4 = Probe(
    id="in-over-ipv4", title="from {exthost} over IPv4: SMTP to {mailuser_address}, then read over IMAP",
    action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                    body="Test mail in over IPv4"),
    expect=InInbox(), vantage="external", host="{fqdn}", family="4")

# Mail out, as a user sends it (587, signed), to a domain whose mail server has an address of
# one family alone (the lab has one of each): it can only leave over that family. The receiver
# judges it as the big providers do and stamps the address it came from.
OUT_OVER_IPV6 = Probe(
    id="out-over-ipv6", title="mail to {ext_only6_address} leaves over IPv6 and passes the strict receiver",
    action=SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{ext_only6_address}",
                    body="Test mail out over IPv6", starttls=True, auth=True, headers=True),
    expect=Relayed(mailbox="{ext_only6_mailbox}",
                   shows=("spf=pass", "dkim=pass", "dmarc=pass", "([{ipv6_address}])")),
    host="localhost", port=587, when=("lab_dual_stack", "yes"))
OUT_OVER_IPV4 = Probe(
    id="out-over-ipv4", title="mail to {ext_only4_address} leaves over IPv4 and passes the strict receiver",
    action=SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{ext_only4_address}",
                    body="Test mail out over IPv4", starttls=True, auth=True, headers=True),
    expect=Relayed(mailbox="{ext_only4_mailbox}",
                   shows=("spf=pass", "dkim=pass", "dmarc=pass", "([{mail_address}])")),
    host="localhost", port=587, when=("lab_dual_stack", "yes"))


STEP = Step(
    id="ipv6",
    title="IPv6: mail in and out over both address families, with the records for each",
    chapter="After the tutorial: IPv6",
    explain="ipv6.md",
    when=("ipv6", "yes"),
    otherwise="this box has no global IPv6 address (none at all, or only unique-local fc00::/7 and "
              "link-local ones): its mail goes over IPv4 alone, and nothing here needs changing",
    requires=(
        Requirement("a-record", ("{fqdn}", "6"), advisory=True),
        Requirement("ptr", ("{fqdn}", "6"), advisory=True),
        Requirement("fcrdns", ("{fqdn}", "6"), advisory=True),
        Requirement("reachable", ("{ipv6_address}", "25"), advisory=True),
    ),
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("inet_protocols", "all",
                    why="Postfix listens and sends over IPv4 and IPv6 (its default since 3.0, written "
                        "down so a Debian main.cf that says ipv4 cannot linger)."),
        )),
    ),
    reload=("postfix",),
    receiver="strict",
    probes=(IN_OVER_IPV6, IN_OVER_IPV4, OUT_OVER_IPV6, OUT_OVER_IPV4),
    undo="main.cf goes back; Postfix's default (both families) stays in force.",
)
