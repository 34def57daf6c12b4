"""After the tutorial: the DNS records that make the server's mail trusted (SPF, DKIM, DMARC) and
let mail clients find it (RFC 6186 SRV), shown as zone-file lines and checked where they are
published; in the lab the step publishes them itself and the outside server turns strict."""

from wizard.model import AnswerField, AnswersSection, Bounced, DkimSigned, DnsRecord, Probe, Relayed, SmtpMail, Step

ANSWERS = AnswersSection(
    key="dmarc",
    help="What receivers do with mail that fails SPF and DKIM, and where they send their reports",
    fields=(
        # Cautious by default: receivers report, nothing is refused yet.
        AnswerField("policy", "The DMARC policy: none, quarantine or reject", lower=True,
                    choices=("none", "quarantine", "reject"), default="none",
                    hint="Start with none: receivers only report."),
        AnswerField("report", "The address receivers send reports to (default postmaster@MAILDOMAIN)",
                    check="address", default="postmaster@{maildomain}"),
    ),
    values=(("dmarc_policy", "{policy}"), ("dmarc_report", "{report}")),
)

RECORDS = (
    DnsRecord("{maildomain}", "TXT", "v=spf1 mx{spf_relay} -all",
              why="SPF: only the domain's mail servers (its MX hosts) send as it (and the relay host, "
                  "when mail leaves through one); anyone else fails."),
    DnsRecord("{dkim_selector}._domainkey.{maildomain}", "TXT", "v=DKIM1; k=rsa; p={dkim_public_key}",
              why="DKIM: the public half of the key rspamd signs with."),
    DnsRecord("_dmarc.{maildomain}", "TXT", "v=DMARC1; p={dmarc_policy}; rua=mailto:{dmarc_report}",
              why="DMARC: what receivers do with mail that fails both, and where they send reports."),
    DnsRecord("_submissions._tcp.{maildomain}", "SRV", "0 1 465 {fqdn}.", why="Mail clients: send on 465."),
    DnsRecord("_submission._tcp.{maildomain}", "SRV", "0 1 587 {fqdn}.", why="Mail clients: or on 587."),
    DnsRecord("_imaps._tcp.{maildomain}", "SRV", "0 1 993 {fqdn}.", why="Mail clients: read on 993."),
    DnsRecord("_imap._tcp.{maildomain}", "SRV", "0 0 0 .", why="No IMAP without TLS (RFC 6186: target '.')."),
    DnsRecord("_pop3._tcp.{maildomain}", "SRV", "0 0 0 .", why="No POP3 here."),
)

TO_THE_OUTSIDE = SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{external_address}",
                          body="Test authenticated mail to {external_address}", starttls=True, auth=True,
                          headers=True)

SIGNED_AS_PUBLISHED = Probe(
    id="dkim-as-published", title="a mail sent on 587 carries a signature that the key in DNS verifies",
    action=SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{mailuser_address}",
                    body="Test DKIM against DNS", starttls=True, auth=True, headers=True),
    expect=DkimSigned(key="dns"), host="localhost", port=587)

ACCEPTED = Probe(
    id="receiver-accepts", title="mail to {external_address} passes SPF, DKIM and DMARC at the receiver",
    action=TO_THE_OUTSIDE, expect=Relayed(shows=("spf=pass", "dkim=pass", "dmarc=pass")),
    host="localhost", port=587)

LESSONS = (
    Step(id="dns-auth.unpublished", title="Before the records: a strict receiver refuses the mail (5.7.26)",
         chapter="After the tutorial: SPF, DKIM and DMARC in DNS", explain="dns-auth.unpublished.md",
         receiver="strict",
         staged_by="a receiver that refuses mail without SPF and DKIM as the big providers do (the "
                   "lab's outside server, made strict for it); a receiver elsewhere may take the mail",
         probes=(Probe(id="refused-unauthenticated",
                       title="mail to {external_address} is refused: no SPF, no DKIM key in DNS",
                       action=TO_THE_OUTSIDE, expect=Bounced("5.7.26"), host="localhost", port=587),)),
    Step(id="dns-auth.published", title="The records published: the same mail passes SPF, DKIM and DMARC",
         chapter="After the tutorial: SPF, DKIM and DMARC in DNS", explain="dns-auth.md",
         publishes=RECORDS, receiver="strict", probes=(SIGNED_AS_PUBLISHED, ACCEPTED)),
)

STEP = Step(
    id="dns-auth",
    title="SPF, DKIM and DMARC records for {maildomain}: receivers can check its mail",
    chapter="After the tutorial: SPF, DKIM and DMARC in DNS",
    explain="dns-auth.md",
    publishes=RECORDS,
    receiver="strict",
    probes=(SIGNED_AS_PUBLISHED, ACCEPTED),
    lessons=LESSONS,
    undo="Nothing on the box changes; in the lab the records leave its DNS and the outside turns lenient.",
    answers=ANSWERS,
)
