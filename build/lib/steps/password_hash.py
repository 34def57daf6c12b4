from wizard.model import (Answered, Block, DoveadmHashes, Erratum, FileFragment, HashTest, Imap, Probe,
                          Requirement, Setting, Step, UserTable)

DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
USERS_DB = "/etc/dovecot/users.db"

E15 = Erratum("E15", "users.db is made root:dovecot, mode 0640: the tutorial leaves the hashes "
              "world-readable, and root-only (0600) would lock Dovecot's auth process out.")
E17 = Erratum("E17", "The passdb keeps scheme=SHA512-CRYPT: the tutorial's later listings go back to "
              "scheme=PLAIN while users.db holds a hash, and then no login works.")
E_ROUNDS = Erratum("rounds", "Hashes are made with `doveadm pw -s SHA512-CRYPT`, as the tutorial does, "
                   "the password given on doveadm's standard input (never on a command line). Where "
                   "Dovecot is not installed yet when the answers are read, passlib makes the same "
                   "scheme with the same 5000 rounds (its own default, 656000, would cost about "
                   "0.16 s for every IMAP and SMTP login) until this chapter, which has doveadm make "
                   "it again; the transcript shows the hash's scheme, not its salt and digest.")

STEP = Step(
    id="password-hash",
    title="Hashed passwords: scheme=SHA512-CRYPT, users.db kept private",
    chapter="Configure virtual domains in Postfix",
    explain="password-hash.md",
    files=(
        FileFragment(USERS_DB, table=UserTable(scheme_prefix=False), mode=0o640, group="dovecot"),
        FileFragment(DOVECOT_CONF, settings=(
            Block("passdb", (Setting("driver", "passwd-file"),
                             Setting("args", "scheme=SHA512-CRYPT /etc/dovecot/users.db"))),
        )),
    ),
    ensure=(DoveadmHashes(USERS_DB),),
    reload=("dovecot",),
    probes=(
        Probe(id="hash-verified", title="doveadm pw -t: Dovecot itself verifies the stored hash",
              action=HashTest(USERS_DB), expect=Answered(replies=("{{SHA512-CRYPT}}", "(verified)"))),
        Probe(id="hash-login", title="LOGIN with the same password: still logged in",
              action=Imap(tls="starttls", commands=()), port=143,
              expect=Answered(replies=("a OK", "Logged in"))),
        Probe(id="hash-wrong", title="LOGIN with a wrong password: refused",
              action=Imap(tls="starttls", password="wrong", commands=()), port=143,
              expect=Answered(replies=("a NO", "AUTHENTICATIONFAILED"), absent=("Logged in",))),
    ),
    verify=(Requirement("private-file", (USERS_DB, "dovecot")),),
    errata=(E15, E17, E_ROUNDS),
)
