"""`hash-test`: `doveadm pw -t HASH`, Dovecot's own verdict on the user's stored hash (what a
LOGIN asks of it), the password on its standard input and the hash kept out of the transcript."""

from __future__ import annotations

import subprocess

from wizard.config import fill
from wizard.probes.registry import ActionHandler, action
from wizard.probes.result import INCONCLUSIVE


@action
class HashTest(ActionHandler):
    kind = "hash-test"

    def run(self, ctx, probe, result, transcript, via):
        action = probe.action
        user, table = fill(action.user, ctx.values), fill(action.table, ctx.values)
        password = ctx.passwords.get(user)
        if password is None:
            result.status = INCONCLUSIVE
            result.reason = f"the answers give no clear password for {user}: nothing to test the hash with"
            return
        stored = next((line.split(":", 1)[1].split(":", 1)[0] for line in
                       (ctx.system.read_text(table) or "").splitlines() if line.startswith(f"{user}:")), "")
        transcript.add("C", f"$ doveadm pw -t '<the hash of {user} in {table}>'   (the password on stdin)")
        if not stored:
            result.actual = f"{table} has no line for {user}"
            return
        if not stored.startswith("{"):
            stored = "{SHA512-CRYPT}" + stored
        done = subprocess.run(["doveadm", "pw", "-t", stored], input=password + "\n", capture_output=True,
                              text=True, timeout=ctx.reply_timeout, start_new_session=True)
        said = (done.stdout + done.stderr).replace(stored, stored.split("}", 1)[0] + "}…").strip()
        for line in said.splitlines():
            transcript.add("S", line)
        ctx.expectation(probe.expect).judge_lines(ctx, probe.expect, result, said.splitlines())

    def travelled(self, probe, expect):
        return ["dovecot"]          # Dovecot's password check, on the box
