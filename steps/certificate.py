"""After the tutorial: a certificate mail clients and servers trust, from an ACME CA by certbot,
served by Postfix and Dovecot on every TLS port and reloaded into both after each renewal.

It is the walk's last chapter: it is the only one that needs port 80 open from outside and
the server's A record right, so everything before works on a classroom box without them; with
`[certificate] ca = "none"` the walk passes over it and keeps the self-signed certificate."""

from wizard.model import (AcmeCertificate, FileFragment, Imap, Probe, Requirement, Setting, SmtpMail, Step,
                          Trusted)

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/mailwizard-reload"


STEP = Step(
    id="certificate",
    title="A certificate clients trust for {fqdn}, from {acme_ca}, renewed without you",
    chapter="After the tutorial: a trusted certificate",
    explain="certificate.md",
    when=("acme", "yes"),
    otherwise=("[certificate] ca = none keeps the self-signed certificate (mail clients warn about it); "
               "choose letsencrypt, or the URL of an ACME directory, for one they trust"),
    requires=(Requirement("a-record", ("{fqdn}",)), Requirement("http-01", ("{fqdn}",))),
    packages=("certbot",),
    ensure=(AcmeCertificate(),),
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("smtpd_tls_cert_file", "{tls_cert}",
                    why="certbot's certificate, with its chain: the live/ name follows every renewal."),
            Setting("smtpd_tls_key_file", "{tls_key}"),
        )),
        FileFragment(DOVECOT_CONF, settings=(
            Setting("ssl_cert", "<{tls_cert}"),
            Setting("ssl_key", "<{tls_key}"),
        )),
        FileFragment(DEPLOY_HOOK, format="script", source="hooks/reload-mail-daemons.sh", mode=0o755),
    ),
    reload=("postfix", "dovecot"),
    probes=(
        Probe(id="trusted-25", title="from {exthost}: port 25 after STARTTLS serves a certificate that verifies",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True), expect=Trusted(newest="{tls_cert}"),
              vantage="external", host="{fqdn}", port=25),
        Probe(id="trusted-465", title="from {exthost}: port 465 (TLS at once) serves a certificate that verifies",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", implicit_tls=True), expect=Trusted(newest="{tls_cert}"),
              vantage="external", host="{fqdn}", port=465),
        Probe(id="trusted-587", title="from {exthost}: port 587 after STARTTLS serves a certificate that verifies",
              action=SmtpMail(helo="{exthost}", mail_from="", rcpt="", body="", starttls=True), expect=Trusted(newest="{tls_cert}"),
              vantage="external", host="{fqdn}", port=587),
        Probe(id="trusted-143", title="from {exthost}: IMAP on 143 after STARTTLS serves a certificate that verifies",
              action=Imap(tls="starttls", password="none", commands=()), expect=Trusted(newest="{tls_cert}"),
              vantage="external", host="{fqdn}", port=143),
        Probe(id="trusted-993", title="from {exthost}: IMAPS on 993 serves a certificate that verifies",
              action=Imap(tls="imaps", password="none", commands=()), expect=Trusted(newest="{tls_cert}"),
              vantage="external", host="{fqdn}", port=993),
    ),
    verify=(Requirement("renewal", ("{fqdn}", DEPLOY_HOOK)),
            Requirement("served-certificate", ("{fqdn}", "{tls_cert}"))),
    undo=("Postfix and Dovecot go back to the self-signed certificate and the renewal hook goes; the "
          "certificate, its account and its renewal settings stay under /etc/letsencrypt."),
)
