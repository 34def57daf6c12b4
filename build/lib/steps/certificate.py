"""After the tutorial: a certificate mail clients and servers trust, from an ACME CA by certbot,
served by Postfix and Dovecot on every TLS port and reloaded into both after each renewal.

It is the walk's last chapter: it is the only one that needs port 80 open from outside and
the server's A record right, so everything before works on a classroom box without them; with
`[certificate] ca = "none"` the walk passes over it and keeps the self-signed certificate."""

from wizard.model import (AcmeCertificate, AnswerField, AnswersSection, ByValue, FileFragment, Imap, Probe, Requirement,
                          Setting, SmtpMail, Step, Trusted)

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/mailwizard-reload"
# The ACME CAs known by name, and their directories; any other https:// directory URL may be given.
LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
# Where certbot keeps the current certificate of each name.
LIVE = "/etc/letsencrypt/live/{fqdn}"
# The placeholders by CA: the ACME directory, and the root a client verifies the served chain
# against ("" is the system's trust store; a staging CA's is trusted by nobody; the lab sets its own).
ACME_SERVER = ByValue("ca", (("none", ""), ("lab", ""), ("letsencrypt", LETSENCRYPT),
                             ("letsencrypt-staging", LETSENCRYPT_STAGING)), otherwise="{ca}")
TLS_ROOT = ByValue("ca", (("letsencrypt", ""), ("letsencrypt-staging", "untrusted"), ("lab", "")),
                   otherwise="{trust}")


ANSWERS = AnswersSection(
    key="certificate",
    help="Which ACME CA issues the server's certificate, and how its HTTP-01 challenge is answered",
    fields=(
        AnswerField("ca", "The ACME CA: none (keep the self-signed one), letsencrypt, letsencrypt-staging, "
                          "lab, or an ACME directory's https:// URL",
                    choices=("none", "lab", "letsencrypt", "letsencrypt-staging"), default="none", in_lab="lab",
                    pattern=r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?",
                    hint="Write one of the names, or the https:// URL of an ACME directory."),
        AnswerField("email", "The address the CA writes to about the certificate (default postmaster@MAILDOMAIN)",
                    check="address", default="postmaster@{maildomain}"),
        AnswerField("webroot", "A web server's document root that answers the challenge (default: "
                               "certbot's own server on port 80)", check="path", default="",
                    hint="The web server's document root, e.g. /var/www/html."),
        AnswerField("trust", "A PEM file of the CA that signs a private ACME server and its certificates",
                    check="path", default="",
                    hint="A PEM file of the CA that signs the ACME server and its certificates."),
    ),
    values=(("acme_ca", "{ca}"), ("acme", ByValue("ca", (("none", "no"),), otherwise="yes")),
            ("acme_server", ACME_SERVER), ("acme_email", "{email}"), ("acme_webroot", "{webroot}"),
            ("acme_trust", "{trust}"), ("tls_cert", f"{LIVE}/fullchain.pem"), ("tls_key", f"{LIVE}/privkey.pem"),
            ("tls_root", TLS_ROOT)),
)


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
    answers=ANSWERS,
)
