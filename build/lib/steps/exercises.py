"""Break-and-fix exercises for a finished server: each breaks one thing the way admins really
break it, tells only the symptom, and knows the probes that show whether it is fixed."""

from steps import certificate, dns_auth
from wizard.model import (Answered, DnsRecord, Edit, Exercise, Hint, Imap, InInbox, Probe, SmtpMail, Trusted)

MAIN_CF, DOVECOT_CONF, USERS_DB = "/etc/postfix/main.cf", "/etc/dovecot/dovecot.conf", "/etc/dovecot/users.db"

LOGIN = Probe(id="login", title="the mail user logs in over IMAPS and opens INBOX", port=993,
              action=Imap(tls="imaps", commands=("SELECT INBOX",)),
              expect=Answered(replies=("Logged in", "[READ-WRITE]")))
INBOUND = Probe(id="inbound", title="a message to the mail user reaches INBOX",
                action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="{mailuser_address}",
                                body="exercise check"),
                expect=InInbox())

# The record of some other key: what DNS still holds after the signing key was made anew.
OLD_DKIM_RECORD = ("v=DKIM1; k=rsa; p="
                   "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqoyNZqMhqyMzIo7WB5n6bhTHQU3JXI+QXceBp3Uu2hHJItgDS8UYSxkf"
                  "SMeOEqNmUFpMVIAdxRFpBm+5fhf+KYv4fTmdd6H/krqFcrLTAZBhL/oftzCHZ57oGhUxlsAtMAjbcJ8AafAyltAXWpCV10zIGEy6"
                  "LL8m4SMNqPl93zy4vrJCzcF+pue9ud5aXwcrktDBzJUh+I0APe0lJzAC0w8jsu0Zu/0gAPgOk8z83n39o7TO9r5LqjbpHK6UDwVZ"
                  "yxHzaMc8V+VTIYI7Xp/uDpAc7UHf0xXhs3xF2kpLZXmrH3K2njVU4P0By6F6VPv/g96I9bba+1B3iUcdRAC5iwIDAQAB")

