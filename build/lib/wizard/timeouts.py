"""How long a check may wait for the network (a module of its own: the CLI's first process, the
one `--lab` re-runs inside the lab, needs the default without loading the checks)."""

DEFAULT_TIMEOUT = 2.0   # seconds any one check may take; all checks run at once
WAIT_SHARE = 0.8        # of a check's timeout, what one network wait in it may take
AUDIT_TIMEOUT = 5.0     # seconds one network wait of the audit may take (a TLS handshake from outside)
