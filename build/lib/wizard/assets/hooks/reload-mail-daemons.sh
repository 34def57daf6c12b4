#!/bin/sh
# Written by mailwizard (its certificate chapter); `mailwizard undo certificate` removes it.
# certbot runs every program in renewal-hooks/deploy/ after it has renewed a certificate. Postfix
# and Dovecot read their certificate when they start or reload, not when the file changes: without
# this, both would go on serving the old certificate until it expires.
status=0
if [ -d /run/systemd/system ]; then
    systemctl reload postfix || status=1
    systemctl reload dovecot || status=1
else
    postfix reload || status=1
    doveadm reload || status=1
fi
exit $status
