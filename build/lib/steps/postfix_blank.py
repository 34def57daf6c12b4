from wizard.model import (Delivered, Erratum, FileFragment, MailAliases, Probe, Requirement, Sendmail,
                          Setting, Step)

MAIN_CF = "/etc/postfix/main.cf"

STEP = Step(
    id="postfix-blank",
    title="Start Postfix from an empty main.cf",
    chapter="First steps with Postfix",
    explain="postfix-blank.md",
    requires=(Requirement("command", ("postfix",)), Requirement("command", ("sendmail",))),
    ensure=(MailAliases(),),
    files=(
        FileFragment(
            MAIN_CF,
            start_empty=True,
            settings=(
                Setting("compatibility_level", "{compatibility_level}",
                        why="E4: without it Postfix runs at level 0, smtpd refuses to start "
                            "and port 25 gives no greeting."),
                Setting("maillog_file", "/var/log/mail.log",
                        why="E1: without a syslog daemon there is no /var/log/syslog; "
                            "Postfix writes its own log here."),
            ),
        ),
    ),
    reload=("postfix",),
    stop=("dovecot",),
    probes=(
        Probe(
            id="test-1",
            title="sendmail root: the message lands in root's mailbox",
            action=Sendmail(to="root", body="Test 1"),
            expect=Delivered("/var/mail/root"),
        ),
    ),
    errata=(
        Erratum("E4", "main.cf is not quite empty: compatibility_level keeps smtpd alive "
                "(with a blank file it dies and port 25 stays silent)."),
        Erratum("E1", "Postfix logs to /var/log/mail.log itself: a fresh Debian 12 has no "
                "syslog daemon, so /var/log/syslog does not exist."),
        Erratum("E2", "This box has no systemd: Postfix is started with `postfix start`, "
                "Dovecot with `dovecot` (the tutorial's `service X restart` needs an init system).",
                on="no-systemd"),
        Erratum("E2", "systemd runs this box: Postfix and Dovecot are started and reloaded with "
                "`systemctl`; Dovecot is reloaded, not restarted after each step, so systemd's "
                "start limit (5 starts in 10 s) is never reached.", on="systemd"),
        Erratum("aliases", "A Postfix installed without a mail configuration (Debian 13) has no "
                "/etc/aliases; mailwizard writes one (postmaster: root) and runs newaliases."),
    ),
    undo="main.cf goes back to the file Debian installed (kept as main.cf.bak and in "
         "/var/lib/mailwizard/originals).",
)