EXERCISES = (
    Exercise(
        name="lmtp-typo", title="A typo in the LMTP transport",
        symptom="Mail from outside never arrives, and nobody gets a bounce either.",
        breaks=(Edit(MAIN_CF, "virtual_transport = lmtp:unix:private/dovecot-lmtp\n",
                     "virtual_transport = lmtp:unix:private/dovecot_lmtp\n"),),
        reload=("postfix",), check=(INBOUND,),
        hints=(Hint("mail", "dovecot_lmtp.*(No such file|Connection refused)", "Postfix cannot reach the "
                    "socket it is told to hand mail to: compare virtual_transport with the socket Dovecot "
                    "opens in /var/spool/postfix/private/."),),
        fix="virtual_transport must name the socket Dovecot opens: lmtp:unix:private/dovecot-lmtp. "
            "Then `postfix reload` and `postqueue -f` for what waited."),
    Exercise(
        name="wrong-mail-user", title="Dovecot touches mail as the wrong user",
        symptom="I can log in, but then my mail program says the server had an internal error.",
        breaks=(Edit(DOVECOT_CONF, "mail_uid = vmail\n", "mail_uid = nobody\n"),),
        reload=("dovecot",), check=(LOGIN,),
        hints=(Hint("dovecot", "Permission denied|setuid|Internal error", "Dovecot's log shows a permission "
                    "problem: which user does it use to touch the mailboxes?"),),
        fix="mail_uid must be vmail, the owner of /var/vmail. Then restart Dovecot."),
    Exercise(
        name="lmtp-socket-owner", title="The LMTP socket belongs to the wrong user",
        symptom="Mail from outside never arrives; the senders get no error either.",
        breaks=(Edit(DOVECOT_CONF, "  unix_listener /var/spool/postfix/private/dovecot-lmtp {{\n    user = postfix\n",
                     "  unix_listener /var/spool/postfix/private/dovecot-lmtp {{\n    user = dovecot\n"),),
        reload=("dovecot",), check=(INBOUND,),
        hints=(Hint("mail", "dovecot-lmtp.*(Permission denied|connect)", "Postfix cannot talk to Dovecot's "
                    "LMTP socket: look at who owns /var/spool/postfix/private/dovecot-lmtp."),),
        fix="In `service lmtp`, the unix_listener's user must be postfix (mode 0600): only Postfix "
            "talks to it. Restart Dovecot, then `postqueue -f` delivers what waited."),
    Exercise(
        name="missing-certificate", title="A certificate path that does not exist",
        symptom="My mail program cannot connect to the server at all any more.",
        breaks=(Edit(DOVECOT_CONF, "ssl_cert = </etc/dovecot/dovecot.pem\n",
                     "ssl_cert = </etc/dovecot/dovecot-cert.pem\n"),),
        reload=("dovecot",), check=(LOGIN,),
        hints=(Hint("dovecot", "ssl_cert|dovecot-cert.pem|No such file", "Dovecot cannot read a file named "
                    "in its configuration: check the certificate paths."),),
        fix="ssl_cert must name the certificate that exists, </etc/dovecot/dovecot.pem. Start Dovecot again."),
    Exercise(
        name="virtual-domain-in-mydestination", title="The virtual domain listed as a local domain",
        symptom="Mail to my address bounces with 'User unknown in local recipient table'.",
        breaks=(Edit(MAIN_CF, "mydestination = $myhostname\n", "mydestination = $myhostname, $mydomain\n"),),
        reload=("postfix",), check=(INBOUND,),
        hints=(Hint("mail", "User unknown in local recipient table", "Postfix looks for the user among the "
                    "machine's accounts: which domains does it treat as local?"),),
        fix="mydestination must not list MAILDOMAIN: its users are virtual (virtual_mailbox_domains) and "
            "delivered by Dovecot. Set it back to $myhostname, then `postfix reload`."),
    Exercise(
        name="bad-hash", title="A users.db line with a broken hash",
        symptom="My password stopped working, and I did not change it.",
        breaks=(Edit(USERS_DB, "{mailuser_address}:$6$", "{mailuser_address}:$6$broken$"),),
        reload=(), check=(LOGIN,),
        hints=(Hint("dovecot", "password mismatch|Invalid|unknown user|auth failed", "Authentication fails: "
                    "compare the user's line in users.db with a fresh `doveadm pw -s SHA512-CRYPT`."),),
        fix="The hash in users.db is damaged: make a new one (`doveadm pw -s SHA512-CRYPT`, without the "
            "{SHA512-CRYPT} prefix) or `mailwizard user passwd ADDRESS`."),
    Exercise(
        name="dkim-key-mismatch", title="The DKIM record in DNS is not the key that signs",
        symptom="Mail we send arrives, but the receiver's header says dkim=fail, and some providers "
                "now put it in spam.",
        breaks=(), reload=(), check=(dns_auth.ACCEPTED,), after="dns-auth",
        publishes=(DnsRecord("{dkim_selector}._domainkey.{maildomain}", "TXT", OLD_DKIM_RECORD),),
        hints=(Hint("probe", "dkim=fail", "The signature is there but does not verify: compare the key in "
                    "DNS with the one rspamd signs with (`mailwizard check` shows the difference)."),),
        fix="Publish the DKIM record mailwizard shows for the key in /var/lib/rspamd/dkim (in the lab: "
            "`mailwizard lab publish`); a key made anew needs its record changed too, best under a new "
            "selector."),
    Exercise(
        name="spf-without-server", title="An SPF record that leaves out the mail server",
        symptom="Receivers say spf=fail for every mail we send, although nothing changed on the server.",
        breaks=(), reload=(), check=(dns_auth.ACCEPTED,), after="dns-auth",
        publishes=(DnsRecord("{maildomain}", "TXT", "v=spf1 a:www.{maildomain} -all"),),
        hints=(Hint("probe", "spf=fail", "SPF fails for the server's own address: which hosts does the "
                    "domain's SPF record allow (`mailwizard check`)?"),),
        fix="The SPF record must allow the mail server: `v=spf1 mx -all` (its MX hosts). Publish it "
            "(in the lab: `mailwizard lab publish`), then send again."),
    Exercise(
        name="renewal-without-reload", title="A renewal that never reached the daemons",
        symptom="certbot says the certificate was renewed, yet mail programs still get the old one "
                "(and will complain when it runs out).",
        breaks=(Edit(certificate.DEPLOY_HOOK, "    postfix reload || status=1\n    doveadm reload || status=1\n",
                     "    : # reloads switched off while testing\n"),),
        reload=(), renews=True, after="certificate",
        check=(Probe(id="newest-on-465", title="port 465 serves certbot's newest certificate", port=465,
                     action=SmtpMail(helo="{fqdn}", mail_from="", rcpt="", body="", implicit_tls=True),
                     expect=Trusted(newest="{tls_cert}")),
               Probe(id="newest-on-993", title="port 993 serves certbot's newest certificate", port=993,
                     action=Imap(tls="imaps", password="none", commands=()),
                     expect=Trusted(newest="{tls_cert}"))),
        hints=(Hint("probe", "not certbot's newest", "The daemons serve the certificate they read at their "
                    "last start: what is supposed to tell them after certbot renews? Look in "
                    "/etc/letsencrypt/renewal-hooks/deploy/."),),
        fix="certbot runs the deploy hook after every renewal; it must reload both daemons. Put `postfix "
            "reload` and `doveadm reload` back into /etc/letsencrypt/renewal-hooks/deploy/mailwizard-reload "
            "(or `mailwizard run`), then reload both once by hand for this renewal."),
)
