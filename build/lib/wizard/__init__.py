"""mailwizard: set up Postfix and Dovecot on Debian, one proven step at a time."""

__version__ = "0.1.0"
