"""Break-and-fix exercises on a finished server (the exercises themselves are data in steps/).

`start` backs up the files it breaks, breaks them, restarts the daemons as an admin would, and
tells only the symptom. `check` runs the probes that show whether it is fixed and, when not,
offers the hint that matches what the daemons logged. `give-up` shows the fix and puts the
backed-up files back."""

from __future__ import annotations

import json
import time

from wizard.config import fill
from wizard.daemons import daemon, let_dovecot_see_passwd_file
from wizard.context import EngineError
from wizard.engine import Engine
from wizard.statuses import PASSED
from wizard.logs import DOVECOT_LOG, MAIL_LOG, DaemonLog
from wizard.model import Exercise
from wizard.probes.runner import MET, ProbeRunner
from wizard.state import STATE_DIR

ACTIVE = f"{STATE_DIR}/exercise.json"
BACKUPS = f"{STATE_DIR}/exercise-backup"


def catalogue() -> tuple[Exercise, ...]:
    from steps.exercises import EXERCISES

    return EXERCISES


def find(name: str) -> Exercise:
    for exercise in catalogue():
        if exercise.name == name:
            return exercise
    raise EngineError(f"there is no exercise '{name}' (`mailwizard exercise list` shows them).")


def active(engine: Engine) -> dict | None:
    text = engine.system.read_text(ACTIVE)
    return json.loads(text) if text else None


def start(engine: Engine, name: str) -> str:
    exercise = find(name)
    if active(engine):
        raise EngineError(f"exercise '{active(engine)['name']}' is still going: `mailwizard exercise check`, "
                          "or `give-up` to put it back.")
    through = engine.steps[:engine.index(exercise.after) + 1]
    unfinished = [s.id for s in through if engine.state.status_of(s.id) != PASSED]
    if unfinished:
        raise EngineError(f"this exercise needs the server walked through {exercise.after}; walk the "
                          f"steps first ({unfinished[0]} is not done).")
    values = engine.values()
    new_text = {}
    for edit in exercise.breaks:
        current = new_text.get(edit.path, engine.system.read_text(edit.path) or "")
        old, new = fill(edit.old, values), fill(edit.new, values)
        if current.count(old) != 1:
            raise EngineError(f"{edit.path} is not as the finished walk left it; `mailwizard run` first.")
        new_text[edit.path] = current.replace(old, new)
    if exercise.renews and not engine.ctx.lab:
        raise EngineError(f"exercise '{name}' renews the certificate, which only the lab's CA allows as "
                          "often as a class needs: run it with --lab (after `mailwizard lab up`).")
    if exercise.publishes and not engine.ctx.lab:
        raise EngineError(f"exercise '{name}' changes DNS, which only the lab lets the wizard do: "
                          "run it with --lab (after `mailwizard lab up`).")
    offsets = {log: DaemonLog(engine.system, log).offset() for log in (MAIL_LOG, DOVECOT_LOG)}
    for path, text in new_text.items():
        engine.system.write_file(f"{BACKUPS}{path}", engine.system.read_bytes(path) or b"", mode=0o600)
        engine.system.write_file(path, text)
    engine.system.write_file(ACTIVE, json.dumps({"name": name, "files": sorted(new_text), "offsets": offsets,
                                                 "started": time.time()}), mode=0o600)
    _restart(engine, exercise.reload, new_text)
    engine.remember("exercise_started", exercise=name)
    engine.ctx.save(f"exercise:{name}")
    if exercise.publishes:
        _publish(engine, exercise.publishes)
    if exercise.renews:
        from wizard.acme import renew

        problem = renew(engine.system, values)
        if problem:
            raise EngineError(f"the renewal this exercise needs failed: {problem} "
                              "(`mailwizard exercise give-up` puts the files back)")
    return exercise.symptom


def _publish(engine: Engine, instead: tuple = ()) -> None:
    """The lab's zone with the walk's records, those of `instead` in place of theirs (what a
    careless admin left at the registrar)."""
    from wizard.lab.network import LabPlan, publish

    rows = engine.zone_records(instead)
    publish(LabPlan.from_answers(engine.answers), rows)


def _restart(engine: Engine, names, edited) -> None:
    """As an admin would after an edit; a daemon that will not start is part of the exercise."""
    if "/etc/dovecot/users.db" in edited:
        let_dovecot_see_passwd_file()   # an edited users.db counts from the next second on
    for name in names:
        service = daemon(engine.system, name)
        engine.ctx.remember_service(service)
        if service.running():
            service.stop()
        service.start()


def check(engine: Engine) -> tuple[bool, list[str]]:
    record = active(engine)
    if not record:
        raise EngineError("no exercise is going: `mailwizard exercise start NAME`.")
    exercise = find(record["name"])
    runner = ProbeRunner(engine.system, engine.values(), delivery_timeout=8.0, reply_timeout=5.0,
                         passwords={u.address: u.password for u in engine.answers.users if u.password})
    results = [runner.run(probe) for probe in exercise.check]
    lines = [f"[{'ok' if r.status == MET else 'not yet'}] {r.title}: {r.actual or r.reason}" for r in results]
    fixed = all(r.status == MET for r in results)
    if fixed:
        for path in record["files"]:
            engine.system.remove_file(f"{BACKUPS}{path}")
        engine.system.remove_file(ACTIVE)
        lines.append(f"fixed: {exercise.title}. Well done.")
        engine.remember("exercise_solved", exercise=record["name"])
        engine.ctx.save(f"exercise solved:{record['name']}")
        return True, lines
    logs = {"mail": MAIL_LOG, "dovecot": DOVECOT_LOG}
    import re

    seen = "\n".join(f"{r.actual}\n" + "\n".join(r.transcript) for r in results)
    for hint in exercise.hints:
        if hint.log == "probe":
            text = seen
        else:
            log = DaemonLog(engine.system, logs[hint.log])
            text = "\n".join(log.lines_since(record["offsets"].get(logs[hint.log], 0)))
        if re.search(hint.pattern, text):
            lines.append(f"hint: {hint.hint}")
            break
    else:
        lines.append("hint: look at /var/log/mail.log and /var/log/dovecot.log for what changed.")
    engine.remember("exercise_hint", exercise=record["name"])
    engine.ctx.save(f"exercise hint:{record['name']}")
    return False, lines


def give_up(engine: Engine) -> str:
    record = active(engine)
    if not record:
        raise EngineError("no exercise is going.")
    exercise = find(record["name"])
    for path in record["files"]:
        original = engine.system.read_bytes(f"{BACKUPS}{path}")
        if original is not None:
            engine.system.write_file(path, original)
            engine.system.remove_file(f"{BACKUPS}{path}")
    engine.system.remove_file(ACTIVE)
    engine.remember("exercise_given_up", exercise=record["name"])
    engine.ctx.save(f"exercise given up:{record['name']}")
    _restart(engine, exercise.reload, record["files"])
    if exercise.publishes:
        _publish(engine)
        return f"the fix: {exercise.fix}\nThe walk's DNS records are published again."
    return f"the fix: {exercise.fix}\nThe working files are back."
