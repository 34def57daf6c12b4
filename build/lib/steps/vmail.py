from wizard.model import Directory, Erratum, Requirement, Step, SystemUser

E_VMAIL_HOME = Erratum("vmail-home", "The vmail user is made with home /nonexistent and the shell "
                       "/usr/sbin/nologin (the tutorial's `useradd vmail -g vmail` gives it /home/vmail "
                       "and a login shell): it owns the mailboxes under /var/vmail and never logs in.")

STEP = Step(
    id="vmail",
    title="Prepare the mail store: the vmail user and /var/vmail",
    chapter="Dovecot preparation",
    explain="vmail.md",
    requires=(Requirement("command", ("dovecot",)),),
    ensure=(
        SystemUser("vmail", "vmail"),
        Directory("/var/vmail", "vmail", "vmail", 0o755),
    ),
    verify=(Requirement("owned-by", ("/var/vmail", "vmail", "vmail")),),
    errata=(E_VMAIL_HOME,),
    undo="The vmail user and /var/vmail stay: they may hold mail. `mailwizard reset` removes "
         "/var/vmail only when it is empty.",
)
