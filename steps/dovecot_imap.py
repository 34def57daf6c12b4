"""Dovecot as an IMAP server, built up from an empty dovecot.conf as the tutorial does.

In teaching mode each increment is a lesson whose probe expects the very error the tutorial's
reader meets, proven by the server's reply and Dovecot's own log line; the direct path is one
step with the same final files. Where Dovecot 2.4 words an error differently, `expect_24` says
what it answers (the settings themselves are translated by wizard.dialect). The direct step
writes what its lessons write, in their order (wizard.model.Step takes them as its files)."""

from wizard.model import (Answered, Block, Erratum, FileFragment, Imap, Probe, Requirement,
                          Setting, Step, UserTable)

DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
USERS_DB = "/etc/dovecot/users.db"
MAILDIR = "/var/vmail/{maildomain}/{mailuser}/mail"

E1 = Erratum("E1", "Dovecot logs to /var/log/dovecot.log (log_path): there is no syslog daemon on a "
             "fresh Debian 12, so the tutorial's /var/log/syslog does not exist.")
E9 = Erratum("E9", "The file is /etc/dovecot/dovecot.conf; the tutorial's /etc/dovecot.conf does not "
             "exist. Debian's original is kept as dovecot.conf.bak.")
E10 = Erratum("E10", "IMAP is port 143 (the tutorial has a typo: 431).")
E11 = Erratum("E11", "Port 143 answers '* BYE Auth process broken' and the log says 'No passdbs "
              "specified'; the SSL error the tutorial mentions is logged for port 993.")
E12 = Erratum("E12", "A login Dovecot cannot serve is first answered 'a OK Logged in' and then "
              "'* BYE Internal error occurred'; the reason is only in the log.")
E_HASH = Erratum("hash", "users.db never holds your password in clear: the hash is written with its "
                 "{SHA512-CRYPT} prefix, which Dovecot honours even under scheme=PLAIN.")


LOG_ONLY = FileFragment(DOVECOT_CONF, start_empty=True, settings=(
    Setting("log_path", "/var/log/dovecot.log", why="E1: no syslog daemon here; Dovecot keeps its own log."),
))
PROTOCOLS = FileFragment(DOVECOT_CONF, settings=(Setting("protocols", "imap"),))
SSL_NO = FileFragment(DOVECOT_CONF, settings=(
    Setting("ssl", "no", why="For the first tests only; the Encryption chapter makes TLS required."),
))
PASSDB = (
    FileFragment(DOVECOT_CONF, settings=(
        Block("passdb", (Setting("driver", "passwd-file"),
                         Setting("args", "scheme=PLAIN /etc/dovecot/users.db"))),
    )),
    FileFragment(USERS_DB, start_empty=True, table=UserTable(scheme_prefix=True), mode=0o640,
                 group="dovecot"),
)
MAIL_IDS = FileFragment(DOVECOT_CONF, settings=(Setting("mail_gid", "vmail"), Setting("mail_uid", "vmail")))
LOCATION = FileFragment(DOVECOT_CONF, settings=(
    Setting("mail_home", "/var/vmail/%d/%n"),
    Setting("mail_location", "maildir:~/mail"),
))
PLAINTEXT = FileFragment(DOVECOT_CONF, settings=(
    Setting("disable_plaintext_auth", "no",
            why="Lets the outside test log in without TLS; the Encryption chapter takes it out again."),
))

LOGIN_AND_LIST = Probe(
    id="imap-login", title="a LOGIN, a LIST \"\" \"*\" shows INBOX, a LOGOUT; the mail directory appears",
    action=Imap(commands=('LIST "" "*"',)), port=143,
    expect=Answered(replies=("a OK", "Logged in", '* LIST (\\HasNoChildren) "." INBOX', "a OK List completed",
                             "* BYE Logging out"), absent=("Internal error",), exists=MAILDIR))
REFUSED_OUTSIDE = Probe(
    id="imap-plaintext-refused", title="from {exthost}: a plaintext LOGIN is refused without TLS",
    action=Imap(commands=()), vantage="external", host="{fqdn}", port=143,
    expect=Answered(replies=("LOGINDISABLED", "Plaintext authentication not allowed", "a NO [PRIVACYREQUIRED]")),
    expect_24=Answered(replies=("LOGINDISABLED", "a NO [PRIVACYREQUIRED]",
                                "Cleartext authentication disallowed")))
