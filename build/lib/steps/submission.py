"""After the tutorial: the submission ports of RFC 8314 for mail clients, 587 (STARTTLS) and 465
(TLS from the first byte), each only for clients that logged in; port 25 is left to servers."""

from wizard.model import (AnswerField, AnswersSection, FileFragment, Offers, Probe, Refused, Relayed, Service,
                          Setting, SmtpMail, Step)

ANSWERS = AnswersSection(
    key="submission",
    help="Ports 587 and 465 for people's mail; AUTH on port 25 only when old clients need it",
    fields=(AnswerField("auth_on_25", "Should port 25 still offer AUTH to old mail clients once 587 and "
                                      "465 exist", kind="bool", default=False),),
    values=(("auth_on_25", "{auth_on_25}"),),
)

MAIN_CF = "/etc/postfix/main.cf"
MASTER_CF = "/etc/postfix/master.cf"
ONLY_LOGGED_IN = "permit_sasl_authenticated,reject"
# Mail from people passes the filters listed in main.cf's mua_milters (a name of ours, used by
# both services); mail from servers on port 25 does not.
MUA_MILTERS = ("smtpd_milters", "$mua_milters")

STEP = Step(
    id="submission",
    title="Mail clients send on 587 and 465, after logging in; port 25 is for servers",
    chapter="After the tutorial: submission ports",
    explain="submission.md",
    files=(
        FileFragment(MASTER_CF, format="master", settings=(
            Service("587", replaces=("submission",), why="Submission (RFC 6409): STARTTLS, then a login.",
                    options=(("syslog_name", "postfix/submission"),
                             ("smtpd_tls_security_level", "encrypt"),
                             ("smtpd_sasl_auth_enable", "yes"),
                             ("smtpd_tls_auth_only", "yes"),
                             ("smtpd_client_restrictions", ONLY_LOGGED_IN),
                             ("smtpd_relay_restrictions", ONLY_LOGGED_IN),
                             MUA_MILTERS)),
            Service("465", replaces=("submissions", "smtps"),
                    why="Submission over TLS from the first byte (RFC 8314), then a login.",
                    options=(("syslog_name", "postfix/submissions"),
                             ("smtpd_tls_wrappermode", "yes"),
                             ("smtpd_sasl_auth_enable", "yes"),
                             ("smtpd_client_restrictions", ONLY_LOGGED_IN),
                             ("smtpd_relay_restrictions", ONLY_LOGGED_IN),
                             MUA_MILTERS)),
        )),
        FileFragment(MAIN_CF, settings=(
            Setting("smtpd_sasl_auth_enable", "{auth_on_25}",
                    why="Port 25 is for other servers; people log in on 587 and 465 (master.cf). "
                        "[submission] auth_on_25 = true keeps AUTH here for old clients."),
            Setting("mua_milters", "",
                    why="The filters for mail from people, on 587 and 465 only: none yet (dkim adds its signer)."),
        )),
    ),
    reload=("postfix",),
    probes=(
        Probe(id="587-no-auth-in-clear", title="port 587 before STARTTLS: STARTTLS offered, AUTH not",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", ehlo=True),
              expect=Offers(("STARTTLS",), absent=("AUTH",)), vantage="external", host="{fqdn}", port=587),
        Probe(id="587-mail-needs-tls", title="port 587: MAIL before STARTTLS is refused",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="x", ehlo=True),
              expect=Refused("MAIL", ("530",), "Must issue a STARTTLS command first"),
              vantage="external", host="{fqdn}", port=587),
        Probe(id="587-no-login-no-relay", title="port 587: STARTTLS but no login, the mail is refused",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="x", starttls=True),
              expect=Refused("RCPT", ("554",), "Access denied"),
              vantage="external", host="{fqdn}", port=587),
        Probe(id="587-relay", title="port 587: STARTTLS, login, mail to {external_address} is relayed",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test submission on 587", starttls=True, auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", port=587),
        Probe(id="465-relay", title="port 465: TLS at once, login, mail to {external_address} is relayed",
              action=SmtpMail(helo="{exthost}", mail_from="{mailuser_address}", rcpt="{external_address}",
                              body="Test submission on 465", implicit_tls=True, auth=True),
              expect=Relayed(), vantage="external", host="{fqdn}", port=465),
        Probe(id="25-no-auth", title="port 25 after STARTTLS: no AUTH any more, servers only",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True),
              expect=Offers(("PIPELINING",), absent=("AUTH",)), vantage="external", host="{fqdn}",
              when=("auth_on_25", "no")),
        Probe(id="25-auth-kept", title="port 25 after STARTTLS: AUTH still offered, as the answers keep it",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True),
              expect=Offers(("AUTH",)), vantage="external", host="{fqdn}", when=("auth_on_25", "yes")),
        Probe(id="25-stranger-no-relay", title="port 25: a stranger still cannot relay",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{external_address}",
                              body="x"),
              expect=Refused("RCPT", ("454", "554"), "Relay access denied"),
              vantage="external", host="{fqdn}"),
    ),
    tells=(
        "Incoming mail (IMAP): server {fqdn}, port 993, SSL/TLS, normal password, "
        "user name {mailuser_address}",
        "Outgoing mail (SMTP): server {fqdn}, port 465 with SSL/TLS (or 587 with STARTTLS), "
        "normal password, user name {mailuser_address}",
        "DNS records that let mail clients find these (RFC 6186), for the zone of {maildomain}:",
        "    _submissions._tcp.{maildomain}. 3600 IN SRV 0 1 465 {fqdn}.",
        "    _submission._tcp.{maildomain}.  3600 IN SRV 0 1 587 {fqdn}.",
        "    _imaps._tcp.{maildomain}.       3600 IN SRV 0 1 993 {fqdn}.",
        "    _imap._tcp.{maildomain}.        3600 IN SRV 0 0 0 .",
        "    _pop3._tcp.{maildomain}.        3600 IN SRV 0 0 0 .",
    ),
    undo="master.cf goes back to the box's own, byte for byte; port 25 offers AUTH again.",
    answers=ANSWERS,
)
