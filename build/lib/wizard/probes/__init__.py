"""Real dialogues with the daemons: one engine for SMTP (and later IMAP and LMTP)."""