ALLOWED_OUTSIDE = Probe(
    id="imap-outside-login", title="from {exthost}: the LOGIN works once plaintext is allowed",
    action=Imap(commands=()), vantage="external", host="{fqdn}", port=143,
    expect=Answered(replies=("a OK", "Logged in"), absent=("PRIVACYREQUIRED",)),
    until="dovecot-tls")        # there a LOGIN without TLS is refused, on purpose

LESSONS = (
    Step(id="dovecot-imap.empty", title="An empty dovecot.conf: Dovecot runs, but serves nothing",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.empty.md",
         requires=(Requirement("owned-by", ("/var/vmail", "vmail", "vmail")),),
         files=(LOG_ONLY,), reload=("dovecot",), errata=(E9, E1),
         probes=(Probe(id="no-imap", title="nothing listens on port 143 yet", action=Imap(password="none"),
                       expect=Answered(refused=True), port=143),)),
    Step(id="dovecot-imap.protocols", title="protocols = imap: port 143 opens, and hangs up at once",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.protocols.md",
         files=(PROTOCOLS,), reload=("dovecot",), errata=(E10, E11),
         probes=(Probe(id="auth-broken", title="port 143 says: Auth process broken",
                       action=Imap(password="none"), port=143, erratum=E11,
                       expect=Answered(replies=("* BYE", "Auth process broken"), log=("No passdbs specified",))),
                 Probe(id="tls-no-cert", title="port 993: the TLS handshake fails, no certificate",
                       action=Imap(password="none", tls="imaps"), port=993, erratum=E11,
                       expect=Answered(log=("Can't load SSL certificate",))))),
    Step(id="dovecot-imap.ssl", title="ssl = no: still no password database",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.ssl.md",
         files=(SSL_NO,), reload=("dovecot",),
         probes=(Probe(id="no-passdb", title="port 143 still says: Auth process broken",
                       action=Imap(password="none"), port=143,
                       expect=Answered(replies=("* BYE", "Auth process broken"), log=("No passdbs specified",))),)),
    Step(id="dovecot-imap.passdb", title="A password file: LOGIN passes, then mailbox access fails",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.passdb.md",
         files=PASSDB, reload=("dovecot",), errata=(E_HASH, E12),
         probes=(Probe(id="missing-uid", title="a LOGIN: 'Internal error'; the log says the user is missing a UID",
                       action=Imap(commands=()), port=143,
                       expect=Answered(replies=("* OK", "* BYE Internal error occurred"),
                                       log=("User is missing UID",))),)),
    Step(id="dovecot-imap.uid", title="mail_uid and mail_gid: now Dovecot does not know where the mail is",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.uid.md",
         files=(MAIL_IDS,), reload=("dovecot",), errata=(E12,),
         probes=(Probe(id="no-location", title="a LOGIN: 'Internal error'; the log says no mail location is set",
                       action=Imap(commands=()), port=143,
                       expect=Answered(replies=("* BYE Internal error occurred",), log=("mail_location not set",)),
                       expect_24=Answered(replies=("* BYE Internal error occurred",),
                                          log=("mail_driver not set",))),)),
    Step(id="dovecot-imap.location", title="mail_home and mail_location: the first real login",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.location.md",
         files=(LOCATION,), reload=("dovecot",),
         probes=(LOGIN_AND_LIST, REFUSED_OUTSIDE)),
    Step(id="dovecot-imap.plaintext", title="disable_plaintext_auth = no: the outside may log in (for now)",
         chapter="Dovecot as IMAP server", explain="dovecot-imap.plaintext.md",
         files=(PLAINTEXT,), reload=("dovecot",),
         probes=(ALLOWED_OUTSIDE,)),
)

STEP = Step(
    id="dovecot-imap",
    title="Dovecot as an IMAP server: passwords, mail user, mail location",
    chapter="Dovecot as IMAP server",
    explain="dovecot-imap.md",
    requires=(Requirement("owned-by", ("/var/vmail", "vmail", "vmail")),
              Requirement("command", ("dovecot",))),
    reload=("dovecot",),
    probes=(LOGIN_AND_LIST, ALLOWED_OUTSIDE),
    errata=(E9, E1, E10, E11, E12, E_HASH),
    lessons=LESSONS,
    undo="dovecot.conf goes back to Debian's (kept as dovecot.conf.bak); users.db is removed.",
)
