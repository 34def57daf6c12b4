from wizard.model import Erratum, Requirement, Step

STEP = Step(
    id="install",
    title="Install Postfix and Dovecot",
    chapter="Installation",
    explain="install.md",
    requires=(Requirement("command", ("apt-get",)),),
    packages=("postfix", "dovecot-core", "dovecot-imapd", "dovecot-lmtpd"),
    debconf=(
        "postfix postfix/main_mailer_type select Internet Site",
        "postfix postfix/mailname string {fqdn}",
    ),
    errata=(
        Erratum("mutt-telnet", "mutt and telnet are not installed: mailwizard speaks SMTP itself "
                "and shows you each mailbox, so neither is needed."),
        Erratum("preseed", "apt's questions are answered before it asks (debconf preseeded: Postfix as "
                "an \"Internet Site\" with the server's own name as its mail name), where the tutorial "
                "confirms the defaults by hand; a walk with no terminal must not wait for a dialogue."),
    ),
    undo="Packages stay installed (removing them could remove mail); "
         "`apt-get purge postfix dovecot-core` removes them by hand.",
)
